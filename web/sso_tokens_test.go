package web_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// TestSSOPersonalTokens: a person who signs in through their
// organization's SSO (and has no token of their own) manages personal
// tokens from that session: the tokens are bound to the organization, as
// the session is, so they cannot answer invitations elsewhere, cannot touch
// the user's unbound tokens, and die with the membership.
func TestSSOPersonalTokens(t *testing.T) {
	eachSSO(t, func(t *testing.T, e *ssoEnv) {
		e.configureOIDC(true, "gatehouse")
		b := e.browser()
		if status, body := e.oidcSignIn(b, "alice"); status != 200 {
			t.Fatalf("sign-in: %d %s", status, body)
		}
		cli := e.cliLogin(b) // bound to acme, as the session
		var made wire.CreateTokenResponse
		if st := e.apiWith(cli, "POST", "/api/user/tokens", map[string]any{"description": "laptop"}, &made); st != 200 && st != 201 {
			t.Fatalf("create from an SSO token: %d", st)
		}
		if st := e.apiAs(made.TokenValue, "GET", "/api/orgs/acme/members", nil); st != 200 {
			t.Errorf("the new token in acme: %d", st)
		}
		if st := e.apiAs(made.TokenValue, "GET", "/api/user/pending-invites", nil); st != 403 {
			t.Errorf("the new bound token answers invitations: %d, want 403", st)
		}
		var list wire.ListTokensResponse
		if st := e.apiAs(cli, "GET", "/api/user/tokens", &list); st != 200 {
			t.Fatalf("list: %d", st)
		}
		found := false
		for _, tk := range list.Tokens {
			found = found || tk.ID == made.ID
		}
		if !found {
			t.Errorf("the new token is not listed: %+v", list.Tokens)
		}
		// The user's own unbound token (the host could have issued one) is
		// out of reach of the bound session.
		own, err := e.te.Svc.IssueToken(t.Context(), "acme", "alice", "own", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		var ownList wire.ListTokensResponse
		e.apiAs(own, "GET", "/api/user/tokens", &ownList)
		ownID := ""
		for _, tk := range ownList.Tokens {
			if tk.Description == "own" {
				ownID = tk.ID
			}
		}
		if ownID == "" {
			t.Fatal("no unbound token listed for its owner")
		}
		if st := e.apiAs(cli, "DELETE", "/api/user/tokens/"+ownID, nil); st != 404 {
			t.Errorf("a bound token revoked the user's unbound one: %d, want 404", st)
		}
		if st := e.apiAs(own, "GET", "/api/user", nil); st != 200 {
			t.Errorf("the unbound token: %d", st)
		}
		if st := e.apiAs(cli, "DELETE", "/api/user/tokens/"+made.ID, nil); st != 204 && st != 200 {
			t.Errorf("revoke its own bound token: %d", st)
		}
		if st := e.apiAs(made.TokenValue, "GET", "/api/user", nil); st != 401 {
			t.Errorf("a revoked token: %d, want 401", st)
		}
		// The console's tokens page works for the SSO session, with its
		// CSRF token, and shows the token it made.
		_, _, page := b.do("GET", e.gh.URL+"/console/-/profile", nil)
		csrf := csrfInput.FindStringSubmatch(page)
		if csrf == nil {
			t.Fatalf("profile page: %.500s", page)
		}
		st, _, page := b.do("POST", e.gh.URL+"/console/-/profile/tokens", url.Values{"csrf": {csrf[1]}, "description": {"from the console"}, "expires": {"30"}})
		if st != 200 || !strings.Contains(page, "pul-") || !strings.Contains(page, "from the console") {
			t.Errorf("creating a token on the profile page from an SSO session: %d %.800s", st, page)
		}
		// Another bound token dies with the membership.
		if st := e.apiWith(cli, "POST", "/api/user/tokens", map[string]any{"description": "ci"}, &made); st != 200 && st != 201 {
			t.Fatalf("create: %d", st)
		}
		if err := e.te.Svc.RemoveMember(t.Context(), e.te.Org.ID, "alice", nil); err != nil {
			t.Fatal(err)
		}
		if st := e.apiAs(made.TokenValue, "GET", "/api/user", nil); st != 401 {
			t.Errorf("a bound token after its user left: %d, want 401", st)
		}
	})
}
