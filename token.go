package gatehouse

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Token kinds.
const (
	TokenPersonal     = "personal"
	TokenOrganization = "organization"
	TokenTeam         = "team"
	TokenRunner       = "runner"
)

// Token is an access token. Its value is never stored: only the SHA-256
// digest of it.
type Token struct {
	ID          string
	Kind        string
	OrgID       string // empty only for personal tokens a user made, which act in each of its orgs; an exchanged one is bound to its org
	UserID      string // the owner of a personal token
	TeamID      string // the team of a team token
	Runner      string // the runner of a runner token
	Name        string // organization and team token names stay unique forever
	Description string
	RoleID      string // the role of an organization token; empty means the org default
	Digest      []byte
	Created     time.Time
	CreatedBy   string    // user id of the creator
	Expires     time.Time // zero: never
	LastUsed    time.Time // zero: never used
	Deleted     bool
	// Exchanged marks a token issued by OIDC token exchange.
	Exchanged bool
	// IssuerID is the OIDC issuer whose exchange minted the token: deleting
	// the issuer revokes it.
	IssuerID string
	// RoleDeleted marks an organization token whose role was deleted with
	// force: it holds nothing (it does not fall back to the default role).
	RoleDeleted bool
}

// TokenPrefix starts every token value, as Pulumi's do.
const TokenPrefix = "pul-"

// NewTokenValue returns a fresh random token value ("pul-" and 40 hex
// characters, 160 bits of randomness) and its digest.
func NewTokenValue() (value string, digest []byte) {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	value = TokenPrefix + hex.EncodeToString(b[:])
	return value, TokenDigest(value)
}

// TokenDigest is the SHA-256 of a token value, the only form stored.
func TokenDigest(value string) []byte {
	d := sha256.Sum256([]byte(value))
	return d[:]
}

// Expired reports whether the token has expired at now.
func (t *Token) Expired(now time.Time) bool {
	return !t.Expires.IsZero() && !now.Before(t.Expires)
}

// BoundElsewhere reports whether the token belongs to an organization other
// than orgID: every token but a user's own personal tokens belongs to one,
// and is refused (401) everywhere else.
func (t *Token) BoundElsewhere(orgID string) bool {
	return t.OrgID != "" && t.OrgID != orgID
}

// TokenPrune is what one Tx.PruneTokens deleted: how many tokens past
// their expiry and how many revoked ones, and those of the expired that
// were still live (snapshots hold them until they are dropped).
type TokenPrune struct {
	Expired, Revoked int
	Live             []*Token
}
