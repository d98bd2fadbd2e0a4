package gatehouse

import (
	"encoding/json"
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
