package authz_test

import (
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

// TestBoundPersonalToken: a personal token bound to organization B (an
// OIDC exchange's) is its user in B only: no member of A, no decision in
// A, and no identity at all once the user leaves B, even though the user
// stays in A.
func TestBoundPersonalToken(t *testing.T) {
	f := newFixture(t)
	res, err := f.svc.CreateOrgWithAdmin(ctx, "beta", "bea", false)
	if err != nil {
		t.Fatal(err)
	}
	beta := res.Org
	var user *gatehouse.User
	err = f.db.Write(ctx, func(tx gatehouse.Tx) (err error) {
		if user, err = tx.GetUserByLogin(ctx, "admin"); err != nil {
			return err
		}
		return tx.AddMember(ctx, &gatehouse.Membership{OrgID: beta.ID, UserID: user.ID, RoleID: beta.Settings.DefaultRoleID})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.az.Refresh(ctx, beta.ID); err != nil {
		t.Fatal(err)
	}
	_, digest := gatehouse.NewTokenValue()
	tok := &gatehouse.Token{Kind: gatehouse.TokenPersonal, OrgID: beta.ID, UserID: user.ID, Digest: digest, Exchanged: true, Expires: time.Now().Add(time.Hour)}
	if err := f.db.Write(ctx, func(tx gatehouse.Tx) error { return tx.CreateToken(ctx, tok) }); err != nil {
		t.Fatal(err)
	}
	f.az.AddToken(tok)
	id, err := f.az.AuthenticateDigest(digest)
	if err != nil || id.User == nil || id.User.Login != "admin" {
		t.Fatalf("authenticate: %+v %v", id, err)
	}
	if !f.az.Member(ctx, id, beta.ID) || f.az.Member(ctx, id, f.org.ID) {
		t.Errorf("member of beta %v (want true), of acme %v (want false)", f.az.Member(ctx, id, beta.ID), f.az.Member(ctx, id, f.org.ID))
	}
	sc := catalog.MustLookup("org_member:read")
	if ok, _ := f.az.Decide(ctx, id, f.org.ID, sc, &gatehouse.Entity{Type: gatehouse.EntityGlobal, ID: f.org.ID}); ok {
		t.Errorf("a beta-bound token was allowed org_member:read in acme")
	}
	// Rebuilding acme must not pick the token up.
	if err := f.az.Refresh(ctx, f.org.ID); err != nil {
		t.Fatal(err)
	}
	if f.az.Member(ctx, id, f.org.ID) {
		t.Errorf("after a rebuild of acme the beta-bound token is a member of acme")
	}
	// The user leaves beta: the token is no one, though the user is still
	// in acme.
	if err := f.db.Write(ctx, func(tx gatehouse.Tx) error { return tx.RemoveMember(ctx, beta.ID, user.ID) }); err != nil {
		t.Fatal(err)
	}
	if err := f.az.Refresh(ctx, beta.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.az.AuthenticateDigest(digest); err == nil {
		t.Errorf("a beta-bound token of a user no longer in beta still authenticates")
	}
}
