package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

// testStackLeases: one update holds a stack's lease at a time; the holder
// renews it; it frees it; an expired lease can be taken over; many writers
// racing for one lease get exactly one winner.
// testSessions: console sessions are found by digest, deleted, pruned
// when expired, and go with their user.
func testSessions(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	now := time.Now()
	live := &gatehouse.Session{Digest: gatehouse.TokenDigest("live"), TokenDigest: gatehouse.TokenDigest("tok"), UserID: f.user.ID, CSRF: "c1", Expires: now.Add(time.Hour)}
	old := &gatehouse.Session{Digest: gatehouse.TokenDigest("old"), TokenDigest: gatehouse.TokenDigest("tok"), UserID: f.user.ID, CSRF: "c2", Expires: now.Add(-time.Hour)}
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.CreateSession(ctx, live); err != nil {
			return err
		}
		return tx.CreateSession(ctx, old)
	})
	err := s.Write(ctx, func(tx gatehouse.Tx) error { return tx.CreateSession(ctx, live) })
	wantCode(t, err, gatehouse.ECONFLICT, "a second session with one digest")
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateSession(ctx, &gatehouse.Session{Digest: gatehouse.TokenDigest("x"), TokenDigest: gatehouse.TokenDigest("t"), UserID: gatehouse.NewID(), Expires: now})
	})
	wantCode(t, err, gatehouse.EINVALID, "a session of no user")
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetSession(ctx, live.Digest)
		if err == nil && (got.UserID != f.user.ID || got.CSRF != "c1" || !bytes.Equal(got.TokenDigest, live.TokenDigest) || got.Expires.Unix() != live.Expires.Unix()) {
			t.Errorf("session = %+v", got)
		}
		return err
	})
	var n int64
	write(t, s, func(tx gatehouse.Tx) (err error) { n, err = tx.PruneSessions(ctx, now); return err })
	if n != 1 {
		t.Errorf("pruned %d sessions, want 1", n)
	}
	err = s.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetSession(ctx, old.Digest); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "a pruned session")
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteSession(ctx, live.Digest) })
	err = s.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetSession(ctx, live.Digest); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "a deleted session")
}

// testUserSessions: a user's live sessions are listed newest first, their
// last-seen time only moves forward, and they end all at once.
func testUserSessions(t *testing.T, s gatehouse.Store) {
	f, other := newFixture(t, s), newFixture(t, s)
	now := time.Now()
	mk := func(name, user string, expires time.Time) *gatehouse.Session {
		return &gatehouse.Session{Digest: gatehouse.TokenDigest(name), TokenDigest: gatehouse.TokenDigest("tok"), UserID: user, CSRF: name, Expires: expires}
	}
	a, b := mk(f.org.Name+"a", f.user.ID, now.Add(time.Hour)), mk(f.org.Name+"b", f.user.ID, now.Add(time.Hour))
	gone, theirs := mk(f.org.Name+"gone", f.user.ID, now.Add(-time.Minute)), mk(f.org.Name+"theirs", other.user.ID, now.Add(time.Hour))
	for _, x := range []*gatehouse.Session{a, gone, theirs} {
		write(t, s, func(tx gatehouse.Tx) error { return tx.CreateSession(ctx, x) })
	}
	time.Sleep(2 * time.Millisecond)
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateSession(ctx, b) })
	seen := now.Add(time.Minute).Truncate(time.Microsecond)
	write(t, s, func(tx gatehouse.Tx) error { return tx.TouchSession(ctx, a.Digest, seen) })
	write(t, s, func(tx gatehouse.Tx) error { return tx.TouchSession(ctx, a.Digest, seen.Add(-time.Second)) })
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.ListUserSessions(ctx, f.user.ID, now)
		if err != nil {
			return err
		}
		if len(got) != 2 || got[0].CSRF != b.CSRF || got[1].CSRF != a.CSRF || !got[1].LastSeen.Equal(seen) || !got[0].LastSeen.IsZero() {
			t.Errorf("user sessions: %+v", got)
		}
		return nil
	})
	var n int64
	write(t, s, func(tx gatehouse.Tx) (err error) { n, err = tx.DeleteUserSessions(ctx, f.user.ID); return err })
	if n != 3 {
		t.Errorf("ended %d sessions, want 3 (the expired one too)", n)
	}
	read(t, s, func(tx gatehouse.Tx) error {
		mine, err := tx.ListUserSessions(ctx, f.user.ID, now)
		if err != nil {
			return err
		}
		theirsNow, err := tx.ListUserSessions(ctx, other.user.ID, now)
		if len(mine) != 0 || len(theirsNow) != 1 {
			t.Errorf("after ending: mine %d, theirs %d", len(mine), len(theirsNow))
		}
		return err
	})
}
