package wire

// EntityInstance is Pulumi's EntityInstance: a context type and an id, and
// for an update the user and the permission set (null: revoke).
type EntityInstance struct {
	Context         EntityContext `json:"context"`
	ID              string        `json:"id"`
	UserID          string        `json:"userId,omitempty"`
	PermissionSetID *string       `json:"permissionSetId,omitempty"`
}

// EntityContext names an entity's type ("PermissionExpressionStack", ...).
type EntityContext struct {
	Type string `json:"__type"`
}

// PermissionSet is a permission set as an assignment shows it.
type PermissionSet struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	ResourceType      string `json:"resourceType"`
	DefaultIdentifier string `json:"defaultIdentifier,omitempty"`
}

// Assignment is one principal's permission set on an entity, and where it
// comes from.
type Assignment struct {
	Principal     Principal     `json:"principal"`
	PermissionSet PermissionSet `json:"permissionSet"`
	Source        string        `json:"source"`
}

// Principal is a user or a team.
type Principal struct {
	User *UserInfo      `json:"user,omitempty"`
	Team *PrincipalTeam `json:"team,omitempty"`
}

// PrincipalTeam names a team principal.
type PrincipalTeam struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
}

// ListAssignmentsResponse lists an entity's assignments and the sets that
// can be assigned on it.
type ListAssignmentsResponse struct {
	Assignments             []Assignment    `json:"assignments"`
	AvailablePermissionSets []PermissionSet `json:"availablePermissionSets"`
}

// UpdateAssignmentResponse is the assignment an update left (none after a
// revoke).
type UpdateAssignmentResponse struct {
	Assignment *Assignment `json:"assignment,omitempty"`
}
