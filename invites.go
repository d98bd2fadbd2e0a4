package gatehouse

import "time"

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
