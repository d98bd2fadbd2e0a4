package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
	"github.com/gatehouse-iam/gatehouse/store"
	"github.com/gatehouse-iam/gatehouse/store/storetest"
)

// These tests race the service's check-then-write use cases against each
// other, through two replicas (two stores, authorizers and services over
// one database) on both dialects. On PostgreSQL they fail at READ
// COMMITTED without the row locks the use cases take first.

// replicas returns the environment's service and a second replica of it
// on the same database.
func replicas(t *testing.T, e *testenv.Env) [2]*service.Service {
	t.Helper()
	db, err := store.Open(context.Background(), e.DSN, store.Options{Now: e.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc := service.New(db, authz.New(db, e.Clock.Now), e.Clock.Now)
	svc.Keys = e.Svc.Keys
	return [2]*service.Service{e.Svc, svc}
}

// stackRace is a stack of the environment's organization, the admin's
// identity, and the two replicas that race on the stack's updates.
type stackRace struct {
	svcs [2]*service.Service
	by   *gatehouse.Identity
	st   *gatehouse.Stack
}

func newStackRace(t *testing.T, e *testenv.Env) *stackRace {
	t.Helper()
	r := &stackRace{svcs: replicas(t, e), by: e.Identity(t, e.Admin)}
	var err error
	if r.st, err = e.Svc.CreateStack(context.Background(), e.Org.ID, r.by, service.StackInput{Project: "app", Name: "dev"}); err != nil {
		t.Fatal(err)
	}
	return r
}

// create makes an update of the stack, not yet started.
func (r *stackRace) create(t *testing.T) *gatehouse.StackUpdate {
	t.Helper()
	u, err := r.svcs[0].CreateUpdate(context.Background(), r.st, r.by, gatehouse.UpdateKindUpdate, service.ProgramInput{Name: "app"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func admins(t *testing.T, e *testenv.Env) int {
	t.Helper()
	n := 0
	for _, login := range []string{"admin", "a0", "a1", "a2"} {
		v, err := e.Svc.Member(context.Background(), e.Org.ID, login)
		if err != nil {
			t.Fatal(err)
		}
		if v.Role.DefaultIdentifier == "admin" {
			n++
		}
	}
	return n
}

// Three admins demoted at once, every round: two demotions pass, the
// third is refused as the last admin's, and one admin is left.
func TestLastAdminConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		svcs := replicas(t, e)
		for i := range 3 {
			if _, err := e.Svc.AddMember(ctx, e.Org.ID, fmt.Sprintf("a%d", i), "admin"); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Svc.UpdateMember(ctx, e.Org.ID, "admin", "member", ""); err != nil {
			t.Fatal(err)
		}
		for round := range 10 {
			errs := storetest.Race(3, func(i int) error {
				return svcs[i%2].UpdateMember(ctx, e.Org.ID, fmt.Sprintf("a%d", i), "member", "")
			})
			refused := 0
			for _, err := range errs {
				if gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
					refused++
				} else if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if n := admins(t, e); n != 1 || refused != 1 {
				t.Fatalf("round %d: %d admins left and %d demotions refused, want 1 and 1", round, n, refused)
			}
			for i := range 3 {
				if err := e.Svc.UpdateMember(ctx, e.Org.ID, fmt.Sprintf("a%d", i), "admin", ""); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

// Concurrent role changes of one member: each member_role_changed event's
// "before" is the role the previous change left.
func TestMemberRoleChangedBeforeConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		svcs := replicas(t, e)
		v, err := e.Svc.AddMember(ctx, e.Org.ID, "bob", "member")
		if err != nil {
			t.Fatal(err)
		}
		roles := []string{"reader", "builder", "maintainer", "member"}
		const n = 24
		for _, err := range storetest.Race(n, func(i int) error {
			return svcs[i%2].UpdateMember(ctx, e.Org.ID, "bob", roles[i%len(roles)], "")
		}) {
			if err != nil {
				t.Fatal(err)
			}
		}
		events := eventsOf(t, e, gatehouse.EventMemberRoleChanged, n)
		prev := v.Membership.RoleID
		for _, ev := range events {
			var d struct{ Before, After string }
			if err := json.Unmarshal(ev.Data, &d); err != nil {
				t.Fatal(err)
			}
			if d.Before != prev {
				t.Errorf("event %d: before %q, but the previous change left %q", ev.Seq, d.Before, prev)
			}
			prev = d.After
		}
		if m, err := e.Svc.Member(ctx, e.Org.ID, "bob"); err != nil || m.Membership.RoleID != prev {
			t.Errorf("bob's role %+v, %v; want the last event's %q", m, err, prev)
		}
	})
}

// Concurrent changes of one role, none of which sent a version, never
// conflict: each applies over the one before.
func TestRolePatchesConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		svcs := replicas(t, e)
		role, err := e.Svc.CreateDescriptor(ctx, e.Org.ID, service.DescriptorInput{Name: ptr("Deployers"), Purpose: ptr(gatehouse.PurposeRole),
			Details: json.RawMessage(`{"__type":"PermissionDescriptorCompose","permissionDescriptors":[]}`)}, false)
		if err != nil {
			t.Fatal(err)
		}
		const n = 200
		conflicts := 0
		for _, err := range storetest.Race(n, func(i int) error {
			_, err := svcs[i%2].UpdateDescriptor(ctx, e.Org.ID, role.ID, service.DescriptorInput{Description: ptr(fmt.Sprintf("change %d", i))})
			return err
		}) {
			if gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
				conflicts++
			} else if err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("%s: %d of %d concurrent changes without a version got a conflict", e.DB.Dialect(), conflicts, n)
		if conflicts > 0 {
			t.Errorf("%d of %d changes without a version got a conflict", conflicts, n)
		}
		if d, err := e.Svc.Descriptor(ctx, e.Org.ID, role.ID); err != nil || d.Version != role.Version+n-conflicts {
			t.Errorf("the role after %d changes: %+v, %v; want version %d", n-conflicts, d, err, role.Version+n-conflicts)
		}
	})
}

const deployment = `{"version":3,"deployment":{"resources":[]}}`

// An update started twice at once (a CLI retry, through two replicas)
// holds one lease: one start gets it, the other a conflict.
func TestUpdateStartedTwiceConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		r := newStackRace(t, e)
		svcs, by, st := r.svcs, r.by, r.st
		for round := range 20 {
			u := r.create(t)
			started := make([]*service.Started, 2)
			errs := storetest.Race(2, func(i int) (err error) {
				started[i], err = svcs[i].StartUpdate(ctx, st, u.ID, by, nil, false)
				return err
			})
			won := -1
			for i, err := range errs {
				switch {
				case err == nil && won < 0:
					won = i
				case gatehouse.ErrorCode(err) != gatehouse.ECONFLICT:
					t.Fatalf("round %d: start %d: %v; want one lease and one conflict", round, i, err)
				}
			}
			if won < 0 {
				t.Fatalf("round %d: both starts refused: %v", round, errs)
			}
			if _, _, err := e.Svc.Leased(ctx, st.ID, u.ID, started[won].Token); err != nil {
				t.Fatalf("round %d: the winning lease: %v", round, err)
			}
			if err := e.Svc.CompleteUpdate(ctx, u.ID, gatehouse.UpdateSucceeded); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// The next update's start racing the completion of one that wrote no
// checkpoint gets the version after the one that completion made, and
// never writes over its checkpoint.
func TestUpdateVersionsConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		r := newStackRace(t, e)
		svcs, by, st := r.svcs, r.by, r.st
		// start spins while the previous update holds the lease.
		start := func(svc *service.Service, u *gatehouse.StackUpdate) *service.Started {
			for try := 0; ; try++ {
				s, err := svc.StartUpdate(ctx, st, u.ID, by, nil, false)
				if gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
					if err != nil {
						t.Error(err)
					}
					return s
				}
				if try == 20000 {
					t.Errorf("the start still refused after %d tries: %v", try, err)
					return nil
				}
				if e.DB.Dialect() == "sqlite" {
					time.Sleep(100 * time.Microsecond) // let the completion in
				}
			}
		}
		first := r.create(t)
		start(e.Svc, first)
		if err := e.Svc.PatchCheckpoint(ctx, first.ID, 0, []byte(deployment)); err != nil {
			t.Fatal(err)
		}
		if err := e.Svc.CompleteUpdate(ctx, first.ID, gatehouse.UpdateSucceeded); err != nil {
			t.Fatal(err)
		}
		prev := r.create(t)
		start(e.Svc, prev)
		for round := range 60 {
			next := r.create(t)
			var started *service.Started
			errs := storetest.Race(2, func(i int) error {
				if i == 0 {
					return svcs[0].CompleteUpdate(ctx, prev.ID, gatehouse.UpdateSucceeded)
				}
				started = start(svcs[1], next)
				return nil
			})
			if errs[0] != nil || started == nil {
				t.Fatalf("round %d: %v", round, errs[0])
			}
			done, err := e.Svc.Update(ctx, st, prev.ID)
			if err != nil {
				t.Fatal(err)
			}
			if started.Version != done.Version+1 {
				t.Fatalf("round %d: the next update got version %d; the completed one made %d", round, started.Version, done.Version)
			}
			before := checkpointOf(t, e, st.ID, done.Version)
			mine := fmt.Sprintf(`{"version":3,"deployment":{"round":%d}}`, round)
			if err := svcs[1].PatchCheckpoint(ctx, next.ID, 0, []byte(mine)); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			if after := checkpointOf(t, e, st.ID, done.Version); after != before {
				t.Fatalf("round %d: version %d's checkpoint replaced by the next update: %s", round, done.Version, after)
			}
			prev = next
		}
	})
}

