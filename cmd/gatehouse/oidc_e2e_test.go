package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// ciIssuer is an OIDC issuer shaped like GitHub Actions: a TLS server with
// discovery and keys, signing RS256 ID tokens.
type ciIssuer struct {
	srv *httptest.Server
	key *rsa.PrivateKey
}

func newCIIssuer(t *testing.T) *ciIssuer {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ci := &ciIssuer{key: key}
	ci.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{"issuer": ci.srv.URL, "jwks_uri": ci.srv.URL + "/keys"})
		case "/keys":
			json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(ci.srv.Close)
	return ci
}

func (ci *ciIssuer) token(t *testing.T, repo, env string) string {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: ci.key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok, err := jwt.Signed(signer).Claims(map[string]any{"iss": ci.srv.URL, "aud": "acme", "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"sub": "repo:" + repo + ":environment:" + env, "repository": repo, "environment": env}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestPulumiOIDCLogin: a CI job's ID token logs the real pulumi CLI in to
// Gatehouse, and the session may do exactly what the bound role allows.
func TestPulumiOIDCLogin(t *testing.T) {
	pulumi := pulumiCLI(t)
	m, admin := startMain(t, filepath.Join(t.TempDir(), "g.db"), func(c *Config) { c.AllowInsecureIssuers = true })
	url := "http://" + m.Addr
	ci := newCIIssuer(t)

	// Register the issuer, a narrow role, a team, and the policy.
	var iss struct{ ID string }
	status, body := httpCall(t, m, admin, "POST", "/api/orgs/acme/oidc/issuers", map[string]any{"name": "github", "url": ci.srv.URL})
	if status != 200 {
		t.Fatalf("register: %d %s", status, body)
	}
	json.Unmarshal(body, &iss)
	var pol, role struct{ ID string }
	_, body = httpCall(t, m, admin, "GET", "/api/orgs/acme/auth/policies/oidcissuers/"+iss.ID, nil)
	json.Unmarshal(body, &pol)
	_, body = httpCall(t, m, admin, "POST", "/api/orgs/acme/roles", map[string]any{"name": "role-reader", "uxPurpose": "role",
		"details": map[string]any{"__type": "PermissionDescriptorAllow", "permissions": []string{"role:read"}}})
	json.Unmarshal(body, &role)
	httpCall(t, m, admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]any{"name": "platform"})
	httpCall(t, m, admin, "POST", "/api/orgs/acme/members/bob", nil)
	status, body = httpCall(t, m, admin, "PATCH", "/api/orgs/acme/auth/policies/"+pol.ID, map[string]any{"policies": []map[string]any{
		{"decision": "allow", "tokenType": "organization", "roleID": role.ID, "rules": map[string]string{"sub": "repo:acme/app:*"}},
		{"decision": "allow", "tokenType": "team", "teamName": "platform", "rules": map[string]string{"repository": "acme/*"}},
	}})
	if status != 200 {
		t.Fatalf("policy: %d %s", status, body)
	}

	home := t.TempDir()
	run := func(args ...string) (string, error) {
		cmd := exec.Command(pulumi, args...)
		cmd.Dir = home
		env := []string{"PULUMI_HOME=" + filepath.Join(home, ".pulumi"), "PULUMI_SKIP_UPDATE_CHECK=true", "NO_COLOR=1"}
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "PULUMI_ACCESS_TOKEN=") && !strings.HasPrefix(kv, "PULUMI_BACKEND_URL=") {
				env = append(env, kv)
			}
		}
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	jwtFile := filepath.Join(home, "id-token")
	os.WriteFile(jwtFile, []byte(ci.token(t, "acme/app", "prod")), 0o600)
	out, err := run("login", "--oidc-token", "file://"+jwtFile, "--oidc-org", "acme", url)
	if err != nil || !strings.Contains(out, "Logged in to "+url) {
		t.Fatalf("pulumi login --oidc-token: %v\n%s", err, out)
	}
	out, err = run("whoami", "-v")
	if err != nil || !strings.Contains(out, "Token type: organization") {
		t.Errorf("whoami after OIDC login: %v\n%s", err, out)
	}
	// The session holds exactly the bound role: it may read roles, not
	// members.
	if out, err := run("org", "role", "list", "--org", "acme"); err != nil || !strings.Contains(out, "role-reader") {
		t.Errorf("role list with the exchanged token: %v\n%s", err, out)
	}
	if out, err := run("org", "member", "list", "--org", "acme"); err == nil || !strings.Contains(out, "403") || !strings.Contains(out, "org_member:read") {
		t.Errorf("member list with the exchanged token: %v\n%s", err, out)
	}
	// A team token, and a refusal for a repository the policy does not name.
	os.WriteFile(jwtFile, []byte(ci.token(t, "acme/infra", "prod")), 0o600)
	if out, err := run("login", "--oidc-token", "file://"+jwtFile, "--oidc-org", "acme", "--oidc-team", "platform", url); err != nil {
		t.Errorf("pulumi login --oidc-team: %v\n%s", err, out)
	}
	os.WriteFile(jwtFile, []byte(ci.token(t, "evil/app", "prod")), 0o600)
	out, err = run("login", "--oidc-token", "file://"+jwtFile, "--oidc-org", "acme", url)
	if err == nil || !strings.Contains(out, "invalid_grant") || !strings.Contains(out, "matched no allow rule") {
		t.Errorf("pulumi login with a token the policy refuses: %v\n%s", err, out)
	}
}

// TestOIDCCommands drives gatehouse oidc: add an issuer, set its policy,
// test claims against it, remove it.
func TestOIDCCommands(t *testing.T) {
	m, admin := startMain(t, filepath.Join(t.TempDir(), "g.db"), func(c *Config) { c.AllowInsecureIssuers = true })
	t.Setenv("GATEHOUSE_CONFIG_DIR", t.TempDir())
	t.Setenv("GATEHOUSE_URL", "http://"+m.Addr)
	t.Setenv("GATEHOUSE_TOKEN", admin)
	t.Setenv("GATEHOUSE_ORG", "acme")
	ci := newCIIssuer(t)
	must := func(want string, args ...string) string {
		t.Helper()
		code, stdout, stderr := run(t, args...)
		if code != exitOK || !strings.Contains(stdout, want) {
			t.Fatalf("gatehouse %s: exit %d\n%s%s\nwant %q", strings.Join(args, " "), code, stdout, stderr, want)
		}
		return stdout
	}
	must("github", "oidc", "issuer", "add", "github", ci.srv.URL, "--max-expiration", "1h")
	must(ci.srv.URL, "oidc", "issuer", "list")
	must(`"decision": "deny"`, "oidc", "policy", "get", "github")
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.json")
	os.WriteFile(rules, []byte(`[{"decision":"allow","tokenType":"organization","rules":{"sub":"repo:acme/*","environment":"prod"}},
		{"decision":"allow","tokenType":"team","teamName":"platform","rules":{"repository":"acme/*"}}]`), 0o600)
	must("version 2 with 2 rules", "oidc", "policy", "set", "github", rules)
	claims := filepath.Join(dir, "claims.json")
	os.WriteFile(claims, []byte(`{"sub":"repo:acme/app:environment:prod","environment":"prod","repository":"acme/app"}`), 0o600)
	must("allow: rule 0 matches; an exchange would issue a organization token", "oidc", "test", "--issuer", "github", "--claims", claims)
	must("allow: rule 1 matches", "oidc", "test", "--issuer", "github", "--claims", claims, "--token-type", "team", "--scope", "team:platform")
	var res struct {
		Allowed       bool   `json:"allowed"`
		Rule          *int   `json:"rule"`
		TokenType     string `json:"tokenType"`
		MaxExpiration string `json:"maxExpiration"`
	}
	if err := json.Unmarshal([]byte(must(`"allowed": true`, "oidc", "test", "--issuer", "github", "--claims", claims, "-o", "json")), &res); err != nil ||
		res.Rule == nil || *res.Rule != 0 || res.TokenType != "organization" || res.MaxExpiration != "1h0m0s" {
		t.Errorf("oidc test -o json: %v %+v", err, res)
	}
	must(`"id": "`, "oidc", "issuer", "get", "github", "-o", "json")
	os.WriteFile(claims, []byte(`{"sub":"repo:acme/app:environment:dev","environment":"dev"}`), 0o600)
	code, stdout, _ := run(t, "oidc", "test", "--issuer", "github", "--claims", claims)
	if code != exitDeny || !strings.Contains(stdout, `claim environment "dev" does not match "prod"`) {
		t.Errorf("oidc test of non-matching claims: exit %d %s", code, stdout)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`[{"decision":"perhaps","tokenType":"organization"}]`), 0o600)
	if code, _, stderr := run(t, "oidc", "policy", "set", "github", bad); code != exitError || !strings.Contains(stderr, "policies[0].decision") {
		t.Errorf("setting a bad policy: exit %d %s", code, stderr)
	}
	must("", "oidc", "issuer", "rm", "github")
	if code, _, stderr := run(t, "oidc", "policy", "get", "github"); code != exitError || !strings.Contains(stderr, "no OIDC issuer") {
		t.Errorf("policy of a removed issuer: exit %d %s", code, stderr)
	}
}
