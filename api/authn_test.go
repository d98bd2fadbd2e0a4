package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api"
)

// get makes a GET with a token and an optional X-Forwarded-For, and
// returns the status and the Retry-After header.
func (e *env) getFrom(token, path, forwardedFor string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	req.Header.Set("Authorization", "token "+token)
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// authFailureSources lists the source addresses of the organization's
// authentication-failure events. Call it after closing the server, so
// that the asynchronous audit writer has written them all.
func (e *env) authFailureSources() []string {
	e.t.Helper()
	ctx := context.Background()
	var out []string
	err := e.db.Read(ctx, func(tx gatehouse.Tx) error {
		es, _, err := tx.ListAudit(ctx, e.orgID(), gatehouse.AuditFilter{Types: []string{gatehouse.EventAuthFailure}}, gatehouse.ListOptions{Limit: 1000})
		for _, ev := range es {
			out = append(out, ev.SourceIP)
		}
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// TestFailedGuessesNeverLockOutValidTokens floods bad tokens from one
// address: a valid token from that address keeps working, the guesses
// beyond the limit get 429 with Retry-After, and those are neither audited
// nor logged one by one (they are cheap).
func TestFailedGuessesNeverLockOutValidTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *api.Options) { o.AuthFailuresPerMinute = 3 })
	for i := 0; i < 3; i++ {
		if status, _ := e.getFrom("pul-bad", "/api/orgs/acme/members", ""); status != 401 {
			t.Fatalf("guess %d: status %d, want 401", i, status)
		}
	}
	for i := 0; i < 20; i++ {
		status, retry := e.getFrom(fmt.Sprintf("pul-bad-%d", i), "/api/orgs/acme/members", "")
		if status != 429 || retry == "" {
			t.Fatalf("guess beyond the limit: status %d, Retry-After %q; want 429 with Retry-After", status, retry)
		}
		// A valid token from the flooded address is never refused.
		if status, _ := e.getFrom(e.admin, "/api/orgs/acme/members", ""); status != 200 {
			t.Fatalf("valid token after a flood of bad ones from its address: status %d, want 200", status)
		}
	}
	e.closeServer()
	if got := len(e.authFailureSources()); got != 3 {
		t.Errorf("%d authentication failures audited, want 3 (the ones within the limit)", got)
	}
}

// TestTrustedProxyForwardedFor puts the server behind a trusted proxy (the
// loopback): client A flooding bad tokens is limited by its own forwarded
// address, client B behind the same proxy is not, and the audit log names
// the clients, not the proxy. An attacker prepending addresses of its own
// to X-Forwarded-For is still A.
func TestTrustedProxyForwardedFor(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *api.Options) {
		o.AuthFailuresPerMinute = 3
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
	const a, b = "203.0.113.1", "203.0.113.2"
	for i := 0; i < 10; i++ {
		// A spoofs a different client to the left on every try: the proxy
		// appended A's real address to the right.
		e.getFrom("pul-bad", "/api/orgs/acme/members", fmt.Sprintf("198.51.100.%d, %s", i, a))
	}
	if status, _ := e.getFrom("pul-bad", "/api/orgs/acme/members", a); status != 429 {
		t.Fatalf("client A after its flood: status %d, want 429", status)
	}
	if status, _ := e.getFrom("pul-bad", "/api/orgs/acme/members", b); status != 401 {
		t.Errorf("client B behind the same proxy, one bad token: status %d, want 401 (A's flood must not limit B)", status)
	}
	if status, _ := e.getFrom(e.admin, "/api/orgs/acme/members", b); status != 200 {
		t.Errorf("client B with a valid token: status %d, want 200", status)
	}
	// Through two trusted hops: the client is the rightmost untrusted one.
	if status, _ := e.getFrom("pul-bad", "/api/orgs/acme/members", a+", 127.0.0.9"); status != 429 {
		t.Errorf("client A through two proxies: status %d, want 429", status)
	}
	e.closeServer()
	count := map[string]int{}
	for _, ip := range e.authFailureSources() {
		count[ip]++
	}
	if count[a] != 3 || count[b] != 1 || len(count) != 2 {
		t.Errorf("audited failures by source = %v; want %s: 3 and %s: 1, and never the proxy or a spoofed address", count, a, b)
	}
}

// TestUntrustedForwardedForIgnored sends X-Forwarded-For from a peer that
// is not a trusted proxy: it neither dodges the limit nor frames another
// address.
func TestUntrustedForwardedForIgnored(t *testing.T) {
	t.Parallel()
	for name, trusted := range map[string][]netip.Prefix{
		"no trusted proxies":      nil,
		"another trusted network": {netip.MustParsePrefix("10.0.0.0/8")},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(o *api.Options) { o.AuthFailuresPerMinute = 3; o.TrustedProxies = trusted })
			const victim = "192.0.2.55"
			for i := 0; i < 3; i++ {
				e.getFrom("pul-bad", "/api/orgs/acme/members", victim)
			}
			// A new forwarded address on every try does not reset the count.
			if status, _ := e.getFrom("pul-bad", "/api/orgs/acme/members", "192.0.2.77"); status != 429 {
				t.Errorf("spoofed X-Forwarded-For dodged the limit: status %d, want 429", status)
			}
			e.closeServer()
			for _, ip := range e.authFailureSources() {
				if ip != "127.0.0.1" {
					t.Errorf("audited source %q; want the peer 127.0.0.1 (an untrusted X-Forwarded-For is ignored)", ip)
				}
			}
		})
	}
}

