package web_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSignInFailuresLimitedAndAudited guesses tokens at the sign-in form
// from behind a trusted proxy: the guesses count against the API's
// failure limit for the client's address (429 beyond it), are audited in
// the organization the form was headed for and logged with the client's
// address (never the token), while a valid token from the same address
// still signs in and another client behind the same proxy is unaffected.
func TestSignInFailuresLimitedAndAudited(t *testing.T) {
	logs := &syncBuffer{}
	e := newEnvWith(t, api.Options{AuthFailuresPerMinute: 3, Logger: slog.New(slog.NewTextHandler(logs, nil)),
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	signIn := func(token, from string) (int, string) {
		t.Helper()
		form := url.Values{"token": {token}, "next": {"/console/acme/"}}
		req, _ := http.NewRequest("POST", e.srv.URL+"/console/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", from)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	const a, b = "203.0.113.7", "203.0.113.8"
	for i := 0; i < 3; i++ {
		if status, _ := signIn("pul-guess-secret", a); status != 401 {
			t.Fatalf("guess %d: status %d, want 401", i, status)
		}
	}
	if status, retry := signIn("pul-guess-secret", a); status != 429 || retry == "" {
		t.Errorf("guess beyond the limit: status %d, Retry-After %q; want 429 with Retry-After", status, retry)
	}
	if status, _ := signIn(e.admin, a); status != 303 {
		t.Errorf("valid token from the flooded address: status %d, want 303 (signed in)", status)
	}
	if status, _ := signIn("pul-guess-secret", b); status != 401 {
		t.Errorf("another client behind the proxy: status %d, want 401", status)
	}
	// A change made through the console is audited with the client's
	// forwarded address too.
	br := e.browser()
	br.forwardedFor = b
	br.signIn(e.admin)
	if status, _, body := br.do("POST", "/console/acme/teams", url.Values{"name": {"ops"}}); status != 303 {
		t.Fatalf("create a team: %d\n%s", status, body)
	}
	e.apiSrv.Close() // writes the queued audit events
	ctx := context.Background()
	count := map[string]int{}
	err := e.db.Read(ctx, func(tx gatehouse.Tx) error {
		org, err := tx.GetOrgByName(ctx, "acme")
		if err != nil {
			return err
		}
		es, _, err := tx.ListAudit(ctx, org.ID, gatehouse.AuditFilter{Types: []string{gatehouse.EventAuthFailure}}, gatehouse.ListOptions{Limit: 100})
		for _, ev := range es {
			count[ev.SourceIP]++
		}
		if err != nil {
			return err
		}
		es, _, err = tx.ListAudit(ctx, org.ID, gatehouse.AuditFilter{Types: []string{gatehouse.EventTeamCreated}}, gatehouse.ListOptions{Limit: 10})
		if len(es) != 1 || es[0].SourceIP != b {
			t.Errorf("team_created events %+v; want one from %s", es, b)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if count[a] != 3 || count[b] != 1 || len(count) != 2 {
		t.Errorf("audited sign-in failures by source = %v; want %s: 3, %s: 1", count, a, b)
	}
	out := logs.String()
	if !strings.Contains(out, "console sign-in failed") || !strings.Contains(out, "remote="+a) {
		t.Errorf("the failures were not logged with the client's address:\n%s", out)
	}
	if strings.Contains(out, "pul-guess-secret") || strings.Contains(out, e.admin) {
		t.Errorf("a token reached the log:\n%s", out)
	}
}

// TestSignOutThatFails: a sign-out whose session cannot be ended says so
// and keeps the cookie, so the session (which still works) can be ended
// on a second try; a session that cannot be read signs no one in.
func TestSignOutThatFails(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := e.browser()
	b.signIn(e.admin)
	refuse := "CREATE TRIGGER refuse_end BEFORE DELETE ON console_sessions BEGIN SELECT RAISE(ABORT, 'refused'); END"
	if err := e.db.UnsafeExec(ctx, refuse); err != nil {
		t.Fatal(err)
	}
	if status, h, _ := b.do("POST", "/console/logout", url.Values{}); status != 500 || h.Get("Set-Cookie") != "" {
		t.Errorf("a failed sign-out: %d, Set-Cookie %q; want 500 and the cookie kept", status, h.Get("Set-Cookie"))
	}
	b.get("/console/acme/roles") // still signed in
	if err := e.db.UnsafeExec(ctx, "DROP TRIGGER refuse_end"); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := b.do("POST", "/console/logout", url.Values{}); status != 303 {
		t.Errorf("sign out again: %d", status)
	}
	if status, _, _ := b.do("GET", "/console/acme/roles", nil); status != 303 {
		t.Errorf("after signing out: %d, want a redirect to sign in", status)
	}
	other := e.browser()
	other.signIn(e.admin)
	if err := e.db.UnsafeExec(ctx, "ALTER TABLE console_sessions RENAME TO console_sessions_gone"); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := other.do("GET", "/console/acme/roles", nil); status != 303 {
		t.Errorf("a session that cannot be read: %d, want a redirect to sign in", status)
	}
}
