package gatehouse

import "time"

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
