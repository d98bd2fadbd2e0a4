package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/store/storetest"
)

// reply is one HTTP answer.
type reply struct {
	status     int
	retryAfter string
	body       string
}

// ask sends a request with no deadline of its own: a server that hangs
// shows as a test that hangs (caught by the caller's guard).
func ask(m *Main, token, method, path string, body any) (reply, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+m.Addr+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "token "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header.Get("Retry-After"), string(data)}, nil
}

// hangGuard only turns a hang into a failure; it decides no result.
const hangGuard = 30 * time.Second

// askWithin is ask, failing the test when the server does not answer.
func askWithin(t *testing.T, m *Main, token, method, path string, body any) reply {
	t.Helper()
	done := make(chan reply, 1)
	go func() {
		r, err := ask(m, token, method, path, body)
		if err != nil {
			r.body = "transport: " + err.Error()
		}
		done <- r
	}()
	select {
	case r := <-done:
		return r
	case <-time.After(hangGuard):
		t.Fatalf("%s %s: no answer after %s", method, path, hangGuard)
		return reply{}
	}
}

// startProxied starts Gatehouse on a PostgreSQL schema of its own through
// a proxy the test controls.
func startProxied(t testing.TB, timeout string) (*Main, string, *storetest.Proxy) {
	t.Helper()
	p, database := storetest.NewProxy(t, storetest.PostgresSchema(t))
	keyFile := filepath.Join(t.TempDir(), "master.key")
	var stderr strings.Builder
	if code := Run([]string{"admin", "master-key", keyFile}, strings.NewReader(""), io.Discard, &stderr); code != 0 {
		t.Fatalf("admin master-key: %d %s", code, stderr.String())
	}
	m, token := startMain(t, database, func(c *Config) {
		c.MasterKeyFile = keyFile
		c.DatabaseTimeout = timeout
		c.LogLevel = "error"
	})
	return m, token, p
}

// TestFrozenDatabase: while PostgreSQL does not answer, a request that
// needs it gets 503 with Retry-After and a message naming the database
// (instead of hanging), /readyz says 503, and checks, answered from the
// snapshot, keep working; once it answers again everything is back
// without a restart.
func TestFrozenDatabase(t *testing.T) {
	m, token, p := startProxied(t, "500ms")
	if r := askWithin(t, m, token, "POST", "/api/stacks/acme/app", map[string]any{"stackName": "before"}); r.status != 200 {
		t.Fatalf("create a stack: %+v", r)
	}
	if r := askWithin(t, m, "", "GET", "/readyz", nil); r.status != 200 {
		t.Fatalf("readyz before: %+v", r)
	}
	check := map[string]any{"checks": []any{map[string]any{"token": token, "scope": "stack:write",
		"entity": map[string]string{"type": "stack", "project": "app", "name": "before"}}}}
	p.Freeze()

	if r := askWithin(t, m, "", "GET", "/readyz", nil); r.status != 503 || !strings.Contains(r.body, "database unavailable") {
		t.Errorf("readyz while frozen: %+v, want 503 database unavailable", r)
	}
	for _, stack := range []string{"during", "during2"} {
		r := askWithin(t, m, token, "POST", "/api/stacks/acme/app", map[string]any{"stackName": stack})
		if r.status != 503 || r.retryAfter == "" || !strings.Contains(r.body, "database unavailable") {
			t.Errorf("create a stack while frozen: %+v, want 503 with Retry-After and database unavailable", r)
		}
	}
	r := askWithin(t, m, token, "POST", "/api/orgs/acme/authz/check", check)
	if r.status != 200 || !strings.Contains(r.body, `"allowed":true`) {
		t.Errorf("a check while frozen: %+v, want 200 allowed from the snapshot", r)
	}

	p.Thaw()
	if r := askWithin(t, m, "", "GET", "/readyz", nil); r.status != 200 {
		t.Errorf("readyz after the thaw: %+v", r)
	}
	if r := askWithin(t, m, token, "POST", "/api/stacks/acme/app", map[string]any{"stackName": "after"}); r.status != 200 {
		t.Errorf("create a stack after the thaw: %+v", r)
	}
}

// TestKilledConnectionsServed: after the database dropped every pooled
// connection, the next 100 requests (reads and writes, 8 at a time) all
// succeed.
func TestKilledConnectionsServed(t *testing.T) {
	m, token, p := startProxied(t, "5s")
	failed := killAndServe(t, m, token, p, 100)
	if len(failed) > 0 {
		t.Errorf("%d of 100 requests failed after the kill, the first: %+v", len(failed), failed[0])
	}
}

// stackSeq names the stacks killAndServe creates.
var stackSeq atomic.Int64

