package web_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
)

func TestOIDCSignIn(t *testing.T) {
	eachSSO(t, func(t *testing.T, e *ssoEnv) {
		if _, err := e.te.Svc.CreateTeam(t.Context(), e.te.Org.ID, "devs", "Devs", ""); err != nil {
			t.Fatal(err)
		}
		// Without allowCreate a stranger is refused with a clear page.
		e.configureOIDC(false, "gatehouse")
		b := e.browser()
		if status, body := e.oidcSignIn(b, "alice"); status != 403 || !strings.Contains(body, "does not let a first sign-in create members") {
			t.Fatalf("stranger: %d %s", status, body)
		}
		if signedIn(b, e.gh.URL) {
			t.Fatal("a refused sign-in has a session")
		}
		// With it, alice becomes a member managed by acme, in team devs.
		e.configureOIDC(true, "gatehouse")
		b = e.browser()
		status, body := e.oidcSignIn(b, "alice")
		if status != 200 || !strings.Contains(body, "Signed in") {
			t.Fatalf("sign-in: %d %s", status, body)
		}
		if !signedIn(b, e.gh.URL) {
			t.Fatal("no session after signing in")
		}
		m, err := e.member("alice")
		if err != nil {
			t.Fatal(err)
		}
		if n := e.waitEvents(gatehouse.EventSSOSignIn, `"alice" signed in through OIDC`, 1); n != 1 {
			t.Errorf("%d sso_sign_in events, want 1", n)
		}
		if m.User.ManagedBy != e.te.Org.ID || m.User.Email != "alice@example.com" {
			t.Errorf("member = %+v", m.User)
		}
		teams, _ := e.te.Svc.MemberTeams(t.Context(), e.te.Org.ID, "alice")
		if len(teams) != 1 || teams[0] != "devs" {
			t.Errorf("teams = %v, want [devs]", teams)
		}
		// The IdP drops the group: the next sign-in leaves the team.
		e.groups["alice"] = []string{}
		b2 := e.browser()
		if status, body := e.oidcSignIn(b2, "alice"); status != 200 {
			t.Fatalf("second sign-in: %d %s", status, body)
		}
		if teams, _ := e.te.Svc.MemberTeams(t.Context(), e.te.Org.ID, "alice"); len(teams) != 0 {
			t.Errorf("teams after the group went = %v", teams)
		}
		// `pulumi login` in the browser from the SSO session: a token bound
		// to acme.
		token := e.cliLogin(b2)
		if st := e.apiAs(token, "GET", "/api/orgs/acme/members", nil); st != 200 {
			t.Errorf("the CLI's token in acme: %d", st)
		}
		// Removed from the organization, both sessions and the CLI's token
		// end at once.
		if err := e.te.Svc.RemoveMember(t.Context(), e.te.Org.ID, "alice", nil); err != nil {
			t.Fatal(err)
		}
		if signedIn(b, e.gh.URL) || signedIn(b2, e.gh.URL) {
			t.Error("a removed member's SSO session still works")
		}
		if st := e.apiAs(token, "GET", "/api/user", nil); st != 401 {
			t.Errorf("a removed member's CLI token: %d, want 401", st)
		}
		// Added back, the old session and token stay dead.
		if _, err := e.te.Svc.AddMember(t.Context(), e.te.Org.ID, "alice", ""); err != nil {
			t.Fatal(err)
		}
		if signedIn(b2, e.gh.URL) || e.apiAs(token, "GET", "/api/user", nil) != 401 {
			t.Error("re-adding the member revived their old SSO session or CLI token")
		}
	})
}

func TestSAMLSignIn(t *testing.T) {
	eachSSO(t, func(t *testing.T, e *ssoEnv) {
		if _, err := e.te.Svc.CreateTeam(t.Context(), e.te.Org.ID, "devs", "Devs", ""); err != nil {
			t.Fatal(err)
		}
		e.configureSAML(true)
		var got wire.SAMLOrganization
		if st := e.api("GET", "/api/orgs/acme/saml", nil, &got); st != 200 || got.EntityID != e.idp.URL+"/metadata" || got.SSOURL == "" ||
			got.ValidUntil == "" || !got.AllowCreate {
			t.Fatalf("GET saml: %d %+v", st, got)
		}
		b := e.browser()
		acs, form := e.samlResponse(b, "alice")
		if acs != e.gh.URL+"/console/-/sso/acme/saml/acs" {
			t.Fatalf("ACS = %q", acs)
		}
		status, _, body := b.do("POST", acs, form)
		if status != 200 || !strings.Contains(body, "Signed in") {
			t.Fatalf("ACS: %d %s", status, body)
		}
		if !signedIn(b, e.gh.URL) {
			t.Fatal("no session after signing in")
		}
		m, err := e.member("alice_example.com")
		if err != nil {
			t.Fatal(err)
		}
		if m.User.ManagedBy != e.te.Org.ID {
			t.Errorf("member = %+v", m.User)
		}
		if teams, _ := e.te.Svc.MemberTeams(t.Context(), e.te.Org.ID, "alice_example.com"); len(teams) != 1 || teams[0] != "devs" {
			t.Errorf("teams = %v, want [devs]", teams)
		}
	})
}

