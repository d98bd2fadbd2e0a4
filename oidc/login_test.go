package oidc_test

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/oidc"
)

// TestLoginFetchesAreGuarded: the console's OIDC sign-in fetches through
// the guarded client: a provider on loopback is refused unless insecure
// issuers are allowed, and even then its certificate must chain to a
// trusted root (a sign-in provider is never trusted on first use).
func TestLoginFetchesAreGuarded(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"issuer":"` + "https://" + r.Host + `","authorization_endpoint":"https://` + r.Host + `/auth","token_endpoint":"https://` +
			r.Host + `/token","jwks_uri":"https://` + r.Host + `/keys"}`))
	}))
	defer srv.Close()
	ctx := context.Background()
	c := gatehouse.OIDCClient{Issuer: srv.URL, ClientID: "c", Scopes: []string{"openid"}}
	_, err := oidc.NewLogin(oidc.Options{}).AuthCodeURL(ctx, c, "https://gh.example/cb", "s", "n", "v")
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("a loopback provider: %v", err)
	}
	_, err = oidc.NewLogin(oidc.Options{AllowInsecure: true}).AuthCodeURL(ctx, c, "https://gh.example/cb", "s", "n", "v")
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("an untrusted certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	u, err := oidc.NewLogin(oidc.Options{AllowInsecure: true, RootCAs: pool}).AuthCodeURL(ctx, c, "https://gh.example/cb", "s", "n", "v")
	if err != nil || !strings.HasPrefix(u, srv.URL+"/auth?") || !strings.Contains(u, "code_challenge_method=S256") || !strings.Contains(u, "nonce=n") {
		t.Errorf("a trusted provider: %q %v", u, err)
	}
}
