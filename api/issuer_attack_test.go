package api_test

import "testing"

// TestExchangedTokenCannotMintDurableToken: a personal token exchanged
// from an OIDC ID token (short-lived, bound to its issuer, revoked when
// the issuer is deleted) used to be able to create a personal access
// token of its user through POST /api/user/tokens: never expiring,
// recording no issuer, so it outlived both the exchange's lifetime and the
// issuer's deletion. An exchanged token must not mint durable credentials.
func TestExchangedTokenCannotMintDurableToken(t *testing.T) {
	e := newEnv(t)
	ti := newTestIssuer(t)
	iss, policyID := e.register(ti, "ci")
	e.must(e.admin, "PATCH", "/api/orgs/acme/auth/policies/"+policyID, map[string]any{"policies": []map[string]any{
		{"decision": "allow", "tokenType": "personal", "userLogin": "admin", "rules": map[string]string{"repository_owner": "acme"}},
	}}, 200, nil)
	status, res := e.exchange(ti.sign(githubClaims("acme/app", "prod")), "personal", "user:admin", false, nil)
	if status != 200 {
		t.Fatalf("personal exchange: %d %+v", status, res)
	}
	var minted struct{ ID, TokenValue string }
	status, body := e.call(res.AccessToken, "POST", "/api/user/tokens", map[string]any{"description": "forever", "expires": 0}, &minted)
	if status == 200 {
		e.must(e.admin, "DELETE", "/api/orgs/acme/oidc/issuers/"+iss.ID, nil, 204, nil)
		after, _ := e.call(minted.TokenValue, "GET", "/api/orgs/acme/members", nil, nil)
		t.Fatalf("an exchanged token created a personal token (%s); after the issuer's deletion it answers %d", body, after)
	}
	if status != 403 {
		t.Fatalf("POST /api/user/tokens with an exchanged token: %d %s; want 403", status, body)
	}
	// The user's own token still can.
	e.must(e.admin, "POST", "/api/user/tokens", map[string]any{"description": "mine", "expires": 0}, 200, nil)
}
