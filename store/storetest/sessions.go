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
