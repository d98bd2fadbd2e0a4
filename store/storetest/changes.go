package storetest

import (
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
)

// testChanges checks the change log: each transaction that bumps a
// revision logs what it changed, in order, and LoadDelta reads those
// records back (a record gone is absent).
func testChanges(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	var start int64
	read(t, s, func(tx gatehouse.Tx) (err error) {
		start, err = tx.Revision(ctx, f.org.ID)
		return err
	})
	tm := &gatehouse.Team{OrgID: f.org.ID, Kind: gatehouse.TeamPulumi, Name: "ops"}
	st := &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: "s"}
	_, digest := gatehouse.NewTokenValue()
	tok := &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "t", Digest: digest}
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.CreateTeam(ctx, tm); err != nil {
			return err
		}
		return tx.PutTeamMember(ctx, &gatehouse.TeamMember{TeamID: tm.ID, UserID: f.user.ID, Role: gatehouse.TeamRoleMember})
	})
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateStack(ctx, st) })
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateToken(ctx, tok) })
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteStack(ctx, st.ID) })
	k := func(kind gatehouse.ChangeKind, id string) gatehouse.ChangeKey {
		return gatehouse.ChangeKey{Kind: kind, ID: id}
	}
	want := []gatehouse.ChangeSet{
		{Revision: start + 1, Keys: []gatehouse.ChangeKey{k(gatehouse.ChangeTeam, tm.ID)}},
		{Revision: start + 2, Keys: []gatehouse.ChangeKey{k(gatehouse.ChangeStack, st.ID)}},
		{Revision: start + 3, Keys: []gatehouse.ChangeKey{k(gatehouse.ChangeToken, tok.ID)}},
		{Revision: start + 4, Keys: []gatehouse.ChangeKey{k(gatehouse.ChangeStack, st.ID)}},
	}
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.ChangesSince(ctx, f.org.ID, start)
		if err != nil {
			return err
		}
		if !slices.EqualFunc(got, want, func(a, b gatehouse.ChangeSet) bool {
			return a.Revision == b.Revision && a.All == b.All && slices.Equal(a.Keys, b.Keys)
		}) {
			t.Errorf("change log = %+v, want %+v", got, want)
		}
		if later, err := tx.ChangesSince(ctx, f.org.ID, start+3); err != nil || len(later) != 1 || later[0].Revision != start+4 {
			t.Errorf("changes since %d = %+v, %v; want the last one", start+3, later, err)
		}
		d, err := tx.LoadDelta(ctx, f.org.ID, gatehouse.DeltaRequest{Teams: []string{tm.ID}, Members: []string{f.user.ID},
			Stacks: []string{st.ID}, Tokens: []string{tok.ID}, Descriptors: []string{f.role.ID}})
		if err != nil {
			return err
		}
		if d.Org.ID != f.org.ID || d.Org.Revision != start+4 || len(d.Teams) != 1 || len(d.Members) != 1 || len(d.Users) != 1 ||
			len(d.TeamMembers) != 2 || len(d.Stacks) != 0 || len(d.Tokens) != 1 || len(d.Descriptors) != 1 {
			t.Errorf("delta = %+v: want the team, the member, its user, the team membership (by team and by member), no stack, the token and the role", d)
		}
		return nil
	})
}
