package gatehouse

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
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
	RequestID   string
	Entity      string // the entity the event is about, if any
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

// ChainHash is the event's link in its organization's tamper-evident chain:
// SHA-256 over the previous event's hash and every recorded field of this
// one (its sequence number aside, which the database assigns).
func (e *AuditEvent) ChainHash(prev []byte) []byte {
	h := sha256.New()
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
	return h.Sum(nil)
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
}