// TestBadLeasesLimited guesses an update's lease: the guesses count as
// failed authentications (429 beyond the limit) while the real lease keeps
// working from the same address.
func TestBadLeasesLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *api.Options) { o.AuthFailuresPerMinute = 3 })
	e.newStack(e.admin, "app", "dev", nil)
	u := e.begin(e.admin, "app", "dev", "update")
	renew := stackPath("app", "dev", "update", u.id, "renew_lease")
	for i := 0; i < 3; i++ {
		e.fails("update-token guess", "POST", renew, map[string]any{"duration": 60}, 401, "lease")
	}
	e.fails("update-token guess", "POST", renew, map[string]any{"duration": 60}, 429, "too many failed authentications")
	e.must(u.auth, "POST", renew, map[string]any{"duration": 60}, 200, nil)
}

// TestExchangeFloodNeverRefusesValidIDToken floods the exchange with bad
// ID tokens from one address: the bad ones beyond the limit get 429, and
// a valid ID token from the same address is still exchanged.
func TestExchangeFloodNeverRefusesValidIDToken(t *testing.T) {
	e := newEnv(t, func(o *api.Options) { o.AuthFailuresPerMinute = 3 })
	ti := newTestIssuer(t)
	_, policyID := e.register(ti, "github")
	e.must(e.admin, "PATCH", "/api/orgs/acme/auth/policies/"+policyID, map[string]any{"policies": []map[string]any{
		{"decision": "allow", "tokenType": "organization", "rules": map[string]string{"sub": "repo:acme/*"}},
	}}, 200, nil)
	bad := ti.sign(githubClaims("evil/app", "prod"))
	for i := 0; i < 3; i++ {
		if status, _ := e.exchange(bad, "organization", "", false, nil); status != 400 {
			t.Fatalf("bad exchange %d: %d, want 400", i, status)
		}
	}
	if status, _ := e.exchange(bad, "organization", "", false, nil); status != 429 {
		t.Errorf("bad exchange beyond the limit: %d, want 429", status)
	}
	if status, res := e.exchange(ti.sign(githubClaims("acme/app", "prod")), "organization", "", false, nil); status != 200 || res.AccessToken == "" {
		t.Errorf("valid exchange from the flooded address: %d %+v", status, res)
	}
}
