package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api"
	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/oidc"
	"github.com/gatehouse-iam/gatehouse/service"
	"github.com/gatehouse-iam/gatehouse/store"
)

// env is a running server with its bootstrap admin.
type env struct {
	t           testing.TB
	routes      func() []string
	closeServer func()
	srv         *httptest.Server
	db          *store.DB
	svc         *service.Service
	az          *authz.Authorizer
	admin       string // the admin's personal token
	org         string
	dbPath      string // the SQLite file
	clock       *testenv.Clock
	flushAudit  func() // waits for the queued denials and failures
}

func newEnv(t testing.TB, opts ...func(*api.Options)) *env {
	t.Helper()
	return newEnvOn(t, "sqlite", opts...)
}

// eachDialect runs a test on a server over SQLite and, with
// GATEHOUSE_TEST_POSTGRES_DSN, over PostgreSQL (skipped without it).
func eachDialect(t *testing.T, test func(t *testing.T, e *env), opts ...func(*api.Options)) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			test(t, newEnvOn(t, dialect, opts...))
		})
	}
}

// newEnvOn is newEnv on the named store dialect, "sqlite" or "postgres".
func newEnvOn(t testing.TB, dialect string, opts ...func(*api.Options)) *env {
	t.Helper()
	var teOpts []testenv.Option
	if dialect == "postgres" {
		teOpts = append(teOpts, testenv.Postgres())
	}
	te := testenv.New(t, teOpts...)
	o := api.Options{AuthFailuresPerMinute: 1000, Verifier: oidc.New(oidc.Options{AllowInsecure: true})}
	for _, f := range opts {
		f(&o)
	}
	server := api.New(te.Svc, te.Authz, o)
	srv := httptest.NewServer(server.Handler())
	t.Cleanup(func() { srv.Close(); server.Close() })
	return &env{t: t, routes: server.Routes, closeServer: server.Close, srv: srv, db: te.DB, svc: te.Svc, az: te.Authz, admin: te.Admin, org: te.Org.Name, dbPath: te.DSN,
		clock: te.Clock, flushAudit: func() { api.FlushAudit(server) }}
}

// call makes a request and decodes a JSON response into out (if not nil).
// It returns the status and the raw body.
func (e *env) call(token, method, path string, body any, out any) (int, string) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	switch {
	case strings.HasPrefix(token, "update-token "):
		req.Header.Set("Authorization", token)
	case token != "":
		req.Header.Set("Authorization", "token "+token)
	}
	req.Header.Set("Accept", "application/vnd.pulumi+8")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: decode %s: %v", method, path, data, err)
		}
	}
	return resp.StatusCode, string(data)
}

// must makes a request that must succeed with want.
func (e *env) must(token, method, path string, body any, want int, out any) string {
	e.t.Helper()
	status, data := e.call(token, method, path, body, out)
	if status != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, want, data)
	}
	return data
}

// fails makes a request that must fail with status and a message holding
// want.
func (e *env) fails(token, method, path string, body any, status int, want string) {
	e.t.Helper()
	got, data := e.call(token, method, path, body, nil)
	var errBody struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(data), &errBody); err != nil || errBody.Code != got || errBody.Message == "" {
		e.t.Fatalf("%s %s: error body %q is not {code, message}", method, path, data)
	}
	if got != status || !strings.Contains(errBody.Message, want) {
		e.t.Fatalf("%s %s: status %d %q; want %d with %q", method, path, got, errBody.Message, status, want)
	}
}

type role struct {
	ID                string          `json:"id"`
	Name              string          `json:"name"`
	Description       string          `json:"description"`
	UXPurpose         string          `json:"uxPurpose"`
	ResourceType      string          `json:"resourceType"`
	Details           json.RawMessage `json:"details"`
	Version           int             `json:"version"`
	IsOrgDefault      bool            `json:"isOrgDefault"`
	DefaultIdentifier string          `json:"defaultIdentifier"`
}

func (e *env) roles(purpose string) map[string]role {
	var out struct{ Roles []role }
	e.must(e.admin, "GET", "/api/orgs/acme/roles?uxPurpose="+purpose, nil, 200, &out)
	m := map[string]role{}
	for _, r := range out.Roles {
		m[r.Name] = r
	}
	return m
}

// orgToken creates an organization token with the given role id.
func (e *env) orgToken(name, roleID string) string {
	var out struct{ ID, TokenValue string }
	e.must(e.admin, "POST", "/api/orgs/acme/tokens", map[string]any{"name": name, "description": "test", "expires": 0, "roleID": roleID}, 200, &out)
	if !strings.HasPrefix(out.TokenValue, "pul-") || len(out.TokenValue) != 44 {
		e.t.Fatalf("token value %q is not pul- and 40 hex digits", out.TokenValue)
	}
	return out.TokenValue
}