func checkpointOf(t *testing.T, e *testenv.Env, stackID string, version int) string {
	t.Helper()
	var data string
	err := e.DB.Read(context.Background(), func(tx gatehouse.Tx) error {
		cp, err := tx.GetCheckpoint(context.Background(), stackID, version)
		if err == nil {
			data = string(cp.Data)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// A lease renewal racing the update's completion never takes the freed
// lease again: the next update starts at once.
func TestRenewRacingCompletion(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		r := newStackRace(t, e)
		svcs, by, st := r.svcs, r.by, r.st
		for round := range 20 {
			u := r.create(t)
			if _, err := e.Svc.StartUpdate(ctx, st, u.ID, by, nil, false); err != nil {
				t.Fatalf("round %d: the start: %v", round, err)
			}
			errs := storetest.Race(2, func(i int) error {
				if i == 0 {
					return svcs[0].CompleteUpdate(ctx, u.ID, gatehouse.UpdateSucceeded)
				}
				_, err := svcs[1].RenewLease(ctx, u, 0)
				return err
			})
			if errs[0] != nil || (errs[1] != nil && gatehouse.ErrorCode(errs[1]) != gatehouse.ECONFLICT) {
				t.Fatalf("round %d: completion %v, renewal %v", round, errs[0], errs[1])
			}
			if s, err := e.Svc.Stack(ctx, e.Org.ID, "app", "dev"); err != nil || s.ActiveUpdate != "" {
				t.Fatalf("round %d: after the completion the stack is leased to %q (%v)", round, s.ActiveUpdate, err)
			}
		}
	})
}

// eventsOf returns the organization's n events of one type, oldest first.
func eventsOf(t *testing.T, e *testenv.Env, typ string, n int) []*gatehouse.AuditEvent {
	t.Helper()
	events, _, err := e.Svc.AuditEvents(context.Background(), e.Org.ID, gatehouse.AuditFilter{Types: []string{typ}}, gatehouse.ListOptions{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != n {
		t.Fatalf("%d %s events, want %d", len(events), typ, n)
	}
	return events
}
