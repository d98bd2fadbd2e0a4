package authz_test

import (
	"encoding/json"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/authz"
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
	if _, _, err := f.svc.CreateToken(ctx, service.TokenInput{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "ci", RoleID: role.ID}); err != nil {
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
	if n := authz.Compiles(f.az, f.org.ID); n == 0 {
		t.Fatal("a changed descriptor was not compiled again")
	}
	if err := f.az.Refresh(ctx, f.org.ID); err != nil {
		t.Fatal(err)
	}
	if n := authz.Compiles(f.az, f.org.ID); n != 0 {
		t.Fatalf("a rebuild with the same descriptors compiled %d roles again", n)
	}
}
