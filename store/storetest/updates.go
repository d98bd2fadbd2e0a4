package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

func testUpdates(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	st := &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: "s"}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateStack(ctx, st) })
	var ids []string
	for i := 0; i < 3; i++ {
		u := &gatehouse.StackUpdate{StackID: st.ID, Kind: "update", Status: "not started"}
		write(t, s, func(tx gatehouse.Tx) error { return tx.CreateUpdate(ctx, u) })
		ids = append(ids, u.ID)
		time.Sleep(2 * time.Millisecond) // distinct creation times order the history
	}
	write(t, s, func(tx gatehouse.Tx) error {
		u, err := tx.GetUpdate(ctx, ids[0])
		if err != nil {
			return err
		}
		u.Status, u.LeaseDigest, u.LeaseExpiry = "running", gatehouse.TokenDigest("lease"), time.Now().Add(time.Minute)
		u.Info = json.RawMessage(`{"message":"hi"}`)
		return tx.SaveUpdate(ctx, u)
	})
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateUpdate(ctx, &gatehouse.StackUpdate{StackID: gatehouse.NewID(), Kind: "update", Status: "x"})
	})
	wantCode(t, err, gatehouse.EINVALID, "update of no stack")
	read(t, s, func(tx gatehouse.Tx) error {
		u, err := tx.GetUpdate(ctx, ids[0])
		if err != nil || u.Status != "running" || len(u.LeaseDigest) != 32 || string(u.Info) != `{"message":"hi"}` {
			t.Errorf("saved update = %+v, %v", u, err)
		}
		list, next, err := tx.ListUpdates(ctx, st.ID, gatehouse.ListOptions{Limit: 2})
		if err != nil || len(list) != 2 || list[0].ID != ids[2] || next == "" {
			t.Fatalf("first page of updates = %v, next %q, %v", len(list), next, err)
		}
		rest, next, err := tx.ListUpdates(ctx, st.ID, gatehouse.ListOptions{Limit: 2, Continuation: next})
		if err != nil || len(rest) != 1 || rest[0].ID != ids[0] || next != "" {
			t.Errorf("second page = %d, next %q, %v", len(rest), next, err)
		}
		return nil
	})
}

func testStackLeases(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	st := &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: "leased"}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateStack(ctx, st) })
	now := time.Now()
	write(t, s, func(tx gatehouse.Tx) error { return tx.AcquireStackLease(ctx, st.ID, "u1", now.Add(time.Minute), now) })
	err := s.Write(ctx, func(tx gatehouse.Tx) error { return tx.AcquireStackLease(ctx, st.ID, "u2", now.Add(time.Minute), now) })
	wantCode(t, err, gatehouse.ECONFLICT, "a second update's lease")
	write(t, s, func(tx gatehouse.Tx) error {
		return tx.AcquireStackLease(ctx, st.ID, "u1", now.Add(2*time.Minute), now)
	})
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetStackByID(ctx, st.ID)
		if err == nil && (got.ActiveUpdate != "u1" || !got.LeaseExpiry.Equal(now.Add(2*time.Minute).Truncate(time.Microsecond))) {
			t.Errorf("renewed lease = %q until %v", got.ActiveUpdate, got.LeaseExpiry)
		}
		return err
	})
	// Only the holder frees it.
	write(t, s, func(tx gatehouse.Tx) error { return tx.ReleaseStackLease(ctx, st.ID, "u2") })
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.AcquireStackLease(ctx, st.ID, "u2", now.Add(time.Minute), now) })
	wantCode(t, err, gatehouse.ECONFLICT, "a lease another update failed to free")
	write(t, s, func(tx gatehouse.Tx) error { return tx.ReleaseStackLease(ctx, st.ID, "u1") })
	write(t, s, func(tx gatehouse.Tx) error { return tx.AcquireStackLease(ctx, st.ID, "u2", now.Add(time.Minute), now) })
	// Expired: another update takes over.
	later := now.Add(time.Hour)
	write(t, s, func(tx gatehouse.Tx) error {
		return tx.AcquireStackLease(ctx, st.ID, "u3", later.Add(time.Minute), later)
	})
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.AcquireStackLease(ctx, gatehouse.NewID(), "u", later, now) })
	wantCode(t, err, gatehouse.ENOTFOUND, "the lease of no stack")

	race := &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: "raced"}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateStack(ctx, race) })
	var wg sync.WaitGroup
	var won atomic.Int32
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Write(ctx, func(tx gatehouse.Tx) error {
				return tx.AcquireStackLease(ctx, race.ID, fmt.Sprint("racer", i), now.Add(time.Minute), now)
			})
			if err == nil {
				won.Add(1)
			} else if gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
				t.Errorf("racer %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Errorf("%d racers took the lease, want exactly 1", won.Load())
	}
}

// testUpdateEvents: events are stored once per sequence number, listed in
// order after a sequence, and go with their update's stack.
func testUpdateEvents(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	st := &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: "evented"}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateStack(ctx, st) })
	u := &gatehouse.StackUpdate{StackID: st.ID, Kind: gatehouse.UpdateKindUpdate, Status: gatehouse.UpdateRunning,
		StarterDigest: gatehouse.TokenDigest("starter"), Sequence: 3}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateUpdate(ctx, u) })
	events := []gatehouse.UpdateEvent{{Sequence: 2, Data: []byte(`{"b":1}`)}, {Sequence: 1, Data: []byte(`{"a":1}`)}, {Sequence: 3, Data: []byte(`{"c":1}`)}}
	write(t, s, func(tx gatehouse.Tx) error { return tx.AppendUpdateEvents(ctx, u.ID, events) })
	// A retry of the same batch changes nothing.
	write(t, s, func(tx gatehouse.Tx) error {
		return tx.AppendUpdateEvents(ctx, u.ID, []gatehouse.UpdateEvent{{Sequence: 2, Data: []byte(`{"changed":1}`)}})
	})
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetUpdate(ctx, u.ID)
		if err == nil && (got.Sequence != 3 || !bytes.Equal(got.StarterDigest, u.StarterDigest)) {
			t.Errorf("update = sequence %d, starter %x", got.Sequence, got.StarterDigest)
		}
		all, err := tx.ListUpdateEvents(ctx, u.ID, 0, 0)
		if err != nil || len(all) != 3 || all[0].Sequence != 1 || string(all[1].Data) != `{"b":1}` {
			t.Errorf("events = %+v, %v", all, err)
		}
		after, err := tx.ListUpdateEvents(ctx, u.ID, 1, 1)
		if err != nil || len(after) != 1 || after[0].Sequence != 2 {
			t.Errorf("one event after 1 = %+v, %v", after, err)
		}
		return nil
	})
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.AppendUpdateEvents(ctx, gatehouse.NewID(), []gatehouse.UpdateEvent{{Sequence: 1, Data: []byte(`{}`)}})
	})
	wantCode(t, err, gatehouse.EINVALID, "events of no update")
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteStack(ctx, st.ID) })
	read(t, s, func(tx gatehouse.Tx) error {
		all, err := tx.ListUpdateEvents(ctx, u.ID, 0, 0)
		if err != nil || len(all) != 0 {
			t.Errorf("events of a deleted stack = %d, %v", len(all), err)
		}
		return nil
	})
}
