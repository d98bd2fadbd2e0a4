package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/service"
)

// TestQuotas: an organization at its quota of stacks, environments,
// tokens or descriptors cannot create one more (409 naming the quota, the
// limit and the setting); a descriptor over the size quota is 400; the
// quotas are settings an admin changes, and the defaults are generous.
func TestQuotas(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	org, err := e.az.Org(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	// Defaults hold at first: creating works.
	e.newStack(e.admin, "app", "s0", nil)
	if err := e.svc.UpdateSettings(ctx, org.ID, service.SettingsUpdate{Quotas: &gatehouse.Quotas{Stacks: 2, Environments: 1, Tokens: 1, Descriptors: 1, DescriptorBytes: 2048}}); err != nil {
		t.Fatal(err)
	}
	e.newStack(e.admin, "app", "s1", nil)
	e.fails(e.admin, "POST", "/api/stacks/acme/app", map[string]any{"stackName": "s2"}, 409, "holds 2 stacks, its limit of 2 (setting quotas.stacks)")

	e.must(e.admin, "POST", "/api/esc/environments/acme", map[string]any{"project": "p", "name": "e0"}, 200, nil)
	e.fails(e.admin, "POST", "/api/esc/environments/acme", map[string]any{"project": "p", "name": "e1"}, 409, "quotas.environments")

	e.orgToken("t0", "")
	e.fails(e.admin, "POST", "/api/orgs/acme/tokens", map[string]any{"name": "t1", "description": "x", "expires": 0}, 409, "quotas.tokens")

	allow := `{"__type":"PermissionDescriptorAllow","permissions":["stack:read"]}`
	e.must(e.admin, "POST", "/api/orgs/acme/roles", `{"name":"r0","uxPurpose":"role","details":`+allow+`}`, 200, nil)
	e.fails(e.admin, "POST", "/api/orgs/acme/roles", `{"name":"r1","uxPurpose":"role","details":`+allow+`}`, 409, "quotas.descriptors")

	// The size quota, on an update too.
	var roles struct{ Roles []role }
	e.must(e.admin, "GET", "/api/orgs/acme/roles?uxPurpose=role", nil, 200, &roles)
	var r0 role
	for _, r := range roles.Roles {
		if r.Name == "r0" {
			r0 = r
		}
	}
	if r0.ID == "" {
		t.Fatalf("no role r0 in %+v", roles.Roles)
	}
	perms := make([]string, 200)
	for i := range perms {
		perms[i] = `"stack:read"`
	}
	big := fmt.Sprintf(`{"__type":"PermissionDescriptorAllow","permissions":[%s]}`, strings.Join(perms, ","))
	e.fails(e.admin, "PATCH", "/api/orgs/acme/roles/"+r0.ID, `{"details":`+big+`}`, 400, "quotas.descriptorBytes")

	// Raised, the quota lets the create through.
	if err := e.svc.UpdateSettings(ctx, org.ID, service.SettingsUpdate{Quotas: &gatehouse.Quotas{Stacks: 3}}); err != nil {
		t.Fatal(err)
	}
	e.newStack(e.admin, "app", "s2", nil)
	if err := e.svc.UpdateSettings(ctx, org.ID, service.SettingsUpdate{Quotas: &gatehouse.Quotas{Stacks: -1}}); err == nil || !strings.Contains(err.Error(), "quotas.stacks") {
		t.Errorf("a negative quota: %v", err)
	}
}

// TestPreviewEventsQuota: a preview keeps at most quotas.previewEvents
// engine events; the rest are accepted and dropped.
func TestPreviewEventsQuota(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	org, _ := e.az.Org(ctx, "acme")
	if err := e.svc.UpdateSettings(ctx, org.ID, service.SettingsUpdate{Quotas: &gatehouse.Quotas{PreviewEvents: 3}}); err != nil {
		t.Fatal(err)
	}
	e.newStack(e.admin, "app", "dev", nil)
	u := e.begin(e.admin, "app", "dev", "preview")
	evs := []map[string]any{}
	for i := 1; i <= 10; i++ {
		evs = append(evs, map[string]any{"sequence": i, "timestamp": 1})
	}
	e.must(u.auth, "POST", stackPath("app", "dev", "update", u.id, "events/batch"), map[string]any{"events": evs}, 204, nil)
	var got struct{ Events []map[string]any }
	e.must(e.admin, "GET", stackPath("app", "dev", "update", u.id, "events"), nil, 200, &got)
	if len(got.Events) != 3 {
		t.Errorf("the preview kept %d events, want 3", len(got.Events))
	}
}
