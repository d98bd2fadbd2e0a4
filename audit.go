package gatehouse

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"hash"
	"strconv"
	"time"
)

// AuditEvent is one entry of an organization's audit log. Events are
// append-only; Seq orders them within the organization.
type AuditEvent struct {
	Seq         int64
	OrgID       string
	Time        time.Time
	Type        string
	Description string
	// Actor: the user, or the token (its id and name) that acted.
	ActorUserID string
	ActorLogin  string
	TokenID     string
	TokenName   string
	SourceIP    string
	UserAgent   string
	// RequestID is the server's id of the request; ClientRequestID, the
	// X-Request-ID the client sent (sanitized), kept apart so that a
	// client cannot pass its own id off as the server's.
	RequestID       string
	ClientRequestID string
	Entity          string // the entity the event is about, if any
	// Flags, as Pulumi's.
	ReqOrgAdmin   bool
	ReqStackAdmin bool
	AuthFailure   bool
	// Data holds event-specific details (a diff, an explanation) as JSON.
	Data json.RawMessage
	// PrevHash and Hash chain the organization's events for tamper evidence.
	PrevHash []byte
	Hash     []byte
}

// ChainHash is the event's link in an unkeyed (legacy) chain: SHA-256
// over the previous event's hash and every recorded field of this one (its
// sequence number aside, which the database assigns). Anyone who can write
// the database can recompute it; chains written since migration 00010 use
// ChainMAC instead, and ChainHash remains to verify their older part.
func (e *AuditEvent) ChainHash(prev []byte) []byte {
	h := sha256.New()
	e.writeChain(h, prev, false)
	return h.Sum(nil)
}

// ChainMAC is the event's link in a keyed chain: HMAC-SHA256 under key
// (derived from the master key, which the database does not hold) over
// the previous link and every recorded field, the client's request id
// included. Without the key, an edited event cannot be given a valid link.
func (e *AuditEvent) ChainMAC(key, prev []byte) []byte {
	h := hmac.New(sha256.New, key)
	e.writeChain(h, prev, true)
	return h.Sum(nil)
}

// Link is the event's link under key: ChainMAC, or ChainHash when key is
// nil.
func (e *AuditEvent) Link(key, prev []byte) []byte {
	if key == nil {
		return e.ChainHash(prev)
	}
	return e.ChainMAC(key, prev)
}

func (e *AuditEvent) writeChain(h hash.Hash, prev []byte, keyed bool) {
	h.Write(prev)
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field(e.OrgID)
	field(strconv.FormatInt(e.Time.UnixMicro(), 10))
	for _, s := range []string{e.Type, e.Description, e.ActorUserID, e.ActorLogin, e.TokenID, e.TokenName,
		e.SourceIP, e.UserAgent, e.RequestID, e.Entity, string(e.Data)} {
		field(s)
	}
	field(strconv.FormatBool(e.ReqOrgAdmin) + strconv.FormatBool(e.ReqStackAdmin) + strconv.FormatBool(e.AuthFailure))
	if keyed {
		field(e.ClientRequestID)
	}
}

// HeadMAC authenticates an organization's chain head and anchor under the
// chain's key, so that whoever can write the database cannot move them:
// cutting the newest events (and pointing the head at the last one kept)
// or the oldest (and pointing the anchor past them) leaves a head whose
// MAC no longer holds.
func (h *AuditHead) HeadMAC(key []byte, orgID string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("gatehouse/audit-head/v1\x00" + orgID + "\x00"))
	var n [8]byte
	for _, v := range []int64{h.LastSeq, h.AnchorSeq, h.KeyedFrom} {
		binary.BigEndian.PutUint64(n[:], uint64(v))
		m.Write(n[:])
	}
	for _, b := range [][]byte{h.LastHash, h.AnchorHash} {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		m.Write(n[:])
		m.Write(b)
	}
	return m.Sum(nil)
}

// Actor is who a request acts for, as audit events record it. The api
// package puts it in the request's context; the service reads it there.
type Actor struct {
	UserID    string
	Login     string
	TokenID   string
	TokenName string
	SourceIP  string
	UserAgent string
	RequestID string
	// ClientRequestID is the X-Request-ID the client sent, sanitized.
	ClientRequestID string
}

type actorKey struct{}

// WithActor returns a context carrying the actor.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the context's actor (the zero Actor for work the host
// does on its own, such as bootstrapping).
func ActorFrom(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	return a
}

// AuditVerification is the outcome of walking an organization's chain.
type AuditVerification struct {
	Events int64
	// Broken is the sequence number of the first event whose link does not
	// hold, 0 when the chain is intact; Problem says what is wrong with it.
	Broken  int64
	Problem string
	// Unkeyed and Keyed count the events checked with ChainHash (written
	// before the chain was keyed) and with ChainMAC.
	Unkeyed, Keyed int64
	// KeyedFrom is the first event of the keyed part (0: none).
	KeyedFrom int64
	// Checkpoint, when one was given, says what it proved.
	Checkpoint string
}
