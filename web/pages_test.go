package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// must calls the API as token and fails the test on anything but a 2xx.
func (e *env) must(token, method, path string, body, out any) {
	e.t.Helper()
	if status := e.api(token, method, path, body, out); status < 200 || status > 299 {
		e.t.Fatalf("%s %s: %d", method, path, status)
	}
}

// pagesData is what the console's pages show, made through the API: a
// stack, a permission set, a role granting it on the stack (held by a
// member, a team and an organization token), the team with its member,
// grant, role and token, an OIDC issuer with a policy rule, and an
// invitation of a user of another organization.
type pagesData struct {
	setID, roleID, issuerID string
	carol                   string // the invited user's personal token
}

func (e *env) seedPages(t *testing.T, b *browser) pagesData {
	var d pagesData
	e.must(e.admin, "POST", "/api/stacks/acme/app", wire.CreateStackRequest{StackName: "dev"}, nil)
	details, err := policy.Encode(&policy.Allow{Permissions: []string{"stack:read"}})
	if err != nil {
		t.Fatal(err)
	}
	var set wire.Role
	e.must(e.admin, "POST", "/api/orgs/acme/roles", wire.CreateRoleRequest{Name: new("Stack Readers"), Description: new("reads stacks"),
		ResourceType: new("stack"), UXPurpose: new("set"), Details: details}, &set)
	d.setID = set.ID
	// The role through the editor: the set on the dev stack, by name.
	status, h, body := b.do("POST", "/console/acme/roles", url.Values{"name": {"Release Managers"}, "description": {"ship releases"},
		"mode": {"form"}, "rule0.kind": {"entity"}, "rule0.type": {"stack"}, "rule0.entity": {"app/dev"}, "rule0.set": {set.ID}})
	if status != 303 {
		t.Fatalf("create role: %d\n%s", status, body)
	}
	d.roleID = strings.TrimPrefix(strings.Split(h.Get("Location"), "?")[0], "/console/acme/roles/")
	e.member(t, "mallory", "member")
	e.must(e.admin, "PATCH", "/api/orgs/acme/members/mallory", wire.UpdateMemberRequest{FGARoleID: d.roleID}, nil)
	e.seedTeam(t, d.roleID)
	e.must(e.admin, "POST", "/api/orgs/acme/tokens", wire.CreateTokenRequest{Name: "release-bot", RoleID: d.roleID}, nil)
	d.issuerID = e.seedIssuer(t)
	res, err := e.svc.CreateOrgWithAdmin(context.Background(), "carols", "carol", false)
	if err != nil {
		t.Fatal(err)
	}
	d.carol = res.Token
	e.must(e.admin, "POST", "/api/orgs/acme/invites", wire.InviteRequest{UserLogin: "carol", RoleID: d.roleID}, nil)
	return d
}

// seedTeam makes team platform: mallory, read on app/dev, the role and a
// team token.
func (e *env) seedTeam(t *testing.T, roleID string) {
	base := "/api/orgs/acme/teams/platform"
	e.must(e.admin, "POST", "/api/orgs/acme/teams/pulumi", wire.CreateTeamRequest{Name: "platform", DisplayName: "Platform Team",
		Description: "runs the platform"}, nil)
	e.must(e.admin, "PATCH", base, wire.UpdateTeamRequest{MemberAction: "add", Member: "mallory"}, nil)
	e.must(e.admin, "PATCH", base, wire.UpdateTeamRequest{AddStackPermission: &wire.TeamStack{ProjectName: "app", StackName: "dev", Permission: 101}}, nil)
	e.must(e.admin, "POST", base+"/roles/"+url.PathEscape(roleID), nil, nil)
	e.must(e.admin, "POST", base+"/tokens", wire.CreateTokenRequest{Name: "platform-ci", Description: "deploys"}, nil)
}