func (e *env) createStack(project, name string, tags map[string]string, creator string) *gatehouse.Stack {
	e.t.Helper()
	ctx := context.Background()
	var org *gatehouse.Organization
	st := &gatehouse.Stack{Project: project, Name: name, Tags: tags}
	err := e.db.Write(ctx, func(tx gatehouse.Tx) (err error) {
		if org, err = tx.GetOrgByName(ctx, "acme"); err != nil {
			return err
		}
		st.OrgID = org.ID
		if creator != "" {
			u, err := tx.GetUserByLogin(ctx, creator)
			if err != nil {
				return err
			}
			st.CreatedBy = u.ID
		}
		return tx.CreateStack(ctx, st)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.az.Refresh(ctx, org.ID); err != nil {
		e.t.Fatal(err)
	}
	return st
}

type checkResult struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason"`
	Error   string `json:"error"`
}

// decide asks the check endpoint.
func (e *env) decide(token, scope string, entity map[string]string) checkResult {
	e.t.Helper()
	var out struct{ Results []checkResult }
	e.must(e.admin, "POST", "/api/orgs/acme/authz/check", map[string]any{"checks": []any{map[string]any{"token": token, "scope": scope, "entity": entity}}}, 200, &out)
	if out.Results[0].Error != "" {
		e.t.Fatalf("check %s: %s", scope, out.Results[0].Error)
	}
	return out.Results[0]
}

func TestWhoAmI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var u struct {
		GitHubLogin   string
		Organizations []struct{ GitHubLogin string }
		TokenInfo     *struct{ Name, Organization string }
	}
	e.must(e.admin, "GET", "/api/user", nil, 200, &u)
	if u.GitHubLogin != "admin" || len(u.Organizations) != 1 || u.Organizations[0].GitHubLogin != "acme" || u.TokenInfo != nil {
		t.Errorf("/api/user = %+v", u)
	}
	var def struct{ GitHubLogin string }
	e.must(e.admin, "GET", "/api/user/organizations/default", nil, 200, &def)
	if def.GitHubLogin != "acme" {
		t.Errorf("default org = %q", def.GitHubLogin)
	}
	tok := e.orgToken("ci", "")
	e.must(tok, "GET", "/api/user", nil, 200, &u)
	if u.GitHubLogin != "acme" || u.TokenInfo == nil || u.TokenInfo.Name != "ci" || u.TokenInfo.Organization != "acme" {
		t.Errorf("/api/user with an org token = %+v", u)
	}
	e.must(e.admin, "GET", "/api/capabilities", nil, 200, nil)
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const unauthorized = "unauthorized: the request needs a valid access token"
	for _, h := range []string{"", "pul-0000000000000000000000000000000000000000", "garbage"} {
		e.fails(h, "GET", "/api/user", nil, 401, unauthorized)
	}
	// Bearer works as well as token.
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/user", nil)
	req.Header.Set("Authorization", "Bearer "+e.admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("Bearer: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	// A revoked token is rejected at once.
	tok := e.orgToken("short-lived", "")
	var list struct{ Tokens []struct{ ID, Name string } }
	e.must(e.admin, "GET", "/api/orgs/acme/tokens", nil, 200, &list)
	if len(list.Tokens) != 1 {
		t.Fatalf("tokens = %+v", list)
	}
	e.must(tok, "GET", "/api/user", nil, 200, nil)
	e.must(e.admin, "DELETE", "/api/orgs/acme/tokens/"+list.Tokens[0].ID, nil, 204, nil)
	e.fails(tok, "GET", "/api/user", nil, 401, unauthorized)
	// Its name stays reserved.
	e.fails(e.admin, "POST", "/api/orgs/acme/tokens", map[string]any{"name": "short-lived"}, 409, "never reused")
}

func TestAuthFailuresRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *api.Options) { o.AuthFailuresPerMinute = 3 })
	for i := 0; i < 3; i++ {
		e.fails("pul-bad", "GET", "/api/user", nil, 401, "unauthorized")
	}
	if status, retry := e.getFrom("pul-bad", "/api/user", ""); status != 429 || retry == "" {
		t.Fatalf("after 3 failures: status %d, Retry-After %q; want 429 with Retry-After", status, retry)
	}
	// The metrics count the failures, and the one refused over the limit.
	resp, err := http.Get(e.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `gatehouse_authn_failures_total{reason="unknown"} 4`) ||
		!strings.Contains(string(body), "gatehouse_authn_failures_limited_total 1") {
		t.Errorf("metrics lack the failures:\n%s", body)
	}
	// The organization's snapshot was built at least once, at its load,
	// and counted.
	var rebuilds float64
	for _, line := range strings.Split(string(body), "\n") {
		fmt.Sscanf(line, `gatehouse_snapshot_rebuilds_total{reason="load"} %g`, &rebuilds)
	}
	if rebuilds < 1 || !strings.Contains(string(body), "gatehouse_snapshot_deltas_total") {
		t.Errorf(`gatehouse_snapshot_rebuilds_total{reason="load"} = %g, want at least 1, and gatehouse_snapshot_deltas_total`, rebuilds)
	}
}

func TestRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fails(e.admin, "GET", "/api/orgs/acme/roles", nil, 400, "uxPurpose: required")
	builtins := e.roles("role")
	for _, name := range []string{"Admin", "Member", "Billing Manager", "Reader", "Builder", "Maintainer"} {
		if builtins[name].ID == "" {
			t.Errorf("built-in role %s missing", name)
		}
	}
	if !builtins["Member"].IsOrgDefault || builtins["Member"].DefaultIdentifier != "member" {
		t.Errorf("Member = %+v", builtins["Member"])
	}
	sets := e.roles("set")
	if sets["Stack Write"].DefaultIdentifier != "stack-write" || sets["Stack Write"].ResourceType != "stack" {
		t.Errorf("Stack Write = %+v", sets["Stack Write"])
	}

	// A custom set, then a console-shaped role composing it.
	var set role
	e.must(e.admin, "POST", "/api/orgs/acme/roles", map[string]any{"name": "Deployer", "uxPurpose": "set", "resourceType": "stack",
		"details": map[string]any{"__type": "PermissionDescriptorAllow", "permissions": []string{"stack:read", "stack:write"}}}, 200, &set)
	details := fmt.Sprintf(`{"__type":"PermissionDescriptorGroup","entries":[
		{"__type":"PermissionDescriptorCompose","permissionDescriptors":["%s"]},
		{"__type":"PermissionDescriptorCondition","condition":{"__type":"PermissionExpressionEqual",
			"left":{"__type":"PermissionExpressionTag","context":{"__type":"PermissionExpressionStack"},"key":"env"},
			"right":{"__type":"PermissionLiteralExpressionString","value":"dev"}},
		 "subNode":{"__type":"PermissionDescriptorCompose","permissionDescriptors":["%s"]}}]}`, sets["Read Only"].ID, set.ID)
	var r role
	e.must(e.admin, "POST", "/api/orgs/acme/roles?createPolicyAndRole=true",
		`{"name":"Dev deployer","description":"deploys dev","uxPurpose":"role","details":`+details+`}`, 200, &r)
	if r.Version != 1 || !strings.Contains(string(r.Details), "PermissionDescriptorCompose") {
		t.Fatalf("created role = %+v", r)
	}
	policies := e.roles("policy")
	pol, ok := policies["Dev deployer"]
	if !ok || !strings.Contains(string(r.Details), pol.ID) {
		t.Fatalf("createPolicyAndRole made no policy the role composes: %+v / %+v", r, policies)
	}
	e.fails(e.admin, "POST", "/api/orgs/acme/roles", map[string]any{"name": "Dev deployer", "uxPurpose": "role",
		"details": map[string]any{"__type": "PermissionDescriptorAllow", "permissions": []string{}}}, 409, "already exists")

	// Editing the role's name renames its policy too.
	e.must(e.admin, "PATCH", "/api/orgs/acme/roles/"+r.ID, map[string]any{"name": "Dev deployers"}, 200, &r)
	if r.Version != 2 || r.Name != "Dev deployers" {
		t.Errorf("renamed role = %+v", r)
	}
	if _, ok := e.roles("policy")["Dev deployers"]; !ok {
		t.Errorf("the policy was not renamed with its role")
	}
	e.fails(e.admin, "PATCH", "/api/orgs/acme/roles/"+builtins["Admin"].ID, map[string]any{"name": "Root"}, 400, "built in")

	// The set is in use: it cannot go. The default role cannot go.
	e.fails(e.admin, "DELETE", "/api/orgs/acme/roles/"+set.ID, nil, 409, `used by "Dev deployers"`)
	e.fails(e.admin, "DELETE", "/api/orgs/acme/roles/"+builtins["Member"].ID, nil, 400, "built in")

	// Assign the role to a member; then deleting needs force, and the
	// member falls back to the default role.
	e.must(e.admin, "POST", "/api/orgs/acme/members/bob", nil, 200, nil)
	e.must(e.admin, "PATCH", "/api/orgs/acme/members/bob", map[string]any{"fgaRoleId": r.ID}, 204, nil)
	var users struct {
		Users []struct{ GitHubLogin string }
	}
	e.must(e.admin, "GET", "/api/orgs/acme/roles/"+r.ID+"/users", nil, 200, &users)
	if len(users.Users) != 1 || users.Users[0].GitHubLogin != "bob" {
		t.Errorf("role users = %+v", users)
	}
	e.fails(e.admin, "DELETE", "/api/orgs/acme/roles/"+r.ID, nil, 409, "assigned to 1 member")
	e.must(e.admin, "DELETE", "/api/orgs/acme/roles/"+r.ID+"?force=true", nil, 204, nil)
	if _, ok := e.roles("policy")["Dev deployers"]; ok {
		t.Errorf("the role's policy survived the role")
	}
	var members struct {
		Members []struct {
			User    struct{ GitHubLogin string }
			FGARole struct{ Name string } `json:"fgaRole"`
		}
	}
	e.must(e.admin, "GET", "/api/orgs/acme/members", nil, 200, &members)
	for _, m := range members.Members {
		if m.User.GitHubLogin == "bob" && m.FGARole.Name != "Member" {
			t.Errorf("bob's role after force delete = %s, want Member", m.FGARole.Name)
		}
	}
	e.must(e.admin, "DELETE", "/api/orgs/acme/roles/"+set.ID, nil, 204, nil)

	// Default role.
	e.must(e.admin, "PATCH", "/api/orgs/acme/roles/"+builtins["Reader"].ID+"/default", nil, 204, nil)
	if !e.roles("role")["Reader"].IsOrgDefault {
		t.Errorf("Reader is not the default after PATCH /default")
	}
	e.fails(e.admin, "PATCH", "/api/orgs/acme/roles/"+sets["Stack Read"].ID+"/default", nil, 400, "Invalid role type")

	// The scope catalog in Pulumi's shape.
	var sc map[string][]struct {
		Name   string
		Scopes []struct {
			Name     string
			Metadata map[string]string
		}
	}
	e.must(e.admin, "GET", "/api/orgs/acme/roles/scopes", nil, 200, &sc)
	if len(sc["global"]) == 0 || len(sc["stack"]) == 0 || len(sc["environment"]) == 0 || len(sc["insights-account"]) == 0 {
		t.Errorf("scopes keys = %v", len(sc))
	}
}

func TestRoleValidationErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct {
		name string
		body string
		want string
	}{
		{"unknown type", `{"name":"x","uxPurpose":"role","details":{"__type":"PermissionDescriptorGroup","entries":[{"__type":"PermissionDescriptorCondition","condition":{"__type":"PermissionExpressionEqual","left":{"__type":"PermissionExpressionFoo"},"right":{"__type":"PermissionLiteralExpressionString","value":"x"}},"subNode":{"__type":"PermissionDescriptorAllow","permissions":[]}}]}}`,
			`details.entries[0].condition.left: unknown __type "PermissionExpressionFoo"`},
		{"unknown scope", `{"name":"x","uxPurpose":"role","details":{"__type":"PermissionDescriptorAllow","permissions":["stack:reed"]}}`, `did you mean "stack:read"`},
		{"missing details", `{"name":"x","uxPurpose":"role"}`, "details: missing"},
		{"missing name", `{"uxPurpose":"role","details":{"__type":"PermissionDescriptorAllow","permissions":[]}}`, "name: missing"},
		{"bad purpose", `{"name":"x","uxPurpose":"boss","details":{"__type":"PermissionDescriptorAllow","permissions":[]}}`, "uxPurpose"},
		{"bad resource type", `{"name":"x","uxPurpose":"set","resourceType":"stacks","details":{"__type":"PermissionDescriptorAllow","permissions":[]}}`, "resourceType"},
		{"wrong field type", `{"name":5,"uxPurpose":"role"}`, "name: want string, got number"},
		{"unknown field", `{"name":"x","color":"role"}`, `unknown field "color"`},
		{"not JSON", `{"name":`, "request body"},
		{"dangling reference", `{"name":"x","uxPurpose":"role","details":{"__type":"PermissionDescriptorCompose","permissionDescriptors":["00000000-0000-4000-8000-000000000000"]}}`, "unknown permission descriptor"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.fails(e.admin, "POST", "/api/orgs/acme/roles", c.body, 400, c.want)
		})
	}
	huge := `{"name":"x","uxPurpose":"role","details":{"__type":"PermissionDescriptorAllow","permissions":["` + strings.Repeat("a", 2<<20) + `"]}}`
	e.fails(e.admin, "POST", "/api/orgs/acme/roles", huge, 413, "limit of")
	if n := len(e.roles("role")); n != 6 {
		t.Errorf("%d roles after only failed creates, want the 6 built-ins", n)
	}
}

