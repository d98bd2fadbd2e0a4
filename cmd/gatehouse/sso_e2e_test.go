package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/ssotest"
	"github.com/gatehouse-iam/gatehouse/store/storetest"
)

// TestSSOOnboarding is issue 17's whole journey, with the stock pulumi CLI
// and real providers (zitadel's OpenID provider and crewjam's SAML IdP,
// over TLS on loopback) against `gatehouse serve`:
//
//   - alice is provisioned over SCIM as Okta does it (userName her
//     address); she signs in to the console through OpenID Connect and
//     through SAML, as that user, and runs `pulumi login` in the browser
//     from her SSO session;
//   - bob, a user of another organization, is invited; the provider cannot
//     sign him in until he accepts; then he signs in through SAML and logs
//     the CLI in the same way;
//   - a stranger the provider knows is refused (first sign-ins are off);
//   - SCIM sets alice active=false: her two console sessions, the CLI's
//     token and a personal token she made stop working at once on the
//     server that took the change and, on PostgreSQL, within a second on
//     another replica (which polls only every 30 s, so only its
//     announcement can make it); she cannot sign in again. Removing bob
//     ends his acme session and CLI token and leaves his own
//     organization's token working.
func TestSSOOnboarding(t *testing.T) {
	pulumi := pulumiCLI(t)
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) is not installed")
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) { ssoOnboarding(t, pulumi, script, dialect) })
	}
}

