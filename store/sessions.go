package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

func (t *tx) CreateSession(ctx context.Context, s *gatehouse.Session) error {
	if len(s.Digest) != 32 || len(s.TokenDigest) != 32 {
		return gatehouse.Errorf(gatehouse.EINVALID, "a session needs its digest and its token's")
	}
	s.Created = t.stamp()
	_, err := t.exec(ctx, opWrite, "INSERT INTO console_sessions (digest, token_digest, user_id, csrf, created, expires) VALUES (?, ?, ?, ?, ?, ?)",
		s.Digest, s.TokenDigest, s.UserID, s.CSRF, us(s.Created), us(s.Expires))
	return invalidAs(conflictAs(err, "the session exists already"), "user %q does not exist", s.UserID)
}

func (t *tx) GetSession(ctx context.Context, digest []byte) (*gatehouse.Session, error) {
	s := &gatehouse.Session{}
	var created, expires, seen int64
	err := t.queryRow(ctx, "SELECT "+sessionCols+" WHERE digest = ?", digest).Scan(&s.Digest, &s.TokenDigest, &s.UserID, &s.CSRF, &created, &expires, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("session")
	}
	if err != nil {
		return nil, t.d.mapErr(err, opWrite)
	}
	s.Created, s.Expires, s.LastSeen = fromUS(created), fromUS(expires), fromUS(seen)
	return s, nil
}

const sessionCols = "digest, token_digest, user_id, csrf, created, expires, last_seen FROM console_sessions"

func (t *tx) ListUserSessions(ctx context.Context, userID string, now time.Time) ([]*gatehouse.Session, error) {
	return all(ctx, t, func(sc scanner) (*gatehouse.Session, error) {
		s := &gatehouse.Session{}
		var created, expires, seen int64
		err := sc.Scan(&s.Digest, &s.TokenDigest, &s.UserID, &s.CSRF, &created, &expires, &seen)
		s.Created, s.Expires, s.LastSeen = fromUS(created), fromUS(expires), fromUS(seen)
		return s, err
	}, "SELECT "+sessionCols+" WHERE user_id = ? AND expires > ? ORDER BY created DESC, digest", userID, us(now))
}

// TouchSession moves last_seen forward only, so that a late, batched
// touch never moves it back.
func (t *tx) TouchSession(ctx context.Context, digest []byte, at time.Time) error {
	_, err := t.exec(ctx, opWrite, "UPDATE console_sessions SET last_seen = ? WHERE digest = ? AND last_seen < ?", us(at), digest, us(at))
	return err
}

func (t *tx) DeleteUserSessions(ctx context.Context, userID string) (int64, error) {
	res, err := t.exec(ctx, opDelete, "DELETE FROM console_sessions WHERE user_id = ?", userID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t *tx) DeleteSession(ctx context.Context, digest []byte) error {
	_, err := t.exec(ctx, opDelete, "DELETE FROM console_sessions WHERE digest = ?", digest)
	return err
}

func (t *tx) PruneSessions(ctx context.Context, before time.Time) (int64, error) {
	res, err := t.exec(ctx, opDelete, "DELETE FROM console_sessions WHERE expires < ?", us(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
