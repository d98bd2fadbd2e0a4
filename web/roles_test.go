package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// TestRoleEditorNotEquals saves a tag rule with "does not equal" and an
// "exists" condition through the form; the API stores the tree the policy
// encoder writes, and the editor reads it back into the same rows.
func TestRoleEditorNotEquals(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.admin)
	if status, _, body := b.do("POST", "/console/acme/permissions", url.Values{"name": {"Env Reader"}, "type": {"environment"},
		"scope": {"environment:read"}}); status != 303 {
		t.Fatalf("create set: %d\n%s", status, body)
	}
	setID := e.roleID(t, "set", "Env Reader")
	status, h, body := b.do("POST", "/console/acme/roles", url.Values{"name": {"not-prod"}, "mode": {"form"},
		"rule0.kind": {"tag"}, "rule0.type": {"environment"}, "rule0.entity": {""}, "rule0.c0.key": {"team"}, "rule0.c0.op": {"has"},
		"rule0.c1.key": {"env"}, "rule0.c1.op": {"ne"}, "rule0.c1.value": {"prod"}, "rule0.set": {setID}})
	if status != 303 {
		t.Fatalf("create role: %d\n%s", status, body)
	}
	roleID := strings.TrimPrefix(strings.Split(h.Get("Location"), "?")[0], "/console/acme/roles/")
	var role wire.Role
	e.api(e.admin, "GET", "/api/orgs/acme/roles/"+url.PathEscape(roleID), nil, &role)
	// The role composes the policy that holds the tree.
	n, _ := policy.Decode(role.Details)
	compose, ok := n.(*policy.Compose)
	if !ok || len(compose.Descriptors) != 1 {
		t.Fatalf("the role does not compose one policy: %s", role.Details)
	}
	e.api(e.admin, "GET", "/api/orgs/acme/roles/"+url.PathEscape(compose.Descriptors[0]), nil, &role)
	if !strings.Contains(string(role.Details), `"__type":"PermissionExpressionNot","node":`) {
		t.Errorf("the stored tree lacks the Not: %s", role.Details)
	}
	page := b.get(h.Get("Location"))
	for _, want := range []string{`name="rule0.c0.key" value="team"`, `<option value="has" selected>`,
		`name="rule0.c1.key" value="env"`, `<option value="ne" selected>`, `name="rule0.c1.value" value="prod"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the role page lacks %s", want)
		}
	}
}