// TestSSOEntries: the sign-in page's organization box and Pulumi's
// /welcome/{org}/sso lead to the organization's flow; an organization
// without SSO says so.
func TestSSOEntries(t *testing.T) {
	eachSSO(t, func(t *testing.T, e *ssoEnv) {
		b := e.browser()
		if _, _, body := b.do("GET", e.gh.URL+"/console/login", nil); !strings.Contains(body, `action="/console/-/sso"`) {
			t.Errorf("the sign-in page has no SSO form:\n%s", body)
		}
		if status, h, _ := b.do("GET", e.gh.URL+"/console/-/sso?org=acme&next=/console/acme/teams", nil); status != 303 ||
			h.Get("Location") != "/console/-/sso/acme?next=%2Fconsole%2Facme%2Fteams" {
			t.Errorf("organization box: %d %s", status, h.Get("Location"))
		}
		if status, h, _ := b.do("GET", e.gh.URL+"/welcome/acme/sso", nil); status != 303 || h.Get("Location") != "/console/-/sso/acme" {
			t.Errorf("/welcome/acme/sso: %d %s", status, h.Get("Location"))
		}
		if status, _, body := b.do("GET", e.gh.URL+"/console/-/sso/acme", nil); status != 404 || !strings.Contains(body, "has no single sign-on") {
			t.Errorf("no SSO yet: %d %s", status, body)
		}
		if status, _, _ := b.do("GET", e.gh.URL+"/console/-/sso/nosuchorg/saml/metadata", nil); status != 404 {
			t.Errorf("metadata of no organization: %d", status)
		}
		// next never leaves the console.
		e.configureOIDC(true, "gatehouse")
		for _, next := range []string{"https://evil.example/", "//evil.example/", "/console/\\evil", "/api/user"} {
			status, h, _ := b.do("GET", e.gh.URL+"/console/-/sso/acme?next="+url.QueryEscape(next), nil)
			if status != 303 {
				t.Fatal(status)
			}
			u, _ := url.Parse(h.Get("Location"))
			st := u.Query().Get("state")
			if l, err := e.te.Svc.TakeSSO(t.Context(), st, "oidc"); err != nil || l.Next != "/console/" {
				t.Errorf("next %q kept as %+v (%v)", next, l, err)
			}
		}
	})
}

// TestOIDCEmailDomains: first sign-ins limited to a domain need an address
// there that the provider has verified.
func TestOIDCEmailDomains(t *testing.T) {
	eachSSO(t, func(t *testing.T, e *ssoEnv) {
		e.configureOIDC(true, "gatehouse")
		if st := e.api("PATCH", "/api/orgs/acme/sso/oidc", map[string]any{"emailDomains": []string{"example.com"}}, nil); st != 200 {
			t.Fatal(st)
		}
		if status, body := e.oidcSignIn(e.browser(), "eve"); status != 403 || !strings.Contains(body, "verified e-mail addresses in example.com") {
			t.Errorf("an unverified address: %d %s", status, body)
		}
		if status, body := e.oidcSignIn(e.browser(), "bob"); status != 200 {
			t.Errorf("a verified address in the domain: %d %s", status, body)
		}
		if st := e.api("PATCH", "/api/orgs/acme/sso/oidc", map[string]any{"emailDomains": []string{"example.org"}}, nil); st != 200 {
			t.Fatal(st)
		}
		if status, body := e.oidcSignIn(e.browser(), "mallory"); status != 403 || !strings.Contains(body, "in example.org") {
			t.Errorf("another domain: %d %s", status, body)
		}
		// A member already there still signs in.
		if status, body := e.oidcSignIn(e.browser(), "bob"); status != 200 {
			t.Errorf("an existing member: %d %s", status, body)
		}
	})
}

// TestSSOFirstSignInConcurrent: a new user's first sign-in completed in
// several browsers at once (two tabs, a form posted twice, replicas behind
// a balancer), through OIDC and through SAML: every callback signs its
// browser in (200, never a 500), and the organization gains one member per
// user, recorded once. SignInSSO checks for the user and creates them
// under the organization's lock; without it, every sign-in on PostgreSQL
// finds no user, and all but one fail to create the login again.
func TestSSOFirstSignInConcurrent(t *testing.T) {
	eachSSO(t, func(t *testing.T, e *ssoEnv) {
		e.configureOIDC(true, "gatehouse")
		e.configureSAML(true)
		const n = 4
		// Each browser goes through its provider up to the last step,
		// which they then all take at once.
		type last struct {
			b    *ssoBrowser
			req  *http.Request
			user string
		}
		var lasts []last
		for range n {
			b := e.browser()
			cb := e.oidcCallback(b, e.oidcAuthorize(b), "bob")
			req, _ := http.NewRequest("GET", cb.String(), nil)
			lasts = append(lasts, last{b, req, "bob"})
			b = e.browser()
			acs, form := e.samlResponse(b, "alice")
			req, _ = http.NewRequest("POST", acs, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			lasts = append(lasts, last{b, req, "alice_example.com"})
		}
		var wg sync.WaitGroup
		for _, l := range lasts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := l.b.c.Do(l.req)
				if err != nil {
					t.Error(err)
					return
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != 200 || !strings.Contains(string(body), "Signed in") {
					t.Errorf("%s's %s %s: %d %.300s", l.user, l.req.Method, l.req.URL.Path, resp.StatusCode, body)
				}
			}()
		}
		wg.Wait()
		for _, l := range lasts {
			if !signedIn(l.b, e.gh.URL) {
				t.Errorf("a browser of %s has no session", l.user)
			}
		}
		for _, login := range []string{"bob", "alice_example.com"} {
			m, err := e.member(login)
			if err != nil || m.User.ManagedBy != e.te.Org.ID {
				t.Errorf("%s: %+v %v", login, m, err)
			}
			if got := e.waitEvents(gatehouse.EventMemberAdded, fmt.Sprintf("added %q with role", login), 1); got != 1 {
				t.Errorf("%d member_added events for %s, want 1", got, login)
			}
			if got := e.waitEvents(gatehouse.EventSSOSignIn, fmt.Sprintf("%q signed in", login), n); got != n {
				t.Errorf("%d sso_sign_in events for %s, want %d", got, login, n)
			}
		}
	})
}