func ssoOnboarding(t *testing.T, pulumi, script, dialect string) {
	ctx := context.Background()
	portA := freePort(t)
	public := "http://127.0.0.1:" + portA
	people := []ssotest.User{
		{Username: "alice", Email: "alice@example.com", EmailVerified: true},
		{Username: "bob", Email: "bob@example.com", EmailVerified: true},
		{Username: "mallory", Email: "mallory@example.com", EmailVerified: true},
	}
	op := ssotest.NewOP(t, people, []ssotest.Client{{ID: "gatehouse", Secret: "gatehouse-secret", RedirectURI: public + "/console/-/sso/acme/oidc/callback"}})
	idp := ssotest.NewIdP(t, people)
	dir := t.TempDir()
	ca := ssotest.CAFile(t, op.Server, dir)

	database := filepath.Join(dir, "g.db")
	keyFile := ""
	if dialect == "postgres" {
		database = storetest.PostgresSchema(t)
		keyFile = filepath.Join(dir, "master.key")
		if code, _, stderr := run(t, "admin", "master-key", keyFile); code != 0 {
			t.Fatalf("admin master-key: %d %s", code, stderr)
		}
	}
	config := func(port string) func(*Config) {
		return func(c *Config) {
			c.Listen, c.PublicURL, c.SSOCAFile, c.RefreshInterval = "127.0.0.1:"+port, public, ca, "30s"
			c.AllowInsecureIssuers = true // the provider is on loopback
			if keyFile != "" {
				c.MasterKeyFile = keyFile
			}
		}
	}
	a, admin := startMain(t, database, config(portA))
	servers := []*Main{a}
	if dialect == "postgres" {
		b, _ := startMain(t, database, config(freePort(t)))
		servers = append(servers, b)
	}
	call := func(token, method, path string, body, out any) int {
		t.Helper()
		status, data := httpCall(t, a, token, method, path, body)
		if out != nil {
			json.Unmarshal(data, out)
		}
		if status >= 300 {
			t.Logf("%s %s: %d %s", method, path, status, data)
		}
		return status
	}

	// The organization's providers, first sign-ins off: only people it
	// provisions or invites get in.
	if st := call(admin, "PATCH", "/api/orgs/acme/sso/oidc", map[string]any{"issuer": op.URL, "clientId": "gatehouse",
		"clientSecret": "gatehouse-secret", "userClaim": "email", "allowCreate": false}, nil); st != 200 {
		t.Fatalf("configure OIDC: %d", st)
	}
	if st := call(admin, "PATCH", "/api/orgs/acme/saml", map[string]any{"newIdpSsoDescriptor": idp.Metadata(t), "allowCreate": false}, nil); st != 200 {
		t.Fatalf("configure SAML: %d", st)
	}
	browser := func() *ssotest.Browser {
		b := ssotest.NewBrowser(t, op.Server)
		b.SameOrigin = true
		return b
	}
	status, _, spMetadata := browser().Do("GET", public+"/console/-/sso/acme/saml/metadata", nil)
	if status != 200 {
		t.Fatalf("SP metadata: %d", status)
	}
	idp.RegisterSP(t, "gatehouse", spMetadata)

	// SCIM provisions alice, as Okta sends her.
	var scimToken struct{ Token string }
	if st := call(admin, "POST", "/api/orgs/acme/scim/token", nil, &scimToken); st != 201 {
		t.Fatalf("SCIM token: %d", st)
	}
	scim := func(method, path string, body any) (int, map[string]any) {
		t.Helper()
		data, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, public+"/scim/v2/acme"+path, bytes.NewReader(data))
		req.Header.Set("Authorization", "Bearer "+scimToken.Token)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	st, alice := scim("POST", "/Users", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": "alice@example.com", "externalId": "00u1alice", "name": map[string]any{"givenName": "Alice", "familyName": "Doe"},
		"emails": []map[string]any{{"value": "alice@example.com", "primary": true, "type": "work"}}, "active": true})
	aliceID, _ := alice["id"].(string)
	if st != 201 || aliceID == "" {
		t.Fatalf("SCIM create: %d %v", st, alice)
	}

	// alice signs in through OpenID Connect and through SAML, both as the
	// user SCIM made.
	signedIn := func(b *ssotest.Browser, m *Main) bool {
		st, _, _ := b.Do("GET", "http://"+m.Addr+"/console/acme/", nil)
		return st == 200
	}
	oidcSignIn := func(user string) (*ssotest.Browser, int, string) {
		b := browser()
		st, _, body := b.Do("GET", op.SignIn(b, public+"/console/-/sso/acme?protocol=oidc", user), nil)
		return b, st, body
	}
	samlSignIn := func(user string) (*ssotest.Browser, int, string) {
		b := browser()
		acs, form := idp.SignIn(b, public+"/console/-/sso/acme?protocol=saml", user)
		if acs != public+"/console/-/sso/acme/saml/acs" {
			t.Fatalf("ACS %q", acs)
		}
		st, _, body := b.Do("POST", acs, form)
		return b, st, body
	}
	aliceOIDC, st, body := oidcSignIn("alice")
	if st != 200 || !strings.Contains(body, "Signed in") || !signedIn(aliceOIDC, a) {
		t.Fatalf("alice through OIDC: %d %.500s", st, body)
	}
	aliceSAML, st, body := samlSignIn("alice")
	if st != 200 || !strings.Contains(body, "Signed in") || !signedIn(aliceSAML, a) {
		t.Fatalf("alice through SAML: %d %.500s", st, body)
	}
	var members struct {
		Members []struct{ User struct{ GithubLogin string } }
	}
	call(admin, "GET", "/api/orgs/acme/members", nil, &members)
	var logins []string
	for _, m := range members.Members {
		logins = append(logins, m.User.GithubLogin)
	}
	if strings.Join(logins, ",") != "admin,alice@example.com" && strings.Join(logins, ",") != "alice@example.com,admin" {
		t.Errorf("members after alice's sign-ins: %v, want admin and alice@example.com", logins)
	}

	// A stranger the provider knows is refused.
	if _, st, body := oidcSignIn("mallory"); st != 403 || !strings.Contains(body, "does not let a first sign-in create members") {
		t.Errorf("a stranger: %d %.300s", st, body)
	}

	// pulumi login in the browser, from alice's SSO session.
	aliceCLI := ssoPulumiLogin(t, pulumi, script, filepath.Join(dir, "alice"), public, a.Addr, aliceOIDC)
	if who := pulumiWhoami(t, pulumi, aliceCLI.env); who != "alice@example.com" {
		t.Fatalf("pulumi whoami as alice: %q", who)
	}
	if out, err := pulumiStackLs(pulumi, aliceCLI.env); err != nil {
		t.Fatalf("pulumi stack ls as alice: %v %s", err, out)
	}
	var personal struct{ TokenValue string }
	if st := call(aliceCLI.token, "POST", "/api/user/tokens", map[string]any{"description": "laptop"}, &personal); st != 200 && st != 201 {
		t.Fatalf("alice's personal token: %d", st)
	}

	// bob belongs to another organization, as bob_example.com (the login
	// his address makes); invited, he gets in once he accepts.
	if _, err := a.Service.CreateOrgWithAdmin(ctx, "beta", "bob_example.com", false); err != nil {
		t.Fatal(err)
	}
	bobOwn, err := a.Service.IssueToken(ctx, "beta", "bob_example.com", "bob's own", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var invite struct{ ID string }
	if st := call(admin, "POST", "/api/orgs/acme/invites", map[string]any{"userLogin": "bob_example.com"}, &invite); st != 201 && st != 200 {
		t.Fatalf("invite bob: %d", st)
	}
	if _, st, body := samlSignIn("bob"); st != 403 || !strings.Contains(body, "must invite them") {
		t.Errorf("bob before accepting: %d %.300s", st, body)
	}
	if st := call(bobOwn, "POST", "/api/user/pending-invites/"+invite.ID+"/accept", nil, nil); st != 200 && st != 204 {
		t.Fatalf("bob accepts: %d", st)
	}
	bobSAML, st, body := samlSignIn("bob")
	if st != 200 || !signedIn(bobSAML, a) {
		t.Fatalf("bob through SAML: %d %.500s", st, body)
	}
	bobCLI := ssoPulumiLogin(t, pulumi, script, filepath.Join(dir, "bob"), public, a.Addr, bobSAML)
	if who := pulumiWhoami(t, pulumi, bobCLI.env); who != "bob_example.com" {
		t.Fatalf("pulumi whoami as bob: %q", who)
	}

	// Every server knows alice's credentials before she is deprovisioned.
	for _, m := range servers {
		waitFor(t, "alice's tokens on "+m.Addr, 10*time.Second, func() bool {
			return tokenWorks(t, m, aliceCLI.token) && tokenWorks(t, m, personal.TokenValue) && signedIn(aliceOIDC, m) && signedIn(aliceSAML, m)
		})
	}

	// SCIM deactivates alice (Okta's PATCH): locked out everywhere.
	if st, out := scim("PATCH", "/Users/"+aliceID, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []map[string]any{{"op": "replace", "value": map[string]any{"active": false}}}}); st != 200 || out["active"] != false {
		t.Fatalf("SCIM active=false: %d %v", st, out)
	}
	deactivated := time.Now()
	lockedOut := func(m *Main) bool {
		return !tokenWorks(t, m, aliceCLI.token) && !tokenWorks(t, m, personal.TokenValue) && !signedIn(aliceOIDC, m) && !signedIn(aliceSAML, m)
	}
	if !lockedOut(a) {
		t.Errorf("alice still gets in on the server that took the SCIM change")
	}
	for _, m := range servers[1:] {
		waitFor(t, "alice locked out on the other replica", time.Second, func() bool { return lockedOut(m) })
		t.Logf("locked out on the other replica %v after the SCIM response", time.Since(deactivated).Round(time.Millisecond))
	}
	// (whoami trusts the CLI's recent validation; listing stacks asks;
	// the CLI words a 401 as a need to log in.)
	if out, err := pulumiStackLs(pulumi, aliceCLI.env); err == nil || !strings.Contains(out, "requires logging in") {
		t.Errorf("pulumi stack ls after deprovisioning: %v %s", err, out)
	}
	if _, st, body := oidcSignIn("alice"); st != 403 || !strings.Contains(body, "deactivated") {
		t.Errorf("alice signing in again: %d %.300s", st, body)
	}
	if _, st, _ := samlSignIn("alice"); st != 403 {
		t.Errorf("alice signing in again through SAML: %d", st)
	}

	// Removing bob ends his acme session and CLI token; his own
	// organization's token still works.
	if st := call(admin, "DELETE", "/api/orgs/acme/members/bob_example.com", nil, nil); st != 204 && st != 200 {
		t.Fatalf("remove bob: %d", st)
	}
	for _, m := range servers {
		waitFor(t, "bob out of acme on "+m.Addr, time.Second, func() bool { return !tokenWorks(t, m, bobCLI.token) && !signedIn(bobSAML, m) })
	}
	if !tokenWorks(t, a, bobOwn) {
		t.Error("bob's own organization's token stopped working")
	}
}

