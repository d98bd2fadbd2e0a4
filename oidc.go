package gatehouse

import (
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
