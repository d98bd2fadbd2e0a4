package storetest

import (
	"testing"

	"github.com/gatehouse-iam/gatehouse"
)

func testSnapshot(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	other := newFixture(t, s)
	tm := &gatehouse.Team{OrgID: f.org.ID, Kind: gatehouse.TeamPulumi, Name: "ops"}
	st := &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: "s", Tags: map[string]string{"env": "prod"}}
	_, d1 := gatehouse.NewTokenValue()
	_, d2 := gatehouse.NewTokenValue()
	_, d3 := gatehouse.NewTokenValue()
	write(t, s, func(tx gatehouse.Tx) error {
		for _, err := range []error{
			tx.CreateTeam(ctx, tm),
			tx.PutTeamMember(ctx, &gatehouse.TeamMember{TeamID: tm.ID, UserID: f.user.ID, Role: gatehouse.TeamRoleMember}),
			tx.AddTeamRole(ctx, tm.ID, f.role.ID),
			tx.CreateStack(ctx, st),
			tx.CreateEnvironment(ctx, &gatehouse.Environment{OrgID: f.org.ID, Project: "p", Name: "e"}, nil),
			tx.CreateAccount(ctx, &gatehouse.Account{OrgID: f.org.ID, Name: "a"}),
			tx.CreateToken(ctx, &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "t", Digest: d1}),
			tx.CreateToken(ctx, &gatehouse.Token{Kind: gatehouse.TokenPersonal, UserID: f.user.ID, Digest: d2}),
			tx.CreateToken(ctx, &gatehouse.Token{Kind: gatehouse.TokenPersonal, UserID: other.user.ID, Digest: d3}),
		} {
			if err != nil {
				return err
			}
		}
		return tx.PutGrant(ctx, &gatehouse.Grant{OrgID: f.org.ID, TeamID: tm.ID, Entity: gatehouse.EntityRef{Type: gatehouse.EntityStack, ID: st.ID}, SetID: f.set.ID})
	})
	read(t, s, func(tx gatehouse.Tx) error {
		snap, err := tx.LoadSnapshot(ctx, f.org.ID)
		if err != nil {
			return err
		}
		if snap.Org.ID != f.org.ID || len(snap.Descriptors) != 2 || len(snap.Members) != 1 || len(snap.Users) != 1 ||
			len(snap.Teams) != 1 || len(snap.TeamMembers) != 1 || len(snap.TeamRoles[tm.ID]) != 1 || len(snap.Grants) != 1 ||
			len(snap.Stacks) != 1 || snap.Stacks[0].Tags["env"] != "prod" || len(snap.Environments) != 1 || len(snap.Accounts) != 1 {
			t.Errorf("snapshot = %+v", snap)
		}
		// The org token and the member's personal token; not another
		// organization's user's token.
		if len(snap.Tokens) != 2 {
			t.Errorf("snapshot tokens = %d, want 2", len(snap.Tokens))
		}
		return nil
	})
}
