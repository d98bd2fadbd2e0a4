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
