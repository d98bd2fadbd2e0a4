package storetest

import (
	"encoding/json"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
)

func testMembers(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.AddMember(ctx, &gatehouse.Membership{OrgID: f.org.ID, UserID: f.user.ID, RoleID: f.role.ID})
	})
	wantCode(t, err, gatehouse.ECONFLICT, "member twice")
	other := newFixture(t, s)
	u2 := &gatehouse.User{Login: f.user.Login + "-2"}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateUser(ctx, u2) })
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.AddMember(ctx, &gatehouse.Membership{OrgID: f.org.ID, UserID: u2.ID, RoleID: other.role.ID})
	})
	wantCode(t, err, gatehouse.EINVALID, "a role of another organization")
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.AddMember(ctx, &gatehouse.Membership{OrgID: f.org.ID, UserID: gatehouse.NewID(), RoleID: f.role.ID})
	})
	wantCode(t, err, gatehouse.EINVALID, "an unknown user")

	write(t, s, func(tx gatehouse.Tx) error {
		return tx.AddMember(ctx, &gatehouse.Membership{OrgID: f.org.ID, UserID: u2.ID, RoleID: f.role.ID, Suspended: true})
	})
	read(t, s, func(tx gatehouse.Tx) error {
		ms, _, err := tx.ListMembers(ctx, f.org.ID, gatehouse.ListOptions{})
		if err != nil {
			return err
		}
		if len(ms) != 2 {
			t.Errorf("ListMembers = %d, want 2", len(ms))
		}
		m, err := tx.GetMember(ctx, f.org.ID, u2.ID)
		if err != nil || !m.Suspended {
			t.Errorf("GetMember = %+v, %v", m, err)
		}
		orgs, err := tx.ListUserMemberships(ctx, f.user.ID)
		if len(orgs) != 1 || orgs[0].OrgID != f.org.ID {
			t.Errorf("ListUserMemberships = %+v", orgs)
		}
		return err
	})
	// Change the member's role; a role of another organization is refused.
	r2 := &gatehouse.Descriptor{OrgID: f.org.ID, Name: "Admin", Purpose: gatehouse.PurposeRole, Details: json.RawMessage(`{}`)}
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.CreateDescriptor(ctx, r2); err != nil {
			return err
		}
		return tx.UpdateMember(ctx, &gatehouse.Membership{OrgID: f.org.ID, UserID: u2.ID, RoleID: r2.ID, Suspended: false})
	})
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.UpdateMember(ctx, &gatehouse.Membership{OrgID: f.org.ID, UserID: u2.ID, RoleID: other.role.ID})
	})
	wantCode(t, err, gatehouse.EINVALID, "update to a role of another organization")
	read(t, s, func(tx gatehouse.Tx) error {
		m, err := tx.GetMember(ctx, f.org.ID, u2.ID)
		if err != nil || m.RoleID != r2.ID || m.Suspended {
			t.Errorf("updated member = %+v, %v", m, err)
		}
		return nil
	})
	// Removing a member takes them out of the organization's teams.
	tm := &gatehouse.Team{OrgID: f.org.ID, Kind: gatehouse.TeamPulumi, Name: "ops"}
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.CreateTeam(ctx, tm); err != nil {
			return err
		}
		return tx.PutTeamMember(ctx, &gatehouse.TeamMember{TeamID: tm.ID, UserID: u2.ID, Role: gatehouse.TeamRoleMember})
	})
	write(t, s, func(tx gatehouse.Tx) error { return tx.RemoveMember(ctx, f.org.ID, u2.ID) })
	read(t, s, func(tx gatehouse.Tx) error {
		members, err := tx.ListTeamMembers(ctx, tm.ID)
		if len(members) != 0 {
			t.Errorf("removed member still in team: %+v", members)
		}
		_, err = tx.GetMember(ctx, f.org.ID, u2.ID)
		wantCode(t, err, gatehouse.ENOTFOUND, "removed member")
		return nil
	})
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.RemoveMember(ctx, f.org.ID, u2.ID) })
	wantCode(t, err, gatehouse.ENOTFOUND, "remove twice")
}
