package api

import (
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/crewjam/saml"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/service"
)

// Single sign-on. Pulumi's GET/PATCH /api/orgs/{org}/saml (the identity
// provider's metadata XML); and, Gatehouse extensions since Pulumi has no
// such routes, /api/orgs/{org}/saml/sp-keys for the SAML service
// provider's key pairs (list, create, activate, delete: a rollover) and
// GET/PATCH/DELETE /api/orgs/{org}/sso/oidc for an OpenID provider. All are
// under the SSO scopes (saml:read, saml:update).
func (s *Server) registerSSO() {
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/saml", doc: doc{"GetSAMLOrganization", "The organization's SAML identity provider", nil, "", "SAMLOrganization"}, scopes: scopes("saml:read"), h: s.getSAML})
	s.handle(&route{method: "PATCH", pattern: "/api/orgs/{orgName}/saml", doc: doc{"UpdateSAMLOrganization", "Set the SAML identity provider's metadata and the first sign-in policy", nil, "UpdateSAMLOrganizationRequest", "SAMLOrganization"}, scopes: scopes("saml:update"), maxBytes: 300 << 10, h: s.updateSAML})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/saml/sp-keys", doc: doc{"ListSAMLSPKeys", "The SAML service provider's key pairs (their certificates), the current one first", nil, "", "SAMLSPKeys"}, scopes: scopes("saml:read"), h: s.listSPKeys})
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/saml/sp-keys", doc: doc{"CreateSAMLSPKey", "Start a rollover: a new SP key pair, published beside the current one, signing once activated", nil, "", "SAMLSPKeys"}, scopes: scopes("saml:update"), noBody: true, h: s.createSPKey})
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/saml/sp-keys/{keyID}/activate", doc: doc{"ActivateSAMLSPKey", "Make an SP key pair the current one, which signs the requests; the one it replaces stays published until deleted", nil, "", "SAMLSPKeys"}, scopes: scopes("saml:update"), noBody: true, h: s.activateSPKey})
	s.handle(&route{method: "DELETE", pattern: "/api/orgs/{orgName}/saml/sp-keys/{keyID}", doc: doc{"DeleteSAMLSPKey", "End a rollover: an SP key pair that is not the current one is no longer published nor decrypts", nil, "", ""}, scopes: scopes("saml:update"), h: s.deleteSPKey})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/sso/oidc", doc: doc{"GetOIDCSSO", "The organization's OpenID Connect sign-in", nil, "", "OIDCSSO"}, scopes: scopes("saml:read"), h: s.getOIDCSSO})
	s.handle(&route{method: "PATCH", pattern: "/api/orgs/{orgName}/sso/oidc", doc: doc{"UpdateOIDCSSO", "Set the OpenID provider, client and claims of console sign-in", nil, "UpdateOIDCSSORequest", "OIDCSSO"}, scopes: scopes("saml:update"), h: s.updateOIDCSSO})
	s.handle(&route{method: "DELETE", pattern: "/api/orgs/{orgName}/sso/oidc", doc: doc{"DeleteOIDCSSO", "Turn OpenID Connect sign-in off", nil, "", ""}, scopes: scopes("saml:update"), h: s.deleteOIDCSSO})
}

// ssoOf returns the organization's settings, or empty ones.
func (s *Server) ssoOf(q *request) (*service.SSOView, error) {
	v, err := s.svc.SSO(q.ctx(), q.org.ID)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return &service.SSOView{SSO: gatehouse.SSO{OrgID: q.org.ID}}, nil
	}
	return v, err
}

func toSSOPolicy(v *service.SSOView) wire.SSOPolicy {
	p := wire.SSOPolicy{AllowCreate: v.AllowCreate, DefaultRoleID: v.DefaultRoleID, EmailDomains: v.EmailDomains}
	if p.EmailDomains == nil {
		p.EmailDomains = []string{}
	}
	if v.DefaultRole != nil {
		p.DefaultRole = v.DefaultRole.Name
	}
	return p
}

func toOIDCSSO(v *service.SSOView) wire.OIDCSSO {
	return wire.OIDCSSO{Issuer: v.Issuer, ClientID: v.ClientID, HasClientSecret: v.HasSecret, UserClaim: v.UserClaim,
		GroupsClaim: v.GroupsClaim, SSOPolicy: toSSOPolicy(v)}
}

