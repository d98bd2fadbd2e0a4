package wire

// OIDCSSO is an organization's OpenID Connect sign-in (a Gatehouse
// extension: Pulumi has no such route). The client secret is never shown:
// HasClientSecret says whether one is set.
type OIDCSSO struct {
	Issuer          string `json:"issuer"`
	ClientID        string `json:"clientId"`
	HasClientSecret bool   `json:"hasClientSecret"`
	// UserClaim names the user (default "email"); GroupsClaim, when set,
	// lists the user's groups: their team memberships follow it.
	UserClaim   string `json:"userClaim"`
	GroupsClaim string `json:"groupsClaim"`
	SSOPolicy
}

// SSOPolicy is what a first sign-in may do, shared by OIDC and SAML.
type SSOPolicy struct {
	// AllowCreate lets a first sign-in create the user as a member.
	AllowCreate bool `json:"allowCreate"`
	// DefaultRoleID is the role such a member gets ("": the
	// organization's default role, named in DefaultRole).
	DefaultRoleID string `json:"defaultRoleId"`
	DefaultRole   string `json:"defaultRole"`
	// EmailDomains, when set, limit such sign-ins to verified e-mail
	// addresses in these domains.
	EmailDomains []string `json:"emailDomains"`
}

// UpdateOIDCSSORequest changes the OIDC sign-in: an absent field keeps its
// value, "" clears it.
type UpdateOIDCSSORequest struct {
	Issuer        *string   `json:"issuer,omitempty"`
	ClientID      *string   `json:"clientId,omitempty"`
	ClientSecret  *string   `json:"clientSecret,omitempty"`
	UserClaim     *string   `json:"userClaim,omitempty"`
	GroupsClaim   *string   `json:"groupsClaim,omitempty"`
	AllowCreate   *bool     `json:"allowCreate,omitempty"`
	DefaultRoleID *string   `json:"defaultRoleId,omitempty"`
	EmailDomains  *[]string `json:"emailDomains,omitempty"`
}

// SAMLOrganization is Pulumi's SAMLOrganization: the organization with its
// identity provider's metadata and what Gatehouse read from it, plus
// Gatehouse's extensions (groupsAttribute and the first sign-in policy).
type SAMLOrganization struct {
	Name             string   `json:"name"`
	GitHubLogin      string   `json:"githubLogin"`
	AvatarURL        string   `json:"avatarUrl"`
	Repos            []string `json:"repos"`
	IdPSSODescriptor string   `json:"idpSsoDescriptor"`
	EntityID         string   `json:"entityId,omitempty"`
	SSOURL           string   `json:"ssoUrl,omitempty"`
	ValidUntil       string   `json:"validUntil,omitempty"`
	NameIDFormat     string   `json:"nameIdFormat,omitempty"`
	ValidationError  string   `json:"validationError,omitempty"`
	GroupsAttribute  string   `json:"groupsAttribute"`
	SSOPolicy
}

// UpdateSAMLOrganizationRequest is Pulumi's: newIdpSsoDescriptor replaces
// the metadata; Gatehouse's extensions change the groups attribute and the
// first sign-in policy. An absent field keeps its value.
type UpdateSAMLOrganizationRequest struct {
	NewIdPSSODescriptor *string   `json:"newIdpSsoDescriptor,omitempty"`
	GroupsAttribute     *string   `json:"groupsAttribute,omitempty"`
	AllowCreate         *bool     `json:"allowCreate,omitempty"`
	DefaultRoleID       *string   `json:"defaultRoleId,omitempty"`
	EmailDomains        *[]string `json:"emailDomains,omitempty"`
}

// SAMLSPKey is one of the organization's SAML service provider key pairs
// (a Gatehouse extension: Pulumi's service provider is its own): the
// certificate that signs AuthnRequests and that the identity provider
// encrypts assertions to, never the private key.
type SAMLSPKey struct {
	ID string `json:"id"`
	// Status is "current" (signs the requests; first in the SP metadata),
	// "next" (published ahead of a rollover, signs once activated) or
	// "previous" (signed before the current one; published, and its
	// assertions decrypt, until it is deleted).
	Status string `json:"status"`
	// Certificate is the X.509 certificate, PEM: what Okta's signature and
	// encryption certificate and Entra ID's verification and token
	// encryption certificate take.
	Certificate string `json:"certificate"`
	// FingerprintSHA256 is the certificate's SHA-256 (as openssl prints
	// it), ThumbprintSHA1 its SHA-1 (as Entra ID shows it).
	FingerprintSHA256 string `json:"fingerprintSha256"`
	ThumbprintSHA1    string `json:"thumbprintSha1"`
	Subject           string `json:"subject"`
	NotBefore         string `json:"notBefore"`
	NotAfter          string `json:"notAfter"`
	Created           string `json:"created"`
	// Activated is when the key became current ("" for a next key).
	Activated string `json:"activated,omitempty"`
}

// SAMLSPKeys are the organization's SP key pairs, the current one first.
type SAMLSPKeys struct {
	Keys []SAMLSPKey `json:"keys"`
}
