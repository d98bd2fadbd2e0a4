package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

func testTokens(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	personal, org := createTokens(t, s, f)
	t.Run("Invalid", func(t *testing.T) { testTokensInvalid(t, s, f, org.Digest) })
	t.Run("TouchAndDelete", func(t *testing.T) { testTokenTouchAndDelete(t, s, f, personal, org) })
}

// createTokens creates a personal token of f's user and an organization
// token named "deploy", and finds the first by its digest.
func createTokens(t *testing.T, s gatehouse.Store, f *fixture) (personal, org *gatehouse.Token) {
	v1, d1 := gatehouse.NewTokenValue()
	_, d2 := gatehouse.NewTokenValue()
	personal = &gatehouse.Token{Kind: gatehouse.TokenPersonal, UserID: f.user.ID, Description: "laptop", Digest: d1,
		Expires: time.Now().Add(time.Hour).Truncate(time.Microsecond)}
	org = &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "deploy", RoleID: f.role.ID, Digest: d2, CreatedBy: f.user.ID}
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.CreateToken(ctx, personal); err != nil {
			return err
		}
		return tx.CreateToken(ctx, org)
	})
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetTokenByDigest(ctx, gatehouse.TokenDigest(v1))
		if err != nil {
			return err
		}
		if got.ID != personal.ID || got.UserID != f.user.ID || got.OrgID != "" || !got.Expires.Equal(personal.Expires) || got.Deleted {
			t.Errorf("GetTokenByDigest = %+v", got)
		}
		_, err = tx.GetTokenByDigest(ctx, gatehouse.TokenDigest("pul-nope"))
		wantCode(t, err, gatehouse.ENOTFOUND, "unknown digest")
		return nil
	})
	return personal, org
}

// testTokensInvalid creates tokens that clash with the organization token
// of digest d2 or refer to nothing.
func testTokensInvalid(t *testing.T, s gatehouse.Store, f *fixture, d2 []byte) {
	_, d3 := gatehouse.NewTokenValue()
	bad := []struct {
		name string
		tok  gatehouse.Token
		code string
	}{
		{"duplicate name", gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "deploy", Digest: d3}, gatehouse.ECONFLICT},
		{"duplicate digest", gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "other", Digest: d2}, gatehouse.ECONFLICT},
		{"short digest", gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "x", Digest: []byte("abc")}, gatehouse.EINVALID},
		{"unknown kind", gatehouse.Token{Kind: "bearer", OrgID: f.org.ID, Name: "y", Digest: d3}, gatehouse.EINVALID},
		{"unknown role", gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "z", RoleID: gatehouse.NewID(), Digest: d3}, gatehouse.EINVALID},
		{"team of nothing", gatehouse.Token{Kind: gatehouse.TokenTeam, OrgID: f.org.ID, TeamID: gatehouse.NewID(), Name: "w", Digest: d3}, gatehouse.EINVALID},
		{"personal without user", gatehouse.Token{Kind: gatehouse.TokenPersonal, Digest: d3}, gatehouse.EINVALID},
	}
	for _, b := range bad {
		err := s.Write(ctx, func(tx gatehouse.Tx) error { tk := b.tok; return tx.CreateToken(ctx, &tk) })
		wantCode(t, err, b.code, b.name)
	}
}

