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
}

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
