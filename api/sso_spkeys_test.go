package api_test

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// spStatuses is the keys' "status:id" in their order.
func spStatuses(keys wire.SAMLSPKeys) string {
	s := ""
	for _, k := range keys.Keys {
		s += fmt.Sprintf("%s:%s ", k.Status, k.ID)
	}
	return s
}

// TestSAMLSPKeyRoutes: the SP key pairs through /api/orgs/{org}/saml/sp-keys
// on both dialects: the first is shown (made on first sight) with its
// certificate as PEM and its fingerprints; a rollover creates, activates
// and deletes; a third key, activating or deleting the current one and an
// unknown key are refused with the reason and change nothing; a member
// who may read the SSO settings sees the keys and changes none.
func TestSAMLSPKeyRoutes(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		var keys wire.SAMLSPKeys
		e.must(e.admin, "GET", "/api/orgs/acme/saml/sp-keys", nil, 200, &keys)
		if len(keys.Keys) != 1 || keys.Keys[0].Status != "current" || keys.Keys[0].Activated == "" {
			t.Fatalf("first keys = %+v", keys)
		}
		k := keys.Keys[0]
		block, _ := pem.Decode([]byte(k.Certificate))
		if block == nil || block.Type != "CERTIFICATE" {
			t.Fatalf("certificate = %q", k.Certificate)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		s256, s1 := sha256.Sum256(block.Bytes), sha1.Sum(block.Bytes)
		if strings.ReplaceAll(k.FingerprintSHA256, ":", "") != strings.ToUpper(hex.EncodeToString(s256[:])) ||
			k.ThumbprintSHA1 != strings.ToUpper(hex.EncodeToString(s1[:])) || !strings.Contains(k.Subject, "acme") ||
			k.NotAfter != cert.NotAfter.UTC().Format("2006-01-02T15:04:05Z07:00") {
			t.Errorf("key = %+v", k)
		}
		if strings.Contains(e.must(e.admin, "GET", "/api/orgs/acme/saml/sp-keys", nil, 200, nil), "PRIVATE") {
			t.Error("the keys show a private key")
		}
		a := k.ID
		e.must(e.admin, "POST", "/api/orgs/acme/saml/sp-keys", nil, 200, &keys)
		if len(keys.Keys) != 2 || keys.Keys[0].ID != a || keys.Keys[1].Status != "next" || keys.Keys[1].Activated != "" {
			t.Fatalf("after POST: %s", spStatuses(keys))
		}
		b := keys.Keys[1].ID
		before := spStatuses(keys)
		e.fails(e.admin, "POST", "/api/orgs/acme/saml/sp-keys", nil, 409, "delete the next one ("+b+") first")
		e.fails(e.admin, "POST", "/api/orgs/acme/saml/sp-keys/"+a+"/activate", nil, 409, "current key already")
		e.fails(e.admin, "DELETE", "/api/orgs/acme/saml/sp-keys/"+a, nil, 409, "activate another key first")
		e.fails(e.admin, "POST", "/api/orgs/acme/saml/sp-keys/nope/activate", nil, 404, `SAML SP key "nope" not found`)
		e.fails(e.admin, "DELETE", "/api/orgs/acme/saml/sp-keys/nope", nil, 404, `SAML SP key "nope" not found`)
		var reader struct{ ID string }
		e.must(e.admin, "POST", "/api/orgs/acme/roles", map[string]any{"name": "sso-reader", "uxPurpose": "role", "details": allowDetails("saml:read")}, 200, &reader)
		member := e.memberWithRole("bob", reader.ID)
		e.must(member, "GET", "/api/orgs/acme/saml/sp-keys", nil, 200, nil)
		e.must(member, "POST", "/api/orgs/acme/saml/sp-keys/"+b+"/activate", nil, 403, nil)
		e.must(member, "DELETE", "/api/orgs/acme/saml/sp-keys/"+b, nil, 403, nil)
		if e.must(e.admin, "GET", "/api/orgs/acme/saml/sp-keys", nil, 200, &keys); spStatuses(keys) != before {
			t.Fatalf("refused calls changed the keys: %s, want %s", spStatuses(keys), before)
		}
		e.must(e.admin, "POST", "/api/orgs/acme/saml/sp-keys/"+b+"/activate", nil, 200, &keys)
		if spStatuses(keys) != fmt.Sprintf("current:%s previous:%s ", b, a) {
			t.Fatalf("after activating: %s", spStatuses(keys))
		}
		e.must(e.admin, "DELETE", "/api/orgs/acme/saml/sp-keys/"+a, nil, 204, nil)
		if e.must(e.admin, "GET", "/api/orgs/acme/saml/sp-keys", nil, 200, &keys); spStatuses(keys) != fmt.Sprintf("current:%s ", b) {
			t.Fatalf("after deleting: %s", spStatuses(keys))
		}
	})
}
