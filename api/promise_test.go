package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

// auditDetails returns the details of the organization's newest event of
// a type.
func (e *env) auditDetails(typ string) map[string]any {
	e.t.Helper()
	ctx := context.Background()
	var out map[string]any
	err := e.db.Read(ctx, func(tx gatehouse.Tx) error {
		es, _, err := tx.ListAudit(ctx, e.orgID(), gatehouse.AuditFilter{Types: []string{typ}}, gatehouse.ListOptions{Limit: 1})
		if err != nil || len(es) == 0 {
			return err
		}
		return json.Unmarshal(es[0].Data, &out)
	})
	if err != nil || out == nil {
		e.t.Fatalf("no %s event: %v", typ, err)
	}
	return out
}

// TestForceDeleteRoleBoundToTokens attacks `pulumi org role remove
// --force` on a role organization tokens are bound to: the role goes, the
// tokens then hold nothing (not the organization's default role), members
// fall back to the default role, and the audit event names the tokens.
func TestForceDeleteRoleBoundToTokens(t *testing.T) {
	e := newEnv(t)
	auditor := e.customRole("auditor", map[string]any{"__type": "PermissionDescriptorAllow", "permissions": []string{"audit_logs:read"}})
	tokID, tok := e.orgTokenWithID("auditing", auditor)
	e.must(e.admin, "POST", "/api/orgs/acme/members/bob", nil, 200, nil)
	e.must(e.admin, "PATCH", "/api/orgs/acme/members/bob", map[string]any{"fgaRoleId": auditor}, 204, nil)

	e.must(tok, "GET", "/api/orgs/acme/auditlogs/event-types", nil, 200, nil)
	// Member, the default role, may list members; the auditor may not.
	e.fails(tok, "GET", "/api/orgs/acme/members", nil, 403, "org_member:read")

	// Without force: refused, saying what holds the role and how to force.
	e.fails(e.admin, "DELETE", "/api/orgs/acme/roles/"+auditor, nil, 409, "assigned to 1 member(s), 0 team(s) and 1 access token(s)")
	e.fails(e.admin, "DELETE", "/api/orgs/acme/roles/"+auditor, nil, 409, "--force")
	e.must(tok, "GET", "/api/orgs/acme/auditlogs/event-types", nil, 200, nil)

	e.must(e.admin, "DELETE", "/api/orgs/acme/roles/"+auditor+"?force=true", nil, 204, nil)
	for _, path := range []string{"/api/orgs/acme/auditlogs/event-types", "/api/orgs/acme/members"} {
		e.fails(tok, "GET", path, nil, 403, "")
	}

	d := e.auditDetails(gatehouse.EventRoleDeleted)
	lost, _ := json.Marshal(d["unboundTokens"])
	if !strings.Contains(string(lost), tokID) || !strings.Contains(string(lost), "auditing") {
		t.Errorf("role_deleted event details %v do not name the token that lost its role (%s auditing)", d, tokID)
	}
	var tokens struct {
		Tokens []struct {
			ID   string
			Role *struct{ Name string }
		}
	}
	e.must(e.admin, "GET", "/api/orgs/acme/tokens", nil, 200, &tokens)
	for _, tk := range tokens.Tokens {
		if tk.ID == tokID && tk.Role != nil {
			t.Errorf("the token lists role %q after its role was deleted; want none", tk.Role.Name)
		}
	}
	// Bob falls back to the default role, as Pulumi does for members.
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
	// A restart (a snapshot rebuilt from the store) keeps the token empty.
	if err := e.az.Refresh(context.Background(), e.orgID()); err != nil {
		t.Fatal(err)
	}
	e.fails(tok, "GET", "/api/orgs/acme/members", nil, 403, "")
}

