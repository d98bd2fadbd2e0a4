package wire

import "encoding/json"

// Wire types of Insights accounts, mirrored from apitype.

// InsightsAccount mirrors apitype.InsightsAccount.
type InsightsAccount struct {
	ID                   string               `json:"id"`
	Name                 string               `json:"name"`
	Provider             string               `json:"provider"`
	ProviderEnvRef       string               `json:"providerEnvRef,omitempty"`
	ScheduledScanEnabled bool                 `json:"scheduledScanEnabled"`
	AgentPoolID          string               `json:"agentPoolID,omitempty"`
	ProviderConfig       json.RawMessage      `json:"providerConfig,omitempty"`
	OwnedBy              InsightsAccountOwner `json:"ownedBy"`
	Tags                 map[string]string    `json:"tags,omitempty"`
}

// InsightsAccountOwner mirrors apitype.InsightsAccountOwner.
type InsightsAccountOwner struct {
	Name        string `json:"name"`
	GitHubLogin string `json:"githubLogin"`
	AvatarURL   string `json:"avatarUrl"`
}

// CreateInsightsAccountRequest mirrors apitype.CreateInsightsAccountRequest.
type CreateInsightsAccountRequest struct {
	Provider       string          `json:"provider"`
	Environment    string          `json:"environment"`
	ScanSchedule   string          `json:"scanSchedule,omitempty"`
	AgentPoolID    string          `json:"agentPoolID,omitempty"`
	ProviderConfig json.RawMessage `json:"providerConfig,omitempty"`
}

// InsightsAccountTags are an account's tags, read or replaced whole.
type InsightsAccountTags struct {
	Tags map[string]string `json:"tags"`
}

// ListInsightsAccountsResponse is a page of Insights accounts.
type ListInsightsAccountsResponse struct {
	Accounts  []InsightsAccount `json:"accounts"`
	NextToken string            `json:"nextToken,omitempty"`
}
