package storetest

import (
	"testing"

	"github.com/gatehouse-iam/gatehouse"
)

func testCheckpoints(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	st := &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: "s"}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateStack(ctx, st) })
	save := func(v int, data string) error {
		return s.Write(ctx, func(tx gatehouse.Tx) error {
			return tx.SaveCheckpoint(ctx, &gatehouse.Checkpoint{StackID: st.ID, Version: v, Data: []byte(data)})
		})
	}
	if err := save(1, `{"v":1}`); err != nil {
		t.Fatal(err)
	}
	if err := save(2, `{"v":2}`); err != nil {
		t.Fatal(err)
	}
	wantCode(t, save(2, `{"v":"again"}`), gatehouse.ECONFLICT, "save a version twice")
	wantCode(t, save(4, `{"v":4}`), gatehouse.ECONFLICT, "skip a version")
	write(t, s, func(tx gatehouse.Tx) error {
		return tx.ReplaceCheckpoint(ctx, &gatehouse.Checkpoint{StackID: st.ID, Version: 2, Data: []byte(`{"v":"2b"}`)})
	})
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.ReplaceCheckpoint(ctx, &gatehouse.Checkpoint{StackID: st.ID, Version: 1, Data: []byte(`{}`)})
	})
	wantCode(t, err, gatehouse.ENOTFOUND, "replace a past version")
	read(t, s, func(tx gatehouse.Tx) error {
		cur, err := tx.GetCheckpoint(ctx, st.ID, 0)
		if err != nil || cur.Version != 2 || string(cur.Data) != `{"v":"2b"}` {
			t.Errorf("current checkpoint = %+v, %v", cur, err)
		}
		old, err := tx.GetCheckpoint(ctx, st.ID, 1)
		if err != nil || string(old.Data) != `{"v":1}` {
			t.Errorf("version 1 = %+v, %v", old, err)
		}
		got, _ := tx.GetStackByID(ctx, st.ID)
		if got.Version != 2 {
			t.Errorf("stack version = %d", got.Version)
		}
		return nil
	})
}
