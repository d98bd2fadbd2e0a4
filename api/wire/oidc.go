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
