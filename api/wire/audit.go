package wire

import (
	"encoding/json"

	"github.com/gatehouse-iam/gatehouse"
)

// AuditEvent is Pulumi's AuditLogEvent, with Gatehouse's additions.
type AuditEvent struct {
	Timestamp     int64    `json:"timestamp"`
	SourceIP      string   `json:"sourceIP"`
	Event         string   `json:"event"`
	Description   string   `json:"description"`
	User          UserInfo `json:"user"`
	TokenID       string   `json:"tokenID,omitempty"`
	TokenName     string   `json:"tokenName,omitempty"`
	ReqOrgAdmin   bool     `json:"reqOrgAdmin,omitempty"`
	ReqStackAdmin bool     `json:"reqStackAdmin,omitempty"`
	AuthFailure   bool     `json:"authFailure,omitempty"`
	ActorName     string   `json:"actorName,omitempty"`
	// Beyond Pulumi: what the event is about, its details, and its link
	// in the organization's tamper-evident chain.
	Entity    string `json:"entity,omitempty"`
	RequestID string `json:"requestID,omitempty"`
	// ClientRequestID is the X-Request-ID the client sent, sanitized.
	ClientRequestID string          `json:"clientRequestID,omitempty"`
	UserAgent       string          `json:"userAgent,omitempty"`
	Details         json.RawMessage `json:"details,omitempty"`
	Hash            string          `json:"hash,omitempty"`
}

// ListAuditEventsResponse is a page of audit events, newest first.
type ListAuditEventsResponse struct {
	ContinuationToken string       `json:"continuationToken,omitempty"`
	AuditLogEvents    []AuditEvent `json:"auditLogEvents"`
}

// AuditEventTypes is the catalog of audit event types.
type AuditEventTypes struct {
	EventTypes []gatehouse.AuditEventType `json:"eventTypes"`
}
