package api_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/service"
)

// Attack review 3 of issue 12 §3: every exchange of an ID token (which
// may be replayed until it expires) creates a token row that every later
// snapshot of the organization loads. The exchange is held to the tokens
// quota like any other token; exchanged tokens that have expired make
// room rather than fill the quota for good.
func TestExchangeHeldToTokenQuota(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	gh := newTestIssuer(t)
	_, policyID := e.register(gh, "github")
	role := e.customRole("reader", allowDetails("org_member:read"))
	e.must(e.admin, "PATCH", "/api/orgs/acme/auth/policies/"+policyID, map[string]any{"policies": []any{
		map[string]any{"decision": "allow", "tokenType": "organization", "roleID": role, "rules": map[string]string{"sub": "ci"}}}}, 200, nil)
	org := e.orgID()
	count := func() int {
		var n int
		if err := e.db.Read(ctx, func(tx gatehouse.Tx) (err error) { n, err = tx.CountOrg(ctx, org, "tokens"); return err }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	quota := count() + 2
	if err := e.svc.UpdateSettings(ctx, org, service.SettingsUpdate{Quotas: &gatehouse.Quotas{Tokens: quota}}); err != nil {
		t.Fatal(err)
	}
	jwt := gh.sign(map[string]any{"sub": "ci"})
	for i := 0; i < 2; i++ {
		if status, res := e.exchange(jwt, "organization", "", false, map[string]string{"expiration": "600"}); status != 200 {
			t.Fatalf("exchange %d within the quota: %d %+v", i, status, res)
		}
	}
	for i := 0; i < 3; i++ {
		if status, _ := e.exchange(jwt, "organization", "", false, map[string]string{"expiration": "600"}); status == 200 {
			t.Fatalf("exchange past the tokens quota of %d succeeded (the organization holds %d tokens)", quota, count())
		}
	}
	e.fails(e.admin, "POST", "/api/orgs/acme/tokens", map[string]any{"name": "over"}, 409, "quotas.tokens")
	if n := count(); n > quota {
		t.Fatalf("the organization holds %d tokens, over its quota of %d", n, quota)
	}

	// Once they have expired, exchanged tokens no longer hold the quota.
	e.clock.Advance(time.Hour)
	if status, res := e.exchange(jwt, "organization", "", false, map[string]string{"expiration": "600"}); status != 200 {
		t.Fatalf("exchange once the earlier exchanged tokens expired: %d %+v", status, res)
	}
	e.must(e.admin, "POST", "/api/orgs/acme/tokens", map[string]any{"name": "room"}, 200, nil)
	if n := count(); n > quota {
		t.Fatalf("the organization holds %d tokens, over its quota of %d", n, quota)
	}
}

// Creating a role with createPolicyAndRole makes two descriptors (the
// policy and the role composing it): both count against the quota.
func TestPolicyAndRoleHeldToDescriptorQuota(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	org := e.orgID()
	count := func() int {
		var n int
		if err := e.db.Read(ctx, func(tx gatehouse.Tx) (err error) { n, err = tx.CountOrg(ctx, org, "descriptors"); return err }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	quota := count() + 1
	if err := e.svc.UpdateSettings(ctx, org, service.SettingsUpdate{Quotas: &gatehouse.Quotas{Descriptors: quota}}); err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"name": "console", "uxPurpose": "role", "details": allowDetails("org_member:read")}
	e.fails(e.admin, "POST", "/api/orgs/acme/roles?createPolicyAndRole=true", body, 409, "quotas.descriptors")
	if n := count(); n > quota {
		t.Fatalf("the organization holds %d custom descriptors, over its quota of %d", n, quota)
	}
	// One descriptor still fits.
	e.must(e.admin, "POST", "/api/orgs/acme/roles", body, 200, nil)
}

// A user's personal tokens are loaded into the snapshot of every
// organization the user belongs to: a member creating them in a loop (each
// a tiny request) would grow every such organization's state without
// bound. A user holds at most Service.MaxPersonalTokens live ones.
func TestPersonalTokensBounded(t *testing.T) {
	e := newEnv(t)
	e.svc.MaxPersonalTokens = 3
	bob := e.memberWithRole("bob", e.customRole("nothing", allowDetails("org_member:read"))) // the first
	var ids []string
	for i := 0; i < 2; i++ {
		var out struct{ ID string }
		e.must(bob, "POST", "/api/user/tokens", map[string]any{"description": "loop"}, 200, &out)
		ids = append(ids, out.ID)
	}
	for i := 0; i < 3; i++ {
		e.fails(bob, "POST", "/api/user/tokens", map[string]any{"description": "loop"}, 409, "personal tokens")
	}
	// A revoked token makes room.
	e.must(bob, "DELETE", "/api/user/tokens/"+ids[0], nil, 204, nil)
	e.must(bob, "POST", "/api/user/tokens", map[string]any{"description": "again"}, 200, nil)
	e.fails(bob, "POST", "/api/user/tokens", map[string]any{"description": "loop"}, 409, "personal tokens")
}
