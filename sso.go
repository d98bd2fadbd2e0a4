package gatehouse

import (
	"context"
	"time"
)

// SSO is an organization's single sign-on: an OpenID provider, a SAML
// identity provider, or both, and what a first sign-in may do. The OIDC
// client secret is kept sealed (SecretSealed under the data key
// SecretKey, which the master key wraps), never in the clear.
type SSO struct {
	OrgID string

	// OIDC: the provider's issuer URL (https), the client registered there,
	// the claim that names the user (its value becomes the login) and the
	// claim, if any, that lists the user's groups (team names).
	Issuer       string
	ClientID     string
	SecretKey    []byte
	SecretSealed []byte
	UserClaim    string
	GroupsClaim  string

	// SAML: the identity provider's metadata XML (its EntityDescriptor with
	// the IDPSSODescriptor) and the attribute, if any, that lists the
	// user's groups.
	IdPMetadata     string
	GroupsAttribute string

	// AllowCreate lets a first sign-in create the user, managed by the
	// organization, as a member with DefaultRoleID (empty: the
	// organization's default role). Otherwise only existing members sign
	// in.
	AllowCreate   bool
	DefaultRoleID string
	// EmailDomains, when set, limit the first sign-ins that create users
	// to verified e-mail addresses in these domains (a provider such as
	// Google authenticates anyone).
	EmailDomains []string
	Updated      time.Time
}

// SSOLogin is a sign-in under way: the browser was sent to the provider
// with a state (whose SHA-256 is Digest) and comes back with it once.
type SSOLogin struct {
	Digest   []byte
	OrgID    string
	Protocol string // "oidc" or "saml"
	// Nonce and Verifier are OIDC's nonce and PKCE code verifier;
	// RequestID is the SAML AuthnRequest's id that the response must
	// answer.
	Nonce, Verifier, RequestID string
	// Next is where the browser goes after signing in (a console path).
	Next    string
	Expires time.Time
}

// SSOTx reads and writes organizations' single sign-on.
type SSOTx interface {
	// GetSSO returns an organization's SSO settings (ENOTFOUND: none).
	GetSSO(ctx context.Context, orgID string) (*SSO, error)
	// PutSSO creates or replaces an organization's SSO settings.
	PutSSO(ctx context.Context, s *SSO) error
	// DeleteSSO removes them (none is not an error).
	DeleteSSO(ctx context.Context, orgID string) error
	// CreateSSOLogin records a sign-in under way, after pruning the
	// expired ones: ETOOMANYREQUESTS when the organization has maxPending
	// sign-ins under way already. The caller holds the organization's lock
	// (OrgTx.LockOrg), so that the count and the insert are one step.
	CreateSSOLogin(ctx context.Context, l *SSOLogin, maxPending int) error
	// TakeSSOLogin returns and deletes the sign-in of a state's digest, so
	// that a state is good once (ENOTFOUND: none).
	TakeSSOLogin(ctx context.Context, digest []byte) (*SSOLogin, error)
	// UseAssertion remembers a SAML assertion's id until it expires:
	// ECONFLICT when the organization has seen it already. It prunes the
	// expired ones first.
	UseAssertion(ctx context.Context, orgID, id string, expires, now time.Time) error

	// ListSPKeys returns an organization's SAML service provider key
	// pairs, oldest first (none is not an error).
	ListSPKeys(ctx context.Context, orgID string) ([]*SPKey, error)
	// CreateSPKey adds one (ECONFLICT: its id is taken; EINVALID: no such
	// organization).
	CreateSPKey(ctx context.Context, k *SPKey) error
	// ActivateSPKey makes one the key that signs, from at on (ENOTFOUND:
	// the organization has no such key).
	ActivateSPKey(ctx context.Context, orgID, id string, at time.Time) error
	// DeleteSPKey removes one (ENOTFOUND: the organization has no such
	// key).
	DeleteSPKey(ctx context.Context, orgID, id string) error
}

// SPKey is one of an organization's SAML service provider key pairs: the
// RSA key that signs its AuthnRequests and that its identity provider
// encrypts assertions to, with the self-signed certificate that the SP
// metadata publishes. The private key is kept sealed: KeySealed is its
// PKCS #8 form sealed under a data key, KeyWrapped that data key wrapped
// by the master key (bound to the organization and the key's id); it is
// never stored, shown or logged in the clear.
type SPKey struct {
	ID          string
	OrgID       string
	Certificate []byte // DER
	KeyWrapped  []byte
	KeySealed   []byte
	Created     time.Time
	// Activated is when the key became the one that signs; zero for a key
	// published ahead of a rollover that has not signed yet. Of the keys
	// activated, the latest is the current one.
	Activated time.Time
}

// OIDCClient is an organization's OpenID Connect client at its provider.
type OIDCClient struct {
	Issuer, ClientID, ClientSecret string
	Scopes                         []string
}

// OIDCLogin runs the authorization code flow with PKCE against an OpenID
// provider: discovery, the redirect, the code's redemption and the ID
// token's verification. cmd wires the oidc package's implementation.
type OIDCLogin interface {
	// AuthCodeURL returns where to send the browser.
	AuthCodeURL(ctx context.Context, c OIDCClient, redirectURL, state, nonce, verifier string) (string, error)
	// Exchange redeems a code with its PKCE verifier and returns the claims
	// of the verified ID token (issuer, audience: the client only, expiry,
	// nonce), with the provider's userinfo claims added where the ID token
	// has none.
	Exchange(ctx context.Context, c OIDCClient, redirectURL, code, verifier, nonce string) (map[string]any, error)
}
