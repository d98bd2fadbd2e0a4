package web_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// roleID is the id of the descriptor of that purpose and name.
func (e *env) roleID(t *testing.T, purpose, name string) string {
	t.Helper()
	var out wire.ListRolesResponse
	e.api(e.admin, "GET", "/api/orgs/acme/roles?uxPurpose="+purpose, nil, &out)
	for _, r := range out.Roles {
		if r.Name == name {
			return r.ID
		}
	}
	t.Fatalf("no %s named %q", purpose, name)
	return ""
}

// member adds login to acme with role and returns a personal token of it.
func (e *env) member(t *testing.T, login, role string) string {
	t.Helper()
	ctx := context.Background()
	if _, err := e.svc.AddMember(ctx, orgID(t, e), login, role); err != nil {
		t.Fatal(err)
	}
	tok, err := e.svc.IssueToken(ctx, "acme", login, "t", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// testJWKS is a key set of a fresh RSA key, for an issuer registered with
// its keys (so that nothing is fetched).
func testJWKS(t *testing.T) json.RawMessage {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]any{{"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()), "e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes())}}})
	return jwks
}
