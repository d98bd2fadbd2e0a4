package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

func testInvites(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	other := newFixture(t, s)
	guest := createManagedUser(t, s, other)
	inv := createInvite(t, s, f, other, guest)
	t.Run("Take", func(t *testing.T) { testInviteTake(t, s, f, guest, inv) })
	t.Run("ConcurrentTake", func(t *testing.T) { testInviteConcurrentTake(t, s, f, other) })
}

// createManagedUser creates a user that other manages.
func createManagedUser(t *testing.T, s gatehouse.Store, other *fixture) *gatehouse.User {
	// A user records the organization that manages it.
	guest := &gatehouse.User{Login: fmt.Sprintf("guest-%d", time.Now().UnixNano()), ManagedBy: other.org.ID}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateUser(ctx, guest) })
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetUser(ctx, guest.ID)
		if err != nil || got.ManagedBy != other.org.ID {
			t.Errorf("managed by = %+v, %v", got, err)
		}
		return nil
	})
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateUser(ctx, &gatehouse.User{Login: "nobody-" + gatehouse.NewID(), ManagedBy: gatehouse.NewID()})
	})
	wantCode(t, err, gatehouse.EINVALID, "user managed by an unknown organization")
	return guest
}

// createInvite invites guest into f's organization, and checks what a
// second invitation or one with other's role meets.
func createInvite(t *testing.T, s gatehouse.Store, f, other *fixture, guest *gatehouse.User) *gatehouse.Invite {
	now := time.Now()
	inv := &gatehouse.Invite{OrgID: f.org.ID, UserID: guest.ID, RoleID: f.role.ID, CreatedBy: f.user.ID, Expires: now.Add(time.Hour)}
	rev := revision(t, s, f.org.ID)
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateInvite(ctx, inv) })
	if revision(t, s, f.org.ID) != rev {
		t.Errorf("an invitation changed the revision: it grants nothing until accepted")
	}
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateInvite(ctx, &gatehouse.Invite{OrgID: f.org.ID, UserID: guest.ID, RoleID: f.role.ID, Expires: now.Add(time.Hour)})
	})
	wantCode(t, err, gatehouse.ECONFLICT, "second live invitation")
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateInvite(ctx, &gatehouse.Invite{OrgID: f.org.ID, UserID: other.user.ID, RoleID: other.role.ID, Expires: now.Add(time.Hour)})
	})
	wantCode(t, err, gatehouse.EINVALID, "another organization's role")
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetInvite(ctx, inv.ID)
		if err != nil || got.UserID != guest.ID || got.RoleID != f.role.ID || got.CreatedBy != f.user.ID || got.Expires.Unix() != inv.Expires.Unix() {
			t.Errorf("invite = %+v, %v", got, err)
		}
		if l, err := tx.ListInvites(ctx, f.org.ID); err != nil || len(l) != 1 {
			t.Errorf("org invites = %v, %v", l, err)
		}
		if l, err := tx.ListUserInvites(ctx, guest.ID); err != nil || len(l) != 1 || l[0].ID != inv.ID {
			t.Errorf("user invites = %v, %v", l, err)
		}
		return nil
	})
	return inv
}

// testInviteTake updates and takes inv, then invites guest again over an
// expired invitation.
func testInviteTake(t *testing.T, s gatehouse.Store, f *fixture, guest *gatehouse.User, inv *gatehouse.Invite) {
	now := time.Now()
	inv.Expires = now.Add(2 * time.Hour)
	write(t, s, func(tx gatehouse.Tx) error { return tx.UpdateInvite(ctx, inv) })
	// Taken once: the second taker finds nothing.
	var taken *gatehouse.Invite
	write(t, s, func(tx gatehouse.Tx) (err error) {
		taken, err = tx.TakeInvite(ctx, inv.ID)
		return err
	})
	if taken.Expires.Unix() != inv.Expires.Unix() {
		t.Errorf("taken = %+v", taken)
	}
	err := s.Write(ctx, func(tx gatehouse.Tx) error { _, err := tx.TakeInvite(ctx, inv.ID); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "second take")
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.UpdateInvite(ctx, inv) })
	wantCode(t, err, gatehouse.ENOTFOUND, "update of a taken invitation")
	// An expired invitation gives way to a new one.
	write(t, s, func(tx gatehouse.Tx) error {
		return tx.CreateInvite(ctx, &gatehouse.Invite{OrgID: f.org.ID, UserID: guest.ID, RoleID: f.role.ID, Expires: now.Add(-time.Second)})
	})
	write(t, s, func(tx gatehouse.Tx) error {
		return tx.CreateInvite(ctx, &gatehouse.Invite{OrgID: f.org.ID, UserID: guest.ID, RoleID: f.role.ID, Expires: now.Add(time.Hour)})
	})
}

// testInviteConcurrentTake takes one invitation from four writers at once:
// exactly one wins.
func testInviteConcurrentTake(t *testing.T, s gatehouse.Store, f, other *fixture) {
	now := time.Now()
	race := &gatehouse.Invite{OrgID: other.org.ID, UserID: f.user.ID, RoleID: other.role.ID, Expires: now.Add(time.Hour)}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateInvite(ctx, race) })
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s.Write(ctx, func(tx gatehouse.Tx) error { _, err := tx.TakeInvite(ctx, race.ID); return err }) == nil {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d concurrent takes of one invitation succeeded, want 1", wins.Load())
	}
}