func TestMembersAndTeams(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	roles := e.roles("role")
	e.must(e.admin, "POST", "/api/orgs/acme/members/carol", map[string]any{"role": "member"}, 200, nil)
	e.fails(e.admin, "POST", "/api/orgs/acme/members/carol", nil, 409, "already a member")
	e.fails(e.admin, "POST", "/api/orgs/acme/members/dave", map[string]any{"role": "overlord"}, 400, "not a built-in role")
	e.fails(e.admin, "POST", "/api/orgs/acme/members/bad%20name", nil, 400, "userLogin")
	e.fails(e.admin, "PATCH", "/api/orgs/acme/members/admin", map[string]any{"role": "member"}, 409, "last admin")
	e.fails(e.admin, "DELETE", "/api/orgs/acme/members/admin", nil, 400, "cannot remove yourself")

	var team struct{ Name, DisplayName, Kind string }
	e.must(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]any{"name": "platform", "displayName": "Platform", "description": "infra"}, 201, &team)
	if team.Kind != "pulumi" || team.DisplayName != "Platform" {
		t.Errorf("team = %+v", team)
	}
	e.fails(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]any{"name": "platform"}, 409, "already exists")
	e.fails(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]any{"name": "x", "displayName": strings.Repeat("d", 101)}, 400, "displayName")
	e.must(e.admin, "PATCH", "/api/orgs/acme/teams/platform", map[string]any{"memberAction": "add", "member": "carol"}, 204, nil)
	e.must(e.admin, "PATCH", "/api/orgs/acme/teams/platform", map[string]any{"memberAction": "promote", "member": "carol"}, 204, nil)
	e.fails(e.admin, "PATCH", "/api/orgs/acme/teams/platform", map[string]any{"memberAction": "dance", "member": "carol"}, 400, "memberAction")
	e.fails(e.admin, "PATCH", "/api/orgs/acme/teams/platform", map[string]any{"memberAction": "add", "member": "nobody"}, 400, "not a member")
	st := e.createStack("infra", "prod", nil, "")
	e.must(e.admin, "PATCH", "/api/orgs/acme/teams/platform", map[string]any{"addStackPermission": map[string]any{"projectName": "infra", "stackName": "prod", "permission": 102}}, 204, nil)
	e.fails(e.admin, "PATCH", "/api/orgs/acme/teams/platform", map[string]any{"addStackPermission": map[string]any{"projectName": "infra", "stackName": "prod", "permission": 999}}, 400, "not a stack permission")
	e.must(e.admin, "POST", "/api/orgs/acme/teams/platform/roles/"+roles["Reader"].ID, nil, 204, nil)
	e.must(e.admin, "POST", "/api/orgs/acme/teams/platform/roles/"+roles["Builder"].ID, nil, 204, nil)
	var got struct {
		Members []struct{ GitHubLogin, Role string }
		Stacks  []struct {
			ProjectName, StackName string
			Permission             int
		}
		RoleIDs []string
	}
	e.must(e.admin, "GET", "/api/orgs/acme/teams/platform", nil, 200, &got)
	if len(got.Members) != 1 || got.Members[0].Role != "admin" || len(got.Stacks) != 1 || got.Stacks[0].Permission != 102 || len(got.RoleIDs) != 2 {
		t.Errorf("team view = %+v", got)
	}
	var teams struct{ Teams []string }
	e.must(e.admin, "GET", "/api/orgs/acme/members/carol/teams", nil, 200, &teams)
	if len(teams.Teams) != 1 || teams.Teams[0] != "platform" {
		t.Errorf("carol's teams = %+v", teams)
	}

	// A team token holds the team's roles plus the Member role; it dies
	// with its team.
	var tok struct{ ID, TokenValue string }
	e.must(e.admin, "POST", "/api/orgs/acme/teams/platform/tokens", map[string]any{"name": "platform-ci", "description": "ci"}, 200, &tok)
	stack := map[string]string{"type": "stack", "project": "infra", "name": "prod"}
	if r := e.decide(tok.TokenValue, "stack:write", stack); !r.Allowed {
		t.Errorf("team token denied stack:write: %s", r.Reason)
	}
	if r := e.decide(tok.TokenValue, "stack:delete", stack); r.Allowed {
		t.Errorf("team token allowed stack:delete")
	}
	_ = st
	e.must(e.admin, "DELETE", "/api/orgs/acme/teams/platform", nil, 204, nil)
	e.fails(tok.TokenValue, "GET", "/api/user", nil, 401, "unauthorized")
	e.must(e.admin, "DELETE", "/api/orgs/acme/members/carol", nil, 204, nil)
}

func TestTokenRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	now := time.Now()
	e.fails(e.admin, "POST", "/api/orgs/acme/tokens", map[string]any{"name": ""}, 400, "name: must be 1 to 40 characters")
	e.fails(e.admin, "POST", "/api/orgs/acme/tokens", map[string]any{"name": strings.Repeat("n", 41)}, 400, "name")
	e.fails(e.admin, "POST", "/api/orgs/acme/tokens", map[string]any{"name": "past", "expires": now.Add(-time.Hour).Unix()}, 400, "in the past")
	e.fails(e.admin, "POST", "/api/orgs/acme/tokens", map[string]any{"name": "far", "expires": now.Add(3 * 365 * 24 * time.Hour).Unix()}, 400, "two years")
	e.fails(e.admin, "POST", "/api/orgs/acme/tokens", map[string]any{"name": "r", "roleID": "nope"}, 400, "roleID")
	var personal struct{ ID, TokenValue string }
	e.must(e.admin, "POST", "/api/user/tokens", map[string]any{"description": "laptop", "expires": now.Add(time.Hour).Unix()}, 200, &personal)
	var list struct {
		Tokens []struct {
			ID, Description string
			Expires         int64
		}
	}
	e.must(personal.TokenValue, "GET", "/api/user/tokens", nil, 200, &list)
	if len(list.Tokens) != 2 {
		t.Errorf("personal tokens = %+v", list)
	}
	orgTok := e.orgToken("automation", "")
	e.fails(orgTok, "GET", "/api/user/tokens", nil, 403, "personal tokens belong to users")
	e.must(e.admin, "DELETE", "/api/user/tokens/"+personal.ID, nil, 204, nil)
	e.fails(personal.TokenValue, "GET", "/api/user", nil, 401, "unauthorized")
	e.fails(e.admin, "DELETE", "/api/user/tokens/"+personal.ID, nil, 404, "not found")
}

func TestAuthorizationSemantics(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	roles := e.roles("role")
	sets := e.roles("set")
	dev := e.createStack("app", "dev", map[string]string{"env": "dev"}, "")
	e.createStack("app", "prod", map[string]string{"env": "prod"}, "")
	devRef := map[string]string{"type": "stack", "project": "app", "name": "dev"}
	prodRef := map[string]string{"type": "stack", "project": "app", "name": "prod"}
	org := map[string]string{"type": "global"}

	// An organization token holds exactly its role; the org default when none.
	reader := e.orgToken("reader", roles["Reader"].ID)
	dflt := e.orgToken("default", "")
	if r := e.decide(reader, "stack:read", prodRef); !r.Allowed {
		t.Errorf("Reader cannot read a stack: %s", r.Reason)
	}
	if r := e.decide(reader, "stack:write", prodRef); r.Allowed || !strings.Contains(r.Reason, "no role grants stack:write") {
		t.Errorf("Reader may write: %+v", r)
	}
	if r := e.decide(dflt, "org_member:read", org); !r.Allowed {
		t.Errorf("default-role token cannot read members: %s", r.Reason)
	}
	if r := e.decide(dflt, "stack:read", prodRef); r.Allowed {
		t.Errorf("Member with default settings may read every stack")
	}

	// A tag-rule role, bound to a token.
	var tagRole role
	e.must(e.admin, "POST", "/api/orgs/acme/roles", fmt.Sprintf(`{"name":"dev writer","uxPurpose":"role","details":
		{"__type":"PermissionDescriptorCondition","condition":{"__type":"PermissionExpressionEqual",
		  "left":{"__type":"PermissionExpressionTag","context":{"__type":"PermissionExpressionStack"},"key":"env"},
		  "right":{"__type":"PermissionLiteralExpressionString","value":"dev"}},
		 "subNode":{"__type":"PermissionDescriptorCompose","permissionDescriptors":["%s"]}}}`, sets["Stack Write"].ID), 200, &tagRole)
	devWriter := e.orgToken("dev-writer", tagRole.ID)
	if r := e.decide(devWriter, "stack:write", devRef); !r.Allowed {
		t.Errorf("tag role denied on a matching stack: %s", r.Reason)
	}
	r := e.decide(devWriter, "stack:write", prodRef)
	if r.Allowed || !strings.Contains(r.Reason, `tag "env" is "prod"`) {
		t.Errorf("tag role on a non-matching stack: %+v", r)
	}
	// Editing the role changes decisions at once.
	e.must(e.admin, "PATCH", "/api/orgs/acme/roles/"+tagRole.ID, map[string]any{"details": map[string]any{
		"__type": "PermissionDescriptorCompose", "permissionDescriptors": []string{sets["Stack Write"].ID}}}, 200, nil)
	if r := e.decide(devWriter, "stack:write", prodRef); !r.Allowed {
		t.Errorf("edited role not in effect: %s", r.Reason)
	}

	// A member: the creator of a stack holds Stack Admin on it; a direct
	// team grant adds to the member's role.
	e.must(e.admin, "POST", "/api/orgs/acme/members/erin", nil, 200, nil)
	e.createStack("app", "erins", nil, "erin")
	erinTok, err := e.svc.IssueToken(context.Background(), "acme", "erin", "test", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.decide(erinTok, "stack:delete", map[string]string{"type": "stack", "project": "app", "name": "erins"}); !r.Allowed {
		t.Errorf("creator cannot delete their stack: %s", r.Reason)
	}
	if r := e.decide(erinTok, "stack:read", devRef); r.Allowed {
		t.Errorf("erin may read another stack")
	}
	e.must(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]any{"name": "devs"}, 201, nil)
	e.must(e.admin, "PATCH", "/api/orgs/acme/teams/devs", map[string]any{"memberAction": "add", "member": "erin"}, 204, nil)
	e.must(e.admin, "PATCH", "/api/orgs/acme/teams/devs", map[string]any{"addStackPermission": map[string]any{"projectName": "app", "stackName": "dev", "permission": 101}}, 204, nil)
	if r := e.decide(erinTok, "stack:read", devRef); !r.Allowed {
		t.Errorf("legacy team grant not in effect: %s", r.Reason)
	}
	if r := e.decide(erinTok, "stack:write", devRef); r.Allowed {
		t.Errorf("read grant allows write")
	}
	_ = dev

	// Over HTTP: a 403 names the missing scope; another organization's
	// routes are a 404.
	e.fails(reader, "POST", "/api/orgs/acme/teams/pulumi", map[string]any{"name": "x"}, 403, "requires the team:create scope")
	e.fails(reader, "GET", "/api/orgs/other/roles?uxPurpose=role", nil, 404, `organization "other" not found`)
	e.fails(e.admin, "GET", "/api/orgs/other/roles?uxPurpose=role", nil, 404, `organization "other" not found`)
}

func TestCheckEndpointErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var out struct{ Results []checkResult }
	e.must(e.admin, "POST", "/api/orgs/acme/authz/check", map[string]any{"checks": []any{
		map[string]any{"token": "pul-nope", "scope": "stack:read", "entity": map[string]string{"type": "global"}},
		map[string]any{"token": e.admin, "scope": "stack:reed", "entity": map[string]string{"type": "global"}},
		map[string]any{"token": e.admin, "scope": "stack:read", "entity": map[string]string{"type": "stacks"}},
		map[string]any{"token": e.admin, "scope": "stack:read", "entity": map[string]string{"type": "stack", "project": "p", "name": "none"}},
		map[string]any{"token": e.admin, "scope": "audit_logs:read", "entity": map[string]string{"type": "global"}},
	}}, 200, &out)
	wants := []string{"checks[0].token", `checks[1].scope: unknown scope "stack:reed" (did you mean "stack:read"?)`, `checks[2].entity.type`, "checks[3].entity: stack", ""}
	for i, w := range wants {
		if !strings.Contains(out.Results[i].Error, w) || (w == "" && out.Results[i].Error != "") {
			t.Errorf("result %d = %+v, want error %q", i, out.Results[i], w)
		}
	}
	if !out.Results[4].Allowed {
		t.Errorf("admin may not read the audit log: %+v", out.Results[4])
	}
	e.fails(e.admin, "POST", "/api/orgs/acme/authz/check", map[string]any{"checks": []any{}}, 400, "1 to 1000 checks")
}