// testTokenTouchAndDelete records org's last use, revokes it, and lists
// what is left; its name stays reserved in its organization only.
func testTokenTouchAndDelete(t *testing.T, s gatehouse.Store, f *fixture, personal, org *gatehouse.Token) {
	used := time.Now().Truncate(time.Microsecond).UTC()
	write(t, s, func(tx gatehouse.Tx) error { return tx.TouchTokens(ctx, map[string]time.Time{org.ID: used}) })
	write(t, s, func(tx gatehouse.Tx) error {
		return tx.TouchTokens(ctx, map[string]time.Time{org.ID: used.Add(-time.Hour)})
	}) // older: ignored
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteToken(ctx, org.ID) })
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetToken(ctx, org.ID)
		if err != nil || !got.Deleted || !got.LastUsed.Equal(used) || got.RoleID != f.role.ID || got.CreatedBy != f.user.ID {
			t.Errorf("deleted token = %+v, %v", got, err)
		}
		live, _, err := tx.ListTokens(ctx, gatehouse.TokenFilter{OrgID: f.org.ID}, gatehouse.ListOptions{})
		if len(live) != 0 {
			t.Errorf("live org tokens = %d, want 0", len(live))
		}
		withDeleted, _, err := tx.ListTokens(ctx, gatehouse.TokenFilter{OrgID: f.org.ID, IncludeDeleted: true}, gatehouse.ListOptions{})
		if len(withDeleted) != 1 {
			t.Errorf("org tokens with deleted = %d, want 1", len(withDeleted))
		}
		mine, _, err := tx.ListTokens(ctx, gatehouse.TokenFilter{UserID: f.user.ID, Kind: gatehouse.TokenPersonal}, gatehouse.ListOptions{})
		if len(mine) != 1 || mine[0].ID != personal.ID {
			t.Errorf("personal tokens = %+v", mine)
		}
		_, _, err = tx.ListTokens(ctx, gatehouse.TokenFilter{}, gatehouse.ListOptions{})
		wantCode(t, err, gatehouse.EINVALID, "unfiltered token list")
		return nil
	})
	err := s.Write(ctx, func(tx gatehouse.Tx) error { return tx.DeleteToken(ctx, org.ID) })
	wantCode(t, err, gatehouse.ENOTFOUND, "delete a deleted token")
	// Names stay reserved forever, deleted tokens included.
	_, d4 := gatehouse.NewTokenValue()
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateToken(ctx, &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "deploy", Digest: d4})
	})
	wantCode(t, err, gatehouse.ECONFLICT, "reuse a deleted token's name")
	// Another organization may use the name.
	other := newFixture(t, s)
	write(t, s, func(tx gatehouse.Tx) error {
		return tx.CreateToken(ctx, &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: other.org.ID, Name: "deploy", Digest: d4})
	})
}

// testTokenRoleAndIssuer: a role deleted under tokens leaves them marked
// as holding nothing (not NULL, which means the default role); an issuer's
// exchanged tokens are revoked together, and no one else's.
func testTokenRoleAndIssuer(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	r := createRoleAndIssuerTokens(t, s, f)
	t.Run("UnbindRole", func(t *testing.T) { testUnbindRole(t, s, f, r) })
	t.Run("RevokeIssuerTokens", func(t *testing.T) { testRevokeIssuerTokens(t, s, f, r) })
}

// roleAndIssuerTokens are tokens bound to a custom role (bound; revoked,
// deleted already), of no role (plain), and exchanged through iss or
// through another issuer.
type roleAndIssuerTokens struct {
	custom                                  *gatehouse.Descriptor
	iss                                     *gatehouse.Issuer
	bound, revoked, plain, exchanged, other *gatehouse.Token
}

func createRoleAndIssuerTokens(t *testing.T, s gatehouse.Store, f *fixture) *roleAndIssuerTokens {
	custom := &gatehouse.Descriptor{OrgID: f.org.ID, Name: "Deployer", Purpose: gatehouse.PurposeRole, ResourceType: gatehouse.EntityGlobal,
		Details: json.RawMessage(`{"__type":"PermissionDescriptorAllow","permissions":["stack:read"]}`)}
	iss := &gatehouse.Issuer{OrgID: f.org.ID, Name: "ci", URL: "https://ci.example", Issuer: "https://ci.example"}
	tok := func(name, role, issuer string) *gatehouse.Token {
		_, d := gatehouse.NewTokenValue()
		return &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: name, RoleID: role, Digest: d, IssuerID: issuer, Exchanged: issuer != ""}
	}
	var bound, revoked, plain, exchanged, other *gatehouse.Token
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.CreateDescriptor(ctx, custom); err != nil {
			return err
		}
		if err := tx.CreateIssuer(ctx, iss, &gatehouse.AuthPolicy{Policies: json.RawMessage(`[]`)}); err != nil {
			return err
		}
		bound, revoked, plain = tok("bound", custom.ID, ""), tok("revoked", custom.ID, ""), tok("plain", "", "")
		exchanged, other = tok("exchanged", f.role.ID, iss.ID), tok("other", f.role.ID, gatehouse.NewID())
		for _, tk := range []*gatehouse.Token{bound, revoked, plain, exchanged, other} {
			if err := tx.CreateToken(ctx, tk); err != nil {
				return err
			}
		}
		return tx.DeleteToken(ctx, revoked.ID)
	})
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetToken(ctx, exchanged.ID)
		if err != nil || got.IssuerID != iss.ID || got.RoleDeleted {
			t.Errorf("exchanged token = %+v, %v", got, err)
		}
		return err
	})
	return &roleAndIssuerTokens{custom, iss, bound, revoked, plain, exchanged, other}
}

