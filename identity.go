package gatehouse

import "time"

// User is a person who signs in. Logins are unique across the service.
type User struct {
	ID        string
	Login     string
	Name      string
	Email     string
	AvatarURL string
	Created   time.Time
	// ManagedBy is the organization that created the user (the bootstrap,
	// `gatehouse admin org create`, a member added under a new login; later
	// SSO and SCIM): it may add the user directly. Any other organization
	// invites the user, who accepts. Empty: no organization manages it.
	ManagedBy string
}

// Invite asks a user to join an organization with a role. Accepting it
// makes the membership; it ends when accepted, declined, revoked or
// expired.
type Invite struct {
	ID        string
	OrgID     string
	UserID    string
	RoleID    string
	Created   time.Time
	CreatedBy string // user id of the sender ("" for the host)
	Expires   time.Time
}

// Expired reports whether the invitation has expired at now.
func (i *Invite) Expired(now time.Time) bool { return !now.Before(i.Expires) }

// Membership places a user in an organization with one role (built-in or
// custom, by descriptor id).
type Membership struct {
	OrgID     string
	UserID    string
	RoleID    string
	Suspended bool
	Created   time.Time
}

// Team kinds.
const (
	TeamPulumi = "pulumi"
	TeamGitHub = "github"
	TeamSCIM   = "scim"
)

// Team is a group of users in an organization. Its permissions are the union
// of its roles and its entity grants.
type Team struct {
	ID          string
	OrgID       string
	Kind        string
	Name        string // unique in the organization
	DisplayName string
	Description string
	Created     time.Time
}

// Team member roles.
const (
	TeamRoleMember = "member"
	TeamRoleAdmin  = "admin"
)

// TeamMember is a user's place in a team.
type TeamMember struct {
	TeamID string
	UserID string
	Role   string // TeamRoleMember or TeamRoleAdmin
}

// Session is a console sign-in. The cookie's value is never stored: Digest
// is its SHA-256. It acts for the personal token it was opened with
// (TokenDigest), which must stay valid.
type Session struct {
	Digest      []byte
	TokenDigest []byte
	UserID      string
	CSRF        string // the token every form of the session carries
	Created     time.Time
	Expires     time.Time
}
