package storetest

import (
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
)

func testTeams(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	tm := &gatehouse.Team{OrgID: f.org.ID, Kind: gatehouse.TeamPulumi, Name: "platform", DisplayName: "Platform"}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateTeam(ctx, tm) })
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateTeam(ctx, &gatehouse.Team{OrgID: f.org.ID, Kind: gatehouse.TeamPulumi, Name: "platform"})
	})
	wantCode(t, err, gatehouse.ECONFLICT, "duplicate team")
	_, digest := gatehouse.NewTokenValue()
	tok := &gatehouse.Token{Kind: gatehouse.TokenTeam, OrgID: f.org.ID, TeamID: tm.ID, Name: "ci", Digest: digest}
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.PutTeamMember(ctx, &gatehouse.TeamMember{TeamID: tm.ID, UserID: f.user.ID, Role: gatehouse.TeamRoleMember}); err != nil {
			return err
		}
		// Promote: the same call replaces the role.
		if err := tx.PutTeamMember(ctx, &gatehouse.TeamMember{TeamID: tm.ID, UserID: f.user.ID, Role: gatehouse.TeamRoleAdmin}); err != nil {
			return err
		}
		if err := tx.AddTeamRole(ctx, tm.ID, f.role.ID); err != nil {
			return err
		}
		if err := tx.AddTeamRole(ctx, tm.ID, f.role.ID); err != nil { // idempotent
			return err
		}
		return tx.CreateToken(ctx, tok)
	})
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.PutTeamMember(ctx, &gatehouse.TeamMember{TeamID: tm.ID, UserID: f.user.ID, Role: "owner"})
	})
	wantCode(t, err, gatehouse.EINVALID, "bad team role")
	read(t, s, func(tx gatehouse.Tx) error {
		ms, err := tx.ListTeamMembers(ctx, tm.ID)
		if err != nil || len(ms) != 1 || ms[0].Role != gatehouse.TeamRoleAdmin {
			t.Errorf("team members = %+v, %v", ms, err)
		}
		roles, err := tx.ListTeamRoles(ctx, tm.ID)
		if !slices.Equal(roles, []string{f.role.ID}) {
			t.Errorf("team roles = %v", roles)
		}
		byID, err := tx.GetTeamByID(ctx, tm.ID)
		if err != nil || byID.Name != "platform" || byID.DisplayName != "Platform" || byID.Kind != gatehouse.TeamPulumi {
			t.Errorf("GetTeamByID = %+v, %v", byID, err)
		}
		teams, err := tx.ListUserTeams(ctx, f.org.ID, f.user.ID)
		if len(teams) != 1 || teams[0].Name != "platform" {
			t.Errorf("user teams = %+v", teams)
		}
		return err
	})
	write(t, s, func(tx gatehouse.Tx) error { return tx.RemoveTeamMember(ctx, tm.ID, f.user.ID) })
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.RemoveTeamMember(ctx, tm.ID, f.user.ID) })
	wantCode(t, err, gatehouse.ENOTFOUND, "remove a team member twice")
	tm.DisplayName = "The Platform Team"
	write(t, s, func(tx gatehouse.Tx) error { return tx.UpdateTeam(ctx, tm) })
	write(t, s, func(tx gatehouse.Tx) error { return tx.RemoveTeamRole(ctx, tm.ID, f.role.ID) })
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteTeam(ctx, tm.ID) })
	read(t, s, func(tx gatehouse.Tx) error {
		_, err := tx.GetTeam(ctx, f.org.ID, "platform")
		wantCode(t, err, gatehouse.ENOTFOUND, "deleted team")
		got, err := tx.GetToken(ctx, tok.ID)
		if err != nil || !got.Deleted {
			t.Errorf("team token after team deletion = %+v, %v; want revoked", got, err)
		}
		return nil
	})
	// The deleted team's token name stays reserved.
	_, d2 := gatehouse.NewTokenValue()
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateToken(ctx, &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "ci", Digest: d2})
	})
	wantCode(t, err, gatehouse.ECONFLICT, "reuse of a deleted team token's name")
}
