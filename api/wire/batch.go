package wire

// TagBatchRequest is the body of POST /api/orgs/{orgName}/tags/batch (a
// Gatehouse extension): up to 1,000 tag changes applied in one
// transaction, all or none.
type TagBatchRequest struct {
	Changes []TagBatchChange `json:"changes"`
	// DryRun applies and checks every change, then rolls them back, and
	// reports whose access they would move.
	DryRun bool `json:"dryRun,omitempty"`
}

// BatchEntity names a stack or an environment as project/name, or an
// Insights account by its name.
type BatchEntity struct {
	Type string `json:"type"` // "stack", "environment" or "insights-account"
	Name string `json:"name"`
}

// TagBatchChange is one entity's tag change: set adds or changes tags,
// remove removes them (a tag not there is no error).
type TagBatchChange struct {
	Entity BatchEntity       `json:"entity"`
	Set    map[string]string `json:"set,omitempty"`
	Remove []string          `json:"remove,omitempty"`
}

// TagBatchResponse is what a tag batch did, or would do in a dry run.
type TagBatchResponse struct {
	DryRun  bool             `json:"dryRun"`
	Changes []TagBatchResult `json:"changes"`
	// Access, in a dry run, lists the principals whose scopes on an entity
	// the changes move through tag rules.
	Access []TagBatchAccess `json:"access,omitempty"`
	// AccessTruncated says Access stopped at its limit (10,000 entries).
	AccessTruncated bool `json:"accessTruncated,omitempty"`
	// AccessOmitted explains why a dry run lists no access: the caller
	// lacks org_member_access:read, which says who holds what.
	AccessOmitted string `json:"accessOmitted,omitempty"`
}

// TagBatchResult is one change's outcome, in the request's order.
type TagBatchResult struct {
	Index   int               `json:"index"`
	Entity  BatchEntity       `json:"entity"`
	Before  map[string]string `json:"before"`
	After   map[string]string `json:"after"`
	Changed bool              `json:"changed"`
}

// TagBatchAccess is a principal's access to an entity that a change moves.
type TagBatchAccess struct {
	Principal AccessHolder `json:"principal"`
	Index     int          `json:"index"`
	Entity    BatchEntity  `json:"entity"`
	Gained    []string     `json:"gained,omitempty"`
	Lost      []string     `json:"lost,omitempty"`
}

// AssignmentBatchRequest is the body of POST
// /api/orgs/{orgName}/assignments/batch (a Gatehouse extension): up to
// 1,000 direct grants applied in one transaction, all or none.
type AssignmentBatchRequest struct {
	Assignments []AssignmentBatchItem `json:"assignments"`
}

// AssignmentBatchItem gives a user (id or login) a permission set on an
// entity, or, with no permissionSetId, takes their direct grant away.
type AssignmentBatchItem struct {
	Entity          BatchEntity `json:"entity"`
	UserID          string      `json:"userId"`
	PermissionSetID *string     `json:"permissionSetId,omitempty"`
}

// AssignmentBatchResponse lists the assignments in the request's order
// (no assignment for a revocation).
type AssignmentBatchResponse struct {
	Assignments []AssignmentBatchResult `json:"assignments"`
}

// AssignmentBatchResult is one grant's outcome.
type AssignmentBatchResult struct {
	Index      int         `json:"index"`
	Entity     BatchEntity `json:"entity"`
	Assignment *Assignment `json:"assignment,omitempty"`
}
