package storetest

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
)

func testDescriptors(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	var got *gatehouse.Descriptor
	read(t, s, func(tx gatehouse.Tx) (err error) {
		got, err = tx.GetDescriptor(ctx, f.org.ID, f.role.ID)
		return err
	})
	if got.Version != 1 || got.Name != "Member" || !slices.Equal(got.Refs, []string{f.set.ID}) || string(got.Details) != string(f.role.Details) ||
		got.ResourceType != gatehouse.EntityGlobal || got.Purpose != gatehouse.PurposeRole {
		t.Errorf("GetDescriptor = %+v", got)
	}
	// The same name is fine for another purpose (a console role and its
	// policy share theirs), not for the same one.
	write(t, s, func(tx gatehouse.Tx) error {
		return tx.CreateDescriptor(ctx, &gatehouse.Descriptor{OrgID: f.org.ID, Name: "Member", Purpose: gatehouse.PurposePolicy, Details: json.RawMessage(`{}`)})
	})
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateDescriptor(ctx, &gatehouse.Descriptor{OrgID: f.org.ID, Name: "Member", Purpose: gatehouse.PurposeRole, Details: json.RawMessage(`{}`)})
	})
	wantCode(t, err, gatehouse.ECONFLICT, "duplicate role name")
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateDescriptor(ctx, &gatehouse.Descriptor{OrgID: f.org.ID, Name: "Dangling", Purpose: gatehouse.PurposeRole, Details: json.RawMessage(`{}`), Refs: []string{gatehouse.NewID()}})
	})
	wantCode(t, err, gatehouse.EINVALID, "reference to nothing")
	other := newFixture(t, s)
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateDescriptor(ctx, &gatehouse.Descriptor{OrgID: f.org.ID, Name: "Cross", Purpose: gatehouse.PurposeRole, Details: json.RawMessage(`{}`), Refs: []string{other.set.ID}})
	})
	wantCode(t, err, gatehouse.EINVALID, "reference into another organization")

	// Optimistic concurrency.
	upd := *got
	upd.Description, upd.Refs = "updated", nil
	write(t, s, func(tx gatehouse.Tx) error { return tx.UpdateDescriptor(ctx, &upd, 1) })
	if upd.Version != 2 {
		t.Errorf("version after update = %d, want 2", upd.Version)
	}
	stale := *got
	stale.Description = "stale"
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.UpdateDescriptor(ctx, &stale, 1) })
	wantCode(t, err, gatehouse.ECONFLICT, "stale version")
	read(t, s, func(tx gatehouse.Tx) (err error) {
		got, err = tx.GetDescriptor(ctx, f.org.ID, f.role.ID)
		return err
	})
	if got.Description != "updated" || got.Version != 2 || len(got.Refs) != 0 {
		t.Errorf("after update and stale update: %+v", got)
	}
	err = s.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetDescriptor(ctx, other.org.ID, f.role.ID); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "descriptor of another organization")

	read(t, s, func(tx gatehouse.Tx) error {
		sets, next, err := tx.ListDescriptors(ctx, f.org.ID, gatehouse.PurposeSet, gatehouse.ListOptions{})
		if err != nil {
			return err
		}
		if len(sets) != 1 || sets[0].ID != f.set.ID || next != "" {
			t.Errorf("ListDescriptors(set) = %d items, next %q", len(sets), next)
		}
		every, _, err := tx.ListDescriptors(ctx, f.org.ID, "", gatehouse.ListOptions{})
		if len(every) != 3 {
			t.Errorf("ListDescriptors(all) = %d items, want 3", len(every))
		}
		return err
	})
}

