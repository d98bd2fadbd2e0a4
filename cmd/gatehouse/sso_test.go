package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const ssoTestMetadata = `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example/metadata">
<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>MIIB</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example/sso"/>
</IDPSSODescriptor></EntityDescriptor>`

// TestSSOCommands drives gatehouse sso against a running server.
func TestSSOCommands(t *testing.T) {
	m, admin := startMain(t, filepath.Join(t.TempDir(), "g.db"), nil)
	base := "http://" + m.Addr
	t.Setenv("GATEHOUSE_CONFIG_DIR", t.TempDir())
	t.Setenv("GATEHOUSE_TOKEN", admin)
	t.Setenv("GATEHOUSE_URL", base)
	t.Setenv("GATEHOUSE_ORG", "acme")
	dir := t.TempDir()
	secret, md := filepath.Join(dir, "secret"), filepath.Join(dir, "md.xml")
	os.WriteFile(secret, []byte("s3cret-value\n"), 0o600)
	os.WriteFile(md, []byte(ssoTestMetadata), 0o600)
	must := func(want string, args ...string) string {
		t.Helper()
		code, stdout, stderr := run(t, args...)
		if code != exitOK || !strings.Contains(stdout, want) {
			t.Fatalf("gatehouse %s: exit %d\nstdout: %s\nstderr: %s\nwant %q", strings.Join(args, " "), code, stdout, stderr, want)
		}
		return stdout
	}
	must(base+"/console/-/sso/acme/oidc/callback", "sso", "oidc", "set", "--issuer", "https://idp.example", "--client-id", "gh",
		"--client-secret-file", secret, "--user-claim", "preferred_username", "--allow-create", "--email-domains", "example.com,example.org")
	if code, _, stderr := run(t, "sso", "oidc", "set", "--issuer", "http://idp.example"); code != exitError || !strings.Contains(stderr, "issuer:") {
		t.Errorf("a plain http issuer: exit %d %s", code, stderr)
	}
	must("https://idp.example/sso", "sso", "saml", "set", "--metadata", md, "--groups-attribute", "memberOf")
	out := must("https://idp.example", "sso", "show")
	for _, want := range []string{"gh", "preferred_username", "memberOf", "true", "example.com, example.org", base + "/console/-/sso/acme/saml/acs"} {
		if !strings.Contains(out, want) {
			t.Errorf("sso show lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "s3cret") || !strings.Contains(out, "set") {
		t.Errorf("sso show and the secret:\n%s", out)
	}
	must("", "sso", "oidc", "rm")
	if out := must("", "sso", "show", "-o", "json"); !strings.Contains(out, `"issuer": ""`) || !strings.Contains(out, "https://idp.example/metadata") {
		t.Errorf("after oidc rm:\n%s", out)
	}
}
