package wire

// Wire types of environments (Pulumi ESC), mirrored from github.com/pulumi/esc
// and apitype as the stack types are.

// Environment mirrors apitype.ESCEnvironment: an environment in a list.
type Environment struct {
	Organization string            `json:"organization"`
	Project      string            `json:"project"`
	Name         string            `json:"name"`
	Created      string            `json:"created,omitempty"`
	Modified     string            `json:"modified,omitempty"`
	Tags         map[string]string `json:"tags,omitempty"`
}

// ListEnvironmentsResponse mirrors apitype.ListESCEnvironmentsResponse.
type ListEnvironmentsResponse struct {
	Environments []Environment `json:"environments"`
	NextToken    string        `json:"nextToken,omitempty"`
}

// CreateEnvironmentRequest is the body that names a new environment.
type CreateEnvironmentRequest struct {
	Project string `json:"project"`
	Name    string `json:"name"`
}

// EnvironmentTag is a tag of an environment.
type EnvironmentTag struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	Created  string `json:"created,omitempty"`
	Modified string `json:"modified,omitempty"`
}

// UpdateEnvironmentTagRequest changes a tag if it still has CurrentTag's
// value. Both are required: null or absent is a 400, not an empty tag.
type UpdateEnvironmentTagRequest struct {
	CurrentTag *TagValue `json:"currentTag"`
	NewTag     *StackTag `json:"newTag"`
}

// TagValue is a tag's value alone.
type TagValue struct {
	Value string `json:"value"`
}

// EnvironmentRevision is one version of an environment's definition.
type EnvironmentRevision struct {
	Number       int      `json:"number"`
	Created      string   `json:"created"`
	CreatorLogin string   `json:"creatorLogin,omitempty"`
	Tags         []string `json:"tags"`
	// Retracted is set on a retracted version.
	Retracted *EnvironmentRevisionRetracted `json:"retracted,omitempty"`
}

// EnvironmentRevisionTag names a version (esc's EnvironmentRevisionTag).
type EnvironmentRevisionTag struct {
	Name        string `json:"name"`
	Revision    int    `json:"revision"`
	Created     string `json:"created,omitempty"`
	Modified    string `json:"modified,omitempty"`
	EditorLogin string `json:"editorLogin,omitempty"`
}

// CreateEnvironmentRevisionTagRequest mirrors esc's: a tag's name and the
// version it names (absent: the latest).
type CreateEnvironmentRevisionTagRequest struct {
	Name     string `json:"name"`
	Revision *int   `json:"revision,omitempty"`
}

// UpdateEnvironmentRevisionTagRequest mirrors esc's: where a tag moves.
type UpdateEnvironmentRevisionTagRequest struct {
	Revision *int `json:"revision,omitempty"`
}

// RetractEnvironmentRevisionRequest mirrors esc's: the version that
// replaces the retracted one (absent: the newest earlier one not
// retracted) and why.
type RetractEnvironmentRevisionRequest struct {
	Replacement *int   `json:"replacement,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// EnvironmentRevisionRetracted mirrors esc's: a retracted version's
// replacement, when, by whom and why.
type EnvironmentRevisionRetracted struct {
	Replacement int    `json:"replacement"`
	At          string `json:"at"`
	ByLogin     string `json:"byLogin,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// ListEnvironmentRevisionTagsResponse is a page of version tags.
type ListEnvironmentRevisionTagsResponse struct {
	Tags      []EnvironmentRevisionTag `json:"tags"`
	NextToken string                   `json:"nextToken"`
}

// OpenEnvironmentResponse names the session an open started.
type OpenEnvironmentResponse struct {
	ID          string `json:"id"`
	Diagnostics []any  `json:"diagnostics"`
}

// ListEnvironmentTagsResponse is an environment's tags by name.
type ListEnvironmentTagsResponse struct {
	Tags      map[string]EnvironmentTag `json:"tags"`
	NextToken string                    `json:"nextToken"`
}

// EnvironmentDiagnostic mirrors esc's client.EnvironmentDiagnostic: an
// error or warning in a definition, with where it is.
type EnvironmentDiagnostic struct {
	Range   *EnvironmentRange `json:"range,omitempty"`
	Summary string            `json:"summary,omitempty"`
	Detail  string            `json:"detail,omitempty"`
	Path    string            `json:"path,omitempty"`
}

// EnvironmentRange mirrors esc.Range: a span of a named definition.
type EnvironmentRange struct {
	Environment string         `json:"environment,omitempty"`
	Begin       EnvironmentPos `json:"begin"`
	End         EnvironmentPos `json:"end"`
}

// EnvironmentPos mirrors esc.Pos.
type EnvironmentPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// EnvironmentErrorResponse mirrors esc's client.EnvironmentErrorResponse:
// the 400 of a definition with errors.
type EnvironmentErrorResponse struct {
	Code        int                     `json:"code"`
	Message     string                  `json:"message"`
	Diagnostics []EnvironmentDiagnostic `json:"diagnostics"`
}

// CloneEnvironmentRequest mirrors esc's client.CloneEnvironmentRequest.
type CloneEnvironmentRequest struct {
	Project                 string `json:"project,omitempty"`
	Name                    string `json:"name"`
	Version                 int    `json:"version,omitempty"`
	PreserveHistory         bool   `json:"preserveHistory,omitempty"`
	PreserveAccess          bool   `json:"preserveAccess,omitempty"`
	PreserveEnvironmentTags bool   `json:"preserveEnvironmentTags,omitempty"`
	PreserveRevisionTags    bool   `json:"preserveRevisionTags,omitempty"`
}

// EnvironmentSettings mirrors esc's: an environment's settings.
type EnvironmentSettings struct {
	DeletionProtected bool `json:"deletionProtected"`
}

// PatchEnvironmentSettingsRequest changes the settings given.
type PatchEnvironmentSettingsRequest struct {
	DeletionProtected *bool `json:"deletionProtected,omitempty"`
}

// ListEnvironmentReferrersResponse mirrors apitype's: the referrers by
// the version of the environment they reference.
type ListEnvironmentReferrersResponse struct {
	Referrers         map[string][]EnvironmentReferrer `json:"referrers"`
	ContinuationToken string                           `json:"continuationToken,omitempty"`
}

// EnvironmentReferrer mirrors apitype's: an environment or a stack.
type EnvironmentReferrer struct {
	Environment *EnvironmentImportReferrer `json:"environment,omitempty"`
	Stack       *EnvironmentStackReferrer  `json:"stack,omitempty"`
}

// EnvironmentStackReferrer is a stack whose program imports an
// environment, at the stack's version of its last update.
type EnvironmentStackReferrer struct {
	Project string `json:"project"`
	Stack   string `json:"stack"`
	Version int    `json:"version"`
}

// EnvironmentImportReferrer is an environment that imports another.
type EnvironmentImportReferrer struct {
	Project  string `json:"project"`
	Name     string `json:"name"`
	Revision int    `json:"revision"`
}

// EnvironmentMetadata mirrors apitype's: the environment's id (the entity
// identity roles name it by) and the user who owns it.
type EnvironmentMetadata struct {
	ID      string   `json:"id"`
	OwnedBy UserInfo `json:"ownedBy"`
}
