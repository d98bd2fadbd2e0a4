package wire

import (
	"encoding/json"

	"github.com/gatehouse-iam/gatehouse"
)

// Issuer is Pulumi's OidcIssuerRegistrationResponse: a registered OIDC
// issuer. Times are "2006-01-02 15:04:05.000" in UTC, empty when unset.
type Issuer struct {
	ID            string          `json:"id"`
	Name          string          `json:"name"`
	URL           string          `json:"url"`
	Issuer        string          `json:"issuer"`
	Thumbprints   []string        `json:"thumbprints,omitempty"`
	JWKS          json.RawMessage `json:"jwks,omitempty"`
	MaxExpiration int64           `json:"maxExpiration,omitempty"`
	Created       string          `json:"created,omitempty"`
	Modified      string          `json:"modified,omitempty"`
	LastUsed      string          `json:"lastUsed,omitempty"`
}

// IssuerRequest registers (POST) or changes (PATCH) an OIDC issuer;
// MaxExpiration is in seconds.
type IssuerRequest struct {
	Name          string          `json:"name"`
	URL           string          `json:"url"`
	Thumbprints   []string        `json:"thumbprints"`
	MaxExpiration *int64          `json:"maxExpiration"`
	JWKS          json.RawMessage `json:"jwks"`
}

// ListIssuersResponse lists an organization's OIDC issuers.
type ListIssuersResponse struct {
	OIDCIssuers []Issuer `json:"oidcIssuers"`
}

// AuthPolicy is an OIDC issuer's authorization policy.
type AuthPolicy struct {
	ID       string                     `json:"id"`
	Version  int                        `json:"version"`
	Created  string                     `json:"created,omitempty"`
	Modified string                     `json:"modified,omitempty"`
	Policies []gatehouse.AuthPolicyRule `json:"policies"`
}

// UpdateAuthPolicyRequest replaces a policy's rules.
type UpdateAuthPolicyRequest struct {
	Policies []gatehouse.AuthPolicyRule `json:"policies"`
}

// PolicyTestResult is what `gatehouse oidc test` found: whether an ID token
// with the given claims would be exchanged under the issuer's policy, by
// which rule, and what the exchange would issue. The CLI evaluates the
// policy itself (nothing is issued); this is its -o json shape.
type PolicyTestResult struct {
	Allowed   bool   `json:"allowed"`
	Issuer    string `json:"issuer"`
	TokenType string `json:"tokenType"`
	Subject   string `json:"subject,omitempty"`
	// Rule is the index of the deciding rule, absent when none matched.
	Rule   *int   `json:"rule,omitempty"`
	Reason string `json:"reason"`
	RoleID string `json:"roleId,omitempty"`
	// Grants says in words what the issued token would hold.
	Grants string `json:"grants,omitempty"`
	// MaxExpiration is the longest lifetime of the issued token, a Go
	// duration ("25h0m0s").
	MaxExpiration string `json:"maxExpiration,omitempty"`
}
