package gatehouse

import "time"

// Membership places a user in an organization with one role (built-in or
// custom, by descriptor id).
type Membership struct {
	OrgID     string
	UserID    string
	RoleID    string
	Suspended bool
	Created   time.Time
}
