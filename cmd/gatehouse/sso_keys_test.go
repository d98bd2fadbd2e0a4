package main

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"path/filepath"
	"strings"
	"testing"
)

// TestSSOSAMLKeyCommands drives a SAML SP key rollover with gatehouse sso
// saml keys against a running server: list, create, activate and delete
// by status, pem; the current key cannot be deleted.
func TestSSOSAMLKeyCommands(t *testing.T) {
	m, admin := startMain(t, filepath.Join(t.TempDir(), "g.db"), nil)
	t.Setenv("GATEHOUSE_CONFIG_DIR", t.TempDir())
	t.Setenv("GATEHOUSE_TOKEN", admin)
	t.Setenv("GATEHOUSE_URL", "http://"+m.Addr)
	t.Setenv("GATEHOUSE_ORG", "acme")
	must := func(args ...string) string { t.Helper(); return runOK(t, args...) }
	type keys struct {
		Keys []struct{ ID, Status, Certificate, FingerprintSHA256 string }
	}
	list := func() keys {
		t.Helper()
		var k keys
		if err := json.Unmarshal([]byte(must("sso", "saml", "keys", "ls", "-o", "json")), &k); err != nil {
			t.Fatal(err)
		}
		return k
	}
	first := list()
	if len(first.Keys) != 1 || first.Keys[0].Status != "current" {
		t.Fatalf("keys = %+v", first)
	}
	a := first.Keys[0].ID
	if out := must("sso", "saml", "keys", "ls"); !strings.Contains(out, a) || !strings.Contains(out, first.Keys[0].FingerprintSHA256) {
		t.Errorf("keys ls:\n%s", out)
	}
	out := must("sso", "saml", "keys", "pem")
	block, _ := pem.Decode([]byte(out))
	if block == nil || out != first.Keys[0].Certificate {
		t.Fatalf("keys pem:\n%s", out)
	}
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		t.Fatal(err)
	}
	if out := must("sso", "show"); !strings.Contains(out, first.Keys[0].FingerprintSHA256) || !strings.Contains(out, "/console/-/sso/acme/saml/certificate") {
		t.Errorf("sso show lacks the SP certificate:\n%s", out)
	}

	if out := must("sso", "saml", "keys", "create"); !strings.Contains(out, "next") {
		t.Errorf("keys create:\n%s", out)
	}
	next := list().Keys[1]
	if out := must("sso", "saml", "keys", "pem", "next"); out != next.Certificate {
		t.Errorf("keys pem next:\n%s", out)
	}
	if code, _, stderr := run(t, "sso", "saml", "keys", "rm", "current"); code != exitError || !strings.Contains(stderr, "activate another key first") {
		t.Errorf("deleting the current key: exit %d %s", code, stderr)
	}
	if code, _, stderr := run(t, "sso", "saml", "keys", "activate", "previous"); code != exitError || !strings.Contains(stderr, "no previous SAML SP key") {
		t.Errorf("activating a previous key there is not: exit %d %s", code, stderr)
	}
	must("sso", "saml", "keys", "activate", "next")
	if k := list(); len(k.Keys) != 2 || k.Keys[0].ID != next.ID || k.Keys[1].ID != a || k.Keys[1].Status != "previous" {
		t.Fatalf("after activate: %+v", k)
	}
	must("sso", "saml", "keys", "rm", "previous")
	if k := list(); len(k.Keys) != 1 || k.Keys[0].ID != next.ID {
		t.Fatalf("after rm: %+v", k)
	}
}
