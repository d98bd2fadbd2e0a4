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
