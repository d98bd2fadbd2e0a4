package gatehouse

import (
	"context"
	"encoding/json"
	"time"
)

// Issuer is a registered OIDC issuer whose ID tokens may be exchanged.
type Issuer struct {
	ID          string
	OrgID       string
	Name        string
	URL         string
	Issuer      string // the "iss" its tokens carry; unique per organization
	Thumbprints []string
	// JWKS is a static key set (RFC 7517 JSON), when one was given.
	JWKS          json.RawMessage
	MaxExpiration time.Duration
	Created       time.Time
	Modified      time.Time
	LastUsed      time.Time
}

// AuthPolicy is an issuer's authorization policy: the rules that decide
// which tokens an exchange may issue. Policies is the rule list as JSON.
type AuthPolicy struct {
	ID       string
	OrgID    string
	IssuerID string
	Version  int
	Policies json.RawMessage
	Created  time.Time
	Modified time.Time
}

// Discovery is what registering an issuer learns from it.
type Discovery struct {
	// Issuer is the "issuer" of its OpenID configuration: the "iss" its
	// tokens carry.
	Issuer  string
	JWKSURI string
	// Thumbprints are the SHA-256 thumbprints (lower-case hex) of the TLS
	// certificate that served the configuration.
	Thumbprints []string
}

// IDTokenVerifier checks ID tokens of registered issuers. The oidc package
// implements it over HTTPS; the service uses it for token exchange.
type IDTokenVerifier interface {
	// Discover fetches the OpenID configuration under url and its key set,
	// requiring the served certificate to match thumbprints when any are
	// given. With a static key set, only the configuration is fetched.
	Discover(ctx context.Context, url string, thumbprints []string) (*Discovery, error)
	// Verify checks a token against the issuer's keys (its static key set,
	// or the keys its configuration points to) and its registered claims:
	// signature and algorithm, iss, aud (one of audiences), exp, nbf and iat.
	// It returns the token's claims. Errors say which check failed.
	Verify(ctx context.Context, iss *Issuer, raw string, audiences []string) (map[string]any, error)
	// PeekIssuer returns a token's "iss" without verifying anything, to find
	// the registered issuer whose keys must verify it.
	PeekIssuer(raw string) (string, error)
}

// AuthPolicyRule is one rule of an issuer's authorization policy.
type AuthPolicyRule struct {
	Decision              string            `json:"decision"`
	TokenType             string            `json:"tokenType"`
	TeamName              string            `json:"teamName,omitempty"`
	UserLogin             string            `json:"userLogin,omitempty"`
	RunnerID              string            `json:"runnerID,omitempty"`
	RoleID                string            `json:"roleID,omitempty"`
	AuthorizedPermissions []string          `json:"authorizedPermissions"`
	Rules                 map[string]string `json:"rules"`
}
