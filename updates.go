package gatehouse

import (
	"encoding/json"
	"time"
)

// StackUpdate is one update, preview, refresh or destroy of a stack.
type StackUpdate struct {
	ID      string
	StackID string
	Kind    string // "update", "preview", "refresh", "destroy", "import"
	Status  string // "not started", "running", "succeeded", "failed", "cancelled"
	// Version is the checkpoint version the update produced or started from.
	Version int
	// LeaseDigest is the SHA-256 of the lease token of a running update.
	LeaseDigest []byte
	LeaseExpiry time.Time
	// StarterDigest is the digest of the access token that started the
	// update: requests made with the lease act for it, so revoking it or
	// its role stops the update.
	StarterDigest []byte
	// Sequence is the sequence number of the last checkpoint written, the
	// base a checkpoint delta applies to.
	Sequence int
	// Info holds the request and result details as JSON.
	Info     json.RawMessage
	Created  time.Time
	Started  time.Time
	Finished time.Time
}

// Update kinds and statuses.
const (
	UpdateKindUpdate  = "update"
	UpdateKindPreview = "preview"
	UpdateKindRefresh = "refresh"
	UpdateKindDestroy = "destroy"
	UpdateKindImport  = "import"

	UpdateNotStarted = "not started"
	UpdateRunning    = "running"
	UpdateSucceeded  = "succeeded"
	UpdateFailed     = "failed"
	UpdateCancelled  = "cancelled"
)

// UpdateEvent is one engine event of an update, as the CLI sent it.
type UpdateEvent struct {
	Sequence int
	Data     []byte // JSON
}
