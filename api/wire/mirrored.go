package wire

// Mirrored returns a zero value of each type that mirrors one of
// github.com/pulumi/pulumi/sdk/v3/go/common/apitype, by the name of the
// type it mirrors there, so that the compat module can check, by
// reflection, that every JSON field this server reads or writes is one the
// CLI knows.
func Mirrored() map[string]any {
	return map[string]any{
		"StackSummary": StackSummary{}, "ListStacksResponse": ListStacksResponse{},
		"CreateStackRequest": CreateStackRequest{}, "CreateStackResponse": CreateStackResponse{},
		"Message": Message{}, "OperationStatus": OperationStatus{}, "Stack": Stack{},
		"StackRenameRequest":  StackRenameRequest{},
		"EncryptValueRequest": EncryptValueRequest{}, "EncryptValueResponse": EncryptValueResponse{},
		"BatchEncryptRequest": BatchEncryptRequest{}, "BatchEncryptResponse": BatchEncryptResponse{},
		"DecryptValueRequest": DecryptValueRequest{}, "DecryptValueResponse": DecryptValueResponse{},
		"BatchDecryptRequest": BatchDecryptRequest{}, "BatchDecryptResponse": BatchDecryptResponse{},
		"Log3rdPartyDecryptionEvent": Log3rdPartyDecryptionEvent{}, "ImportStackResponse": ImportStackResponse{},
		"UpdateProgramRequest": UpdateProgramRequest{}, "UpdateProgramResponse": UpdateProgramResponse{},
		"StartUpdateRequest": StartUpdateRequest{}, "StartUpdateResponse": StartUpdateResponse{},
		"RenewUpdateLeaseRequest": RenewUpdateLeaseRequest{}, "RenewUpdateLeaseResponse": RenewUpdateLeaseResponse{},
		"CompleteUpdateRequest": CompleteUpdateRequest{}, "PatchUpdateCheckpointRequest": PatchUpdateCheckpointRequest{},
		"PatchUpdateVerbatimCheckpointRequest": PatchUpdateVerbatimCheckpointRequest{},
		"PatchUpdateCheckpointDeltaRequest":    PatchUpdateCheckpointDeltaRequest{},
		"EngineEventBatch":                     EngineEventBatch{}, "UpdateResults": UpdateResults{}, "GetUpdateEventsResponse": GetUpdateEventsResponse{},
		"UpdateInfo": UpdateInfo{}, "GetHistoryResponse": GetHistoryResponse{}, "StackPreview": StackPreview{},
		"GetLatestStackPreviewsResponse": GetLatestStackPreviewsResponse{}, "APICapabilityConfig": Capability{},
		"CapabilitiesResponse": CapabilitiesResponse{}, "InsightsAccount": InsightsAccount{},
		"InsightsAccountOwner": InsightsAccountOwner{}, "CreateInsightsAccountRequest": CreateInsightsAccountRequest{},
		"ESCEnvironment": Environment{}, "ListESCEnvironmentsResponse": ListEnvironmentsResponse{},
	}
}
