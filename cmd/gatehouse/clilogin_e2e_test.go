package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestPulumiLoginInBrowser drives the stock pulumi CLI's browser login
// against Gatehouse: `pulumi login URL` in a terminal (script(1) gives it
// one), ENTER at its prompt, and a browser that is an HTTP client holding
// a console session. The CLI finds the console through
// PULUMI_CONSOLE_DOMAIN and opens it with xdg-open, here a script that
// hands the URL to the test (the pkg/browser package the CLI uses runs
// xdg-open, and ignores $BROWSER, which is set too).
func TestPulumiLoginInBrowser(t *testing.T) {
	pulumi := pulumiCLI(t)
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) is not installed")
	}
	m, _ := startMain(t, filepath.Join(t.TempDir(), "g.db"), nil)
	base := "http://" + m.Addr
	carolToken := newMemberToken(t, m, "carol")

	dir := t.TempDir()
	env := pulumiLogin(t, pulumi, script, dir, base, m.Addr, []string{"PULUMI_CONSOLE_DOMAIN=" + m.Addr},
		func(opened string) { browse(t, nil, base, carolToken, opened) })
	if !strings.Contains(env.transcript, "as carol") {
		t.Fatalf("pulumi login:\n%s", env.transcript)
	}
	who := exec.Command(pulumi, "whoami")
	who.Env = env.env
	if b, err := who.CombinedOutput(); err != nil || strings.TrimSpace(string(b)) != "carol" {
		t.Fatalf("pulumi whoami: %v %s", err, b)
	}
}

// TestPulumiLoginAPIAppPair: with the API at api.X and the console at
// app.X (both names reaching one Gatehouse, here through an HTTP proxy
// that stands in for DNS), the stock CLI finds the console by itself, with
// no PULUMI_CONSOLE_DOMAIN, and logs in through the browser.
func TestPulumiLoginAPIAppPair(t *testing.T) {
	pulumi := pulumiCLI(t)
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) is not installed")
	}
	const api, app = "api.gatehouse.test", "app.gatehouse.test"
	m, _ := startMain(t, filepath.Join(t.TempDir(), "g.db"), func(c *Config) { c.PublicURL = "http://" + app })
	carolToken := newMemberToken(t, m, "carol")
	// The proxy: both names go to the one server, with their Host header;
	// any other is refused.
	var hosts sync.Map
	target, _ := url.Parse("http://" + m.Addr)
	forward := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Host != api && r.URL.Host != app {
			http.Error(w, "no such host "+r.URL.Host, http.StatusBadGateway)
			return
		}
		hosts.Store(r.URL.Host, true)
		r.Host = r.URL.Host
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	proxyURL, _ := url.Parse(proxy.URL)
	tr := &http.Transport{Proxy: func(r *http.Request) (*url.URL, error) {
		if r.URL.Hostname() == "localhost" {
			return nil, nil // the CLI's own listener
		}
		return proxyURL, nil
	}}

	dir := t.TempDir()
	env := pulumiLogin(t, pulumi, script, dir, "http://"+api, app, []string{"HTTP_PROXY=" + proxy.URL, "NO_PROXY=localhost"},
		func(opened string) { browse(t, tr, "http://"+app, carolToken, opened) })
	// Logged in to the API's name; the console's is where it shows stacks.
	if want := "Logged in to http://" + api + " as carol (http://" + app + ")"; !strings.Contains(env.transcript, want) {
		t.Fatalf("pulumi login: no %q in\n%s", want, env.transcript)
	}
	who := exec.Command(pulumi, "whoami")
	who.Env = env.env
	if b, err := who.CombinedOutput(); err != nil || strings.TrimSpace(string(b)) != "carol" {
		t.Fatalf("pulumi whoami: %v %s", err, b)
	}
	for _, h := range []string{api, app} {
		if _, ok := hosts.Load(h); !ok {
			t.Errorf("nothing went to %s", h)
		}
	}
}

