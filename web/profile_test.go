package web_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// TestProfile: a member's own page creates a personal token (shown once,
// and it works on the API), revokes it, lists the member's sessions with
// this one marked, ends another session, and signs out everywhere; no
// one else's session or token is reachable from it.
func TestProfile(t *testing.T) {
	e := newEnv(t)
	bob := e.member(t, "bob", "member")
	laptop, phone := e.browser(), e.browser()
	laptop.signIn(bob)
	phone.signIn(bob)
	admin := e.browser()
	admin.signIn(e.admin)

	page := laptop.get("/console/-/profile")
	if strings.Count(page, "/console/-/profile/sessions/") != 3 || !strings.Contains(page, "(this session)") {
		t.Fatalf("two sessions, one marked, and sign out everywhere:\n%s", page)
	}
	status, _, body := laptop.do("POST", "/console/-/profile/tokens", url.Values{"description": {"ci laptop"}, "expires": {"30"}})
	m := regexp.MustCompile(`id="token-value" readonly value="(pul-[0-9a-f]+)"`).FindStringSubmatch(body)
	if status != 200 || m == nil {
		t.Fatalf("create: %d\n%s", status, body)
	}
	var me wire.User
	if st := e.api(m[1], "GET", "/api/user", nil, &me); st != 200 || me.GitHubLogin != "bob" {
		t.Fatalf("the new token on the API: %d %+v", st, me)
	}
	status, _, body = laptop.do("POST", "/console/-/profile/tokens", url.Values{"description": {"x"}, "expires": {"9999"}})
	if status != 400 || !strings.Contains(body, "expires") {
		t.Errorf("a bad expiry: %d", status)
	}
	var list wire.ListTokensResponse
	e.api(bob, "GET", "/api/user/tokens", nil, &list)
	var id string
	for _, tk := range list.Tokens {
		if tk.Description == "ci laptop" {
			id = tk.ID
		}
	}
	if status, _, _ := laptop.do("POST", "/console/-/profile/tokens/"+id+"/revoke", url.Values{}); status != 303 || e.api(m[1], "GET", "/api/user", nil, nil) != 401 {
		t.Fatalf("revoke: %d", status)
	}
	// The admin cannot revoke bob's token from their own page.
	e.api(bob, "GET", "/api/user/tokens", nil, &list)
	if status, _, _ := admin.do("POST", "/console/-/profile/tokens/"+list.Tokens[0].ID+"/revoke", url.Values{}); status == 303 {
		t.Errorf("the admin revoked bob's token from their page")
	}

	ids := regexp.MustCompile(`/console/-/profile/sessions/([0-9a-f]{24})/revoke`).FindAllStringSubmatch(laptop.get("/console/-/profile"), -1)
	if len(ids) != 2 {
		t.Fatalf("session ids: %v", ids)
	}
	adminPage := admin.get("/console/-/profile")
	for _, id := range ids {
		if strings.Contains(adminPage, id[1]) {
			t.Errorf("bob's session shown to the admin")
		}
		if status, _, _ := admin.do("POST", "/console/-/profile/sessions/"+id[1]+"/revoke", url.Values{}); status != 404 {
			t.Errorf("the admin ended bob's session: %d", status)
		}
	}
	// End the phone's session from the laptop (the one not marked).
	current := regexp.MustCompile(`<td>[^<]*<strong>\(this session\)</strong>.*?/sessions/([0-9a-f]{24})/revoke`).FindStringSubmatch(strings.ReplaceAll(laptop.get("/console/-/profile"), "\n", " "))
	other := ids[0][1]
	if current != nil && current[1] == other {
		other = ids[1][1]
	}
	if status, _, _ := laptop.do("POST", "/console/-/profile/sessions/"+other+"/revoke", url.Values{}); status != 303 {
		t.Fatalf("end the phone's session: %d", status)
	}
	if status, h, _ := phone.do("GET", "/console/-/profile", nil); status != 303 || !strings.HasPrefix(h.Get("Location"), "/console/login") {
		t.Errorf("the phone after its session ended: %d %q", status, h.Get("Location"))
	}
	phone.signIn(bob)
	if status, h, _ := laptop.do("POST", "/console/-/profile/sessions/revoke-all", url.Values{}); status != 303 || !strings.HasPrefix(h.Get("Location"), "/console/login") {
		t.Fatalf("sign out everywhere: %d", status)
	}
	for name, b := range map[string]*browser{"laptop": laptop, "phone": phone} {
		if status, _, _ := b.do("GET", "/console/-/profile", nil); status != 303 {
			t.Errorf("%s after signing out everywhere: %d", name, status)
		}
	}
	if status, _, _ := admin.do("GET", "/console/-/profile", nil); status != 200 {
		t.Errorf("the admin's session went too: %d", status)
	}
	sessions, err := e.svc.Sessions().List(context.Background(), orgUser(t, e, "bob"))
	if err != nil || len(sessions) != 0 {
		t.Errorf("bob's sessions left: %d %v", len(sessions), err)
	}
}

// TestPendingInvitationsFirst: signing in to the landing page with an
// invitation waiting shows the invitations.
func TestPendingInvitationsFirst(t *testing.T) {
	e := newEnv(t)
	res, err := e.svc.CreateOrgWithAdmin(context.Background(), "carols", "carol", false)
	if err != nil {
		t.Fatal(err)
	}
	carol := e.browser()
	if status, h, _ := carol.do("POST", "/console/login", url.Values{"token": {res.Token}}); status != 303 || h.Get("Location") != "/console/" {
		t.Fatalf("sign in: %d %q", status, h.Get("Location"))
	}
	if status, h, _ := carol.do("GET", "/console/", nil); status != 303 || h.Get("Location") != "/console/carols/" {
		t.Fatalf("no invitation: %d %q", status, h.Get("Location"))
	}
	e.api(e.admin, "POST", "/api/orgs/acme/invites", wire.InviteRequest{UserLogin: "carol"}, nil)
	status, h, _ := carol.do("GET", "/console/", nil)
	if status != 303 || !strings.HasPrefix(h.Get("Location"), "/console/-/invites?notice=You+have+an+invitation") {
		t.Fatalf("with an invitation: %d %q", status, h.Get("Location"))
	}
	if page := carol.get(h.Get("Location")); !strings.Contains(page, "You have an invitation to answer.") || !strings.Contains(page, "<td>acme</td>") {
		t.Errorf("invitations page:\n%s", page)
	}
}

// orgUser is the user id of an acme member.
func orgUser(t *testing.T, e *env, login string) string {
	t.Helper()
	m, err := e.svc.Member(context.Background(), orgID(t, e), login)
	if err != nil {
		t.Fatal(err)
	}
	return m.User.ID
}
