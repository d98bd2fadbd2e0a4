package store

import (
	"context"
	"fmt"
)

// Sealed counts what the database holds that only the master key opens:
// wrapped data keys of stacks and environments (their secrets), SAML
// service provider private keys, OpenID clients' secrets, and audit chains
// keyed with a key derived from it.
type Sealed struct {
	StackKeys, EnvironmentKeys, SPKeys, OIDCSecrets, KeyedAuditChains int
}

// Any reports whether anything is sealed.
func (s Sealed) Any() bool {
	return s.StackKeys+s.EnvironmentKeys+s.SPKeys+s.OIDCSecrets+s.KeyedAuditChains > 0
}

func (s Sealed) String() string {
	return fmt.Sprintf("%d stack data keys, %d environment data keys, %d SAML service provider keys, %d OpenID client secrets and %d keyed audit chains",
		s.StackKeys, s.EnvironmentKeys, s.SPKeys, s.OIDCSecrets, s.KeyedAuditChains)
}

// Sealed counts what the database holds under the master key, so that a
// server missing its key can refuse to start rather than make a new one
// that opens none of it.
func (db *DB) Sealed(ctx context.Context) (Sealed, error) {
	var s Sealed
	err := db.read.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM stack_keys),
		(SELECT COUNT(*) FROM environment_keys),
		(SELECT COUNT(*) FROM sso_sp_keys),
		(SELECT COUNT(*) FROM sso WHERE secret_sealed IS NOT NULL AND length(secret_sealed) > 0),
		(SELECT COUNT(*) FROM audit_heads WHERE keyed_from > 0)`).Scan(&s.StackKeys, &s.EnvironmentKeys, &s.SPKeys, &s.OIDCSecrets, &s.KeyedAuditChains)
	if err != nil {
		return s, fmt.Errorf("count what the master key seals: %w", err)
	}
	return s, nil
}