// newMemberToken adds login to acme and issues them a token.
func newMemberToken(t *testing.T, m *Main, login string) string {
	t.Helper()
	ctx := context.Background()
	if _, err := m.Service.AddMember(ctx, orgIDOf(t, m, "acme"), login, ""); err != nil {
		t.Fatal(err)
	}
	token, err := m.Service.IssueToken(ctx, "acme", login, "console", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// loggedIn is a pulumi login's environment (its PULUMI_HOME holds the
// credentials) and what its terminal showed.
type loggedIn struct {
	env        []string
	transcript string
}

// pulumiLogin runs `pulumi login base` in a terminal (script(1) gives it
// one) with its home in dir and extra in its environment, presses ENTER at
// its prompt, and hands the console URL the CLI opens (console is the host
// it must name) to browse, the browser; it returns once the CLI has logged
// in.
func pulumiLogin(t *testing.T, pulumi, script, dir, base, console string, extra []string, browse func(opened string)) loggedIn {
	t.Helper()
	urls := filepath.Join(dir, "opened")
	opener := "#!/bin/sh\nprintf '%s\\n' \"$1\" >> " + urls + "\n"
	for _, name := range []string{"xdg-open", "browser"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(opener), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	env := append([]string{"PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + dir, "PULUMI_HOME=" + filepath.Join(dir, "home"),
		"BROWSER=" + filepath.Join(dir, "browser"), "TERM=xterm", "NO_COLOR=1",
		"PULUMI_SKIP_UPDATE_CHECK=true", "PULUMI_DISABLE_CI_DETECTION=1"}, extra...)
	term := startTerminal(t, env, script, pulumi+" login "+base)
	term.waitFor("paste an access token", 60*time.Second)
	// ENTER, again until the browser opens: a key that arrives before the
	// prompt reads keys is lost (and more ENTERs once it waits do nothing).
	stop := make(chan struct{})
	go func() {
		for {
			term.write("\r")
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Second):
			}
		}
	}()
	opened := waitForLine(t, urls, 60*time.Second, term.text)
	close(stop)
	u, err := url.Parse(opened)
	if err != nil || u.Host != console || u.Path != "/cli-login" || u.Query().Get("cliSessionPort") == "" {
		t.Fatalf("the CLI opened %q", opened)
	}
	browse(opened)
	if err := term.wait(60 * time.Second); err != nil || !strings.Contains(term.text(), "Logged in to") {
		t.Fatalf("pulumi login: %v\n%s", err, term.text())
	}
	return loggedIn{env: env, transcript: term.text()}
}

// terminal runs a command in a terminal of script(1)'s, answering the
// terminal queries of the CLI's prompt (its background colour and cursor
// position, which it waits for before it reads keys).
type terminal struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	mu    sync.Mutex
	out   strings.Builder
	done  chan error
}

func startTerminal(t *testing.T, env []string, script, command string) *terminal {
	t.Helper()
	term := &terminal{t: t, cmd: exec.Command(script, "-qefc", command, "/dev/null"), done: make(chan error, 1)}
	term.cmd.Env = env
	term.stdin, _ = term.cmd.StdinPipe()
	out, _ := term.cmd.StdoutPipe()
	term.cmd.Stderr = term.cmd.Stdout
	if err := term.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { term.cmd.Process.Kill(); <-term.done })
	go func() {
		r := bufio.NewReader(out)
		for {
			b, err := r.ReadByte()
			if err != nil {
				term.done <- term.cmd.Wait()
				return
			}
			term.mu.Lock()
			term.out.WriteByte(b)
			query := strings.HasSuffix(term.out.String(), "\x1b[6n")
			term.mu.Unlock()
			if query {
				term.write("\x1b]11;rgb:0000/0000/0000\x1b\\\x1b[1;1R")
			}
		}
	}()
	return term
}

func (term *terminal) write(s string) { io.WriteString(term.stdin, s) }

func (term *terminal) text() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.out.String()
}

// waitFor waits until the output holds want.
func (term *terminal) waitFor(want string, d time.Duration) {
	term.t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(term.text(), want) {
			return
		}
	}
	term.t.Fatalf("no %q in %s:\n%s", want, d, term.text())
}

// wait waits for the command to end.
func (term *terminal) wait(d time.Duration) error {
	select {
	case err := <-term.done:
		term.done <- err // for the cleanup
		return err
	case <-time.After(d):
		return fmt.Errorf("still running after %s", d)
	}
}

// browse is the browser (over tr, nil for the default transport): signed
// in to the console with a token, it opens the CLI's URL, confirms, and
// follows the redirects to the CLI's listener and back to the console's
// welcome page.
func browse(t *testing.T, tr http.RoundTripper, base, token, opened string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: tr}
	form := func(path string, v url.Values) *http.Response {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := form("/console/login", url.Values{"token": {token}})
	resp.Body.Close()
	resp, err := c.Get(opened)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindSubmatch(page)
	if resp.StatusCode != 200 || csrf == nil || !strings.Contains(string(page), "Generated by pulumi login") {
		t.Fatalf("confirm page: %d %s", resp.StatusCode, page)
	}
	q, _ := url.Parse(opened)
	v := q.Query()
	v.Set("csrf", string(csrf[1]))
	v.Set("action", "authorize")
	// Followed: the console sends the browser to the CLI on localhost,
	// which sends it to /welcome/cli.
	resp = form("/console/-/cli-login", v)
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/console/-/welcome/cli" {
		t.Fatalf("after confirming: %d at %s\n%s", resp.StatusCode, resp.Request.URL, page)
	}
}

// waitForLine waits for a file's first line.
func waitForLine(t *testing.T, path string, d time.Duration, transcript func() string) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && strings.Contains(string(b), "\n") {
			return strings.SplitN(string(b), "\n", 2)[0]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing opened in %s:\n%s", d, transcript())
	return ""
}

func orgIDOf(t *testing.T, m *Main, name string) string {
	t.Helper()
	orgs, err := m.Service.Orgs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range orgs {
		if o.Name == name {
			return o.ID
		}
	}
	t.Fatalf("no organization %q", name)
	return ""
}
