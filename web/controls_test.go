package web_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// TestConsoleActsAsTheUser: a Reader sees the admin pages with every
// control of an action their role does not grant disabled, the missing
// scope as its tooltip, and the admin sees the same controls enabled; a
// Reader's click on one anyway is refused by the API and nothing changes.
func TestConsoleActsAsTheUser(t *testing.T) {
	e := newEnv(t)
	admin := e.browser()
	admin.signIn(e.admin)
	d := e.seedPages(t, admin)
	e.seedEntities(t, admin)
	reader := e.browser()
	reader.signIn(e.member(t, "rex", "reader"))
	for _, c := range []struct{ path, control, scope string }{
		{"/console/acme/roles", `>New role</span>`, "role:create"},
		{"/console/acme/roles/" + d.roleID, `>Save role</button>`, "role:update"},
		{"/console/acme/roles/" + d.roleID, `>Make this the default role</button>`, "role:update"},
		{"/console/acme/roles/" + d.roleID, `><legend class="sr">Delete</legend>`, "role:delete"},
		{"/console/acme/permissions", `>New permission set</span>`, "role:create"},
		{"/console/acme/permissions/" + d.setID, `>Delete this permission set</button>`, "role:delete"},
		{"/console/acme/teams", `><legend>New team</legend>`, "team:create"},
		{"/console/acme/teams/platform", `>Delete this team (its tokens are revoked)</button>`, "team:delete"},
		{"/console/acme/teams/platform", `><legend>New team token</legend>`, "team:create_token"},
		{"/console/acme/members", `>Change role</button>`, "org_member:update"},
		{"/console/acme/tokens", `><legend>New organization token</legend>`, "org_token:create"},
		{"/console/acme/stacks/app/dev", `><legend class="sr">Add a tag</legend>`, "stack_tags:update"},
		{"/console/acme/stacks/app/dev", `><legend class="sr">Delete</legend>`, "stack:delete"},
		{"/console/acme/environments/app/cfg", `><legend class="sr">Add a tag</legend>`, "environment_tag:create"},
		{"/console/acme/accounts/aws", `>Remove</button>`, "insights_account:update"},
	} {
		t.Run(c.path+" "+c.scope, func(t *testing.T) {
			disabled := regexp.MustCompile(`disabled title="Needs the ` + regexp.QuoteMeta(c.scope) + ` scope[^"]*"` + `(?: role="link" aria-disabled="true")?[^>]*` + regexp.QuoteMeta(c.control))
			if page := reader.get(c.path); !disabled.MatchString(page) && !strings.Contains(page, `title="Needs the `+c.scope+` scope, which your roles do not grant here">`+strings.TrimSuffix(strings.TrimPrefix(c.control, ">"), "</span>")) {
				t.Errorf("the Reader's %s: %s is not disabled with %s as its tooltip:\n%s", c.path, c.control, c.scope, page)
			}
			if page := admin.get(c.path); strings.Contains(page, "Needs the "+c.scope+" scope") {
				t.Errorf("the admin's %s disables %s", c.path, c.control)
			}
		})
	}
	// The control is only a display: the API refuses the click anyway.
	if status, _, body := reader.do("POST", "/console/acme/stacks/app/dev/tags", url.Values{"name": {"owner"}, "value": {"rex"}}); status != 403 && status != 404 || !strings.Contains(body, "stack_tags:update") {
		t.Errorf("a Reader's tag: %d\n%s", status, body)
	}
	var st wire.Stack
	e.must(e.admin, "GET", "/api/stacks/acme/app/dev", nil, &st)
	if _, ok := st.Tags["owner"]; ok {
		t.Errorf("a Reader tagged the stack: %v", st.Tags)
	}
}

