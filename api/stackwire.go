package api

import "encoding/json"

// The wire types of the pulumi CLI's service protocol. They mirror
// github.com/pulumi/pulumi/sdk/v3/go/common/apitype field for field (the
// JSON names are what matter); the compat module checks each against the
// SDK's own type. Importing apitype itself would link gRPC and
// OpenTelemetry, some 230 packages, into the server for a few structs.

type stackSummaryJSON struct {
	ID            string `json:"id"`
	OrgName       string `json:"orgName"`
	ProjectName   string `json:"projectName"`
	StackName     string `json:"stackName"`
	LastUpdate    *int64 `json:"lastUpdate,omitempty"`
	ResourceCount *int   `json:"resourceCount,omitempty"`
}

type listStacksResponse struct {
	Stacks            []stackSummaryJSON `json:"stacks"`
	ContinuationToken *string            `json:"continuationToken,omitempty"`
}

type createStackRequest struct {
	StackName                string            `json:"stackName"`
	Tags                     map[string]string `json:"tags,omitempty"`
	Teams                    []string          `json:"teams,omitempty"`
	State                    json.RawMessage   `json:"state,omitempty"`
	Config                   json.RawMessage   `json:"config,omitempty"`
	CreateManagedEnvironment bool              `json:"createManagedEnvironment,omitempty"`
}

type createStackResponse struct {
	Messages []messageJSON `json:"messages,omitempty"`
}

type messageJSON struct {
	Severity string `json:"severity,omitempty"`
	Message  string `json:"message"`
}

type operationStatusJSON struct {
	Kind    string `json:"kind"`
	Author  string `json:"author"`
	Started int64  `json:"started"`
}

type stackJSON struct {
	ID               string               `json:"id"`
	OrgName          string               `json:"orgName"`
	ProjectName      string               `json:"projectName"`
	StackName        string               `json:"stackName"`
	CurrentOperation *operationStatusJSON `json:"currentOperation,omitempty"`
	ActiveUpdate     string               `json:"activeUpdate"`
	Tags             map[string]string    `json:"tags,omitempty"`
	Version          int                  `json:"version"`
}

type stackRenameRequest struct {
	NewName    string `json:"newName"`
	NewProject string `json:"newProject"`
}

type stackTagJSON struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type encryptValueRequest struct {
	Plaintext []byte `json:"plaintext"`
}

type encryptValueResponse struct {
	Ciphertext []byte `json:"ciphertext"`
}

type batchEncryptRequest struct {
	Plaintexts [][]byte `json:"plaintexts"`
}

type batchEncryptResponse struct {
	Ciphertexts [][]byte `json:"ciphertexts"`
}

type decryptValueRequest struct {
	Ciphertext []byte `json:"ciphertext"`
}

type decryptValueResponse struct {
	Plaintext []byte `json:"plaintext"`
}

type batchDecryptRequest struct {
	Ciphertexts [][]byte `json:"ciphertexts"`
}

// batchDecryptResponse maps the base64 of each ciphertext to its plaintext.
type batchDecryptResponse struct {
	Plaintexts map[string][]byte `json:"plaintexts"`
}

type log3rdPartyDecryptionEvent struct {
	SecretName  string `json:"secretName,omitempty"`
	CommandName string `json:"commandName,omitempty"`
}

type importStackResponse struct {
	UpdateID string `json:"updateId"`
}

