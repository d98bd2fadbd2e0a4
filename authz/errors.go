package authz

import "errors"

// The reasons an authentication fails, for logs, metrics and audit events
// (callers compare them with errors.Is; a message that adds detail wraps
// one with %w). The caller is shown only ErrUnauthenticated, whichever it is.
var (
	// ErrNoToken: the Authorization header carries no token.
	ErrNoToken = errors.New("no token in the Authorization header")
	// ErrUnknownToken: no token has this value.
	ErrUnknownToken = errors.New("unknown token")
	// ErrRevoked: the token was deleted.
	ErrRevoked = errors.New("revoked token")
	// ErrExpired: the token is past its expiry.
	ErrExpired = errors.New("expired token")
	// ErrLifetime: the token's lifetime exceeds its organization's maximum.
	ErrLifetime = errors.New("token lifetime exceeds the organization's maximum")
	// ErrUnknownOrg: an organization token of an organization that is not
	// loaded (deleted).
	ErrUnknownOrg = errors.New("token of an unknown organization")
	// ErrNotMember: a personal token bound to an organization its user no
	// longer belongs to.
	ErrNotMember = errors.New("personal token of a user no longer in its organization")
	// ErrNoOrg: a personal token of a user who belongs to no organization.
	ErrNoOrg = errors.New("personal token of a user in no organization")
	// ErrCheckedToken: a token an authz/check asks about is not valid in
	// the organization.
	ErrCheckedToken = errors.New("checked token is not valid in this organization (unknown, revoked, expired, or another organization's)")
)