// TestConsoleShowsOnlyWhatTheUserMayRead: a member whose role reads only
// the stacks tagged env=dev lists app/dev and not app/prod, whose page is
// the not-found page; the Access tab, behind org_member_access:read, says
// which scope it needs; and the environments and accounts lists, which the
// role does not read, say so.
func TestConsoleShowsOnlyWhatTheUserMayRead(t *testing.T) {
	e := newEnv(t)
	admin := e.browser()
	admin.signIn(e.admin)
	b := e.browser()
	b.signIn(e.seedEntities(t, admin))
	if page := b.get("/console/acme/stacks"); !strings.Contains(page, ">app/dev</a>") || strings.Contains(page, "app/prod") {
		t.Errorf("dana's stacks:\n%s", page)
	}
	if status, _, page := b.do("GET", "/console/acme/stacks/app/prod", nil); status != 404 || !strings.Contains(page, `<nav aria-label="Organization">`) {
		t.Errorf("dana's app/prod: %d\n%s", status, page)
	}
	if page := b.get("/console/acme/stacks/app/dev/access"); !strings.Contains(page, "org_member_access:read") || strings.Contains(page, "user <strong>") {
		t.Errorf("dana's Access tab:\n%s", page)
	}
	for _, path := range []string{"/console/acme/environments", "/console/acme/accounts"} {
		if status, _, page := b.do("GET", path, nil); status != 403 || strings.Contains(page, "app/cfg") || strings.Contains(page, ">aws<") {
			t.Errorf("dana's %s: %d\n%s", path, status, page)
		}
	}
	if status, _, page := b.do("GET", "/console/acme/environments/app/cfg", nil); status != 404 || strings.Contains(page, "eu-west-1") {
		t.Errorf("dana's app/cfg: %d\n%s", status, page)
	}
	// The overview links what the role reads.
	if page := b.get("/console/acme/"); strings.Contains(page, "<strong>Environments</strong>") {
		t.Errorf("dana's overview links environments:\n%s", page)
	}
}

// TestConsoleNotFound: an unknown URL under /console is a 404 page with
// the navigation (the organization's when the path names the user's),
// for a signed-out browser one that leads to sign in; never Go's bare
// "404 page not found".
func TestConsoleNotFound(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	status, _, page := b.do("GET", "/console/acme/nonsense", nil)
	if status != 404 || !strings.Contains(page, `href="/console/login"`) || strings.Contains(page, "404 page not found") {
		t.Errorf("signed out: %d\n%s", status, page)
	}
	b.signIn(e.admin)
	for path, nav := range map[string]string{
		"/console/acme/nonsense":    `href="/console/acme/stacks"`,
		"/console/acme/roles/x/y/z": `href="/console/acme/stacks"`,
		"/console/nosuchorg/stacks": `<nav aria-label="Organizations">`,
	} {
		status, _, page := b.do("GET", path, nil)
		if status != 404 || !strings.Contains(page, "found</h1>") || !strings.Contains(page, nav) {
			t.Errorf("%s: %d\n%s", path, status, page)
		}
	}
}

// TestConsoleRefusedDeleteKeepsTheEditor: deleting a set or role in use
// is refused and shows the editor with the stored values, not a blank one.
func TestConsoleRefusedDeleteKeepsTheEditor(t *testing.T) {
	e := newEnv(t)
	admin := e.browser()
	admin.signIn(e.admin)
	d := e.seedPages(t, admin)
	for path, want := range map[string][]string{
		"/console/acme/permissions/" + d.setID: {`value="Stack Readers"`, `value="stack:read" checked`},
		"/console/acme/roles/" + d.roleID:      {`value="Release Managers"`, `name="rule0.entity" value="app/dev"`},
	} {
		status, _, page := admin.do("POST", path+"/delete", url.Values{})
		if status != 409 || !strings.Contains(page, `class="error"`) {
			t.Errorf("delete %s: %d\n%s", path, status, page)
		}
		for _, w := range want {
			if !strings.Contains(page, w) {
				t.Errorf("the refused delete of %s shows an editor without %s:\n%s", path, w, page)
			}
		}
	}
}

