package wire

import "encoding/json"

// The wire types of the pulumi CLI's service protocol. They mirror
// github.com/pulumi/pulumi/sdk/v3/go/common/apitype field for field (the
// JSON names are what matter); the compat module checks each against the
// SDK's own type. Importing apitype itself would link gRPC and
// OpenTelemetry, some 230 packages, into the server for a few structs.

// StackSummary mirrors apitype.StackSummary.
type StackSummary struct {
	ID            string `json:"id"`
	OrgName       string `json:"orgName"`
	ProjectName   string `json:"projectName"`
	StackName     string `json:"stackName"`
	LastUpdate    *int64 `json:"lastUpdate,omitempty"`
	ResourceCount *int   `json:"resourceCount,omitempty"`
}

// StackOutputNames is the body of GET .../outputs (a Gatehouse
// extension): the names of a stack's outputs, without their values.
type StackOutputNames struct {
	Names []string `json:"names"`
}

// ListStacksResponse mirrors apitype.ListStacksResponse.
type ListStacksResponse struct {
	Stacks            []StackSummary `json:"stacks"`
	ContinuationToken *string        `json:"continuationToken,omitempty"`
}

// CreateStackRequest mirrors apitype.CreateStackRequest.
type CreateStackRequest struct {
	StackName                string            `json:"stackName"`
	Tags                     map[string]string `json:"tags,omitempty"`
	Teams                    []string          `json:"teams,omitempty"`
	State                    json.RawMessage   `json:"state,omitempty"`
	Config                   json.RawMessage   `json:"config,omitempty"`
	CreateManagedEnvironment bool              `json:"createManagedEnvironment,omitempty"`
}

// CreateStackResponse mirrors apitype.CreateStackResponse.
type CreateStackResponse struct {
	Messages []Message `json:"messages,omitempty"`
}

// Message mirrors apitype.Message.
type Message struct {
	Severity string `json:"severity,omitempty"`
	Message  string `json:"message"`
}

// OperationStatus mirrors apitype.OperationStatus.
type OperationStatus struct {
	Kind    string `json:"kind"`
	Author  string `json:"author"`
	Started int64  `json:"started"`
}

// Stack mirrors apitype.Stack.
type Stack struct {
	ID               string            `json:"id"`
	OrgName          string            `json:"orgName"`
	ProjectName      string            `json:"projectName"`
	StackName        string            `json:"stackName"`
	CurrentOperation *OperationStatus  `json:"currentOperation,omitempty"`
	ActiveUpdate     string            `json:"activeUpdate"`
	Tags             map[string]string `json:"tags,omitempty"`
	Version          int               `json:"version"`
}

// StackRenameRequest mirrors apitype.StackRenameRequest.
type StackRenameRequest struct {
	NewName    string `json:"newName"`
	NewProject string `json:"newProject"`
}

// StackTag mirrors apitype.StackTag.
type StackTag struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// EncryptValueRequest mirrors apitype.EncryptValueRequest.
type EncryptValueRequest struct {
	Plaintext []byte `json:"plaintext"`
}

// EncryptValueResponse mirrors apitype.EncryptValueResponse.
type EncryptValueResponse struct {
	Ciphertext []byte `json:"ciphertext"`
}

// BatchEncryptRequest mirrors apitype.BatchEncryptRequest.
type BatchEncryptRequest struct {
	Plaintexts [][]byte `json:"plaintexts"`
}

// BatchEncryptResponse mirrors apitype.BatchEncryptResponse.
type BatchEncryptResponse struct {
	Ciphertexts [][]byte `json:"ciphertexts"`
}

// DecryptValueRequest mirrors apitype.DecryptValueRequest.
type DecryptValueRequest struct {
	Ciphertext []byte `json:"ciphertext"`
}

// DecryptValueResponse mirrors apitype.DecryptValueResponse.
type DecryptValueResponse struct {
	Plaintext []byte `json:"plaintext"`
}

// BatchDecryptRequest mirrors apitype.BatchDecryptRequest.
type BatchDecryptRequest struct {
	Ciphertexts [][]byte `json:"ciphertexts"`
}

// BatchDecryptResponse mirrors apitype.BatchDecryptResponse: it maps the base64 of each ciphertext to its plaintext.
type BatchDecryptResponse struct {
	Plaintexts map[string][]byte `json:"plaintexts"`
}

// Log3rdPartyDecryptionEvent mirrors apitype.Log3rdPartyDecryptionEvent.
type Log3rdPartyDecryptionEvent struct {
	SecretName  string `json:"secretName,omitempty"`
	CommandName string `json:"commandName,omitempty"`
}

// ImportStackResponse mirrors apitype.ImportStackResponse.
type ImportStackResponse struct {
	UpdateID string `json:"updateId"`
}

// UpdateProgramRequest mirrors apitype.UpdateProgramRequest.
type UpdateProgramRequest struct {
	Name        string          `json:"name"`
	Runtime     string          `json:"runtime"`
	Main        string          `json:"main"`
	Description string          `json:"description"`
	Options     json.RawMessage `json:"options"`
	Config      json.RawMessage `json:"config"`
	Metadata    struct {
		Message     string            `json:"message"`
		Environment map[string]string `json:"environment"`
	} `json:"metadata"`
	CoherenceWindow string          `json:"coherenceWindow,omitempty"`
	Environment     json.RawMessage `json:"environment,omitempty"`
}

