package api_test

import (
	"strings"
	"testing"
)

// TestOtherOrgAdminEveryRoute walks every route of an organization with
// the admin token of another organization: each answers as if acme's
// things did not exist (404; 401 for an update's own lease routes), and
// nothing in acme changes. New routes are covered as they are registered.
func TestOtherOrgAdminEveryRoute(t *testing.T) {
	e := newEnv(t)
	e.newStack(e.admin, "app", "dev", map[string]string{"env": "dev"})
	e.must(e.admin, "POST", "/api/esc/environments/acme", map[string]string{"project": "app", "name": "cfg"}, 200, nil)
	e.must(e.admin, "POST", "/api/preview/insights/acme/accounts/aws", map[string]string{"provider": "aws", "environment": "app/cfg"}, 204, nil)
	var role struct{ ID string }
	e.must(e.admin, "POST", "/api/orgs/acme/roles", map[string]any{"name": "acme-role", "uxPurpose": "role",
		"details": map[string]any{"__type": "PermissionDescriptorAllow", "permissions": []string{"stack:read"}}}, 200, &role)
	e.must(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]string{"name": "core"}, 201, nil)
	mallory := e.newOrg("evil", "mallory")
	before := e.fingerprint()

	fill := strings.NewReplacer("{orgName}", "acme", "{roleID}", role.ID, "{userLogin}", "admin", "{teamName}", "core",
		"{tokenID}", "00000000-0000-4000-8000-000000000001", "{issuerID}", "00000000-0000-4000-8000-000000000002",
		"{policyID}", "00000000-0000-4000-8000-000000000003", "{projectName}", "app", "{stackName}", "dev",
		"{updateKind}", "update", "{updateID}", "00000000-0000-4000-8000-000000000004", "{version}", "1",
		"{tagName}", "env", "{envName}", "cfg", "{accountName}", "aws", "{openSessionID}", "bm9wZQ",
		"{keyID}", "00000000-0000-4000-8000-000000000005")
	checked := 0
	for _, rt := range e.routes() {
		method, pattern, _ := strings.Cut(rt, " ")
		if !strings.Contains(pattern, "{orgName}") {
			continue
		}
		checked++
		want := 404
		if strings.Contains(pattern, "/{updateKind}/{updateID}/") && method != "GET" && !strings.HasSuffix(pattern, "/cancel") {
			want = 401 // an update's own requests authenticate by its lease
		}
		body := ""
		if method == "POST" || method == "PATCH" || method == "PUT" {
			body = `{}`
		}
		e.failsAny(mallory, method, fill.Replace(pattern), body, want, "", "another organization's admin")
	}
	if checked < 50 {
		t.Errorf("only %d organization routes walked; the route table was not read", checked)
	}
	if after := e.fingerprint(); after != before {
		t.Errorf("another organization's admin changed acme")
	}
}
