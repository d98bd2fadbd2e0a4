package gatehouse

import (
	"encoding/json"
	"time"
)

// Descriptor purposes (uxPurpose).
const (
	PurposeRole            = "role"
	PurposeRolePrivate     = "role_private"
	PurposeRoleUserPrivate = "role_user_private"
	PurposeRoleTemporary   = "role_temporary"
	PurposePolicy          = "policy"
	PurposeSet             = "set"
)

// PurposeNoun is the noun messages use for a descriptor of purpose p:
// "permission set", "policy", or "role" for every kind of role.
func PurposeNoun(p string) string {
	switch p {
	case PurposeSet:
		return "permission set"
	case PurposePolicy:
		return "policy"
	}
	return "role"
}

// Descriptor is a stored permission descriptor: a role, permission set or
// policy (Pulumi's PermissionDescriptorRecord).
type Descriptor struct {
	ID           string
	OrgID        string
	Name         string // unique per organization and purpose
	Description  string
	ResourceType EntityType
	Purpose      string
	// Details is the descriptor tree as JSON; the policy package decodes it.
	Details json.RawMessage
	// Refs are the ids the tree composes, recorded so that a descriptor in
	// use cannot be deleted.
	Refs []string
	// Version starts at 1 and grows by one with each update.
	Version int
	// DefaultIdentifier names a built-in ("stack-read", "member"); empty for
	// custom descriptors.
	DefaultIdentifier string
	Created           time.Time
	Modified          time.Time
}

// Grant gives a user or a team a permission set on one entity (a direct
// entity assignment, or a legacy team grant mapped onto a built-in set).
type Grant struct {
	ID     string
	OrgID  string
	UserID string // exactly one of UserID and TeamID
	TeamID string
	Entity EntityRef
	SetID  string
	// Legacy records the legacy permission the grant came from ("101",
	// "open", ...), empty for assignments.
	Legacy string
	// MaxOpenDuration bounds environment opens under a legacy grant.
	MaxOpenDuration time.Duration
	Created         time.Time
}

// EntityRef names one stack, environment or Insights account.
type EntityRef struct {
	Type EntityType
	ID   string
}

// DescriptorUsage says what holds on to a descriptor.
type DescriptorUsage struct {
	Descriptors []string // ids of descriptors that compose it
	Members     []string // user ids holding it as their role
	Teams       []string // team ids holding it
	Tokens      []string // token ids bound to it
	Grants      []string // grant ids using it as their set
	OrgDefault  bool
}

// InUse reports whether anything holds on to the descriptor.
func (u *DescriptorUsage) InUse() bool {
	return len(u.Descriptors)+len(u.Members)+len(u.Teams)+len(u.Tokens)+len(u.Grants) > 0 || u.OrgDefault
}