// seedIssuer registers an issuer whose policy allows one repository.
func (e *env) seedIssuer(t *testing.T) string {
	var iss wire.Issuer
	e.must(e.admin, "POST", "/api/orgs/acme/oidc/issuers", wire.IssuerRequest{Name: "gh-actions", URL: "https://ci.example.test", JWKS: testJWKS(t)}, &iss)
	var pol wire.AuthPolicy
	e.must(e.admin, "GET", "/api/orgs/acme/auth/policies/oidcissuers/"+url.PathEscape(iss.ID), nil, &pol)
	e.must(e.admin, "PATCH", "/api/orgs/acme/auth/policies/"+url.PathEscape(pol.ID), wire.UpdateAuthPolicyRequest{Policies: []gatehouse.AuthPolicyRule{
		{Decision: "allow", TokenType: "organization", Rules: map[string]string{"sub": "repo:acme/app:*"}}}}, nil)
	return iss.ID
}

// TestConsolePages renders every page of the console on real data and
// finds on each a value of every wire type it shows: the team's name and
// display name, members' logins, tokens' names and their roles, the
// issuer's URL and policy, roles and sets by name, role holders, audit
// events, access holders and invitations.
func TestConsolePages(t *testing.T) {
	e := newEnv(t)
	admin := e.browser()
	admin.signIn(e.admin)
	d := e.seedPages(t, admin)
	carol := e.browser()
	if status, _, body := carol.do("POST", "/console/login", url.Values{"token": {d.carol}}); status != 303 {
		t.Fatalf("carol signs in: %d\n%s", status, body)
	}
	for _, p := range []struct {
		name  string
		b     *browser
		path  string
		wants []string
	}{
		{"overview", admin, "/console/acme/", []string{"<strong>Audit log</strong>", "<strong>Access explorer</strong>", "Signed in as <strong>admin</strong>"}},
		{"permission sets", admin, "/console/acme/permissions", []string{">Stack Readers</a>", "reads stacks"}},
		{"permission set", admin, "/console/acme/permissions/" + d.setID, []string{`value="Stack Readers"`, `value="stack:read" checked`}},
		{"roles", admin, "/console/acme/roles", []string{">Release Managers</a>", "ship releases"}},
		{"role", admin, "/console/acme/roles/" + d.roleID, []string{`value="Release Managers"`, `name="rule0.entity" value="app/dev"`,
			`selected>Stack Readers (stack)`, "<p>Members: mallory</p>", "<p>Teams: platform</p>", "<p>Organization tokens: release-bot</p>",
			`<option value="app/dev">`}},
		{"tokens", admin, "/console/acme/tokens", []string{"<td>release-bot</td><td>Release Managers</td>"}},
		{"teams", admin, "/console/acme/teams", []string{">platform</a></td><td>Platform Team</td><td>runs the platform</td>"}},
		{"team", admin, "/console/acme/teams/platform", []string{"<li>mallory (member)", "<li>Release Managers", "stack app/dev: read", "<td>platform-ci</td>"}},
		{"members", admin, "/console/acme/members", []string{"<td>mallory</td>", `selected>Release Managers</option>`, "<td>carol</td><td>Release Managers</td>"}},
		{"issuers", admin, "/console/acme/oidc", []string{">gh-actions</a></td><td>https://ci.example.test</td>"}},
		{"issuer", admin, "/console/acme/oidc/" + d.issuerID, []string{"<code>https://ci.example.test</code>", `&#34;sub&#34;: &#34;repo:acme/app:*&#34;`}},
		{"audit log", admin, "/console/acme/audit?event=team_created", []string{"<code>team_created</code>", "platform"}},
		{"access explorer", admin, "/console/acme/access?scope=stack:read&type=stack&entity=app/dev", []string{"user <strong>mallory</strong>",
			"team <strong>platform</strong>", "token <strong>release-bot</strong>"}},
		{"invitations", carol, "/console/-/invites", []string{"<td>acme</td><td>Release Managers</td><td>admin</td>"}},
	} {
		t.Run(p.name, func(t *testing.T) {
			status, _, page := p.b.do("GET", p.path, nil)
			if status != 200 {
				t.Fatalf("GET %s: %d\n%s", p.path, status, page)
			}
			for _, want := range p.wants {
				if !strings.Contains(page, want) {
					t.Errorf("lacks %s:\n%s", want, page)
				}
			}
		})
	}
}