// testUnbindRole deletes the custom role from under its tokens.
func testUnbindRole(t *testing.T, s gatehouse.Store, f *fixture, r *roleAndIssuerTokens) {
	custom, bound, revoked, plain := r.custom, r.bound, r.revoked, r.plain
	err := s.Write(ctx, func(tx gatehouse.Tx) error { return tx.DeleteDescriptor(ctx, f.org.ID, custom.ID) })
	wantCode(t, err, gatehouse.ECONFLICT, "delete a role tokens are bound to")
	before := revision(t, s, f.org.ID)
	write(t, s, func(tx gatehouse.Tx) error {
		lost, err := tx.UnbindRole(ctx, f.org.ID, custom.ID)
		if err != nil {
			return err
		}
		if len(lost) != 1 || lost[0].ID != bound.ID || !lost[0].RoleDeleted {
			t.Errorf("UnbindRole = %+v, want the one live token bound to the role", lost)
		}
		return tx.DeleteDescriptor(ctx, f.org.ID, custom.ID)
	})
	if revision(t, s, f.org.ID) == before {
		t.Errorf("UnbindRole did not bump the revision")
	}
	err = s.Write(ctx, func(tx gatehouse.Tx) error { _, err := tx.UnbindRole(ctx, f.org.ID, custom.ID); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "unbind a deleted role")
	read(t, s, func(tx gatehouse.Tx) error {
		for _, c := range []struct {
			tk          *gatehouse.Token
			roleDeleted bool
		}{{bound, true}, {revoked, true}, {plain, false}} {
			got, err := tx.GetToken(ctx, c.tk.ID)
			if err != nil || got.RoleID != "" || got.RoleDeleted != c.roleDeleted {
				t.Errorf("token %s after its role went = %+v, %v; want roleDeleted %v", c.tk.Name, got, err, c.roleDeleted)
			}
		}
		return nil
	})
}

// testRevokeIssuerTokens revokes iss's exchanged token and no other.
func testRevokeIssuerTokens(t *testing.T, s gatehouse.Store, f *fixture, r *roleAndIssuerTokens) {
	iss, plain, exchanged, other := r.iss, r.plain, r.exchanged, r.other
	before := revision(t, s, f.org.ID)
	write(t, s, func(tx gatehouse.Tx) error {
		gone, err := tx.RevokeIssuerTokens(ctx, iss.ID)
		if len(gone) != 1 || gone[0].ID != exchanged.ID {
			t.Errorf("RevokeIssuerTokens = %+v, want the issuer's one token", gone)
		}
		return err
	})
	if revision(t, s, f.org.ID) == before {
		t.Errorf("RevokeIssuerTokens did not bump the revision")
	}
	read(t, s, func(tx gatehouse.Tx) error {
		for _, c := range []struct {
			tk      *gatehouse.Token
			deleted bool
		}{{exchanged, true}, {other, false}, {plain, false}} {
			got, err := tx.GetToken(ctx, c.tk.ID)
			if err != nil || got.Deleted != c.deleted {
				t.Errorf("token %s after its issuer's revocation: deleted = %v, %v; want %v", c.tk.Name, got.Deleted, err, c.deleted)
			}
		}
		return nil
	})
}

// testTokenBindRaces: a token bound to a role, or minted through an
// issuer, while another transaction deletes the role or the issuer never
// outlives it with access: the deletion sees the token (refused, or the
// token revoked), or the token's creation fails. The binding transaction
// is held open while the deletion starts, so that on PostgreSQL the
// deletion meets its locks.
func testTokenBindRaces(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	custom := &gatehouse.Descriptor{OrgID: f.org.ID, Name: "racer", Purpose: gatehouse.PurposeRole, ResourceType: gatehouse.EntityGlobal,
		Details: json.RawMessage(`{"__type":"PermissionDescriptorAllow","permissions":["stack:read"]}`)}
	iss := &gatehouse.Issuer{OrgID: f.org.ID, Name: "race", URL: "https://race.example", Issuer: "https://race.example"}
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.CreateDescriptor(ctx, custom); err != nil {
			return err
		}
		return tx.CreateIssuer(ctx, iss, &gatehouse.AuthPolicy{Policies: json.RawMessage(`[]`)})
	})
	t.Run("RoleDeletion", func(t *testing.T) { testBindRoleRace(t, s, f, custom) })
	t.Run("IssuerDeletion", func(t *testing.T) { testExchangeIssuerRace(t, s, f, iss) })
}