// killAndServe warms the pool, drops every connection and sends n
// requests, returning those that failed.
func killAndServe(t testing.TB, m *Main, token string, p *storetest.Proxy, n int) []reply {
	var mu sync.Mutex
	var failed []reply
	var wg sync.WaitGroup
	send := func(n int, kind string) {
		for g := range 8 {
			wg.Go(func() {
				for i := g + 1; i <= n; i += 8 {
					var r reply
					var err error
					if i%2 == 0 {
						r, err = ask(m, token, "POST", "/api/stacks/acme/app", map[string]any{"stackName": fmt.Sprintf("%s-%d", kind, stackSeq.Add(1))})
					} else {
						r, err = ask(m, token, "GET", "/api/stacks/acme/app/warm-0", nil)
					}
					if err != nil || r.status != 200 {
						mu.Lock()
						failed = append(failed, r)
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
	}
	if r, err := ask(m, token, "POST", "/api/stacks/acme/app", map[string]any{"stackName": "warm-0"}); err != nil || r.status != 200 && r.status != 409 {
		t.Fatalf("create a stack: %+v %v", r, err)
	}
	send(32, "warm")
	if len(failed) > 0 {
		t.Fatalf("before the kill: %+v", failed[0])
	}
	p.Kill()
	send(n, "kill")
	return slices.Clip(failed)
}

// TestSQLiteDiskFullReady: on SQLite, a write that finds the disk full
// answers 503 "disk full" with Retry-After, and /readyz says 503 from then
// until a write succeeds again. The full disk is SQLite's max_page_count
// set to the database's current size. (That the 503 lasts until a write
// succeeds is store's TestSQLiteDiskFull: here the background flush of
// token use, an update in place that the simulated full disk lets through,
// may be that write.)
func TestSQLiteDiskFullReady(t *testing.T) {
	m, token := startMain(t, filepath.Join(t.TempDir(), "g.db"), nil)
	ctx := t.Context()
	if err := m.db.UnsafeExec(ctx, "PRAGMA max_page_count = 1"); err != nil {
		t.Fatal(err)
	}
	var full reply
	for i := range 500 {
		tags := map[string]string{}
		for k := range 8 {
			tags[fmt.Sprintf("filler%d", k)] = strings.Repeat("x", 250)
		}
		full = askWithin(t, m, token, "POST", "/api/stacks/acme/app", map[string]any{"stackName": fmt.Sprintf("s%d", i), "tags": tags})
		if full.status != 200 {
			break
		}
	}
	if full.status != 503 || full.retryAfter == "" || !strings.Contains(full.body, "disk full") {
		t.Fatalf("a write on a full disk: %+v, want 503 disk full with Retry-After", full)
	}
	if r := askWithin(t, m, "", "GET", "/readyz", nil); r.status != 503 || !strings.Contains(r.body, "disk full") {
		t.Errorf("readyz with the disk full: %+v", r)
	}
	if err := m.db.UnsafeExec(ctx, "PRAGMA max_page_count = 1073741823"); err != nil {
		t.Fatal(err)
	}
	if r := askWithin(t, m, token, "POST", "/api/stacks/acme/app", map[string]any{"stackName": "room"}); r.status != 200 {
		t.Fatalf("a write once the disk has room: %+v", r)
	}
	if r := askWithin(t, m, "", "GET", "/readyz", nil); r.status != 200 {
		t.Errorf("readyz after a write succeeded: %+v", r)
	}
}

// BenchmarkFrozenDatabase measures how long a request that needs the
// database takes to fail while PostgreSQL does not answer, under the
// default --database-timeout: 40 stack creations, 8 at a time, per run,
// and how long /readyz takes to say 503 meanwhile (5 probes a run).
func BenchmarkFrozenDatabase(b *testing.B) {
	m, token, p := startProxied(b, DefaultConfig().DatabaseTimeout)
	var took, ready []time.Duration
	var mu sync.Mutex
	for b.Loop() {
		p.Freeze()
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := g; i < 40; i += 8 {
					start := time.Now()
					r, err := ask(m, token, "POST", "/api/stacks/acme/app", map[string]any{"stackName": fmt.Sprintf("f%d", i)})
					if err != nil || r.status != 503 {
						b.Errorf("while frozen: %+v %v", r, err)
					}
					mu.Lock()
					took = append(took, time.Since(start))
					mu.Unlock()
				}
			})
		}
		for range 5 {
			start := time.Now()
			if r, err := ask(m, "", "GET", "/readyz", nil); err != nil || r.status != 503 {
				b.Errorf("readyz while frozen: %+v %v", r, err)
			}
			ready = append(ready, time.Since(start))
		}
		wg.Wait()
		p.Thaw()
	}
	slices.Sort(ready)
	b.ReportMetric(float64(ready[len(ready)-1].Milliseconds()), "readyz-max-ms")
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Milliseconds()), "p99-ms")
	b.ReportMetric(float64(took[len(took)-1].Milliseconds()), "max-ms")
}

// BenchmarkKilledConnections counts the requests of 100 (reads and
// writes, 8 at a time) that fail right after the database dropped every
// pooled connection.
func BenchmarkKilledConnections(b *testing.B) {
	m, token, p := startProxied(b, DefaultConfig().DatabaseTimeout)
	failed, runs := 0, 0
	for b.Loop() {
		failed += len(killAndServe(b, m, token, p, 100))
		runs++
	}
	b.ReportMetric(float64(failed)/float64(runs), "failed/100")
}

// TestDatabaseTimeoutConfig: --database-timeout defaults to 5s, comes from
// the environment too, and must be a positive duration.
func TestDatabaseTimeoutConfig(t *testing.T) {
	if got := DefaultConfig().DatabaseTimeout; got != "5s" {
		t.Errorf("default: %q, want 5s", got)
	}
	t.Setenv("GATEHOUSE_DATABASE_TIMEOUT", "250ms")
	c := newServeCmd()
	c.ParseFlags(nil)
	cfg := DefaultConfig()
	if err := resolveConfig(c, &cfg); err != nil || cfg.DatabaseTimeout != "250ms" {
		t.Fatalf("from the environment: %q, %v", cfg.DatabaseTimeout, err)
	}
	for _, bad := range []string{"0s", "-1s", "soon"} {
		c := newServeCmd()
		c.ParseFlags([]string{"--database-timeout", bad})
		cfg := DefaultConfig()
		if err := resolveConfig(c, &cfg); err == nil || !strings.Contains(err.Error(), "database-timeout") {
			t.Errorf("--database-timeout %s: %v, want an error naming the flag", bad, err)
		}
	}
}