// TestEveryPageForEveryRole: every page answers an admin, a Reader, a
// Member and a member scoped to one tag with a page (200, or 403/404 with
// the reason), never a server error; another organization's user gets
// the not-found page for each.
func TestEveryPageForEveryRole(t *testing.T) {
	e := newEnv(t)
	admin := e.browser()
	admin.signIn(e.admin)
	d := e.seedPages(t, admin)
	scoped := e.browser()
	scoped.signIn(e.seedEntities(t, admin))
	reader, member := e.browser(), e.browser()
	reader.signIn(e.member(t, "rex", "reader"))
	member.signIn(e.member(t, "mo", "member"))
	outsider := e.browser()
	if status, _, body := outsider.do("POST", "/console/login", url.Values{"token": {d.carol}}); status != 303 {
		t.Fatalf("carol signs in: %d\n%s", status, body)
	}
	pages := []string{"/console/acme/", "/console/acme/stacks", "/console/acme/stacks/app/dev", "/console/acme/stacks/app/dev/access",
		"/console/acme/environments", "/console/acme/environments/app/cfg", "/console/acme/environments/app/cfg/access",
		"/console/acme/accounts", "/console/acme/accounts/aws", "/console/acme/accounts/aws/access",
		"/console/acme/permissions", "/console/acme/permissions/" + d.setID, "/console/acme/roles", "/console/acme/roles/" + d.roleID,
		"/console/acme/tokens", "/console/acme/teams", "/console/acme/teams/platform", "/console/acme/members",
		"/console/acme/oidc", "/console/acme/oidc/" + d.issuerID, "/console/acme/audit", "/console/acme/access"}
	for name, b := range map[string]*browser{"admin": admin, "reader": reader, "member": member, "scoped": scoped} {
		for _, path := range pages {
			status, _, page := b.do("GET", path, nil)
			if (status != 200 && status != 403 && status != 404) || !strings.Contains(page, "<h1>") {
				t.Errorf("%s: GET %s: %d\n%s", name, path, status, page)
			}
			if name == "admin" && status != 200 {
				t.Errorf("admin: GET %s: %d", path, status)
			}
		}
	}
	for _, path := range pages {
		if status, _, page := outsider.do("GET", path, nil); status != 404 || !strings.Contains(page, "found</h1>") || strings.Contains(page, "<h2") {
			t.Errorf("another organization's user: GET %s: %d\n%s", path, status, page)
		}
	}
}

// TestConsoleNavigation: the organization's navigation links each page
// once, and only the pages the user's role reads: the admin sees them
// all; a Reader (no audit_logs:read, oidc_issuers:read,
// org_member_access:read) sees no Audit log, OIDC or Access explorer.
func TestConsoleNavigation(t *testing.T) {
	e := newEnv(t)
	admin := e.browser()
	admin.signIn(e.admin)
	reader := e.browser()
	reader.signIn(e.member(t, "rex", "reader"))
	nav := regexp.MustCompile(`(?s)<nav aria-label="Organization">(.*?)</nav>`)
	link := regexp.MustCompile(`<a href="/console/acme/([a-z-]+)"`)
	all := []string{"stacks", "environments", "accounts", "permissions", "roles", "tokens", "teams", "members", "oidc", "sso", "audit", "access"}
	for _, c := range []struct {
		who  string
		b    *browser
		want []string
	}{
		{"admin", admin, all},
		{"reader", reader, []string{"stacks", "environments", "accounts", "permissions", "roles", "tokens", "teams", "members", "sso"}},
	} {
		m := nav.FindStringSubmatch(c.b.get("/console/acme/stacks"))
		if m == nil {
			t.Fatalf("the %s's page has no organization navigation", c.who)
		}
		var got []string
		for _, l := range link.FindAllStringSubmatch(m[1], -1) {
			got = append(got, l[1])
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("the %s's navigation links %v, want %v", c.who, got, c.want)
		}
	}
}