type updateProgramRequest struct {
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

type updateProgramResponse struct {
	UpdateID string `json:"updateID"`
}

type startUpdateRequest struct {
	Tags           map[string]string `json:"tags,omitempty"`
	JournalVersion int64             `json:"journalVersion,omitempty"`
}

type startUpdateResponse struct {
	Version         int    `json:"version"`
	Token           string `json:"token,omitempty"`
	TokenExpiration int64  `json:"tokenExpiration,omitempty"`
	JournalVersion  int64  `json:"journalVersion,omitempty"`
}

type renewUpdateLeaseRequest struct {
	Token    string `json:"token"`
	Duration int    `json:"duration"`
}

type renewUpdateLeaseResponse struct {
	Token           string `json:"token"`
	TokenExpiration int64  `json:"tokenExpiration,omitempty"`
}

type completeUpdateRequest struct {
	Status           string          `json:"status"`
	Outputs          json.RawMessage `json:"outputs,omitempty"`
	SecretsProviders json.RawMessage `json:"secretsProviders,omitempty"`
}

type patchUpdateCheckpointRequest struct {
	IsInvalid  bool            `json:"isInvalid"`
	Version    int             `json:"version"`
	Features   []string        `json:"features,omitempty"`
	Deployment json.RawMessage `json:"deployment,omitempty"`
}

type patchUpdateVerbatimCheckpointRequest struct {
	Version           int             `json:"version"`
	UntypedDeployment json.RawMessage `json:"untypedDeployment,omitempty"`
	SequenceNumber    int             `json:"sequenceNumber"`
}

type patchUpdateCheckpointDeltaRequest struct {
	Version         int             `json:"version"`
	CheckpointHash  string          `json:"checkpointHash"`
	SequenceNumber  int             `json:"sequenceNumber"`
	DeploymentDelta json.RawMessage `json:"deploymentDelta,omitempty"`
}

type engineEventBatch struct {
	Events []json.RawMessage `json:"events"`
}

type updateResults struct {
	Status            string            `json:"status"`
	Events            []json.RawMessage `json:"events"`
	ContinuationToken *string           `json:"continuationToken,omitempty"`
}

type getUpdateEventsResponse struct {
	Events            []json.RawMessage `json:"events"`
	ContinuationToken *string           `json:"continuationToken,omitempty"`
}

type updateInfoJSON struct {
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

type getHistoryResponse struct {
	Updates []updateInfoJSON `json:"updates"`
}

type stackPreviewJSON struct {
	UpdateID string `json:"updateID"`
}

type getLatestStackPreviewsResponse struct {
	Updates []stackPreviewJSON `json:"updates"`
}

type capabilityJSON struct {
	Capability    string          `json:"capability"`
	Version       int             `json:"version,omitempty"`
	Configuration json.RawMessage `json:"configuration,omitempty"`
}

type capabilitiesResponse struct {
	Capabilities []capabilityJSON `json:"capabilities"`
}

// WireTypes returns a zero value of each mirrored wire type by the name of
// the type it mirrors in github.com/pulumi/pulumi/sdk/v3/go/common/apitype,
// so that the compat module can check, by reflection, that every JSON
// field this server reads or writes is one the CLI knows.
func WireTypes() map[string]any {
	return map[string]any{
		"StackSummary": stackSummaryJSON{}, "ListStacksResponse": listStacksResponse{},
		"CreateStackRequest": createStackRequest{}, "CreateStackResponse": createStackResponse{},
		"Message": messageJSON{}, "OperationStatus": operationStatusJSON{}, "Stack": stackJSON{},
		"StackRenameRequest":  stackRenameRequest{},
		"EncryptValueRequest": encryptValueRequest{}, "EncryptValueResponse": encryptValueResponse{},
		"BatchEncryptRequest": batchEncryptRequest{}, "BatchEncryptResponse": batchEncryptResponse{},
		"DecryptValueRequest": decryptValueRequest{}, "DecryptValueResponse": decryptValueResponse{},
		"BatchDecryptRequest": batchDecryptRequest{}, "BatchDecryptResponse": batchDecryptResponse{},
		"Log3rdPartyDecryptionEvent": log3rdPartyDecryptionEvent{}, "ImportStackResponse": importStackResponse{},
		"UpdateProgramRequest": updateProgramRequest{}, "UpdateProgramResponse": updateProgramResponse{},
		"StartUpdateRequest": startUpdateRequest{}, "StartUpdateResponse": startUpdateResponse{},
		"RenewUpdateLeaseRequest": renewUpdateLeaseRequest{}, "RenewUpdateLeaseResponse": renewUpdateLeaseResponse{},
		"CompleteUpdateRequest": completeUpdateRequest{}, "PatchUpdateCheckpointRequest": patchUpdateCheckpointRequest{},
		"PatchUpdateVerbatimCheckpointRequest": patchUpdateVerbatimCheckpointRequest{},
		"PatchUpdateCheckpointDeltaRequest":    patchUpdateCheckpointDeltaRequest{},
		"EngineEventBatch":                     engineEventBatch{}, "UpdateResults": updateResults{}, "GetUpdateEventsResponse": getUpdateEventsResponse{},
		"UpdateInfo": updateInfoJSON{}, "GetHistoryResponse": getHistoryResponse{}, "StackPreview": stackPreviewJSON{},
		"GetLatestStackPreviewsResponse": getLatestStackPreviewsResponse{}, "APICapabilityConfig": capabilityJSON{},
		"CapabilitiesResponse": capabilitiesResponse{}, "InsightsAccount": insightsAccountJSON{},
		"InsightsAccountOwner": accountOwnerJSON{}, "CreateInsightsAccountRequest": createInsightsAccountRequest{},
		"ESCEnvironment": envSummaryJSON{}, "ListESCEnvironmentsResponse": listEnvironmentsResponse{},
	}
}