// TestMaxOpenDurationEnforced attacks maxOpenDuration: a member whose only
// way to open an environment is a team grant limited to one minute asks
// for 24 hours. The limit is the largest among the grants that let the
// caller open the environment; an unconstrained grant lifts it.
func TestMaxOpenDurationEnforced(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const base = "/api/esc/environments/acme/app/prod"
	e.must(e.admin, "POST", "/api/esc/environments/acme", map[string]string{"project": "app", "name": "prod"}, 200, nil)
	e.must(e.admin, "POST", "/api/esc/environments/acme", map[string]string{"project": "app", "name": "dev"}, 200, nil)
	e.must(e.admin, "PATCH", base, "values:\n  greeting: hello\n", 200, nil)
	// erin's own role opens nothing: only the team grant does.
	none := e.customRole("no-environments", map[string]any{"__type": "PermissionDescriptorAllow", "permissions": []string{"org_member:read"}})
	e.must(e.admin, "POST", "/api/orgs/acme/members/erin", nil, 200, nil)
	e.must(e.admin, "PATCH", "/api/orgs/acme/members/erin", map[string]any{"fgaRoleId": none}, 204, nil)
	erin, err := e.svc.IssueToken(ctx, "acme", "erin", "test", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	e.must(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]any{"name": "ops"}, 201, nil)
	e.must(e.admin, "PATCH", "/api/orgs/acme/teams/ops", map[string]any{"memberAction": "add", "member": "erin"}, 204, nil)
	e.must(e.admin, "PATCH", "/api/orgs/acme/teams/ops", map[string]any{"addEnvironmentPermission": map[string]any{
		"projectName": "app", "envName": "prod", "permission": "open", "maxOpenDuration": "1m"}}, 204, nil)

	e.fails(erin, "POST", base+"/open?duration=24h", nil, 403, "1m0s")
	e.fails(erin, "POST", base+"/open?duration=61s", nil, 403, "maxOpenDuration")
	var opened struct{ ID string }
	e.must(erin, "POST", base+"/open?duration=30s", nil, 200, &opened)
	e.must(erin, "GET", base+"/open/"+opened.ID, nil, 200, nil)

	// No duration asked: the default (2h) is capped to the limit, as the
	// esc CLI always sends its default and a 403 would break it.
	var capped struct{ ID string }
	e.must(erin, "POST", base+"/open", nil, 200, &capped)
	e.clock.Advance(59 * time.Second)
	e.must(erin, "GET", base+"/open/"+capped.ID, nil, 200, nil)
	e.clock.Advance(2 * time.Second)
	e.fails(erin, "GET", base+"/open/"+capped.ID, nil, 404, "expired")
	e.fails(erin, "GET", base+"/open/"+opened.ID, nil, 404, "expired")

	// The admin, unconstrained, opens for a day.
	e.must(e.admin, "POST", base+"/open?duration=24h", nil, 200, nil)

	// A role's Allow with constraints.MaxOpenDuration on dev: 2 minutes.
	devEntity, err := e.az.Entity(ctx, e.orgID(), gatehouse.EntityEnvironment, "app/dev")
	if err != nil {
		t.Fatal(err)
	}
	prodEntity, err := e.az.Entity(ctx, e.orgID(), gatehouse.EntityEnvironment, "app/prod")
	if err != nil {
		t.Fatal(err)
	}
	onEnv := func(id string, secs int) map[string]any {
		return map[string]any{"__type": "PermissionDescriptorCondition",
			"condition": map[string]any{"__type": "PermissionExpressionEqual",
				"left":  map[string]any{"__type": "PermissionExpressionEnvironment"},
				"right": map[string]any{"__type": "PermissionLiteralExpressionEnvironment", "identity": id}},
			"subNode": map[string]any{"__type": "PermissionDescriptorAllow", "permissions": []string{"environment:open", "environment:read"},
				"constraints": map[string]any{"MaxOpenDuration": secs}}}
	}
	limited := e.customRole("limited-opener", map[string]any{"__type": "PermissionDescriptorGroup", "entries": []any{
		onEnv(devEntity.ID, 120), onEnv(prodEntity.ID, 300),
		map[string]any{"__type": "PermissionDescriptorAllow", "permissions": []string{"org_member:read"}}}})
	e.must(e.admin, "PATCH", "/api/orgs/acme/members/erin", map[string]any{"fgaRoleId": limited}, 204, nil)
	e.fails(erin, "POST", "/api/esc/environments/acme/app/dev/open?duration=3m", nil, 403, "2m0s")
	e.must(erin, "POST", "/api/esc/environments/acme/app/dev/open?duration=2m", nil, 200, nil)
	// prod: the team's 1m and the role's 5m; the largest wins.
	e.must(erin, "POST", base+"/open?duration=5m", nil, 200, nil)
	e.fails(erin, "POST", base+"/open?duration=6m", nil, 403, "5m0s")

	// An organization token bound to the limited role is limited too.
	tok := e.orgToken("opener", limited)
	e.fails(tok, "POST", "/api/esc/environments/acme/app/dev/open?duration=24h", nil, 403, "2m0s")
}

