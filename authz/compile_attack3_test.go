package authz_test

import (
	"encoding/json"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/service"
)

// Attack review 3 of issue 12 §3: a role may expand to up to
// policy.MaxExpansion nodes (about 45 ms to compile), and an organization
// may hold thousands of them, each bound to a token. Every write to the
// organization (a stack, a team, a token's revocation) rebuilt its snapshot
// and compiled every held role again: minutes per write. A role is
// compiled again only when a descriptor changed.
func TestRebuildReusesCompiledRoles(t *testing.T) {
	f := newFixture(t)
	s := func(v string) *string { return &v }
	role, err := f.svc.CreateDescriptor(ctx, f.org.ID, service.DescriptorInput{Name: s("reader"), Purpose: s("role"),
		Details: json.RawMessage(`{"__type":"PermissionDescriptorAllow","permissions":["stack:read"]}`)}, false)
	if err != nil {
		t.Fatal(err)
	}
	_, value, err := f.svc.CreateToken(ctx, service.TokenInput{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "ci", RoleID: role.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateTeam(ctx, f.org.ID, "ops", "Ops", ""); err != nil {
		t.Fatal(err)
	}
	if n := authz.Compiles(f.az, f.org.ID); n == 0 {
		t.Fatal("the build compiled nothing")
	}
	// A write that changes no descriptor compiles nothing again.
	if _, err := f.svc.CreateTeam(ctx, f.org.ID, "dev", "Dev", ""); err != nil {
		t.Fatal(err)
	}
	if n := authz.Compiles(f.az, f.org.ID); n != 0 {
		t.Fatalf("creating a team compiled %d roles again", n)
	}
	// A descriptor's change compiles again, and takes effect.
	if _, err := f.svc.UpdateDescriptor(ctx, f.org.ID, role.ID, service.DescriptorInput{
		Details: json.RawMessage(`{"__type":"PermissionDescriptorAllow","permissions":["stack:read","stack:delete"]}`)}); err != nil {
		t.Fatal(err)
	}
	// Only the token holds the role: it compiles at the token's first use.
	id, err := f.az.Authenticate("token " + value)
	if err != nil {
		t.Fatal(err)
	}
	e := &gatehouse.Entity{Type: gatehouse.EntityStack, ID: "s"}
	if ok, err := f.az.Decide(ctx, id, f.org.ID, catalog.MustLookup("stack:delete"), e); err != nil || !ok {
		t.Fatalf("the changed role does not take effect: %v, %v", ok, err)
	}
	n := authz.Compiles(f.az, f.org.ID)
	if n == 0 {
		t.Fatal("a changed descriptor was not compiled again")
	}
	// A refresh with nothing new keeps the state as it is.
	rebuilds, deltas := f.az.Rebuilds(), f.az.Deltas()
	if err := f.az.Refresh(ctx, f.org.ID); err != nil {
		t.Fatal(err)
	}
	if got := authz.Compiles(f.az, f.org.ID); got != n || f.az.Rebuilds() != rebuilds || f.az.Deltas() != deltas {
		t.Fatalf("a refresh with nothing new compiled %d roles (rebuilds %d -> %d, deltas %d -> %d)", got-n, rebuilds, f.az.Rebuilds(), deltas, f.az.Deltas())
	}
}
