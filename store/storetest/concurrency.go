package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
)

// The row locks the service's checks rely on, with many writers at once:
// on PostgreSQL at READ COMMITTED, a check made after LockOrg or LockStack
// reads what the lock's previous holder committed, so the write it allows
// is never based on a stale read. Without the locks both tests fail there.

// Race runs fn(0) ... fn(n-1) at once, released together, and returns
// their errors: the concurrency tests' writers, here and in the service's.
func Race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// testLockOrgLastHolder: writers each demote one member of a role, after
// checking under the organization's lock that another member still holds
// it; every round, exactly one member is left on the role.
func testLockOrgLastHolder(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	const holders = 6
	admin := &gatehouse.Descriptor{OrgID: f.org.ID, Name: "Admin", Purpose: gatehouse.PurposeRole, ResourceType: gatehouse.EntityGlobal,
		Details: f.role.Details, Refs: f.role.Refs}
	users := make([]string, holders)
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.CreateDescriptor(ctx, admin); err != nil {
			return err
		}
		for i := range users {
			u := &gatehouse.User{Login: fmt.Sprintf("%s-admin-%d", f.user.Login, i)}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			users[i] = u.ID
			if err := tx.AddMember(ctx, &gatehouse.Membership{OrgID: f.org.ID, UserID: u.ID, RoleID: f.role.ID}); err != nil {
				return err
			}
		}
		return nil
	})
	setRole := func(tx gatehouse.Tx, userID, roleID string) error {
		return tx.UpdateMember(ctx, &gatehouse.Membership{OrgID: f.org.ID, UserID: userID, RoleID: roleID})
	}
	for round := range 5 {
		write(t, s, func(tx gatehouse.Tx) error {
			for _, id := range users {
				if err := setRole(tx, id, admin.ID); err != nil {
					return err
				}
			}
			return nil
		})
		errs := Race(holders, func(i int) error {
			return s.Write(ctx, func(tx gatehouse.Tx) error {
				if err := tx.LockOrg(ctx, f.org.ID); err != nil {
					return err
				}
				u, err := tx.DescriptorUsage(ctx, f.org.ID, admin.ID)
				if err != nil {
					return err
				}
				if len(u.Members) <= 1 {
					return gatehouse.Errorf(gatehouse.ECONFLICT, "the last admin")
				}
				return setRole(tx, users[i], f.role.ID)
			})
		})
		refused := 0
		for _, err := range errs {
			if gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
				refused++
			} else if err != nil {
				t.Fatal(err)
			}
		}
		var left int
		read(t, s, func(tx gatehouse.Tx) error {
			u, err := tx.DescriptorUsage(ctx, f.org.ID, admin.ID)
			if err == nil {
				left = len(u.Members)
			}
			return err
		})
		if left != 1 || refused != 1 {
			t.Fatalf("round %d: %d members left on the role, %d demotions refused; want 1 and 1", round, left, refused)
		}
	}
}

// testLockStackVersions: writers that each lock a stack, read its version
// and save the next one all succeed, each with a version of its own.
func testLockStackVersions(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	st := &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: "locked"}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateStack(ctx, st) })
	const writers = 24
	errs := Race(writers, func(i int) error {
		return s.Write(ctx, func(tx gatehouse.Tx) error {
			if err := tx.LockStack(ctx, st.ID); err != nil {
				return err
			}
			cur, err := tx.GetStackByID(ctx, st.ID)
			if err != nil {
				return err
			}
			return tx.SaveCheckpoint(ctx, &gatehouse.Checkpoint{StackID: st.ID, Version: cur.Version + 1, Data: []byte(fmt.Sprintf(`{"writer":%d}`, i))})
		})
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	read(t, s, func(tx gatehouse.Tx) error {
		cur, err := tx.GetStackByID(ctx, st.ID)
		if err == nil && cur.Version != writers {
			t.Errorf("the stack is at version %d after %d writers, want %d", cur.Version, writers, writers)
		}
		return err
	})
	wantCode(t, s.Write(ctx, func(tx gatehouse.Tx) error { return tx.LockStack(ctx, "nope") }), gatehouse.ENOTFOUND, "lock a missing stack")
}
