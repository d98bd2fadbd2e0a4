package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
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
	ctx := context.Background()
	if _, err := m.Service.AddMember(ctx, orgIDOf(t, m, "acme"), "carol", ""); err != nil {
		t.Fatal(err)
	}
	carolToken, err := m.Service.IssueToken(ctx, "acme", "carol", "console", time.Time{})
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	urls := filepath.Join(dir, "opened")
	opener := "#!/bin/sh\nprintf '%s\\n' \"$1\" >> " + urls + "\n"
	for _, name := range []string{"xdg-open", "browser"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(opener), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + dir, "PULUMI_HOME=" + filepath.Join(dir, "home"),
		"PULUMI_CONSOLE_DOMAIN=" + m.Addr, "BROWSER=" + filepath.Join(dir, "browser"), "TERM=xterm", "NO_COLOR=1",
		"PULUMI_SKIP_UPDATE_CHECK=true", "PULUMI_DISABLE_CI_DETECTION=1"}
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
	if err != nil || u.Host != m.Addr || u.Path != "/cli-login" || u.Query().Get("cliSessionPort") == "" {
		t.Fatalf("the CLI opened %q", opened)
	}
	browse(t, base, carolToken, opened)
	if err := term.wait(60 * time.Second); err != nil || !strings.Contains(term.text(), "Logged in to") || !strings.Contains(term.text(), "as carol") {
		t.Fatalf("pulumi login: %v\n%s", err, term.text())
	}
	who := exec.Command(pulumi, "whoami")
	who.Env = env
	if b, err := who.CombinedOutput(); err != nil || strings.TrimSpace(string(b)) != "carol" {
		t.Fatalf("pulumi whoami: %v %s", err, b)
	}
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

// browse is the browser: signed in to the console with a token, it opens
// the CLI's URL, confirms, and follows the redirects to the CLI's listener
// and back to the console's welcome page.
func browse(t *testing.T, base, token, opened string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
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
