package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/store"
)

// drainLoad is keep-alive clients behind a simulated load balancer, which
// sends no more once it has seen /readyz fail, counting what becomes of
// every request.
type drainLoad struct {
	base, token string
	client      *http.Client
	// lbDown: the balancer has seen /readyz fail.
	lbDown atomic.Bool
	// signalled: the shutdown has begun.
	signalled                        atomic.Bool
	ok, unauthorized, other, refused atomic.Int64
	// lost are requests sent that got no answer (EOF, reset);
	// lostInFlight those of them sent before the shutdown began.
	lost, lostInFlight atomic.Int64
	mu                 sync.Mutex
	sample             []string
	wg                 sync.WaitGroup
}

func newDrainLoad(m *Main, token string) *drainLoad {
	return &drainLoad{base: "http://" + m.Addr, token: token,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

const checkBody = `{"checks":[{"token":"%s","scope":"audit_logs:read","entity":{"type":"global"}}]}`

// do sends one check, with a token the server does not know when bad (a
// 401 and an authentication-failure audit event, written asynchronously).
// It reports whether the check was answered 200.
func (l *drainLoad) do(c *http.Client, bad bool) bool {
	before := !l.signalled.Load()
	token := l.token
	if bad {
		token = "pul-" + strings.Repeat("0", 40)
	}
	req, _ := http.NewRequest("POST", l.base+"/api/orgs/acme/authz/check", strings.NewReader(strings.Replace(checkBody, "%s", l.token, 1)))
	req.Header.Set("Authorization", "token "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	var op *net.OpError
	switch {
	case err == nil && resp.StatusCode == 200:
		l.ok.Add(1)
		return true
	case err == nil && resp.StatusCode == 401:
		l.unauthorized.Add(1)
	case err == nil:
		l.other.Add(1)
	case errors.As(err, &op) && op.Op == "dial":
		l.refused.Add(1) // never sent: the listener had closed
	default:
		l.lost.Add(1)
		if before {
			l.lostInFlight.Add(1)
		}
		l.mu.Lock()
		if len(l.sample) < 5 {
			l.sample = append(l.sample, err.Error())
		}
		l.mu.Unlock()
	}
	return false
}

// clients starts n clients on the shared keep-alive transport, each
// sending until the balancer is down.
func (l *drainLoad) clients(n int) {
	for i := 0; i < n; i++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for j := 0; !l.lbDown.Load(); j++ {
				l.do(l.client, j%4 == 0)
			}
		}()
	}
}

// balancer polls /readyz on fresh connections, as a load balancer's health
// check does, until it fails.
func (l *drainLoad) balancer() {
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for !l.lbDown.Load() {
		resp, err := c.Get(l.base + "/readyz")
		if err != nil || resp.StatusCode != 200 {
			l.lbDown.Store(true)
		}
		if err == nil {
			resp.Body.Close()
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// slowCheck is a check whose body the client holds back: the handler is
// running (it asked for the body with 100 Continue) until release.
type slowCheck struct {
	release chan struct{}
	status  chan int // the answer's status, or -1 for none
}

func startSlowCheck(t *testing.T, l *drainLoad) *slowCheck {
	t.Helper()
	s := &slowCheck{release: make(chan struct{}), status: make(chan int, 1)}
	pr, pw := io.Pipe()
	continued := make(chan struct{})
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{Got100Continue: func() { close(continued) }})
	req, _ := http.NewRequestWithContext(ctx, "POST", l.base+"/api/orgs/acme/authz/check", pr)
	req.Header.Set("Authorization", "token "+l.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Expect", "100-continue")
	c := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
	go func() {
		resp, err := c.Do(req)
		if err != nil {
			t.Logf("slow check: %v", err)
			s.status <- -1
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		s.status <- resp.StatusCode
	}()
	go func() {
		<-s.release
		io.WriteString(pw, strings.Replace(checkBody, "%s", l.token, 1))
		pw.Close()
	}()
	<-continued
	return s
}

// waitUntil polls cond, failing after a generous bound (a guard against a
// hang, not a timing assertion).
func waitUntil(t *testing.T, what string, cond func() bool) bool {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("never happened: %s", what)
			return false
		}
	}
	return true
}

func readyz(base string) int {
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(base + "/readyz")
	if err != nil {
		return -1
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestGracefulDrain: under load from 24 keep-alive clients, the shutdown
// SIGTERM starts (Main.Stop) turns /readyz 503 at once and keeps serving,
// new clients included, through the delay (cut short here as a second
// signal does, once the balancer has gone); then it closes the listener,
// lets the requests in flight finish, and writes every queued audit event
// before the database closes. No request sent gets EOF or a reset.
func TestGracefulDrain(t *testing.T) {
	db := filepath.Join(t.TempDir(), "g.db")
	m, token := startMain(t, db, func(c *Config) {
		c.ShutdownDelay, c.ShutdownTimeout = "10m", "1m" // the test ends the delay itself
		c.AuthFailureLimit = 1 << 30
	})
	l := newDrainLoad(m, token)
	go l.balancer()
	l.clients(24)
	waitUntil(t, "load served", func() bool { return l.ok.Load() > 200 && l.unauthorized.Load() > 50 })
	slow := []*slowCheck{startSlowCheck(t, l), startSlowCheck(t, l)}

	endDelay, cut := context.WithCancel(context.Background())
	defer cut()
	stopped := make(chan error, 1)
	l.signalled.Store(true)
	go func() { stopped <- m.Stop(endDelay) }()
	if waitUntil(t, "/readyz 503", func() bool { return readyz(l.base) != 200 }) && readyz(l.base) != 503 {
		t.Errorf("draining: /readyz %d, want 503 with the server still up", readyz(l.base))
	}
	// Clients arriving before the balancer noticed are served, on new
	// connections.
	if !t.Failed() {
		arrived := &http.Client{Transport: &http.Transport{}}
		got := 0
		for i := 0; i < 20; i++ {
			if l.do(arrived, false) {
				got++
			}
		}
		if got != 20 {
			t.Errorf("draining: %d of 20 requests from a new client served", got)
		}
	}
	l.wg.Wait() // the balancer sends no more
	// Connections the clients' pool dialed and never used would hold
	// Shutdown for 5 s (the server cannot tell them from a request about
	// to arrive): the clients drop them, as they would when idle.
	l.client.CloseIdleConnections()
	cut()
	waitUntil(t, "the listener closed", func() bool {
		c, err := net.Dial("tcp", m.Addr)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	// Requests in flight when the listener closed finish.
	for _, s := range slow {
		close(s.release)
		if got := <-s.status; got != 200 {
			t.Errorf("a check in flight through the shutdown: status %d, want 200", got)
		}
	}
	if err := <-stopped; err != nil {
		t.Errorf("Stop: %v", err)
	}
	t.Logf("%d served, %d unauthorized, %d other, %d refused after the listener closed, %d lost (%d sent before the signal) %v",
		l.ok.Load(), l.unauthorized.Load(), l.other.Load(), l.refused.Load(), l.lost.Load(), l.lostInFlight.Load(), l.sample)
	if l.lost.Load() != 0 || l.other.Load() != 0 {
		t.Errorf("%d requests lost (%d of them sent before the signal), %d with an unexpected status: %v", l.lost.Load(), l.lostInFlight.Load(), l.other.Load(), l.sample)
	}
	checkAuditFailures(t, db, l.unauthorized.Load())
}

// checkAuditFailures counts the authentication failures in the database
// once the server has stopped: every one answered is there.
func checkAuditFailures(t *testing.T, path string, want int64) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var n int64
	err = st.Read(ctx, func(tx gatehouse.Tx) error {
		orgs, _, err := tx.ListOrgs(ctx, gatehouse.ListOptions{Limit: 1})
		if err != nil || len(orgs) == 0 {
			return err
		}
		opts := gatehouse.ListOptions{Limit: gatehouse.MaxListLimit}
		for {
			events, next, err := tx.ListAudit(ctx, orgs[0].ID, gatehouse.AuditFilter{Types: []string{gatehouse.EventAuthFailure}}, opts)
			if err != nil {
				return err
			}
			n += int64(len(events))
			if next == "" {
				return nil
			}
			opts.Continuation = next
		}
	})
	if err != nil || n != want {
		t.Errorf("%d authentication failures in the database (%v), want the %d answered", n, err, want)
	}
}

// TestStopServesThroughDelay: without a second signal the server serves on
// with /readyz at 503 until the whole delay has passed.
func TestStopServesThroughDelay(t *testing.T) {
	m, token := startMain(t, filepath.Join(t.TempDir(), "g.db"), func(c *Config) { c.ShutdownDelay = "2s" })
	l := newDrainLoad(m, token)
	start := time.Now()
	stopped := make(chan error, 1)
	go func() { stopped <- m.Stop(context.Background()) }()
	waitUntil(t, "/readyz not 200", func() bool { return readyz(l.base) != 200 })
	if got := readyz(l.base); got != 503 {
		t.Errorf("draining: /readyz %d, want 503", got)
	}
	if !l.do(&http.Client{}, false) {
		t.Errorf("draining: a check was not served")
	}
	// Clients are asked to leave their keep-alive connections.
	if resp, err := http.Get(l.base + "/healthz"); err != nil || !resp.Close {
		t.Errorf("draining: /healthz %v, want Connection: close", err)
	} else {
		resp.Body.Close()
	}
	if err := <-stopped; err != nil {
		t.Errorf("Stop: %v", err)
	}
	if elapsed := time.Since(start); elapsed < 2*time.Second {
		t.Errorf("Stop returned after %v, before the 2s delay", elapsed)
	}
}

// TestStopTimeout: a request still running at the shutdown timeout has its
// connection closed, and Stop says so.
func TestStopTimeout(t *testing.T) {
	m, token := startMain(t, filepath.Join(t.TempDir(), "g.db"), func(c *Config) { c.ShutdownDelay, c.ShutdownTimeout = "0s", "100ms" })
	slow := startSlowCheck(t, newDrainLoad(m, token))
	err := m.Stop(context.Background())
	if err == nil || !strings.Contains(err.Error(), "1 requests still in flight after 100ms") {
		t.Errorf("Stop: %v, want the request still in flight", err)
	}
	close(slow.release)
	if got := <-slow.status; got != -1 {
		t.Errorf("the request past the timeout was answered %d, want its connection closed", got)
	}
}

// TestSIGTERM runs the real binary: on SIGTERM it answers /readyz 503 and
// still serves through --shutdown-delay, then exits 0 having logged the
// drain.
func TestSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "gatehouse")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var logs lockedBuffer
	cmd := exec.Command(bin, "serve", "--database", filepath.Join(dir, "g.db"), "--listen", addr, "--bootstrap-org", "acme",
		"--bootstrap-token-file", filepath.Join(dir, "token"), "--shutdown-delay", "2s")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	base := "http://" + addr
	waitUntil(t, "the server ready", func() bool { return readyz(base) == 200 })
	token, _ := os.ReadFile(filepath.Join(dir, "token"))
	l := &drainLoad{base: base, token: strings.TrimSpace(string(token))}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "/readyz not 200", func() bool { return readyz(base) != 200 })
	if got := readyz(base); got != 503 {
		t.Errorf("after SIGTERM: /readyz %d, want 503 while the server drains", got)
	}
	if !l.do(&http.Client{}, false) {
		t.Errorf("after SIGTERM: a check was not served during the delay")
	}
	if err := <-exited; err != nil {
		t.Errorf("exit: %v\n%s", err, logs.String())
	}
	for _, want := range []string{"draining: /readyz answers 503", "closing the listener: waiting for the requests in flight"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, logs.String())
		}
	}
}

// TestShutdownFlags: the drain's durations have their defaults, come from
// flags and the environment, and a bad one is refused naming its flag.
func TestShutdownFlags(t *testing.T) {
	if d := DefaultConfig(); d.ShutdownDelay != "5s" || d.ShutdownTimeout != "15s" {
		t.Errorf("defaults: delay %q, timeout %q", d.ShutdownDelay, d.ShutdownTimeout)
	}
	t.Setenv("GATEHOUSE_SHUTDOWN_TIMEOUT", "30s")
	c := newServeCmd()
	c.ParseFlags([]string{"--shutdown-delay", "0s"})
	cfg := DefaultConfig()
	if err := resolveConfig(c, &cfg); err != nil || cfg.ShutdownDelay != "0s" || cfg.ShutdownTimeout != "30s" {
		t.Errorf("resolved: delay %q, timeout %q, %v", cfg.ShutdownDelay, cfg.ShutdownTimeout, err)
	}
	for _, args := range [][]string{{"--shutdown-delay", "5"}, {"--shutdown-delay", "-1s"}, {"--shutdown-timeout", "soon"}} {
		bad := newServeCmd()
		bad.ParseFlags(args)
		cfg := DefaultConfig()
		if err := resolveConfig(bad, &cfg); err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(args[0], "--")+": ") {
			t.Errorf("%v: %v, want a refusal naming the flag", args, err)
		}
	}
}