// TestIssuerDeletionKillsExchangedTokens: tokens minted through an
// issuer's exchange die with the issuer (401), organization, team and
// personal ones alike; the deletion event lists them; other tokens live.
func TestIssuerDeletionKillsExchangedTokens(t *testing.T) {
	e := newEnv(t)
	ti := newTestIssuer(t)
	iss, policyID := e.register(ti, "ci")
	e.must(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]any{"name": "platform"}, 201, nil)
	e.must(e.admin, "PATCH", "/api/orgs/acme/auth/policies/"+policyID, map[string]any{"policies": []map[string]any{
		{"decision": "allow", "tokenType": "organization", "rules": map[string]string{"repository_owner": "acme"}},
		{"decision": "allow", "tokenType": "team", "teamName": "platform", "rules": map[string]string{"repository_owner": "acme"}},
		{"decision": "allow", "tokenType": "personal", "userLogin": "admin", "rules": map[string]string{"repository_owner": "acme"}},
	}}, 200, nil)
	jwtValue := ti.sign(githubClaims("acme/app", "prod"))
	var exchanged []string
	for _, c := range []struct{ kind, scope string }{{"organization", ""}, {"team", "team:platform"}, {"personal", "user:admin"}} {
		status, res := e.exchange(jwtValue, c.kind, c.scope, false, nil)
		if status != 200 {
			t.Fatalf("%s exchange: %d %+v", c.kind, status, res)
		}
		exchanged = append(exchanged, res.AccessToken)
	}
	// A token exchanged before tokens recorded their issuer (migration
	// 00011) is found through its exchange event.
	status, res := e.exchange(jwtValue, "organization", "", false, nil)
	if status != 200 {
		t.Fatalf("legacy exchange: %d %+v", status, res)
	}
	exchanged = append(exchanged, res.AccessToken)
	if err := e.rawExec("UPDATE tokens SET issuer_id = NULL WHERE digest = ?", gatehouse.TokenDigest(res.AccessToken)); err != nil {
		t.Fatal(err)
	}
	other := e.orgToken("unrelated", "")
	for _, tok := range append(exchanged, other) {
		e.must(tok, "GET", "/api/orgs/acme/members", nil, 200, nil)
	}

	e.must(e.admin, "DELETE", "/api/orgs/acme/oidc/issuers/"+iss.ID, nil, 204, nil)
	for i, tok := range exchanged {
		if status, body := e.call(tok, "GET", "/api/orgs/acme/members", nil, nil); status != 401 {
			t.Errorf("exchanged token %d after its issuer's deletion: %d %s, want 401", i, status, body)
		}
	}
	e.must(other, "GET", "/api/orgs/acme/members", nil, 200, nil)
	e.must(e.admin, "GET", "/api/orgs/acme/members", nil, 200, nil)
	d := e.auditDetails(gatehouse.EventIssuerDeleted)
	if revoked, _ := d["revokedTokens"].([]any); len(revoked) != 4 {
		t.Errorf("issuer deletion event %v does not list the 4 revoked tokens", d)
	}
	// Still dead after the snapshot is rebuilt from the store.
	if err := e.az.Refresh(context.Background(), e.orgID()); err != nil {
		t.Fatal(err)
	}
	for i, tok := range exchanged {
		if status, _ := e.call(tok, "GET", "/api/orgs/acme/members", nil, nil); status != 401 {
			t.Errorf("exchanged token %d after a rebuild: %d, want 401", i, status)
		}
	}
}

// TestRegisterLyingIssuer: an issuer whose discovery document claims
// another issuer's name (GitHub's) is refused at registration.
func TestRegisterLyingIssuer(t *testing.T) {
	e := newEnv(t)
	liar := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{"issuer": "https://token.actions.githubusercontent.com", "jwks_uri": "https://" + r.Host + "/keys"})
		case "/keys":
			w.Write([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"k"}]}`))
		}
	}))
	t.Cleanup(liar.Close)
	e.fails(e.admin, "POST", "/api/orgs/acme/oidc/issuers", map[string]any{"name": "liar", "url": liar.URL}, 400,
		`names issuer "https://token.actions.githubusercontent.com", not "`+liar.URL+`"`)
	if n := e.countEvents(gatehouse.EventIssuerCreated); n != 0 {
		t.Errorf("a refused registration recorded %d issuer_created events", n)
	}
}
