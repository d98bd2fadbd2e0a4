package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// TestSSOSettingsSPKeys: the settings page shows the SAML SP keys (status,
// fingerprint, a PEM link) and rolls them over: add, activate, delete; a
// refusal (the current key) is shown on the page with nothing changed; a
// member without saml:update sees no buttons and changes nothing.
func TestSSOSettingsSPKeys(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.admin)
	keys := func() wire.SAMLSPKeys {
		t.Helper()
		var k wire.SAMLSPKeys
		if st := e.api(e.admin, "GET", "/api/orgs/acme/saml/sp-keys", nil, &k); st != 200 {
			t.Fatalf("GET sp-keys: %d", st)
		}
		return k
	}
	body := b.get("/console/acme/sso")
	first := keys()
	if len(first.Keys) != 1 || !strings.Contains(body, first.Keys[0].FingerprintSHA256) || !strings.Contains(body, "?id="+first.Keys[0].ID) ||
		!strings.Contains(body, "Add a key") {
		t.Fatalf("settings page without the SP key:\n%s", body)
	}
	a := first.Keys[0].ID
	if status, _, body := b.do("POST", "/console/acme/sso/saml/keys", url.Values{}); status != 303 {
		t.Fatalf("add a key: %d %s", status, body)
	}
	k := keys()
	if len(k.Keys) != 2 || k.Keys[1].Status != "next" {
		t.Fatalf("keys = %+v", k)
	}
	next := k.Keys[1].ID
	if body := b.get("/console/acme/sso"); strings.Contains(body, "Add a key") || !strings.Contains(body, "/sso/saml/keys/"+next+"/activate") ||
		strings.Contains(body, "/sso/saml/keys/"+a+"/delete") {
		t.Errorf("the page with a next key:\n%s", body)
	}

	m := e.member(t, "bob", "member")
	mb := e.browser()
	mb.signIn(m)
	if status, _, _ := mb.do("POST", "/console/acme/sso/saml/keys/"+next+"/activate", url.Values{}); status == 303 {
		t.Error("a member activated a key")
	}

	if status, _, body := b.do("POST", "/console/acme/sso/saml/keys/"+a+"/delete", url.Values{}); status != 400 ||
		!strings.Contains(body, "activate another key first") {
		t.Errorf("deleting the current key: %d %s", status, body)
	}
	if status, _, body := b.do("POST", "/console/acme/sso/saml/keys/"+next+"/activate", url.Values{}); status != 303 {
		t.Fatalf("activate: %d %s", status, body)
	}
	if k := keys(); k.Keys[0].ID != next || k.Keys[1].Status != "previous" {
		t.Fatalf("after activate: %+v", k)
	}
	if status, _, body := b.do("POST", "/console/acme/sso/saml/keys/"+a+"/delete", url.Values{}); status != 303 {
		t.Fatalf("delete: %d %s", status, body)
	}
	if k := keys(); len(k.Keys) != 1 || k.Keys[0].ID != next {
		t.Fatalf("after delete: %+v", k)
	}
}