// bindRace runs bind in a write held open while del starts in another,
// and returns both results.
func bindRace(s gatehouse.Store, bind func(tx gatehouse.Tx) error, del func(tx gatehouse.Tx) error) (bindErr, delErr error) {
	created, release, delDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	bindDone := make(chan error, 1)
	go func() {
		bindDone <- s.Write(ctx, func(tx gatehouse.Tx) error {
			if err := bind(tx); err != nil {
				close(created)
				return err
			}
			close(created)
			<-release
			return nil
		})
	}()
	<-created
	started := make(chan struct{})
	go func() {
		delDone <- s.Write(ctx, func(tx gatehouse.Tx) error { close(started); return del(tx) })
	}()
	select {
	case <-started:
		// Give the deletion time to reach the binding's locks, so that
		// the race is run and not only the ordered case. The check
		// below holds under every interleaving: no timing is asserted.
		time.Sleep(100 * time.Millisecond)
	case <-time.After(100 * time.Millisecond): // SQLite: one writer at a time
	}
	close(release)
	return <-bindDone, <-delDone
}

// testBindRoleRace binds a token to custom while custom is deleted.
func testBindRoleRace(t *testing.T, s gatehouse.Store, f *fixture, custom *gatehouse.Descriptor) {
	var tok *gatehouse.Token
	bindErr, delErr := bindRace(s, func(tx gatehouse.Tx) error {
		_, d := gatehouse.NewTokenValue()
		tok = &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "bound-in-race", RoleID: custom.ID, Digest: d}
		return tx.CreateToken(ctx, tok)
	}, func(tx gatehouse.Tx) error { return tx.DeleteDescriptor(ctx, f.org.ID, custom.ID) })
	if bindErr == nil {
		wantCode(t, delErr, gatehouse.ECONFLICT, "delete a role a token was bound to meanwhile")
		read(t, s, func(tx gatehouse.Tx) error {
			got, err := tx.GetToken(ctx, tok.ID)
			if err != nil || got.RoleID != custom.ID {
				t.Errorf("token bound during a role's deletion = %+v, %v; want it still bound", got, err)
			}
			return err
		})
	} else if delErr != nil {
		t.Errorf("both the binding (%v) and the deletion (%v) failed", bindErr, delErr)
	}
}

// testExchangeIssuerRace mints a token through iss while iss is deleted.
func testExchangeIssuerRace(t *testing.T, s gatehouse.Store, f *fixture, iss *gatehouse.Issuer) {
	var ex *gatehouse.Token
	bindErr, delErr := bindRace(s, func(tx gatehouse.Tx) error {
		_, d := gatehouse.NewTokenValue()
		ex = &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "exchanged-in-race", Digest: d, IssuerID: iss.ID, Exchanged: true}
		if err := tx.TouchIssuer(ctx, f.org.ID, iss.ID, time.Now()); err != nil {
			return err
		}
		return tx.CreateToken(ctx, ex)
	}, func(tx gatehouse.Tx) error {
		if _, err := tx.RevokeIssuerTokens(ctx, iss.ID); err != nil {
			return err
		}
		return tx.DeleteIssuer(ctx, f.org.ID, iss.ID)
	})
	if delErr != nil {
		t.Fatalf("delete an issuer during an exchange: %v", delErr)
	}
	if bindErr == nil {
		read(t, s, func(tx gatehouse.Tx) error {
			got, err := tx.GetToken(ctx, ex.ID)
			if err != nil || !got.Deleted {
				t.Errorf("token exchanged during its issuer's deletion = %+v, %v; want it revoked", got, err)
			}
			return err
		})
	}
}

