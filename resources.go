package gatehouse

import (
	"encoding/json"
	"time"
)

// Stack is a stack of the state backend, protected by the stack scopes.
type Stack struct {
	ID      string
	OrgID   string
	Project string
	Name    string // unique within the project
	Tags    map[string]string
	// CreatedBy is the creator's user id (the creator holds Stack Admin).
	CreatedBy string
	// Version is the number of the current checkpoint; 0 before the first.
	Version int
	// ActiveUpdate is the update holding the stack's lease until
	// LeaseExpiry: one update at a time (Tx.AcquireStackLease).
	ActiveUpdate string
	LeaseExpiry  time.Time
	Created      time.Time
	Modified     time.Time
}

// StackHead is what a stack list shows of a stack's latest version.
type StackHead struct {
	Version  int
	Modified time.Time
}

// Checkpoint is one version of a stack's state.
type Checkpoint struct {
	StackID string
	Version int
	Data    []byte // the deployment, as the CLI sends it
	Created time.Time
}

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

// Environment is an ESC-style environment, protected by the environment
// scopes.
type Environment struct {
	ID        string
	OrgID     string
	Project   string
	Name      string
	Tags      map[string]string
	CreatedBy string
	Version   int // the current revision of its definition
	Created   time.Time
	Modified  time.Time
}

// EnvironmentVersion is one revision of an environment's definition.
type EnvironmentVersion struct {
	EnvironmentID string
	Version       int
	Definition    []byte // YAML
	CreatedBy     string
	Created       time.Time
}

// Account is an Insights account, protected by the insights_account scopes.
type Account struct {
	ID        string
	OrgID     string
	Name      string // unique in the organization
	Tags      map[string]string
	CreatedBy string
	// Details holds the account's provider settings as JSON.
	Details  json.RawMessage
	Created  time.Time
	Modified time.Time
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

// Keyring makes and opens stacks' data keys; the keys themselves are
// stored only wrapped by the master key (state.Keyring implements it).
type Keyring interface {
	NewStackKey(stackID string) (key DataKey, wrapped []byte, err error)
	OpenStackKey(stackID string, wrapped []byte) (DataKey, error)
}

// DataKey seals and opens one stack's secrets.
type DataKey interface {
	Encrypt(plaintext []byte) []byte
	Decrypt(ciphertext []byte) ([]byte, error)
}
