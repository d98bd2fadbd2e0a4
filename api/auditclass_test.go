package api_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
)

// TestAuditReadClass: exports and decryptions are the read class, which
// the audit list leaves out unless ?class=read or ?class=all asks for it;
// an export keeps every class unless told otherwise; a bad class is a 400
// naming the parameter.
func TestAuditReadClass(t *testing.T) {
	e := newEnv(t)
	e.newStack(e.admin, "app", "dev", nil)
	var sealed struct{ Ciphertext []byte }
	e.must(e.admin, "POST", stackPath("app", "dev", "encrypt"), map[string]any{"plaintext": []byte("hunter2")}, 200, &sealed)
	e.must(e.admin, "POST", stackPath("app", "dev", "decrypt"), map[string]any{"ciphertext": sealed.Ciphertext}, 200, nil)
	e.must(e.admin, "GET", stackPath("app", "dev", "export"), nil, 200, nil)

	types := func(query string) map[string]bool {
		t.Helper()
		var page struct{ AuditLogEvents []struct{ Event string } }
		e.must(e.admin, "GET", "/api/orgs/acme/auditlogs/v2"+query, nil, 200, &page)
		out := map[string]bool{}
		for _, ev := range page.AuditLogEvents {
			out[ev.Event] = true
		}
		return out
	}
	reads := []string{gatehouse.EventSecretsDecrypted, gatehouse.EventStackExported}
	for _, c := range []struct {
		query        string
		reads, other bool
	}{
		{"", false, true},
		{"?class=change", false, true},
		{"?class=read", true, false},
		{"?class=all", true, true},
	} {
		got := types(c.query)
		for _, r := range reads {
			if got[r] != c.reads {
				t.Errorf("auditlogs/v2%s: %s listed %v, want %v (%v)", c.query, r, got[r], c.reads, got)
			}
		}
		if got[gatehouse.EventStackCreated] != c.other {
			t.Errorf("auditlogs/v2%s: stack_created listed %v, want %v", c.query, got[gatehouse.EventStackCreated], c.other)
		}
	}
	if code, body := e.call(e.admin, "GET", "/api/orgs/acme/auditlogs/v2?class=reads", nil, nil); code != 400 || !strings.Contains(body, `class: \"reads\" is not change, read or all`) {
		t.Errorf("a bad class: %d %s", code, body)
	}

	export := func(query string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/orgs/acme/auditlogs/v2/export"+query, nil)
		req.Header.Set("Authorization", "token "+e.admin)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatalf("export%s: %d: %v", query, resp.StatusCode, err)
		}
		b, _ := io.ReadAll(zr)
		return string(b)
	}
	if out := export(""); !strings.Contains(out, gatehouse.EventStackExported) || !strings.Contains(out, gatehouse.EventStackCreated) {
		t.Errorf("an export without a class lacks a class:\n%s", out)
	}
	if out := export("?class=change"); strings.Contains(out, gatehouse.EventStackExported) {
		t.Errorf("an export of changes holds a read:\n%s", out)
	}
}
