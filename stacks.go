package gatehouse

import (
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
