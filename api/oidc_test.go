package api_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// testIssuer is a real OIDC issuer: a TLS server with discovery and a key
// set, signing real JWTs.
type testIssuer struct {
	srv     *httptest.Server
	mu      sync.Mutex
	keys    map[string]*rsa.PrivateKey // by kid
	current string
	fetches int
}

func newTestIssuer(t testing.TB) *testIssuer {
	t.Helper()
	ti := &testIssuer{keys: map[string]*rsa.PrivateKey{}}
	ti.rotate()
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": ti.srv.URL, "jwks_uri": ti.srv.URL + "/keys"})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		ti.mu.Lock()
		defer ti.mu.Unlock()
		ti.fetches++
		var ks jose.JSONWebKeySet
		for kid, k := range ti.keys {
			ks.Keys = append(ks.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"})
		}
		w.Header().Set("Cache-Control", "max-age=3600")
		json.NewEncoder(w).Encode(ks)
	})
	ti.srv = httptest.NewTLSServer(mux)
	t.Cleanup(ti.srv.Close)
	return ti
}

// rotate adds a new signing key and makes it current.
func (ti *testIssuer) rotate() string {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	ti.mu.Lock()
	defer ti.mu.Unlock()
	kid := fmt.Sprintf("key-%d", len(ti.keys)+1)
	ti.keys[kid] = k
	ti.current = kid
	return kid
}

func (ti *testIssuer) fetchCount() int {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	return ti.fetches
}

// sign makes an RS256 JWT with the current key; claims override defaults.
func (ti *testIssuer) sign(claims map[string]any) string {
	ti.mu.Lock()
	kid, key := ti.current, ti.keys[ti.current]
	ti.mu.Unlock()
	now := time.Now()
	all := map[string]any{"iss": ti.srv.URL, "aud": "acme", "iat": now.Unix(), "nbf": now.Unix() - 5, "exp": now.Add(5 * time.Minute).Unix()}
	for k, v := range claims {
		if v == nil {
			delete(all, k)
		} else {
			all[k] = v
		}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		panic(err)
	}
	tok, err := jwt.Signed(signer).Claims(all).Serialize()
	if err != nil {
		panic(err)
	}
	return tok
}

// githubClaims are shaped like a GitHub Actions ID token.
func githubClaims(repo, env string) map[string]any {
	return map[string]any{"sub": "repo:" + repo + ":environment:" + env, "repository": repo, "repository_owner": strings.Split(repo, "/")[0],
		"ref": "refs/heads/main", "ref_type": "branch", "environment": env, "job_workflow_ref": repo + "/.github/workflows/deploy.yml@refs/heads/main"}
}

// gitlabClaims are shaped like a GitLab CI ID token.
func gitlabClaims(project, ref string, protected bool) map[string]any {
	return map[string]any{"sub": "project_path:" + project + ":ref_type:branch:ref:" + ref, "project_path": project,
		"namespace_path": strings.Split(project, "/")[0], "ref": ref, "ref_type": "branch", "ref_protected": fmt.Sprint(protected)}
}

type exchangeResult struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
	Error           string `json:"error"`
	Description     string `json:"error_description"`
}