// testBoundPersonalTokens: a personal token bound to an organization (an
// OIDC exchange's) belongs to that organization's snapshot only, and its
// creation bumps only that organization.
func testBoundPersonalTokens(t *testing.T, s gatehouse.Store) {
	a := newFixture(t, s)
	b := newFixture(t, s)
	write(t, s, func(tx gatehouse.Tx) error {
		return tx.AddMember(ctx, &gatehouse.Membership{OrgID: b.org.ID, UserID: a.user.ID, RoleID: b.role.ID})
	})
	revA := revision(t, s, a.org.ID)
	_, d := gatehouse.NewTokenValue()
	bound := &gatehouse.Token{Kind: gatehouse.TokenPersonal, OrgID: b.org.ID, UserID: a.user.ID, Digest: d, Exchanged: true, Expires: time.Now().Add(time.Hour)}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateToken(ctx, bound) })
	if revision(t, s, a.org.ID) != revA {
		t.Errorf("a token bound to b bumped a")
	}
	_, d2 := gatehouse.NewTokenValue()
	own := &gatehouse.Token{Kind: gatehouse.TokenPersonal, UserID: a.user.ID, Digest: d2}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateToken(ctx, own) })
	has := func(snap *gatehouse.Snapshot, id string) bool {
		for _, tk := range snap.Tokens {
			if tk.ID == id {
				return true
			}
		}
		return false
	}
	read(t, s, func(tx gatehouse.Tx) error {
		sa, err := tx.LoadSnapshot(ctx, a.org.ID)
		if err != nil {
			return err
		}
		sb, err := tx.LoadSnapshot(ctx, b.org.ID)
		if err != nil {
			return err
		}
		if has(sa, bound.ID) || !has(sb, bound.ID) {
			t.Errorf("the bound token is in a's snapshot (%v) or not in b's (%v)", has(sa, bound.ID), has(sb, bound.ID))
		}
		if !has(sa, own.ID) || !has(sb, own.ID) {
			t.Errorf("the user's own token is missing from a snapshot")
		}
		got, err := tx.GetToken(ctx, bound.ID)
		if err != nil || got.OrgID != b.org.ID || got.Kind != gatehouse.TokenPersonal {
			t.Errorf("bound token = %+v, %v", got, err)
		}
		return nil
	})
}

// testPruneExchangedTokens: only the organization's exchanged tokens that
// have expired are revoked (and counted no more); tokens without an expiry,
// tokens still alive, tokens not from an exchange and other organizations'
// tokens stay.
func testPruneExchangedTokens(t *testing.T, s gatehouse.Store) {
	f, other := newFixture(t, s), newFixture(t, s)
	now := time.Now()
	iss := &gatehouse.Issuer{OrgID: f.org.ID, Name: "prune", URL: "https://prune.example", Issuer: "https://prune.example"}
	write(t, s, func(tx gatehouse.Tx) error {
		return tx.CreateIssuer(ctx, iss, &gatehouse.AuthPolicy{Policies: json.RawMessage(`[]`)})
	})
	mk := func(org, name string, exchanged bool, expires time.Time) *gatehouse.Token {
		_, d := gatehouse.NewTokenValue()
		tk := &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: org, Name: name, Digest: d, Exchanged: exchanged, Expires: expires}
		if exchanged && org == f.org.ID {
			tk.IssuerID = iss.ID
		}
		write(t, s, func(tx gatehouse.Tx) error { return tx.CreateToken(ctx, tk) })
		return tk
	}
	expired := mk(f.org.ID, "expired", true, now.Add(-time.Minute))
	keep := []*gatehouse.Token{
		mk(f.org.ID, "alive", true, now.Add(time.Hour)),
		mk(f.org.ID, "created-expired", false, now.Add(-time.Minute)),
		mk(f.org.ID, "forever", false, time.Time{}),
		mk(other.org.ID, "other-expired", true, now.Add(-time.Minute)),
	}
	var before, after int64
	read(t, s, func(tx gatehouse.Tx) (err error) { before, err = tx.Revision(ctx, f.org.ID); return err })
	write(t, s, func(tx gatehouse.Tx) error {
		n, err := tx.PruneExchangedTokens(ctx, f.org.ID, now)
		if err == nil && n != 1 {
			t.Errorf("pruned %d tokens; want 1", n)
		}
		return err
	})
	read(t, s, func(tx gatehouse.Tx) (err error) {
		after, err = tx.Revision(ctx, f.org.ID)
		if err != nil {
			return err
		}
		if tk, err := tx.GetToken(ctx, expired.ID); err != nil || !tk.Deleted {
			t.Errorf("the expired exchanged token: %+v, %v; want it deleted", tk, err)
		}
		for _, k := range keep {
			if tk, err := tx.GetToken(ctx, k.ID); err != nil || tk.Deleted {
				t.Errorf("token %s: %+v, %v; want it kept", k.Name, tk, err)
			}
		}
		if n, err := tx.CountOrg(ctx, f.org.ID, "tokens"); err != nil || n != 3 {
			t.Errorf("count after the prune: %d, %v; want 3", n, err)
		}
		return nil
	})
	if after <= before {
		t.Errorf("revision %d -> %d: a prune must bump it (snapshots drop the tokens)", before, after)
	}
	write(t, s, func(tx gatehouse.Tx) error {
		n, err := tx.PruneExchangedTokens(ctx, f.org.ID, now)
		if err == nil && n != 0 {
			t.Errorf("a second prune revoked %d tokens", n)
		}
		return err
	})
}