func toSAML(org *gatehouse.Organization, v *service.SSOView) wire.SAMLOrganization {
	out := wire.SAMLOrganization{Name: org.Name, GitHubLogin: org.Name, Repos: []string{}, IdPSSODescriptor: v.IdPMetadata,
		ValidationError: v.MetadataError, GroupsAttribute: v.GroupsAttribute, SSOPolicy: toSSOPolicy(v)}
	if v.IdP == nil {
		return out
	}
	out.EntityID = v.IdP.EntityID
	idp := v.IdP.IDPSSODescriptors[0]
	for _, e := range idp.SingleSignOnServices {
		if out.SSOURL == "" || e.Binding == saml.HTTPRedirectBinding {
			out.SSOURL = e.Location
		}
	}
	if len(idp.NameIDFormats) > 0 {
		out.NameIDFormat = string(idp.NameIDFormats[0])
	}
	for _, k := range idp.KeyDescriptors {
		for _, c := range k.KeyInfo.X509Data.X509Certificates {
			der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c.Data), ""))
			if err != nil {
				continue
			}
			if cert, err := x509.ParseCertificate(der); err == nil && (out.ValidUntil == "" || cert.NotAfter.Format(time.RFC3339) < out.ValidUntil) {
				out.ValidUntil = cert.NotAfter.UTC().Format(time.RFC3339)
			}
		}
	}
	return out
}

func (s *Server) getSAML(q *request) (any, error) {
	v, err := s.ssoOf(q)
	if err != nil {
		return nil, err
	}
	return toSAML(q.org, v), nil
}

func (s *Server) updateSAML(q *request) (any, error) {
	var in wire.UpdateSAMLOrganizationRequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	if in.NewIdPSSODescriptor != nil && strings.TrimSpace(*in.NewIdPSSODescriptor) == "" {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "newIdpSsoDescriptor: must be the identity provider's metadata XML, not empty")
	}
	v, err := s.svc.UpdateSSO(q.ctx(), q.org.ID, service.SSOInput{IdPMetadata: in.NewIdPSSODescriptor, GroupsAttribute: in.GroupsAttribute,
		AllowCreate: in.AllowCreate, DefaultRoleID: in.DefaultRoleID, EmailDomains: in.EmailDomains})
	if err != nil {
		return nil, err
	}
	return toSAML(q.org, v), nil
}

// toSPKeys shows SP key pairs: their certificates, never their keys.
func toSPKeys(keys []service.SPKeyView) wire.SAMLSPKeys {
	out := wire.SAMLSPKeys{Keys: []wire.SAMLSPKey{}}
	for _, k := range keys {
		c := k.Certificate
		sha1sum := sha1.Sum(c.Raw)
		w := wire.SAMLSPKey{ID: k.ID, Status: k.Status, Certificate: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})),
			FingerprintSHA256: service.CertificateFingerprint(c.Raw), ThumbprintSHA1: strings.ToUpper(hex.EncodeToString(sha1sum[:])),
			Subject: c.Subject.String(), NotBefore: rfc3339(c.NotBefore), NotAfter: rfc3339(c.NotAfter), Created: rfc3339(k.Created)}
		if !k.Activated.IsZero() {
			w.Activated = rfc3339(k.Activated)
		}
		out.Keys = append(out.Keys, w)
	}
	return out
}

func (s *Server) listSPKeys(q *request) (any, error) {
	keys, err := s.svc.SPKeys(q.ctx(), q.org.ID)
	if err != nil {
		return nil, err
	}
	return toSPKeys(keys), nil
}

func (s *Server) createSPKey(q *request) (any, error) {
	keys, err := s.svc.CreateSPKey(q.ctx(), q.org.ID)
	if err != nil {
		return nil, err
	}
	return toSPKeys(keys), nil
}

func (s *Server) activateSPKey(q *request) (any, error) {
	keys, err := s.svc.ActivateSPKey(q.ctx(), q.org.ID, q.r.PathValue("keyID"))
	if err != nil {
		return nil, err
	}
	return toSPKeys(keys), nil
}

func (s *Server) deleteSPKey(q *request) (any, error) {
	_, err := s.svc.DeleteSPKey(q.ctx(), q.org.ID, q.r.PathValue("keyID"))
	return nil, err
}

func (s *Server) getOIDCSSO(q *request) (any, error) {
	v, err := s.ssoOf(q)
	if err != nil {
		return nil, err
	}
	return toOIDCSSO(v), nil
}

func (s *Server) updateOIDCSSO(q *request) (any, error) {
	var in wire.UpdateOIDCSSORequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	v, err := s.svc.UpdateSSO(q.ctx(), q.org.ID, service.SSOInput{Issuer: in.Issuer, ClientID: in.ClientID, ClientSecret: in.ClientSecret,
		UserClaim: in.UserClaim, GroupsClaim: in.GroupsClaim, AllowCreate: in.AllowCreate, DefaultRoleID: in.DefaultRoleID,
		EmailDomains: in.EmailDomains})
	if err != nil {
		return nil, err
	}
	return toOIDCSSO(v), nil
}

