package gatehouse

import (
	"context"
	"time"
)

// SCIMToken is the bearer token an identity provider provisions an
// organization's users and groups with (SCIM 2.0, /scim/v2/{org}). An
// organization holds at most one live token: making a new one revokes the
// old. Its value is never stored, only its SHA-256 (Digest). It is not an
// access token: the authorizer never sees it, so it opens no /api route.
type SCIMToken struct {
	ID        string
	OrgID     string
	Digest    []byte
	Created   time.Time
	CreatedBy string // user id of the admin who made it
	Revoked   bool
}

// SCIMTokenPrefix starts every SCIM token's value, so that one pasted in
// the wrong place is recognizable.
const SCIMTokenPrefix = "scim-"

// SCIM resource types.
const (
	SCIMUsers  = "User"
	SCIMGroups = "Group"
)

// SCIMUser is a user as an organization's provisioning sees it: a user the
// organization manages and its membership (Suspended is SCIM's
// active=false), with the identity provider's id for it (ExternalID).
type SCIMUser struct {
	User       *User
	Member     *Membership
	ExternalID string
	Modified   time.Time // zero: never changed over SCIM (meta.lastModified is then the membership's creation)
}

// SCIMGroup is a SCIM-kind team with the identity provider's id for it.
type SCIMGroup struct {
	Team       *Team
	ExternalID string
	Modified   time.Time
}

// SCIMFilter selects and pages SCIM resources: Attr (SCIMAttr*), when not
// empty, must equal Value (userName ignoring case, as RFC 7643 makes it);
// Offset rows are skipped and at most Limit returned.
type SCIMFilter struct {
	Attr   string
	Value  string
	Offset int
	Limit  int
}

// Attributes a SCIM list filters on.
const (
	SCIMAttrUserName    = "userName"
	SCIMAttrExternalID  = "externalId"
	SCIMAttrDisplayName = "displayName"
)

// SCIMTx reads and writes what SCIM provisioning keeps beside users and
// teams: the organization's token and the identity provider's ids.
type SCIMTx interface {
	// CreateSCIMToken stores the organization's SCIM token, revoking any
	// other it holds.
	CreateSCIMToken(ctx context.Context, t *SCIMToken) error
	// GetSCIMTokenByDigest returns a SCIM token by digest, revoked or not.
	GetSCIMTokenByDigest(ctx context.Context, digest []byte) (*SCIMToken, error)
	// ListSCIMUsers pages the members of an organization it manages
	// (suspended ones included), by user id, and counts all that match.
	ListSCIMUsers(ctx context.Context, orgID string, f SCIMFilter) ([]*SCIMUser, int, error)
	// GetSCIMUser returns one of the users ListSCIMUsers lists.
	GetSCIMUser(ctx context.Context, orgID, userID string) (*SCIMUser, error)
	// PutSCIMUser records the identity provider's id of a user and when
	// provisioning last changed it.
	PutSCIMUser(ctx context.Context, orgID, userID, externalID string, modified time.Time) error
	// ListSCIMGroups pages an organization's SCIM-kind teams by id, and
	// counts all that match (displayName is the team's display name).
	ListSCIMGroups(ctx context.Context, orgID string, f SCIMFilter) ([]*SCIMGroup, int, error)
	GetSCIMGroup(ctx context.Context, orgID, teamID string) (*SCIMGroup, error)
	PutSCIMGroup(ctx context.Context, orgID, teamID, externalID string, modified time.Time) error
}