// testTokenOrder: a token list is filtered (expiry, search) and ordered
// (each sort key, both directions) before it is paged, so that every page
// continues the one order and a match on the last rows comes first.
func testTokenOrder(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	now := time.Now().Truncate(time.Microsecond).UTC()
	// Names run against creation order: tok-08 is created first.
	var made []*gatehouse.Token
	for i := 8; i >= 0; i-- {
		_, d := gatehouse.NewTokenValue()
		tk := &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: fmt.Sprintf("tok-%02d", i), Digest: d,
			Description: "ci"}
		if i%3 == 0 {
			tk.Expires = now.Add(-time.Duration(i+1) * time.Minute) // expired
		} else {
			tk.Expires = now.Add(time.Duration(i) * time.Hour)
		}
		if i == 1 {
			tk.Description = "the Nightly build"
		}
		write(t, s, func(tx gatehouse.Tx) error { return tx.CreateToken(ctx, tk) })
		made = append(made, tk)
	}
	used := map[string]time.Time{}
	for i, tk := range made {
		used[tk.ID] = now.Add(-time.Duration(i%4) * time.Hour)
	}
	write(t, s, func(tx gatehouse.Tx) error { return tx.TouchTokens(ctx, used) })
	names := func(f gatehouse.TokenFilter) []string { return listTokenNames(t, s, f, 2) }
	all := []string{"tok-00", "tok-01", "tok-02", "tok-03", "tok-04", "tok-05", "tok-06", "tok-07", "tok-08"}
	org := gatehouse.TokenFilter{OrgID: f.org.ID}
	by := func(key string, desc bool) gatehouse.TokenFilter { g := org; g.SortBy, g.Desc = key, desc; return g }
	cases := []struct {
		name string
		f    gatehouse.TokenFilter
		want []string
	}{
		{"created", org, keyOrder(made, func(tk *gatehouse.Token) time.Time { return tk.Created })},
		{"created desc", by(gatehouse.TokenSortCreated, true), reversed(keyOrder(made, func(tk *gatehouse.Token) time.Time { return tk.Created }))},
		{"name", by(gatehouse.TokenSortName, false), all},
		{"name desc", by(gatehouse.TokenSortName, true), reversed(all)},
		// Expiry: tok-00, 03, 06 expired (00 last: a minute ago).
		{"expires", by(gatehouse.TokenSortExpires, false), []string{"tok-06", "tok-03", "tok-00", "tok-01", "tok-02", "tok-04", "tok-05", "tok-07", "tok-08"}},
		// Last used: made[i] (tok-(8-i)) i%4 hours ago, ties in creation order.
		{"lastUsed", by(gatehouse.TokenSortLastUsed, false), keyOrder(made, func(tk *gatehouse.Token) time.Time { return used[tk.ID] })},
		{"lastUsed desc", by(gatehouse.TokenSortLastUsed, true), reversed(keyOrder(made, func(tk *gatehouse.Token) time.Time { return used[tk.ID] }))},
		{"live", gatehouse.TokenFilter{OrgID: f.org.ID, Expiry: gatehouse.TokenLive, At: now, SortBy: gatehouse.TokenSortName},
			[]string{"tok-01", "tok-02", "tok-04", "tok-05", "tok-07", "tok-08"}},
		{"expired", gatehouse.TokenFilter{OrgID: f.org.ID, Expiry: gatehouse.TokenExpired, At: now, SortBy: gatehouse.TokenSortName},
			[]string{"tok-00", "tok-03", "tok-06"}},
		// The one match is the last row in creation order: it comes first.
		{"search", gatehouse.TokenFilter{OrgID: f.org.ID, Search: "NIGHTLY"}, []string{"tok-01"}},
		{"search names", gatehouse.TokenFilter{OrgID: f.org.ID, Search: "tok-0", SortBy: gatehouse.TokenSortName, Desc: true}, reversed(all)},
	}
	for _, c := range cases {
		got := names(c.f)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	read(t, s, func(tx gatehouse.Tx) error {
		_, _, err := tx.ListTokens(ctx, gatehouse.TokenFilter{OrgID: f.org.ID, SortBy: "size"}, gatehouse.ListOptions{})
		wantCode(t, err, gatehouse.EINVALID, "unknown sort key")
		_, _, err = tx.ListTokens(ctx, gatehouse.TokenFilter{OrgID: f.org.ID, Expiry: "soon"}, gatehouse.ListOptions{})
		wantCode(t, err, gatehouse.EINVALID, "unknown expiry filter")
		// A page's continuation goes with its order only.
		named := gatehouse.TokenFilter{OrgID: f.org.ID, SortBy: gatehouse.TokenSortName}
		_, next, err := tx.ListTokens(ctx, named, gatehouse.ListOptions{Limit: 2})
		if err != nil || next == "" {
			t.Fatalf("a first page by name: next %q, %v", next, err)
		}
		for _, other := range []gatehouse.TokenFilter{{OrgID: f.org.ID}, {OrgID: f.org.ID, SortBy: gatehouse.TokenSortName, Desc: true}} {
			_, _, err = tx.ListTokens(ctx, other, gatehouse.ListOptions{Limit: 2, Continuation: next})
			wantCode(t, err, gatehouse.EINVALID, "a continuation of another order")
		}
		return nil
	})
}

