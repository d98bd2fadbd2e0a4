package storetest

import (
	"testing"

	"github.com/gatehouse-iam/gatehouse"
)

func testGrants(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	st := &gatehouse.Stack{OrgID: f.org.ID, Project: "infra", Name: "prod"}
	tm := &gatehouse.Team{OrgID: f.org.ID, Kind: gatehouse.TeamPulumi, Name: "ops"}
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.CreateStack(ctx, st); err != nil {
			return err
		}
		return tx.CreateTeam(ctx, tm)
	})
	ref := gatehouse.EntityRef{Type: gatehouse.EntityStack, ID: st.ID}
	ug := &gatehouse.Grant{OrgID: f.org.ID, UserID: f.user.ID, Entity: ref, SetID: f.set.ID}
	tg := &gatehouse.Grant{OrgID: f.org.ID, TeamID: tm.ID, Entity: ref, SetID: f.set.ID, Legacy: "101"}
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.PutGrant(ctx, ug); err != nil {
			return err
		}
		return tx.PutGrant(ctx, tg)
	})
	// Putting again replaces, keeping the id.
	firstID := ug.ID
	again := &gatehouse.Grant{OrgID: f.org.ID, UserID: f.user.ID, Entity: ref, SetID: f.set.ID, Legacy: "102"}
	write(t, s, func(tx gatehouse.Tx) error { return tx.PutGrant(ctx, again) })
	if again.ID != firstID {
		t.Errorf("re-put grant got id %s, want %s", again.ID, firstID)
	}
	bad := []struct {
		name string
		g    gatehouse.Grant
	}{
		{"no principal", gatehouse.Grant{OrgID: f.org.ID, Entity: ref, SetID: f.set.ID}},
		{"two principals", gatehouse.Grant{OrgID: f.org.ID, UserID: f.user.ID, TeamID: tm.ID, Entity: ref, SetID: f.set.ID}},
		{"unknown entity", gatehouse.Grant{OrgID: f.org.ID, UserID: f.user.ID, Entity: gatehouse.EntityRef{Type: gatehouse.EntityStack, ID: gatehouse.NewID()}, SetID: f.set.ID}},
		{"global entity", gatehouse.Grant{OrgID: f.org.ID, UserID: f.user.ID, Entity: gatehouse.EntityRef{Type: gatehouse.EntityGlobal, ID: f.org.ID}, SetID: f.set.ID}},
		{"unknown set", gatehouse.Grant{OrgID: f.org.ID, UserID: f.user.ID, Entity: ref, SetID: gatehouse.NewID()}},
		{"unknown user", gatehouse.Grant{OrgID: f.org.ID, UserID: gatehouse.NewID(), Entity: ref, SetID: f.set.ID}},
	}
	for _, b := range bad {
		err := s.Write(ctx, func(tx gatehouse.Tx) error { g := b.g; return tx.PutGrant(ctx, &g) })
		wantCode(t, err, gatehouse.EINVALID, b.name)
	}
	read(t, s, func(tx gatehouse.Tx) error {
		gs, err := tx.ListGrants(ctx, f.org.ID, gatehouse.GrantFilter{Entity: &ref})
		if err != nil || len(gs) != 2 {
			t.Fatalf("grants on the stack = %d, %v", len(gs), err)
		}
		gs, _ = tx.ListGrants(ctx, f.org.ID, gatehouse.GrantFilter{TeamID: tm.ID})
		if len(gs) != 1 || gs[0].Legacy != "101" || gs[0].UserID != "" {
			t.Errorf("team grants = %+v", gs)
		}
		gs, _ = tx.ListGrants(ctx, f.org.ID, gatehouse.GrantFilter{UserID: f.user.ID})
		if len(gs) != 1 || gs[0].Legacy != "102" {
			t.Errorf("user grants = %+v", gs)
		}
		return nil
	})
	// Deleting the stack deletes the grants on it.
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteStack(ctx, st.ID) })
	read(t, s, func(tx gatehouse.Tx) error {
		gs, err := tx.ListGrants(ctx, f.org.ID, gatehouse.GrantFilter{})
		if len(gs) != 0 {
			t.Errorf("grants survive their stack: %+v", gs)
		}
		return err
	})
}