func testDescriptorInUse(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	del := func(id string) error {
		return s.Write(ctx, func(tx gatehouse.Tx) error { return tx.DeleteDescriptor(ctx, f.org.ID, id) })
	}
	// The set is composed by the role; the role is held by the member.
	wantCode(t, del(f.set.ID), gatehouse.ECONFLICT, "delete a composed set")
	wantCode(t, del(f.role.ID), gatehouse.ECONFLICT, "delete a held role")
	read(t, s, func(tx gatehouse.Tx) error {
		u, err := tx.DescriptorUsage(ctx, f.org.ID, f.set.ID)
		if err != nil {
			return err
		}
		if !slices.Equal(u.Descriptors, []string{f.role.ID}) || len(u.Members) != 0 {
			t.Errorf("usage of the set = %+v", u)
		}
		u, err = tx.DescriptorUsage(ctx, f.org.ID, f.role.ID)
		if !slices.Equal(u.Members, []string{f.user.ID}) {
			t.Errorf("usage of the role = %+v", u)
		}
		return err
	})
	// Each kind of use blocks deletion on its own.
	uses := []struct {
		name  string
		use   func(tx gatehouse.Tx, id string) error
		unuse func(tx gatehouse.Tx, id string) error
	}{
		{"team role", func(tx gatehouse.Tx, id string) error {
			tm := &gatehouse.Team{OrgID: f.org.ID, Kind: gatehouse.TeamPulumi, Name: "t-" + id[:8]}
			if err := tx.CreateTeam(ctx, tm); err != nil {
				return err
			}
			return tx.AddTeamRole(ctx, tm.ID, id)
		}, nil},
		{"token role", func(tx gatehouse.Tx, id string) error {
			_, d := gatehouse.NewTokenValue()
			return tx.CreateToken(ctx, &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "tok-" + id[:8], RoleID: id, Digest: d})
		}, nil},
		{"org default", func(tx gatehouse.Tx, id string) error {
			o, err := tx.GetOrg(ctx, f.org.ID)
			if err != nil {
				return err
			}
			o.Settings.DefaultRoleID = id
			return tx.UpdateOrg(ctx, o)
		}, nil},
	}
	for _, u := range uses {
		r := &gatehouse.Descriptor{OrgID: f.org.ID, Name: "R " + u.name, Purpose: gatehouse.PurposeRole, Details: json.RawMessage(`{}`)}
		write(t, s, func(tx gatehouse.Tx) error {
			if err := tx.CreateDescriptor(ctx, r); err != nil {
				return err
			}
			return u.use(tx, r.ID)
		})
		wantCode(t, del(r.ID), gatehouse.ECONFLICT, "delete a role in use as "+u.name)
	}
	// A grant's set is in use too; once the grant goes, the set can go.
	st := &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: "s"}
	set2 := &gatehouse.Descriptor{OrgID: f.org.ID, Name: "Set 2", Purpose: gatehouse.PurposeSet, ResourceType: gatehouse.EntityStack, Details: json.RawMessage(`{}`)}
	g := &gatehouse.Grant{OrgID: f.org.ID, UserID: f.user.ID, Entity: gatehouse.EntityRef{Type: gatehouse.EntityStack}}
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.CreateStack(ctx, st); err != nil {
			return err
		}
		if err := tx.CreateDescriptor(ctx, set2); err != nil {
			return err
		}
		g.Entity.ID, g.SetID = st.ID, set2.ID
		return tx.PutGrant(ctx, g)
	})
	wantCode(t, del(set2.ID), gatehouse.ECONFLICT, "delete a set used by a grant")
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteGrant(ctx, f.org.ID, g.ID) })
	if err := del(set2.ID); err != nil {
		t.Fatalf("delete an unused set: %v", err)
	}
	wantCode(t, del(set2.ID), gatehouse.ENOTFOUND, "delete twice")
}

// testRoleHolders: the members holding a role and the teams holding it,
// each by id, read in one call; another organization's role is not found.
func testRoleHolders(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	other := newFixture(t, s)
	var tm *gatehouse.Team
	var extra *gatehouse.User
	write(t, s, func(tx gatehouse.Tx) error {
		tm = &gatehouse.Team{OrgID: f.org.ID, Kind: gatehouse.TeamPulumi, Name: "holders"}
		if err := tx.CreateTeam(ctx, tm); err != nil {
			return err
		}
		if err := tx.AddTeamRole(ctx, tm.ID, f.role.ID); err != nil {
			return err
		}
		extra = &gatehouse.User{Login: f.user.Login + "-2"}
		if err := tx.CreateUser(ctx, extra); err != nil {
			return err
		}
		return tx.AddMember(ctx, &gatehouse.Membership{OrgID: f.org.ID, UserID: extra.ID, RoleID: f.role.ID})
	})
	read(t, s, func(tx gatehouse.Tx) error {
		users, teams, err := tx.RoleHolders(ctx, f.org.ID, f.role.ID)
		if err != nil {
			return err
		}
		want := []string{f.user.ID, extra.ID}
		slices.Sort(want)
		if got := userIDs(users); !slices.Equal(got, want) || len(teams) != 1 || teams[0].Name != "holders" {
			t.Errorf("holders = %v, %+v; want users %v and team holders", got, teams, want)
		}
		users, teams, err = tx.RoleHolders(ctx, f.org.ID, f.set.ID)
		if err != nil || len(users)+len(teams) != 0 {
			t.Errorf("holders of a set = %v, %v, %v", users, teams, err)
		}
		_, _, err = tx.RoleHolders(ctx, other.org.ID, f.role.ID)
		wantCode(t, err, gatehouse.ENOTFOUND, "another organization's role")
		got, err := tx.GetUsers(ctx, []string{extra.ID, gatehouse.NewID(), f.user.ID})
		if err != nil || !slices.Equal(userIDs(got), want) {
			t.Errorf("GetUsers = %v, %v; want %v (unknown ids left out)", userIDs(got), err, want)
		}
		if got, err := tx.GetUsers(ctx, nil); err != nil || len(got) != 0 {
			t.Errorf("GetUsers(nil) = %v, %v", got, err)
		}
		return nil
	})
}

func userIDs(us []*gatehouse.User) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.ID)
	}
	return out
}
