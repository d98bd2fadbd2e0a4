package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
)

// Continuation tokens are authenticated: what the store (or the snapshot)
// returns as the next page's position travels as "POSITION.MAC", where MAC
// is HMAC-SHA256 (truncated to 128 bits) under a key derived from the
// master key over the route's path and the position. A token altered by a
// byte, forged, or taken from another list is refused (400) before any
// handler sees it, so that positions the server never gave (ids to probe,
// cursors the store would parse) never reach the store.

const continuationParam = "continuationToken"

func continuationKey(k []byte) []byte {
	if k != nil {
		return k
	}
	k = make([]byte, 32)
	rand.Read(k)
	return k
}

func (s *Server) continuationMAC(path, pos string) string {
	m := hmac.New(sha256.New, s.cursorKey)
	m.Write([]byte(path))
	m.Write([]byte{0})
	m.Write([]byte(pos))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// next seals the position of the next page for the client ("" stays "").
func (q *request) next(pos string) string {
	if pos == "" {
		return ""
	}
	return pos + "." + q.srv.continuationMAC(q.r.URL.Path, pos)
}

// nextPtr is next for responses whose token is a *string.
func (q *request) nextPtr(pos string) *string {
	if pos == "" {
		return nil
	}
	t := q.next(pos)
	return &t
}

// openContinuation checks the request's continuation token and replaces
// it with the position it carries, for the handler to read as before.
func (q *request) openContinuation() error {
	query := q.r.URL.Query()
	vals, ok := query[continuationParam]
	if !ok {
		return nil
	}
	if len(vals) != 1 {
		return gatehouse.Errorf(gatehouse.EINVALID, "%s: give one, not %d", continuationParam, len(vals))
	}
	if vals[0] == "" {
		return nil
	}
	i := strings.LastIndexByte(vals[0], '.')
	if i < 0 || !hmac.Equal([]byte(vals[0][i+1:]), []byte(q.srv.continuationMAC(q.r.URL.Path, vals[0][:i]))) {
		return gatehouse.Errorf(gatehouse.EINVALID, "%s: not a token this server gave for this list (altered or forged); pass back the token of the previous page", continuationParam)
	}
	query.Set(continuationParam, vals[0][:i])
	q.r.URL.RawQuery = query.Encode()
	return nil
}