func (s *Server) deleteOIDCSSO(q *request) (any, error) {
	empty := ""
	_, err := s.svc.UpdateSSO(q.ctx(), q.org.ID, service.SSOInput{Issuer: &empty, ClientID: &empty, ClientSecret: &empty,
		UserClaim: &empty, GroupsClaim: &empty})
	return nil, err
}

// OIDCSSO returns an organization's OIDC sign-in settings.
func (c *Client) OIDCSSO(ctx context.Context, org string) (*wire.OIDCSSO, error) {
	out := &wire.OIDCSSO{}
	return out, c.do(ctx, "GET", "/api/orgs/"+url.PathEscape(org)+"/sso/oidc", nil, out)
}

// UpdateOIDCSSO changes them.
func (c *Client) UpdateOIDCSSO(ctx context.Context, org string, in wire.UpdateOIDCSSORequest) (*wire.OIDCSSO, error) {
	out := &wire.OIDCSSO{}
	return out, c.do(ctx, "PATCH", "/api/orgs/"+url.PathEscape(org)+"/sso/oidc", in, out)
}

// DeleteOIDCSSO turns OIDC sign-in off.
func (c *Client) DeleteOIDCSSO(ctx context.Context, org string) error {
	return c.do(ctx, "DELETE", "/api/orgs/"+url.PathEscape(org)+"/sso/oidc", nil, nil)
}

// SAML returns an organization's SAML settings (Pulumi's SAMLOrganization).
func (c *Client) SAML(ctx context.Context, org string) (*wire.SAMLOrganization, error) {
	out := &wire.SAMLOrganization{}
	return out, c.do(ctx, "GET", "/api/orgs/"+url.PathEscape(org)+"/saml", nil, out)
}

// UpdateSAML changes them.
func (c *Client) UpdateSAML(ctx context.Context, org string, in wire.UpdateSAMLOrganizationRequest) (*wire.SAMLOrganization, error) {
	out := &wire.SAMLOrganization{}
	return out, c.do(ctx, "PATCH", "/api/orgs/"+url.PathEscape(org)+"/saml", in, out)
}

// SAMLSPKeys returns the organization's SAML service provider key pairs.
func (c *Client) SAMLSPKeys(ctx context.Context, org string) (*wire.SAMLSPKeys, error) {
	out := &wire.SAMLSPKeys{}
	return out, c.do(ctx, "GET", "/api/orgs/"+url.PathEscape(org)+"/saml/sp-keys", nil, out)
}

// CreateSAMLSPKey starts a rollover with a new SP key pair.
func (c *Client) CreateSAMLSPKey(ctx context.Context, org string) (*wire.SAMLSPKeys, error) {
	out := &wire.SAMLSPKeys{}
	return out, c.do(ctx, "POST", "/api/orgs/"+url.PathEscape(org)+"/saml/sp-keys", nil, out)
}

// ActivateSAMLSPKey makes an SP key pair the current one.
func (c *Client) ActivateSAMLSPKey(ctx context.Context, org, id string) (*wire.SAMLSPKeys, error) {
	out := &wire.SAMLSPKeys{}
	return out, c.do(ctx, "POST", "/api/orgs/"+url.PathEscape(org)+"/saml/sp-keys/"+url.PathEscape(id)+"/activate", nil, out)
}

// DeleteSAMLSPKey deletes an SP key pair that is not the current one.
func (c *Client) DeleteSAMLSPKey(ctx context.Context, org, id string) error {
	return c.do(ctx, "DELETE", "/api/orgs/"+url.PathEscape(org)+"/saml/sp-keys/"+url.PathEscape(id), nil, nil)
}

// SSOFailed records a console sign-in through an organization's identity
// provider that failed (a state that does not match, an answer that does
// not verify, a user the organization refuses): like SignInFailed, it
// counts against the client address's failure limit and, within it, is
// logged and audited in the organization. It returns false when the
// address is over the limit: the caller answers 429.
func (s *Server) SSOFailed(w http.ResponseWriter, r *http.Request, orgID, protocol, why string) bool {
	ip := s.clientIP(r)
	reqID := newRequestID()
	s.metrics.authFailures.WithLabelValues("sso").Inc()
	if s.limitFailures(w, reqID, ip, 1) {
		return false
	}
	s.log.Info("console SSO sign-in failed", "request_id", reqID, "remote", ip, "protocol", protocol, "why", why)
	ctx := gatehouse.WithActor(r.Context(), gatehouse.Actor{SourceIP: ip, UserAgent: r.UserAgent(), RequestID: reqID})
	s.audit.add(service.NewAuditEvent(ctx, s.now(), orgID, gatehouse.EventAuthFailure,
		fmt.Sprintf("console %s single sign-on failed: %s", strings.ToUpper(protocol), why), "",
		map[string]string{"reason": "sso", "protocol": protocol, "why": why, "method": r.Method, "path": r.URL.Path}))
	return true
}