// exchange posts to /api/oauth/token as JSON (or a form).
func (e *env) exchange(jwtValue, kind, scope string, form bool, extra map[string]string) (int, exchangeResult) {
	e.t.Helper()
	fields := map[string]string{"grant_type": "urn:ietf:params:oauth:grant-type:token-exchange", "audience": "urn:pulumi:org:acme",
		"subject_token_type": "urn:ietf:params:oauth:token-type:id_token", "subject_token": jwtValue,
		"requested_token_type": "urn:pulumi:token-type:access_token:" + kind, "scope": scope}
	for k, v := range extra {
		fields[k] = v
	}
	var req *http.Request
	if form {
		vals := url.Values{}
		for k, v := range fields {
			vals.Set(k, v)
		}
		req, _ = http.NewRequest("POST", e.srv.URL+"/api/oauth/token", strings.NewReader(vals.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		b, _ := json.Marshal(fields)
		req, _ = http.NewRequest("POST", e.srv.URL+"/api/oauth/token", strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out exchangeResult
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

type issuerResp struct {
	ID, Name, URL, Issuer string
	Thumbprints           []string
	MaxExpiration         int64
}

// register registers the test issuer and returns it with its policy id.
func (e *env) register(ti *testIssuer, name string) (issuerResp, string) {
	e.t.Helper()
	var iss issuerResp
	e.must(e.admin, "POST", "/api/orgs/acme/oidc/issuers", map[string]any{"name": name, "url": ti.srv.URL}, 200, &iss)
	var pol struct {
		ID       string
		Version  int
		Policies []map[string]any
	}
	e.must(e.admin, "GET", "/api/orgs/acme/auth/policies/oidcissuers/"+iss.ID, nil, 200, &pol)
	return iss, pol.ID
}

func TestOIDCIssuersAndExchange(t *testing.T) {
	e := newEnv(t)
	gh := newTestIssuer(t)
	iss, policyID := e.register(gh, "github")
	if iss.Issuer != gh.srv.URL || len(iss.Thumbprints) != 1 || len(iss.Thumbprints[0]) != 64 || iss.MaxExpiration != 25*3600 {
		t.Fatalf("registered issuer = %+v", iss)
	}
	e.fails(e.admin, "POST", "/api/orgs/acme/oidc/issuers", map[string]any{"name": "again", "url": gh.srv.URL}, 409, "already registered")
	e.fails(e.admin, "POST", "/api/orgs/acme/oidc/issuers", map[string]any{"name": "plain", "url": "http://example.com"}, 400, "https://")
	e.fails(e.admin, "POST", "/api/orgs/acme/oidc/issuers", map[string]any{"name": "", "url": gh.srv.URL}, 400, "name")
	e.fails(e.admin, "PATCH", "/api/orgs/acme/oidc/issuers/"+iss.ID, map[string]any{"name": "x", "url": "https://else"}, 400, "cannot change")

	// A new issuer denies everything.
	jwtValue := gh.sign(githubClaims("acme/app", "prod"))
	if status, res := e.exchange(jwtValue, "organization", "", false, nil); status != 400 || res.Error != "invalid_grant" || !strings.Contains(res.Description, "denies") {
		t.Fatalf("exchange under the deny-all policy: %d %+v", status, res)
	}

	// Allow the prod environment of acme/app an organization token with a
	// narrow role, and the platform team a team token.
	var role struct{ ID string }
	e.must(e.admin, "POST", "/api/orgs/acme/roles", map[string]any{"name": "deployer", "uxPurpose": "role",
		"details": map[string]any{"__type": "PermissionDescriptorAllow", "permissions": []string{"org_member:read"}}}, 200, &role)
	e.must(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]any{"name": "platform"}, 201, nil)
	rules := []map[string]any{
		{"decision": "deny", "tokenType": "organization", "rules": map[string]string{"environment": "sandbox"}},
		{"decision": "allow", "tokenType": "organization", "roleID": role.ID, "rules": map[string]string{"sub": "repo:acme/app:*", "aud": "acme"}},
		{"decision": "allow", "tokenType": "organization", "authorizedPermissions": []string{"admin"}, "rules": map[string]string{"repository": "acme/admin-tools"}},
		{"decision": "allow", "tokenType": "team", "teamName": "platform", "rules": map[string]string{"repository_owner": "acme"}},
	}
	e.fails(e.admin, "PATCH", "/api/orgs/acme/auth/policies/"+policyID, map[string]any{"policies": []any{}}, 400, "at least one rule")
	e.fails(e.admin, "PATCH", "/api/orgs/acme/auth/policies/"+policyID, map[string]any{"policies": []any{map[string]any{"decision": "maybe", "tokenType": "organization"}}}, 400, "policies[0].decision")
	e.fails(e.admin, "PATCH", "/api/orgs/acme/auth/policies/"+policyID, map[string]any{"policies": []any{map[string]any{"decision": "allow", "tokenType": "team"}}}, 400, "teamName")
	var pol struct{ Version int }
	e.must(e.admin, "PATCH", "/api/orgs/acme/auth/policies/"+policyID, map[string]any{"policies": rules}, 200, &pol)
	if pol.Version != 2 {
		t.Errorf("policy version = %d", pol.Version)
	}

	status, res := e.exchange(jwtValue, "organization", "", false, map[string]string{"expiration": "600"})
	if status != 200 || !strings.HasPrefix(res.AccessToken, "pul-") || res.IssuedTokenType != "urn:pulumi:token-type:access_token:organization" ||
		res.TokenType != "token" || res.ExpiresIn != 600 {
		t.Fatalf("exchange: %d %+v", status, res)
	}
	// The issued token holds exactly the rule's role.
	if r := e.decide(res.AccessToken, "org_member:read", map[string]string{"type": "global"}); !r.Allowed {
		t.Errorf("exchanged token lacks its role's scope: %s", r.Reason)
	}
	if r := e.decide(res.AccessToken, "team:list", map[string]string{"type": "global"}); r.Allowed {
		t.Errorf("exchanged token holds more than its role")
	}
	// Form encoding works too; expiration is capped by the issuer.
	e.must(e.admin, "PATCH", "/api/orgs/acme/oidc/issuers/"+iss.ID, map[string]any{"name": "github", "maxExpiration": 900}, 200, nil)
	if status, res := e.exchange(jwtValue, "organization", "", true, map[string]string{"expiration": "86400"}); status != 200 || res.ExpiresIn != 900 {
		t.Errorf("form exchange with a capped expiration: %d %+v", status, res)
	}
	// A team token for the named team.
	if status, res := e.exchange(jwtValue, "team", "team:platform", false, nil); status != 200 || res.IssuedTokenType != "urn:pulumi:token-type:access_token:team" {
		t.Errorf("team exchange: %d %+v", status, res)
	}
	// Admin only with authorizedPermissions.
	adminJWT := gh.sign(githubClaims("acme/admin-tools", "prod"))
	status, res = e.exchange(adminJWT, "organization", "admin", false, nil)
	if status != 200 {
		t.Fatalf("admin exchange: %d %+v", status, res)
	}
	if r := e.decide(res.AccessToken, "org_token:create", map[string]string{"type": "global"}); !r.Allowed {
		t.Errorf("admin exchange is not admin: %s", r.Reason)
	}

	// GitLab-shaped tokens from a second issuer, and key rotation.
	gl := newTestIssuer(t)
	_, glPolicy := e.register(gl, "gitlab")
	e.must(e.admin, "PATCH", "/api/orgs/acme/auth/policies/"+glPolicy, map[string]any{"policies": []map[string]any{
		{"decision": "allow", "tokenType": "organization", "rules": map[string]string{"project_path": "acme/*", "ref_protected": "true"}}}}, 200, nil)
	if status, res := e.exchange(gl.sign(gitlabClaims("acme/infra", "main", true)), "organization", "", false, nil); status != 200 {
		t.Errorf("gitlab exchange: %d %+v", status, res)
	}
	if status, res := e.exchange(gl.sign(gitlabClaims("acme/infra", "feature", false)), "organization", "", false, nil); status != 400 ||
		!strings.Contains(res.Description, `subject policy: the claims matched no allow rule`) || !strings.Contains(res.Description, "claim ref_protected does not match") ||
		strings.Contains(res.Description, `"true"`) {
		t.Errorf("gitlab exchange from an unprotected ref: %d %+v", status, res)
	}
	before := gl.fetchCount()
	gl.rotate()
	if status, res := e.exchange(gl.sign(gitlabClaims("acme/infra", "main", true)), "organization", "", false, nil); status != 200 {
		t.Errorf("exchange after key rotation: %d %+v", status, res)
	}
	if gl.fetchCount() != before+1 {
		t.Errorf("key rotation fetched the keys %d times, want once", gl.fetchCount()-before)
	}
	// The exchange is audited with the issuer, sub and rule.
	if n := e.countEvents("oidc_token_exchanged"); n < 5 {
		t.Errorf("%d exchange events", n)
	}
}

func TestOIDCExchangeRejections(t *testing.T) {
	e := newEnv(t)
	ti := newTestIssuer(t)
	_, policyID := e.register(ti, "github")
	e.must(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]any{"name": "platform"}, 201, nil)
	e.must(e.admin, "PATCH", "/api/orgs/acme/auth/policies/"+policyID, map[string]any{"policies": []map[string]any{
		{"decision": "deny", "tokenType": "organization", "rules": map[string]string{"environment": "sandbox"}},
		{"decision": "allow", "tokenType": "organization", "rules": map[string]string{"sub": "repo:acme/*"}},
		{"decision": "allow", "tokenType": "team", "teamName": "platform", "rules": map[string]string{"repository_owner": "acme"}},
	}}, 200, nil)
	good := githubClaims("acme/app", "prod")
	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for kk, vv := range good {
			c[kk] = vv
		}
		c[k] = v
		return c
	}
	valid := ti.sign(good)
	parts := strings.Split(valid, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	// alg none.
	noneTok := b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	// HS256 signed with the issuer's RSA public key as the secret.
	ti.mu.Lock()
	pub := ti.keys[ti.current].PublicKey
	ti.mu.Unlock()
	pubJWK, _ := json.Marshal(jose.JSONWebKey{Key: &pub})
	hmacSigner, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: pubJWK}, (&jose.SignerOptions{}).WithHeader("kid", "key-1"))
	hsTok, _ := jwt.Signed(hmacSigner).Claims(map[string]any{"iss": ti.srv.URL, "aud": "acme", "sub": "repo:acme/app:x", "exp": time.Now().Add(time.Minute).Unix()}).Serialize()
	// Tampered payload: change the claims, keep the signature.
	tamperedPayload := parts[0] + "." + b64([]byte(`{"iss":"`+ti.srv.URL+`","aud":"acme","sub":"repo:acme/app:x","exp":9999999999}`)) + "." + parts[2]
	// Tampered signature: another base64url character in the middle, so
	// that the signature still decodes but no longer verifies.
	sig := []byte(parts[2])
	if sig[10] == 'A' {
		sig[10] = 'B'
	} else {
		sig[10] = 'A'
	}
	tamperedSig := parts[0] + "." + parts[1] + "." + string(sig)
	// Unknown kid: a key the issuer never published.
	stranger, _ := rsa.GenerateKey(rand.Reader, 2048)
	strangeSigner, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: stranger}, (&jose.SignerOptions{}).WithHeader("kid", "unknown-kid"))
	unknownKid, _ := jwt.Signed(strangeSigner).Claims(map[string]any{"iss": ti.srv.URL, "aud": "acme", "sub": "repo:acme/app:x", "exp": time.Now().Add(time.Minute).Unix()}).Serialize()
	other := newTestIssuer(t)

	cases := []struct {
		name, token, kind, scope string
		extra                    map[string]string
		code, want               string
	}{
		{"alg none", noneTok, "organization", "", nil, "invalid_grant", "format"},
		{"HS256 with the RSA public key", hsTok, "organization", "", nil, "invalid_grant", "format"},
		{"expired", ti.sign(with("exp", time.Now().Add(-10*time.Minute).Unix())), "organization", "", nil, "invalid_grant", "exp: the token expired"},
		{"nbf in the future", ti.sign(with("nbf", time.Now().Add(10*time.Minute).Unix())), "organization", "", nil, "invalid_grant", "nbf"},
		{"wrong iss", other.sign(good), "organization", "", nil, "invalid_grant", "is not registered"},
		{"wrong aud", ti.sign(with("aud", "someone-else")), "organization", "", nil, "invalid_grant", "aud: the token's audience"},
		{"unknown kid", unknownKid, "organization", "", nil, "invalid_grant", `kid: no key "unknown-kid"`},
		{"tampered payload", tamperedPayload, "organization", "", nil, "invalid_grant", "signature"},
		{"tampered signature", tamperedSig, "organization", "", nil, "invalid_grant", "signature"},
		{"another organization", valid, "organization", "", map[string]string{"audience": "urn:pulumi:org:globex"}, "invalid_target", `organization "globex" not found`},
		{"a deny rule", ti.sign(with("environment", "sandbox")), "organization", "", nil, "invalid_grant", "rule 0 of issuer \"github\" denies"},
		{"no allow rule", ti.sign(with("sub", "repo:evil/app:x")), "organization", "", nil, "invalid_grant", `subject policy: the claims matched no allow rule for organization tokens of issuer "github" (rule 1: claim sub does not match; the organization's admins find the rule's pattern in its audit log)`},
		{"admin without authorizedPermissions", valid, "organization", "admin", nil, "invalid_scope", "authorizedPermissions"},
		{"a team the rule does not name", valid, "team", "team:ops", nil, "invalid_grant", `rule 2 does not allow team "ops"`},
		{"team scope missing", valid, "team", "", nil, "invalid_scope", "team:NAME"},
		{"oversized", valid + strings.Repeat("A", 20<<10), "organization", "", nil, "invalid_grant", "size"},
		{"wrong grant type", valid, "organization", "", map[string]string{"grant_type": "password"}, "unsupported_grant_type", "grant_type"},
		{"wrong subject token type", valid, "organization", "", map[string]string{"subject_token_type": "urn:x"}, "invalid_request", "subject_token_type"},
		{"wrong requested type", valid, "bearer", "", nil, "invalid_request", "requested_token_type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, res := e.exchange(c.token, c.kind, c.scope, false, c.extra)
			if status != 400 || res.Error != c.code || !strings.Contains(res.Description, c.want) || res.AccessToken != "" {
				t.Errorf("status %d, %+v; want %s with %q", status, res, c.code, c.want)
			}
			if strings.Contains(res.Description, "BEGIN") || strings.Contains(res.Description, `"n":`) {
				t.Errorf("the error shows a key: %s", res.Description)
			}
			// The presenter learns which check failed, never the policy's
			// patterns (the audit log holds them, below).
			for _, pattern := range []string{"repo:acme/*", `"platform"`} {
				if strings.Contains(res.Description, pattern) {
					t.Errorf("the refusal shows the policy's pattern %s: %s", pattern, res.Description)
				}
			}
		})
	}
	// A flood of unknown kids does not hammer the issuer: one refetch per
	// interval.
	before := ti.fetchCount()
	for i := 0; i < 20; i++ {
		e.exchange(unknownKid, "organization", "", false, nil)
	}
	if n := ti.fetchCount() - before; n > 1 {
		t.Errorf("20 unknown-kid tokens fetched the keys %d times", n)
	}
	// The refusals are audited as failed authentications.
	e.flushAudit()
	if n := e.countEvents("authentication_failed"); n < len(cases)-1 {
		t.Errorf("%d failed exchanges audited, want about %d", n, len(cases))
	}
	var page struct {
		AuditLogEvents []struct{ Details map[string]string }
	}
	e.must(e.admin, "GET", "/api/orgs/acme/auditlogs/v2?eventFilter=authentication_failed&pageSize=100", nil, 200, &page)
	found := false
	for _, ev := range page.AuditLogEvents {
		found = found || strings.Contains(ev.Details["detail"], `claim sub "repo:evil/app:x" does not match "repo:acme/*"`)
	}
	if !found {
		t.Errorf("no audit event holds the refusal in full (the pattern the policy expected): %+v", page.AuditLogEvents)
	}
}
