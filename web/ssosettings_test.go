package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/api/wire"
)

const pageMetadata = `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example/metadata">
<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>MIIB</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example/sso"/>
</IDPSSODescriptor></EntityDescriptor>`

// TestSSOSettingsPage: an admin sets OIDC and SAML sign-in in the console;
// the secret is kept when the field is left blank and never shown; bad
// input is shown on the page with nothing saved.
func TestSSOSettingsPage(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		b := e.browser()
		b.signIn(e.admin)
		body := b.get("/console/acme/sso")
		if !strings.Contains(body, "/console/-/sso/acme/oidc/callback") || !strings.Contains(body, "--public-url") {
			t.Fatalf("settings page:\n%s", body)
		}
		form := url.Values{"issuer": {"https://idp.example"}, "clientId": {"gh"}, "clientSecret": {"page-secret"}, "userClaim": {"email"},
			"groupsClaim": {"groups"}, "allowCreate": {"on"}, "defaultRoleId": {""}, "emailDomains": {"example.com, example.org"}}
		if status, h, body := b.do("POST", "/console/acme/sso/oidc", form); status != 303 || !strings.HasPrefix(h.Get("Location"), "/console/acme/sso") {
			t.Fatalf("save OIDC: %d %s", status, body)
		}
		form.Set("clientSecret", "")
		form.Set("userClaim", "preferred_username")
		if status, _, body := b.do("POST", "/console/acme/sso/oidc", form); status != 303 {
			t.Fatalf("save OIDC again: %d %s", status, body)
		}
		var o wire.OIDCSSO
		e.api(e.admin, "GET", "/api/orgs/acme/sso/oidc", nil, &o)
		if o.Issuer != "https://idp.example" || !o.HasClientSecret || o.UserClaim != "preferred_username" || !o.AllowCreate ||
			len(o.EmailDomains) != 2 {
			t.Errorf("OIDC = %+v", o)
		}
		if body := b.get("/console/acme/sso"); strings.Contains(body, "page-secret") || !strings.Contains(body, "leave blank to keep it") {
			t.Errorf("the page and the secret:\n%s", body)
		}
		form.Set("issuer", "http://plain.example")
		if status, _, body := b.do("POST", "/console/acme/sso/oidc", form); status != 400 || !strings.Contains(body, "issuer:") {
			t.Errorf("bad issuer: %d %s", status, body)
		}
		if status, _, body := b.do("POST", "/console/acme/sso/saml", url.Values{"idpSsoDescriptor": {"<nope/>"}}); status != 400 ||
			!strings.Contains(body, "not SAML metadata") {
			t.Errorf("bad metadata: %d %s", status, body)
		}
		if status, _, body := b.do("POST", "/console/acme/sso/saml", url.Values{"idpSsoDescriptor": {pageMetadata}, "groupsAttribute": {"memberOf"},
			"allowCreate": {"on"}}); status != 303 {
			t.Fatalf("save SAML: %d %s", status, body)
		}
		var s wire.SAMLOrganization
		e.api(e.admin, "GET", "/api/orgs/acme/saml", nil, &s)
		if s.EntityID != "https://idp.example/metadata" || s.GroupsAttribute != "memberOf" {
			t.Errorf("SAML = %+v", s)
		}
		// A member without saml:update sees no save buttons and cannot save.
		m := e.member(t, "bob", "member")
		mb := e.browser()
		mb.signIn(m)
		if status, _, _ := mb.do("POST", "/console/acme/sso/oidc", url.Values{"issuer": {"https://evil.example"}, "clientId": {"x"}}); status == 303 {
			t.Error("a member saved the OIDC settings")
		}
		e.api(e.admin, "GET", "/api/orgs/acme/sso/oidc", nil, &o)
		if o.Issuer != "https://idp.example" {
			t.Errorf("a member changed the issuer to %q", o.Issuer)
		}
	})
}
