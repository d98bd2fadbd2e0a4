// Package service holds Gatehouse's use cases, written once: roles, sets
// and policies, members, teams and tokens. It validates input, applies the
// business rules ("a set in use cannot be deleted", "token names stay
// reserved"), writes through the store in one transaction, and refreshes the
// authorizer's snapshot before returning, so that the next request sees the
// change. Authorization of the caller happens in the api package, which
// calls the service only for allowed requests.
package service

import (
	"context"
	"sync"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/state"
)

// Service implements the use cases.
type Service struct {
	store gatehouse.Store
	az    *authz.Authorizer
	Now   func() time.Time
	// Keys makes and opens stacks' data keys; without it, stacks cannot be
	// created nor their secrets used.
	Keys gatehouse.Keyring
	// AuditKey keys the audit chain (the store's key, which VerifyAudit
	// checks the keyed part with) and CheckpointKey signs checkpoints of
	// its head; both are derived from the master key. Without them the
	// chain is unkeyed and checkpoints cannot be made.
	AuditKey, CheckpointKey []byte
	// MaxCheckpoint bounds a stack's checkpoint in bytes, whole, imported
	// or rebuilt from a delta (0: DefaultMaxCheckpoint).
	MaxCheckpoint int
	// MaxPersonalTokens bounds the live personal tokens of one user (0:
	// DefaultMaxPersonalTokens): every organization of the user loads
	// them into its snapshot.
	MaxPersonalTokens int

	keys keyCache
	// spKeyGen lets one first SAML SP key pair be made at a time in this
	// process (making one costs an RSA key generation, and anyone may ask
	// for the SP metadata that needs it).
	spKeyGen sync.Mutex
}

// New returns a Service.
func New(store gatehouse.Store, az *authz.Authorizer, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, az: az, Now: now}
}

// DefaultMaxCheckpoint is the checkpoint limit when none is configured.
const DefaultMaxCheckpoint = 64 << 20

// CheckpointLimit is the largest checkpoint the service stores, in bytes.
func (s *Service) CheckpointLimit() int {
	if s.MaxCheckpoint <= 0 {
		return DefaultMaxCheckpoint
	}
	return min(s.MaxCheckpoint, state.MaxCheckpoint)
}

// write runs fn in a transaction and, when it commits, refreshes the
// organization's snapshot. The transaction takes the organization's row
// lock before fn reads anything, so that fn's checks (the last admin, a
// descriptor's version, the role a member had) and the writes they allow
// are atomic on PostgreSQL too, across replicas: writers of one
// organization take turns, as they do on SQLite's one writer.
func (s *Service) write(ctx context.Context, orgID string, fn func(tx gatehouse.Tx) error) error {
	err := s.store.Write(ctx, func(tx gatehouse.Tx) error {
		if err := tx.LockOrg(ctx, orgID); err != nil {
			return err
		}
		return fn(tx)
	})
	if err != nil {
		return err
	}
	return s.az.Refresh(ctx, orgID)
}

func (s *Service) read(ctx context.Context, fn func(tx gatehouse.Tx) error) error {
	return s.store.Read(ctx, fn)
}
