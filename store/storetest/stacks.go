package storetest

import (
	"bytes"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
)

func testStacks(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	st := &gatehouse.Stack{OrgID: f.org.ID, Project: "infra", Name: "dev", Tags: map[string]string{"env": "dev"}, CreatedBy: f.user.ID}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateStack(ctx, st) })
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateStack(ctx, &gatehouse.Stack{OrgID: f.org.ID, Project: "infra", Name: "dev"})
	})
	wantCode(t, err, gatehouse.ECONFLICT, "duplicate stack")
	write(t, s, func(tx gatehouse.Tx) error { // same name, other project
		return tx.CreateStack(ctx, &gatehouse.Stack{OrgID: f.org.ID, Project: "app", Name: "dev"})
	})
	st.Name, st.Tags = "development", map[string]string{"env": "dev", "team": "core"}
	write(t, s, func(tx gatehouse.Tx) error { return tx.UpdateStack(ctx, st) })
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetStack(ctx, f.org.ID, "infra", "development")
		if err != nil {
			return err
		}
		if got.ID != st.ID || got.Tags["team"] != "core" || got.CreatedBy != f.user.ID || got.Version != 0 {
			t.Errorf("GetStack = %+v", got)
		}
		_, err = tx.GetStack(ctx, f.org.ID, "infra", "dev")
		wantCode(t, err, gatehouse.ENOTFOUND, "old name after rename")
		list, _, err := tx.ListStacks(ctx, f.org.ID, "infra", gatehouse.ListOptions{})
		if len(list) != 1 {
			t.Errorf("ListStacks(infra) = %d", len(list))
		}
		list, _, err = tx.ListStacks(ctx, f.org.ID, "", gatehouse.ListOptions{})
		if len(list) != 2 {
			t.Errorf("ListStacks = %d", len(list))
		}
		return err
	})
	clash := *st
	clash.Project, clash.Name = "app", "dev"
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.UpdateStack(ctx, &clash) })
	wantCode(t, err, gatehouse.ECONFLICT, "rename onto an existing stack")
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteStack(ctx, st.ID) })
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.DeleteStack(ctx, st.ID) })
	wantCode(t, err, gatehouse.ENOTFOUND, "delete a deleted stack")
}

// testStackHeads: the versions of named stacks, by id; other
// organizations' and unknown ids are absent.
func testStackHeads(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	a := &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: "a"}
	b := &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: "b"}
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.CreateStack(ctx, a); err != nil {
			return err
		}
		if err := tx.CreateStack(ctx, b); err != nil {
			return err
		}
		return tx.SaveCheckpoint(ctx, &gatehouse.Checkpoint{StackID: b.ID, Version: 1, Data: []byte(`{}`)})
	})
	other := newFixture(t, s)
	read(t, s, func(tx gatehouse.Tx) error {
		heads, err := tx.StackHeads(ctx, f.org.ID, []string{a.ID, b.ID, gatehouse.NewID()})
		if err != nil || len(heads) != 2 || heads[a.ID].Version != 0 || heads[b.ID].Version != 1 || heads[b.ID].Modified.IsZero() {
			t.Errorf("StackHeads = %+v, %v", heads, err)
		}
		if heads, err := tx.StackHeads(ctx, other.org.ID, []string{a.ID}); err != nil || len(heads) != 0 {
			t.Errorf("another organization's heads = %+v, %v", heads, err)
		}
		if heads, err := tx.StackHeads(ctx, f.org.ID, nil); err != nil || len(heads) != 0 {
			t.Errorf("no ids = %+v, %v", heads, err)
		}
		return nil
	})
}

func testStackKeys(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	st := &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: "keyed"}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateStack(ctx, st) })
	err := s.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetStackKey(ctx, st.ID); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "key of a stack without one")
	wrapped := []byte{1, 2, 3, 0, 255}
	write(t, s, func(tx gatehouse.Tx) error { return tx.PutStackKey(ctx, st.ID, wrapped) })
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetStackKey(ctx, st.ID)
		if err == nil && !bytes.Equal(got, wrapped) {
			t.Errorf("GetStackKey = %v, want %v", got, wrapped)
		}
		return err
	})
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.PutStackKey(ctx, st.ID, []byte{9}) })
	wantCode(t, err, gatehouse.ECONFLICT, "a second key for a stack")
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.PutStackKey(ctx, gatehouse.NewID(), []byte{9}) })
	wantCode(t, err, gatehouse.EINVALID, "a key for no stack")
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.PutStackKey(ctx, st.ID, nil) })
	wantCode(t, err, gatehouse.EINVALID, "an empty key")
	// The key goes with its stack.
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteStack(ctx, st.ID) })
	err = s.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetStackKey(ctx, st.ID); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "key of a deleted stack")
}