// UpdateProgramResponse mirrors apitype.UpdateProgramResponse.
type UpdateProgramResponse struct {
	UpdateID string `json:"updateID"`
}

// StartUpdateRequest mirrors apitype.StartUpdateRequest.
type StartUpdateRequest struct {
	Tags           map[string]string `json:"tags,omitempty"`
	JournalVersion int64             `json:"journalVersion,omitempty"`
}

// StartUpdateResponse mirrors apitype.StartUpdateResponse.
type StartUpdateResponse struct {
	Version         int    `json:"version"`
	Token           string `json:"token,omitempty"`
	TokenExpiration int64  `json:"tokenExpiration,omitempty"`
	JournalVersion  int64  `json:"journalVersion,omitempty"`
}

// RenewUpdateLeaseRequest mirrors apitype.RenewUpdateLeaseRequest.
type RenewUpdateLeaseRequest struct {
	Token    string `json:"token"`
	Duration int    `json:"duration"`
}

// RenewUpdateLeaseResponse mirrors apitype.RenewUpdateLeaseResponse.
type RenewUpdateLeaseResponse struct {
	Token           string `json:"token"`
	TokenExpiration int64  `json:"tokenExpiration,omitempty"`
}

// CompleteUpdateRequest mirrors apitype.CompleteUpdateRequest.
type CompleteUpdateRequest struct {
	Status           string          `json:"status"`
	Outputs          json.RawMessage `json:"outputs,omitempty"`
	SecretsProviders json.RawMessage `json:"secretsProviders,omitempty"`
}

// PatchUpdateCheckpointRequest mirrors apitype.PatchUpdateCheckpointRequest.
type PatchUpdateCheckpointRequest struct {
	IsInvalid  bool            `json:"isInvalid"`
	Version    int             `json:"version"`
	Features   []string        `json:"features,omitempty"`
	Deployment json.RawMessage `json:"deployment,omitempty"`
}

// PatchUpdateVerbatimCheckpointRequest mirrors apitype.PatchUpdateVerbatimCheckpointRequest.
type PatchUpdateVerbatimCheckpointRequest struct {
	Version           int             `json:"version"`
	UntypedDeployment json.RawMessage `json:"untypedDeployment,omitempty"`
	SequenceNumber    int             `json:"sequenceNumber"`
}

// PatchUpdateCheckpointDeltaRequest mirrors apitype.PatchUpdateCheckpointDeltaRequest.
type PatchUpdateCheckpointDeltaRequest struct {
	Version         int             `json:"version"`
	CheckpointHash  string          `json:"checkpointHash"`
	SequenceNumber  int             `json:"sequenceNumber"`
	DeploymentDelta json.RawMessage `json:"deploymentDelta,omitempty"`
}

// EngineEventBatch mirrors apitype.EngineEventBatch.
type EngineEventBatch struct {
	Events []json.RawMessage `json:"events"`
}

// UpdateResults mirrors apitype.UpdateResults.
type UpdateResults struct {
	Status            string            `json:"status"`
	Events            []json.RawMessage `json:"events"`
	ContinuationToken *string           `json:"continuationToken,omitempty"`
}

// GetUpdateEventsResponse mirrors apitype.GetUpdateEventsResponse.
type GetUpdateEventsResponse struct {
	Events            []json.RawMessage `json:"events"`
	ContinuationToken *string           `json:"continuationToken,omitempty"`
}

// UpdateInfo mirrors apitype.UpdateInfo.
type UpdateInfo struct {
	Kind            string            `json:"kind"`
	StartTime       int64             `json:"startTime"`
	Message         string            `json:"message"`
	Environment     map[string]string `json:"environment"`
	Config          json.RawMessage   `json:"config"`
	Result          string            `json:"result"`
	EndTime         int64             `json:"endTime"`
	Version         int               `json:"version"`
	ResourceChanges map[string]int    `json:"resourceChanges,omitempty"`
	ResourceCount   int               `json:"resourceCount,omitempty"`
}

// GetHistoryResponse mirrors apitype.GetHistoryResponse.
type GetHistoryResponse struct {
	Updates []UpdateInfo `json:"updates"`
}

// StackPreview mirrors apitype.StackPreview.
type StackPreview struct {
	UpdateID string `json:"updateID"`
}

// GetLatestStackPreviewsResponse mirrors apitype.GetLatestStackPreviewsResponse.
type GetLatestStackPreviewsResponse struct {
	Updates []StackPreview `json:"updates"`
}

// Capability mirrors apitype.APICapabilityConfig.
type Capability struct {
	Capability    string          `json:"capability"`
	Version       int             `json:"version,omitempty"`
	Configuration json.RawMessage `json:"configuration,omitempty"`
}

// CapabilitiesResponse mirrors apitype.CapabilitiesResponse.
type CapabilitiesResponse struct {
	Capabilities []Capability `json:"capabilities"`
}

// UpdateOptions is what the server reads of an UpdateProgramRequest's
// options: whether the update is the preview before one.
type UpdateOptions struct {
	DryRun bool `json:"dryRun"`
}
