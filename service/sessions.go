package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

// Sessions are the console's sign-ins, on the service's clock. A session's
// value (the cookie) is never stored, only its SHA-256.
type Sessions struct{ s *Service }

// Sessions returns the console's sessions.
func (s *Service) Sessions() Sessions { return Sessions{s} }

// Open opens a session of lifetime for the user of a personal token (by
// its digest), pruning the expired ones first, and returns the session's
// value with its record.
func (ss Sessions) Open(ctx context.Context, userID string, tokenDigest []byte, lifetime time.Duration) (string, *gatehouse.Session, error) {
	var value string
	var rec *gatehouse.Session
	err := ss.s.store.Write(ctx, func(tx gatehouse.Tx) (err error) {
		value, rec, err = ss.s.openSessionTx(ctx, tx, userID, tokenDigest, lifetime)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return value, rec, nil
}

// openSessionTx is Open in a transaction.
func (s *Service) openSessionTx(ctx context.Context, tx gatehouse.Tx, userID string, tokenDigest []byte, lifetime time.Duration) (string, *gatehouse.Session, error) {
	now := s.Now()
	value := randomHex(32)
	rec := &gatehouse.Session{Digest: sessionDigest(value), TokenDigest: tokenDigest, UserID: userID, CSRF: randomHex(32),
		Expires: now.Add(lifetime)}
	if _, err := tx.PruneSessions(ctx, now); err != nil {
		return "", nil, err
	}
	return value, rec, tx.CreateSession(ctx, rec)
}

// Get returns the live session of a value: ENOTFOUND when there is none
// or it has expired.
func (ss Sessions) Get(ctx context.Context, value string) (rec *gatehouse.Session, err error) {
	err = ss.s.read(ctx, func(tx gatehouse.Tx) error {
		rec, err = tx.GetSession(ctx, sessionDigest(value))
		return err
	})
	if err != nil {
		return nil, err
	}
	if !ss.s.Now().Before(rec.Expires) {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "session not found")
	}
	return rec, nil
}

// End ends the session of a value (none is not an error).
func (ss Sessions) End(ctx context.Context, value string) error {
	return ss.s.store.Write(ctx, func(tx gatehouse.Tx) error { return tx.DeleteSession(ctx, sessionDigest(value)) })
}

func sessionDigest(v string) []byte { d := sha256.Sum256([]byte(v)); return d[:] }

// SessionID is a session's handle on the user's own page: derived from
// its digest (so neither the cookie nor the stored key is shown), and
// enough to end it.
func SessionID(rec *gatehouse.Session) string {
	d := sha256.Sum256(append([]byte("gatehouse/session-id/v1\x00"), rec.Digest...))
	return hex.EncodeToString(d[:12])
}

// List lists a user's live sessions, newest first.
func (ss Sessions) List(ctx context.Context, userID string) (out []*gatehouse.Session, err error) {
	err = ss.s.read(ctx, func(tx gatehouse.Tx) error {
		out, err = tx.ListUserSessions(ctx, userID, ss.s.Now())
		return err
	})
	return out, err
}

// Touch records that a session served a request now. A page calls it at
// most once a minute per session (it compares LastSeen), so that reads
// stay reads.
func (ss Sessions) Touch(ctx context.Context, rec *gatehouse.Session) error {
	now := ss.s.Now()
	if now.Sub(rec.LastSeen) < time.Minute {
		return nil
	}
	return ss.s.store.Write(ctx, func(tx gatehouse.Tx) error { return tx.TouchSession(ctx, rec.Digest, now) })
}

// Revoke ends one of a user's sessions by its SessionID: ENOTFOUND when
// the user has no such session.
func (ss Sessions) Revoke(ctx context.Context, userID, id string) error {
	return ss.s.store.Write(ctx, func(tx gatehouse.Tx) error {
		rs, err := tx.ListUserSessions(ctx, userID, ss.s.Now())
		if err != nil {
			return err
		}
		for _, r := range rs {
			if SessionID(r) == id {
				return tx.DeleteSession(ctx, r.Digest)
			}
		}
		return gatehouse.Errorf(gatehouse.ENOTFOUND, "session %q not found", ClientText(id))
	})
}

// EndAll ends every session of a user ("sign out everywhere") and
// returns how many there were.
func (ss Sessions) EndAll(ctx context.Context, userID string) (n int64, err error) {
	err = ss.s.store.Write(ctx, func(tx gatehouse.Tx) error {
		n, err = tx.DeleteUserSessions(ctx, userID)
		return err
	})
	return n, err
}