// TestConsoleHidesWhatTheUserMayNot: the overview lists only the sections
// the member's role allows (the console's display decision), and the
// members page of a member who may not read invitations lists none.
func TestConsoleHidesWhatTheUserMayNot(t *testing.T) {
	e := newEnv(t)
	admin := e.browser()
	admin.signIn(e.admin)
	e.seedPages(t, admin)
	b := e.browser()
	b.signIn(e.member(t, "rita", "member"))
	page := b.get("/console/acme/")
	for _, hidden := range []string{"<strong>Audit log</strong>", "<strong>Access explorer</strong>", "<strong>OIDC</strong>"} {
		if strings.Contains(page, hidden) {
			t.Errorf("a member's overview links %s:\n%s", hidden, page)
		}
	}
	if !strings.Contains(page, "<strong>Access tokens</strong>") {
		t.Errorf("a member's overview lacks the tokens:\n%s", page)
	}
	if page := b.get("/console/acme/members"); strings.Contains(page, "carol") || !strings.Contains(page, "<td>mallory</td>") {
		t.Errorf("a member's members page:\n%s", page)
	}
}

// TestEmptyStates: an empty list says what to do next, on every page that
// lists something, for an organization that has nothing yet.
func TestEmptyStates(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.admin)
	check := func(path string, want ...string) {
		t.Helper()
		page := b.get(path)
		for _, w := range want {
			if !strings.Contains(page, w) {
				t.Errorf("%s lacks %q", path, w)
			}
		}
	}
	check("/console/acme/stacks", `class="empty">No stacks you may read yet. Create one with the pulumi CLI`)
	check("/console/acme/stacks?name=nothing", `class="empty">No stack you may read matches these filters. <a href="/console/acme/stacks">Clear the filters</a>`)
	check("/console/acme/environments", `class="empty">No environments you may read yet. Create one with <code>pulumi env init acme/my-project/dev</code>`)
	check("/console/acme/accounts", `class="empty">No Insights accounts you may read yet. Create one through the API`)
	check("/console/acme/oidc", `class="empty">No issuers yet. Register your CI's issuer below`)
	check("/console/acme/teams", `class="empty">No teams yet. Create one below, add members, then give it roles.`)
	check("/console/acme/tokens", `class="empty">No organization tokens yet. Create one below`)
	check("/console/acme/audit?event=team_deleted", `match these filters: widen the dates or <a href="/console/acme/audit">clear the filters</a>`)

	e.must(e.admin, "POST", "/api/stacks/acme/app", wire.CreateStackRequest{StackName: "dev"}, nil)
	check("/console/acme/stacks/app/dev", `class="empty">No outputs. A program's exports appear here after <code>pulumi up</code>`,
		`class="empty">No updates yet: run <code>pulumi up</code> on this stack.`)
	e.must(e.admin, "POST", "/api/esc/environments/acme", wire.CreateEnvironmentRequest{Project: "app", Name: "cfg"}, nil)
	check("/console/acme/environments/app/cfg", `class="empty">No tags yet. Tags let roles grant access to every environment that carries them: add one below, then write a tag rule in a role.`)
	e.must(e.admin, "POST", "/api/orgs/acme/teams/pulumi", wire.CreateTeamRequest{Name: "ops"}, nil)
	check("/console/acme/teams/ops", `class="empty">No members yet: add one by login below.`, `class="empty">No roles yet: give the team one below.`,
		`class="empty">None yet: grant the team a permission on one stack or environment below.`,
		`class="empty">No team tokens yet: create one below for CI that acts as the team.`)
}
