package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

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