func TestAssignments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sets := e.roles("set")
	st := e.createStack("app", "prod", nil, "")
	e.must(e.admin, "POST", "/api/orgs/acme/members/bob", nil, 200, nil)
	bob, err := e.svc.IssueToken(context.Background(), "acme", "bob", "t", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	ref := map[string]string{"type": "stack", "project": "app", "name": "prod"}
	if r := e.decide(bob, "stack:read", ref); r.Allowed {
		t.Fatal("bob reads the stack before any assignment")
	}
	ctxStack := map[string]string{"__type": "PermissionExpressionStack"}
	var upd struct {
		Assignment *struct {
			Principal     struct{ User *struct{ GitHubLogin string } }
			PermissionSet struct{ Name, ID string }
			Source        string
		}
	}
	e.must(e.admin, "POST", "/api/orgs/acme/assignments/update", map[string]any{"context": ctxStack, "id": st.ID,
		"userId": "bob", "permissionSetId": sets["Stack Write"].ID}, 200, &upd)
	if upd.Assignment == nil || upd.Assignment.PermissionSet.Name != "Stack Write" || upd.Assignment.Principal.User.GitHubLogin != "bob" {
		t.Fatalf("update = %+v", upd)
	}
	if r := e.decide(bob, "stack:write", ref); !r.Allowed {
		t.Errorf("assignment not in effect: %s", r.Reason)
	}
	e.must(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]any{"name": "ops"}, 201, nil)
	e.must(e.admin, "PATCH", "/api/orgs/acme/teams/ops", map[string]any{"addStackPermission": map[string]any{"projectName": "app", "stackName": "prod", "permission": 103}}, 204, nil)
	var list struct {
		Assignments []struct {
			Principal struct {
				User *struct{ GitHubLogin string }
				Team *struct{ Name string }
			}
			PermissionSet struct{ Name string }
			Source        string
		}
		AvailablePermissionSets []struct{ Name, ResourceType string }
	}
	e.must(e.admin, "POST", "/api/orgs/acme/assignments/list", map[string]any{"context": ctxStack, "id": st.ID}, 200, &list)
	if len(list.Assignments) != 2 || len(list.AvailablePermissionSets) != 3 {
		t.Fatalf("list = %+v", list)
	}
	for _, a := range list.Assignments {
		if a.Source == "team" && (a.Principal.Team == nil || a.Principal.Team.Name != "ops" || a.PermissionSet.Name != "Stack Admin") {
			t.Errorf("team assignment = %+v", a)
		}
	}
	for _, s := range list.AvailablePermissionSets {
		if s.ResourceType != "stack" {
			t.Errorf("a %s set offered for a stack", s.ResourceType)
		}
	}
	// Wrong set type, unknown user, unknown entity, wrong context.
	e.fails(e.admin, "POST", "/api/orgs/acme/assignments/update", map[string]any{"context": ctxStack, "id": st.ID, "userId": "bob",
		"permissionSetId": sets["Environment Read"].ID}, 400, "is for environment entities")
	e.fails(e.admin, "POST", "/api/orgs/acme/assignments/update", map[string]any{"context": ctxStack, "id": st.ID, "userId": "nobody",
		"permissionSetId": sets["Stack Read"].ID}, 400, "userId")
	e.fails(e.admin, "POST", "/api/orgs/acme/assignments/list", map[string]any{"context": ctxStack, "id": gatehouse.NewID()}, 404, "not found")
	e.fails(e.admin, "POST", "/api/orgs/acme/assignments/list", map[string]any{"context": map[string]string{"__type": "PermissionExpressionEnvironment"}, "id": st.ID}, 404, "not found")
	e.fails(e.admin, "POST", "/api/orgs/acme/assignments/list", map[string]any{"context": map[string]string{"__type": "X"}, "id": st.ID}, 400, "context.__type")
	// Bob may not see who can reach the stack: he lacks stack_access:read?
	// He holds Stack Write, which includes stack_access:read.
	e.must(bob, "POST", "/api/orgs/acme/assignments/list", map[string]any{"context": ctxStack, "id": st.ID}, 200, nil)
	e.fails(bob, "POST", "/api/orgs/acme/assignments/update", map[string]any{"context": ctxStack, "id": st.ID, "userId": "bob",
		"permissionSetId": sets["Stack Admin"].ID}, 403, "stack_access:update")
	// Revoke: no permissionSetId.
	upd.Assignment = nil
	e.must(e.admin, "POST", "/api/orgs/acme/assignments/update", map[string]any{"context": ctxStack, "id": st.ID, "userId": "bob"}, 200, &upd)
	if upd.Assignment != nil {
		t.Errorf("revocation returned an assignment")
	}
	if r := e.decide(bob, "stack:write", ref); r.Allowed {
		t.Errorf("revoked assignment still in effect")
	}
	// A caller who cannot read the stack learns nothing about it: 404.
	e.fails(bob, "POST", "/api/orgs/acme/assignments/list", map[string]any{"context": ctxStack, "id": st.ID}, 404, "not found")
}

func TestLegacyAdminToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var out struct{ TokenValue string }
	e.must(e.admin, "POST", "/api/orgs/acme/tokens", map[string]any{"name": "legacy", "admin": true}, 200, &out)
	if r := e.decide(out.TokenValue, "org_token:create", map[string]string{"type": "global"}); !r.Allowed {
		t.Errorf("a legacy admin token is not an admin: %s", r.Reason)
	}
	var list struct{ Tokens []struct{ Admin bool } }
	e.must(e.admin, "GET", "/api/orgs/acme/tokens", nil, 200, &list)
	if len(list.Tokens) != 1 || !list.Tokens[0].Admin {
		t.Errorf("tokens = %+v", list)
	}
}

// rawExec changes the database behind the store's back, as an attacker
// with file access would.
func (e *env) rawExec(q string, args ...any) error {
	return e.db.UnsafeExec(context.Background(), q, args...)
}
