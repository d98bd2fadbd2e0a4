package oidc

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

func TestCacheTTL(t *testing.T) {
	t.Parallel()
	cases := map[string]time.Duration{
		"":                           defKeyTTL,
		"max-age=600":                10 * time.Minute,
		"public, max-age=5":          minKeyTTL,
		"max-age=999999":             maxKeyTTL,
		"no-store":                   minKeyTTL,
		"max-age=oops, no-transform": defKeyTTL,
	}
	for cc, want := range cases {
		h := http.Header{}
		if cc != "" {
			h.Set("Cache-Control", cc)
		}
		if got := cacheTTL(h); got != want {
			t.Errorf("cacheTTL(%q) = %s, want %s", cc, got, want)
		}
	}
}

func issuerServer(t *testing.T, handler http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(handler)
	t.Cleanup(srv.Close)
	return srv
}

func discovery(w http.ResponseWriter, r *http.Request, self string) {
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		json.NewEncoder(w).Encode(map[string]string{"issuer": self, "jwks_uri": self + "/keys"})
	case "/keys":
		w.Write([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"k"}]}`))
	default:
		http.NotFound(w, r)
	}
}

// TestGuards: private addresses are refused unless allowed; pins are
// enforced; redirects may not leave HTTPS; documents are bounded.
func TestGuards(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var self string
	srv := issuerServer(t, func(w http.ResponseWriter, r *http.Request) { discovery(w, r, self) })
	self = srv.URL

	strict := New(Options{})
	if _, err := strict.Discover(ctx, srv.URL, nil); err == nil || !strings.Contains(err.Error(), "loopback, private or link-local") {
		t.Errorf("a loopback issuer without --allow-insecure-issuers: %v", err)
	}
	loose := New(Options{AllowInsecure: true})
	d, err := loose.Discover(ctx, srv.URL, nil)
	if err != nil || d.Issuer != srv.URL || len(d.Thumbprints) != 1 || d.Thumbprints[0] != Thumbprint(srv.Certificate()) {
		t.Fatalf("Discover = %+v, %v", d, err)
	}
	if _, err := loose.Discover(ctx, srv.URL, []string{strings.Repeat("0", 64)}); err == nil || !strings.Contains(err.Error(), "pinned thumbprints") {
		t.Errorf("a wrong pin: %v", err)
	}
	if _, err := loose.Discover(ctx, "http://"+strings.TrimPrefix(srv.URL, "https://"), nil); err == nil || !strings.Contains(err.Error(), "https://") {
		t.Errorf("an http:// issuer: %v", err)
	}

	redirect := issuerServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://example.com/x", http.StatusFound)
	})
	if _, err := loose.Discover(ctx, redirect.URL, nil); err == nil || !strings.Contains(err.Error(), "redirect away from HTTPS") {
		t.Errorf("a redirect to http: %v", err)
	}
	huge := issuerServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"issuer":"` + strings.Repeat("x", maxDocument) + `"}`))
	})
	if _, err := loose.Discover(ctx, huge.URL, nil); err == nil || !strings.Contains(err.Error(), "over") {
		t.Errorf("an oversized document: %v", err)
	}
}

func TestVerifyRejectsSymmetricKeys(t *testing.T) {
	t.Parallel()
	v := New(Options{AllowInsecure: true})
	iss := &gatehouse.Issuer{ID: "i", Name: "static", Issuer: "https://x", JWKS: json.RawMessage(`{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"k"}]}`)}
	// HS256 over "secret".
	tok := "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsifQ.eyJpc3MiOiJodHRwczovL3giLCJhdWQiOiJhY21lIiwiZXhwIjo5OTk5OTk5OTk5fQ.7b0Th8dUbF1AQ5B82yqYYzG9pEFxkJ3P2B-4D-BNJZk"
	if _, err := v.Verify(context.Background(), iss, tok, []string{"acme"}); err == nil || !strings.Contains(err.Error(), "format") {
		t.Errorf("an HS256 token: %v", err)
	}
	if _, err := v.PeekIssuer("not.a.jwt"); err == nil {
		t.Errorf("PeekIssuer accepted garbage")
	}
}
