package service

import (
	"context"
	"crypto/sha256"
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
