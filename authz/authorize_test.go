package authz_test

import (
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/service"
)

// TestAuthorize: one call answers what Decide, the read-scope probe and
// Explain answered: an allow carries nothing else; a denial on an entity the
// caller may read carries Explain's explanation; a denial on one it may not
// read carries none; a caller who is no principal of the organization is
// told so.
func TestAuthorize(t *testing.T) {
	f := newFixture(t)
	admin, err := f.az.Authenticate("token " + f.admin)
	if err != nil {
		t.Fatal(err)
	}
	org := &gatehouse.Entity{Type: gatehouse.EntityGlobal, ID: f.org.ID}
	auditRead := catalog.MustLookup("audit_logs:read")
	if d, err := f.az.Authorize(ctx, admin, f.org.ID, auditRead, org); err != nil || !d.Allowed || d.MayRead || d.Explanation != nil {
		t.Errorf("admin: Authorize = %+v, %v", d, err)
	}
	_, value, err := f.svc.CreateToken(ctx, service.TokenInput{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "plain"})
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := f.az.Authenticate("token " + value)
	d, err := f.az.Authorize(ctx, plain, f.org.ID, auditRead, org)
	want, _ := f.az.Explain(ctx, plain, f.org.ID, auditRead, org)
	if err != nil || d.Allowed || !d.MayRead || d.Explanation == nil || d.Explanation.Reason != want.Reason || want.Reason == "" {
		t.Errorf("plain token: Authorize = %+v, %v; want the explanation %q", d, err, want.Reason)
	}

	// On a stack, a denial says why only to a caller who may read it.
	// (Grants decide on the entity's type and tags; it need not exist.)
	st := &gatehouse.Entity{Type: gatehouse.EntityStack, ID: gatehouse.NewID()}
	stackDelete := catalog.MustLookup("stack:delete")
	canRead, _ := f.az.Decide(ctx, plain, f.org.ID, catalog.MustLookup("stack:read"), st)
	d, err = f.az.Authorize(ctx, plain, f.org.ID, stackDelete, st)
	want, _ = f.az.Explain(ctx, plain, f.org.ID, stackDelete, st)
	if err != nil || d.Allowed || d.MayRead != canRead || (d.Explanation != nil && d.Explanation.Reason == want.Reason) != canRead {
		t.Errorf("plain token on a stack (may read: %v): Authorize = %+v, %v", canRead, d, err)
	}

	// Another organization's token is no principal here: on the
	// organization it is told so, on a stack (which it may not read)
	// nothing.
	res, err := f.svc.CreateOrgWithAdmin(ctx, "other", "bea", false)
	if err != nil {
		t.Fatal(err)
	}
	otherOrg := res.Org
	_, ov, err := f.svc.CreateToken(ctx, service.TokenInput{Kind: gatehouse.TokenOrganization, OrgID: otherOrg.ID, Name: "o"})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := f.az.Authenticate("token " + ov)
	d, err = f.az.Authorize(ctx, other, f.org.ID, auditRead, org)
	if err != nil || d.Allowed || !d.MayRead || d.Explanation == nil || d.Explanation.Reason != "the caller is not a member of the organization" {
		t.Errorf("other organization's token on the organization: Authorize = %+v, %v", d, err)
	}
	d, err = f.az.Authorize(ctx, other, f.org.ID, catalog.MustLookup("stack:write"), st)
	if err != nil || d.Allowed || d.MayRead || d.Explanation != nil {
		t.Errorf("other organization's token on a stack: Authorize = %+v, %v", d, err)
	}
	if _, err := f.az.Authorize(ctx, plain, gatehouse.NewID(), auditRead, org); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("authorizing in an unknown organization: %v", err)
	}
}
