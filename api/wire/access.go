package wire

// AccessHolder is a member, team or organization token that holds a scope
// on an entity.
type AccessHolder struct {
	Kind string `json:"kind"` // "user", "team" or "token"
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ListAccessHoldersResponse is the body of GET
// /api/orgs/{orgName}/access/holders (a Gatehouse extension).
type ListAccessHoldersResponse struct {
	Holders []AccessHolder `json:"holders"`
}

// EntityAccess is one principal's scopes on an entity and where they come
// from.
type EntityAccess struct {
	Kind   string              `json:"kind"` // "user", "team" or "token"
	ID     string              `json:"id"`
	Name   string              `json:"name"`
	Grants []EntityAccessGrant `json:"grants"`
}

// EntityAccessGrant is one place that grants scopes on the entity: an
// Allow node of a role held through via ("organization role", "team
// <name>", "direct grant", "token role", or empty for a team's own
// roles), reached by path, under the conditions in holds.
type EntityAccessGrant struct {
	Via    string   `json:"via,omitempty"`
	Role   string   `json:"role"`
	RoleID string   `json:"roleId,omitempty"`
	Path   string   `json:"path"`
	Holds  []string `json:"holds,omitempty"`
	Scopes []string `json:"scopes"`
}

// EntityAccessResponse is the body of GET
// /api/orgs/{orgName}/access/entity (a Gatehouse extension): who holds
// which scopes on one entity, and why.
type EntityAccessResponse struct {
	Principals []EntityAccess `json:"principals"`
}