// listTokenNames lists every page of limit tokens and returns the names.
func listTokenNames(t *testing.T, s gatehouse.Store, f gatehouse.TokenFilter, limit int) []string {
	t.Helper()
	var out []string
	opts := gatehouse.ListOptions{Limit: limit}
	for {
		var ts []*gatehouse.Token
		var next string
		read(t, s, func(tx gatehouse.Tx) (err error) { ts, next, err = tx.ListTokens(ctx, f, opts); return err })
		if len(ts) > limit {
			t.Fatalf("a page of %d tokens, limit %d", len(ts), limit)
		}
		for _, tk := range ts {
			out = append(out, tk.Name)
		}
		if next == "" {
			return out
		}
		opts.Continuation = next
	}
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// keyOrder is the tokens' names ordered by a time, then creation, then id.
func keyOrder(made []*gatehouse.Token, key func(*gatehouse.Token) time.Time) []string {
	sorted := slices.Clone(made)
	slices.SortFunc(sorted, func(a, b *gatehouse.Token) int {
		if c := key(a).Compare(key(b)); c != 0 {
			return c
		}
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	var out []string
	for _, tk := range sorted {
		out = append(out, tk.Name)
	}
	return out
}

func testPruneTokens(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	now := time.Now().Truncate(time.Microsecond)
	mk := func(name string, expires time.Time, revoke bool) *gatehouse.Token {
		_, d := gatehouse.NewTokenValue()
		tk := &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: name, Digest: d, Expires: expires}
		write(t, s, func(tx gatehouse.Tx) error {
			if err := tx.CreateToken(ctx, tk); err != nil || !revoke {
				return err
			}
			return tx.DeleteToken(ctx, tk.ID)
		})
		return tk
	}
	expired := mk("expired", now.Add(-2*time.Hour), false)
	fresh := mk("fresh", now.Add(-time.Minute), false)
	revoked := mk("revoked", time.Time{}, true)
	live := mk("live", time.Time{}, false)
	count := func() (n int) {
		read(t, s, func(tx gatehouse.Tx) (err error) { n, err = tx.CountOrg(ctx, f.org.ID, "tokens"); return err })
		return n
	}
	if n := count(); n != 3 {
		t.Errorf("counted %d live tokens; want 3", n)
	}
	prune := func(at time.Time) (p gatehouse.TokenPrune) {
		write(t, s, func(tx gatehouse.Tx) (err error) {
			p, err = tx.PruneTokens(ctx, f.org.ID, at, at.Add(-time.Hour), 100)
			return err
		})
		return p
	}
	if p := prune(now); p.Expired != 1 || p.Revoked != 0 || len(p.Live) != 1 || p.Live[0].ID != expired.ID {
		t.Errorf("first prune: %+v; want the expired token only (the revoked one is stamped)", p)
	}
	if p := prune(now.Add(2 * time.Hour)); p.Expired != 1 || p.Revoked != 1 {
		t.Errorf("second prune: %+v; want the fresh expired and the revoked token", p)
	}
	read(t, s, func(tx gatehouse.Tx) error {
		for _, tk := range []*gatehouse.Token{expired, fresh, revoked} {
			if _, err := tx.GetToken(ctx, tk.ID); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				t.Errorf("token %s after the prune: %v; want not found", tk.Name, err)
			}
			if ok, err := tx.TokenNameReserved(ctx, f.org.ID, tk.Name); err != nil || !ok {
				t.Errorf("the name %s: reserved %v, %v; want reserved", tk.Name, ok, err)
			}
		}
		if _, err := tx.GetToken(ctx, live.ID); err != nil {
			t.Errorf("the live token: %v", err)
		}
		if ok, err := tx.TokenNameReserved(ctx, f.org.ID, "live"); err != nil || ok {
			t.Errorf("the live token's name: reserved %v, %v; want not (it is the token's)", ok, err)
		}
		return nil
	})
	if n := count(); n != 1 {
		t.Errorf("counted %d live tokens after the prune; want 1", n)
	}
}

// testOrgCounts checks the quota counters against the rows through
// creates, deletes and revocations of every counted kind.
func testOrgCounts(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	counts := func() map[string]int {
		out := map[string]int{}
		read(t, s, func(tx gatehouse.Tx) error {
			for _, k := range []string{"stacks", "environments", "descriptors", "tokens"} {
				n, err := tx.CountOrg(ctx, f.org.ID, k)
				if err != nil {
					return err
				}
				out[k] = n
			}
			return nil
		})
		return out
	}
	base := counts()
	var stacks []*gatehouse.Stack
	write(t, s, func(tx gatehouse.Tx) error {
		for i := range 3 {
			st := &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: fmt.Sprintf("s%d", i)}
			if err := tx.CreateStack(ctx, st); err != nil {
				return err
			}
			stacks = append(stacks, st)
		}
		_, d := gatehouse.NewTokenValue()
		tk := &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "counted", Digest: d}
		if err := tx.CreateToken(ctx, tk); err != nil {
			return err
		}
		_, d2 := gatehouse.NewTokenValue()
		tk2 := &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "revoked", Digest: d2}
		if err := tx.CreateToken(ctx, tk2); err != nil {
			return err
		}
		return tx.DeleteToken(ctx, tk2.ID)
	})
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteStack(ctx, stacks[0].ID) })
	got := counts()
	if got["stacks"] != base["stacks"]+2 || got["tokens"] != base["tokens"]+1 || got["environments"] != base["environments"] || got["descriptors"] != base["descriptors"] {
		t.Errorf("counts %v after 3 stacks created, 1 deleted, 2 tokens created, 1 revoked; started at %v", got, base)
	}
}