// ssoLogin is a pulumi login made from an SSO session: its environment
// and the token the console handed the CLI.
type ssoLogin struct {
	env   []string
	token string
}

// ssoPulumiLogin runs `pulumi login` with b, a browser signed in to the
// console through SSO, confirming the CLI's request in the console.
func ssoPulumiLogin(t *testing.T, pulumi, script, dir, base, console string, b *ssotest.Browser) ssoLogin {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	var token string
	in := pulumiLogin(t, pulumi, script, dir, base, console, []string{"PULUMI_CONSOLE_DOMAIN=" + console}, func(opened string) {
		_, st, page := b.Follow(opened)
		csrf := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(page)
		if st != 200 || csrf == nil {
			t.Fatalf("the console's confirmation page: %d %.500s", st, page)
		}
		q, _ := url.Parse(opened)
		v := q.Query()
		v.Set("csrf", csrf[1])
		v.Set("action", "authorize")
		st, h, page := b.Do("POST", base+"/console/-/cli-login", v)
		loc, _ := url.Parse(h.Get("Location"))
		if st != http.StatusSeeOther || loc == nil || loc.Hostname() != "localhost" {
			t.Fatalf("confirming: %d %s %.300s", st, h.Get("Location"), page)
		}
		token = loc.Query().Get("accessToken")
		if _, st, _ := b.Follow(loc.String()); st != 200 {
			t.Fatalf("the CLI's redirect back to the console: %d", st)
		}
	})
	return ssoLogin{env: in.env, token: token}
}

// pulumiWhoami is `pulumi whoami`'s answer, "" when it fails.
func pulumiWhoami(t *testing.T, pulumi string, env []string) string {
	t.Helper()
	cmd := exec.Command(pulumi, "whoami")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// pulumiStackLs runs `pulumi stack ls --all`, which asks the server.
func pulumiStackLs(pulumi string, env []string) (string, error) {
	cmd := exec.Command(pulumi, "stack", "ls", "--all")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// tokenWorks reports whether token authenticates on m.
func tokenWorks(t *testing.T, m *Main, token string) bool {
	t.Helper()
	st, _ := httpCall(t, m, token, "GET", "/api/user", nil)
	return st == 200
}

// waitFor polls ok until it holds, failing the test after d.
func waitFor(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
	}
}

// freePort is a loopback port nothing listens on (the server that takes it
// must know its own URL before it starts: SSO's redirect URIs name it).
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
