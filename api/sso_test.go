package api_test

import (
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/api/wire"
)

const testIdPMetadata = `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example/metadata">
<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</NameIDFormat>
<KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>MIIB</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example/sso"/>
</IDPSSODescriptor></EntityDescriptor>`

// TestSSORoutes: the SSO settings through Pulumi's /saml and Gatehouse's
// /sso/oidc: bad input is a 400 naming the field with nothing changed, the
// secret is never shown, a member without saml:update is refused.
func TestSSORoutes(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, e *env) {
		var s wire.SAMLOrganization
		e.must(e.admin, "GET", "/api/orgs/acme/saml", nil, 200, &s)
		if s.Name != "acme" || s.IdPSSODescriptor != "" || s.Repos == nil {
			t.Errorf("empty SAML = %+v", s)
		}
		for _, bad := range []struct {
			body any
			want string
		}{
			{map[string]any{"newIdpSsoDescriptor": ""}, "newIdpSsoDescriptor"},
			{map[string]any{"newIdpSsoDescriptor": "<x/>"}, "idpSsoDescriptor: not SAML metadata"},
			{map[string]any{"newIdpSsoDescriptor": 7}, "newIdpSsoDescriptor"},
			{map[string]any{"defaultRoleId": "nope"}, "defaultRoleId"},
		} {
			e.fails(e.admin, "PATCH", "/api/orgs/acme/saml", bad.body, 400, bad.want)
		}
		if e.must(e.admin, "GET", "/api/orgs/acme/saml", nil, 200, &s); s.IdPSSODescriptor != "" || s.AllowCreate {
			t.Errorf("bad input changed the settings: %+v", s)
		}
		e.must(e.admin, "PATCH", "/api/orgs/acme/saml", map[string]any{"newIdpSsoDescriptor": testIdPMetadata, "allowCreate": true}, 200, &s)
		if s.EntityID != "https://idp.example/metadata" || s.SSOURL != "https://idp.example/sso" || !s.AllowCreate ||
			s.NameIDFormat != "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" || s.DefaultRole == "" {
			t.Errorf("SAML = %+v", s)
		}
		var o wire.OIDCSSO
		e.fails(e.admin, "PATCH", "/api/orgs/acme/sso/oidc", map[string]any{"issuer": "http://idp.example", "clientId": "c"}, 400, "issuer:")
		raw := e.must(e.admin, "PATCH", "/api/orgs/acme/sso/oidc", map[string]any{"issuer": "https://idp.example", "clientId": "c",
			"clientSecret": "very-secret"}, 200, nil)
		if strings.Contains(raw, "very-secret") || !strings.Contains(raw, `"hasClientSecret":true`) {
			t.Errorf("PATCH oidc answered %s", raw)
		}
		e.must(e.admin, "GET", "/api/orgs/acme/sso/oidc", nil, 200, &o)
		if o.Issuer != "https://idp.example" || !o.HasClientSecret || !o.AllowCreate {
			t.Errorf("OIDC = %+v", o)
		}
		var reader struct{ ID string }
		e.must(e.admin, "POST", "/api/orgs/acme/roles", map[string]any{"name": "sso-reader", "uxPurpose": "role", "details": allowDetails("saml:read")}, 200, &reader)
		member := e.memberWithRole("bob", reader.ID)
		e.must(member, "GET", "/api/orgs/acme/sso/oidc", nil, 200, nil)
		e.must(member, "PATCH", "/api/orgs/acme/sso/oidc", map[string]any{"issuer": "https://evil.example", "clientId": "x"}, 403, nil)
		e.must(member, "PATCH", "/api/orgs/acme/saml", map[string]any{"allowCreate": false}, 403, nil)
	})
}

// TestSSODefaultRoleEscalation: whoever sets the role first sign-ins get
// must hold it, as for any other grant.
func TestSSODefaultRoleEscalation(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, e *env) {
		var r struct{ ID string }
		e.must(e.admin, "POST", "/api/orgs/acme/roles", map[string]any{"name": "sso-admin", "uxPurpose": "role",
			"details": allowDetails("saml:read", "saml:update")}, 200, &r)
		ssoAdmin := e.memberWithRole("sam", r.ID)
		admin := e.roles("role")["Admin"].ID
		e.fails(ssoAdmin, "PATCH", "/api/orgs/acme/sso/oidc", map[string]any{"defaultRoleId": admin}, 403, "")
		e.fails(ssoAdmin, "PATCH", "/api/orgs/acme/saml", map[string]any{"newIdpSsoDescriptor": testIdPMetadata, "defaultRoleId": admin}, 403, "")
		// Their own role they may hand on.
		e.must(ssoAdmin, "PATCH", "/api/orgs/acme/sso/oidc", map[string]any{"defaultRoleId": r.ID, "allowCreate": true}, 200, nil)
		e.must(e.admin, "PATCH", "/api/orgs/acme/sso/oidc", map[string]any{"defaultRoleId": admin}, 200, nil)
	})
}
