package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
	"github.com/gatehouse-iam/gatehouse/store"
	"github.com/gatehouse-iam/gatehouse/web"
)

type env struct {
	t      *testing.T
	srv    *httptest.Server
	svc    *service.Service
	db     *store.DB
	az     *authz.Authorizer
	apiSrv *api.Server
	admin  string
}

func newEnv(t *testing.T) *env { return newEnvWith(t, api.Options{}) }

func newEnvWith(t *testing.T, opts api.Options) *env { return newEnvOn(t, "sqlite", opts) }

// dialects are the store dialects eachDialect and eachSSO run a test on.
var dialects = []string{"sqlite", "postgres"}

// dialectOptions are testenv's options for a store dialect, "sqlite" or
// "postgres" (a test on PostgreSQL is skipped without
// GATEHOUSE_TEST_POSTGRES_DSN).
func dialectOptions(dialect string) []testenv.Option {
	if dialect == "postgres" {
		return []testenv.Option{testenv.Postgres()}
	}
	return nil
}

// eachDialect runs a test on a console over SQLite and, with
// GATEHOUSE_TEST_POSTGRES_DSN, over PostgreSQL (skipped without it), the
// two at once.
func eachDialect(t *testing.T, test func(t *testing.T, e *env)) {
	for _, dialect := range dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			test(t, newEnvOn(t, dialect, api.Options{}))
		})
	}
}

// newEnvOn is newEnvWith on the named store dialect.
func newEnvOn(t *testing.T, dialect string, opts api.Options) *env {
	t.Helper()
	te := testenv.New(t, dialectOptions(dialect)...)
	a := api.New(te.Svc, te.Authz, opts)
	c := web.New(te.Svc, te.Authz, a, web.Options{Logger: opts.Logger})
	mux := http.NewServeMux()
	mux.Handle("/console/", c.Handler())
	mux.Handle("/", a.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); a.Close() })
	return &env{t: t, srv: srv, svc: te.Svc, db: te.DB, az: te.Authz, apiSrv: a, admin: te.Admin}
}

// browser is a client with its own cookies that does not follow
// redirects, so that each response can be checked.
type browser struct {
	e    *env
	c    *http.Client
	csrf string
	// forwardedFor, when set, is sent as X-Forwarded-For (a client behind
	// a proxy).
	forwardedFor string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func (b *browser) do(method, path string, form url.Values) (int, http.Header, string) {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		if b.csrf != "" && form.Get("csrf") == "" && path != "/console/login" {
			form.Set("csrf", b.csrf)
		}
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.e.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if b.forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", b.forwardedFor)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindStringSubmatch(string(data)); m != nil {
		b.csrf = m[1]
	}
	return resp.StatusCode, resp.Header, string(data)
}

func (b *browser) get(path string) string {
	b.e.t.Helper()
	status, _, body := b.do("GET", path, nil)
	if status != 200 {
		b.e.t.Fatalf("GET %s: %d\n%s", path, status, body)
	}
	return body
}

func (b *browser) signIn(token string) {
	b.e.t.Helper()
	status, h, body := b.do("POST", "/console/login", url.Values{"token": {token}, "next": {"/console/acme/"}})
	if status != 303 || h.Get("Location") != "/console/acme/" {
		b.e.t.Fatalf("sign in: %d %q\n%s", status, h.Get("Location"), body)
	}
	b.get("/console/acme/") // picks up the session's CSRF token
}

// api calls the JSON API with a token.
func (e *env) api(token, method, path string, body any, out any) int {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	req.Header.Set("Authorization", "token "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		json.Unmarshal(data, out)
	}
	return resp.StatusCode
}

func TestSignIn(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	// Pages need a session.
	status, h, _ := b.do("GET", "/console/acme/roles", nil)
	if status != 303 || !strings.HasPrefix(h.Get("Location"), "/console/login") {
		t.Fatalf("unauthenticated page: %d %q", status, h.Get("Location"))
	}
	status, h, body := b.do("GET", "/console/login", nil)
	if status != 200 || !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") || strings.Contains(body, "<script>") {
		t.Fatalf("login page: %d, CSP %q", status, h.Get("Content-Security-Policy"))
	}
	if status, _, body := b.do("POST", "/console/login", url.Values{"token": {"pul-nope"}}); status != 401 || !strings.Contains(body, "not a valid access token") {
		t.Errorf("a bad token: %d\n%s", status, body)
	}
	var tok wire.CreateTokenResponse
	e.api(e.admin, "POST", "/api/orgs/acme/tokens", wire.CreateTokenRequest{Name: "ci"}, &tok)
	if status, _, body := b.do("POST", "/console/login", url.Values{"token": {tok.TokenValue}}); status != 401 || !strings.Contains(body, "personal access token") {
		t.Errorf("an organization token: %d\n%s", status, body)
	}
	// A session: the cookie is HttpOnly and SameSite=Strict, the value is
	// never the token, and an open redirect is refused.
	status, h, _ = b.do("POST", "/console/login", url.Values{"token": {e.admin}, "next": {"//evil.example/"}})
	if status != 303 || h.Get("Location") != "/console/" {
		t.Errorf("next=//evil.example/: %d %q", status, h.Get("Location"))
	}
	ck := h.Get("Set-Cookie")
	if !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Strict") || strings.Contains(ck, e.admin) {
		t.Errorf("session cookie %q", ck)
	}
	for _, p := range []string{"/console/acme/", "/console/acme/permissions", "/console/acme/permissions/new?type=environment", "/console/acme/roles",
		"/console/acme/roles/new", "/console/acme/tokens", "/console/acme/teams", "/console/acme/members", "/console/acme/oidc",
		"/console/acme/audit", "/console/acme/access"} {
		b.get(p)
	}
	// A notice in a link made elsewhere is not shown.
	if page := b.get("/console/acme/roles?notice=Your+session+expired%3A+sign+in+at+evil.example"); strings.Contains(page, "evil.example") {
		t.Errorf("a forged notice was shown")
	}
	// A form posted from another site is refused, whatever it carries.
	req, _ := http.NewRequest("POST", e.srv.URL+"/console/acme/teams", strings.NewReader(url.Values{"name": {"x"}, "csrf": {b.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if resp, err := b.c.Do(req); err != nil || resp.StatusCode != 403 {
		t.Errorf("a cross-site post: %v %v", resp.StatusCode, err)
	}
	// Every form needs the session's CSRF token.
	if status, _, _ := b.do("POST", "/console/acme/teams", url.Values{"name": {"x"}, "csrf": {"forged"}}); status != 403 {
		t.Errorf("a forged CSRF token: %d", status)
	}
	// Signing out ends the session: the old cookie no longer works.
	old := b.c.Jar.Cookies(mustURL(e.srv.URL + "/console/"))
	if status, _, _ := b.do("POST", "/console/logout", url.Values{}); status != 303 {
		t.Errorf("sign out: %d", status)
	}
	replay := e.browser()
	replay.c.Jar.SetCookies(mustURL(e.srv.URL+"/console/"), old)
	if status, _, _ := replay.do("GET", "/console/acme/roles", nil); status != 303 {
		t.Errorf("a signed-out session still works: %d", status)
	}
}

func mustURL(s string) *url.URL { u, _ := url.Parse(s); return u }

// TestConsoleFlows: a permission set, a role with a tag rule, and an
// organization token with that role, all made through forms; the token
// works against the API exactly as the role says; a set in use cannot be
// deleted; a member sees what the API refuses them.
func TestConsoleFlows(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := e.browser()
	b.signIn(e.admin)

	status, h, body := b.do("POST", "/console/acme/permissions", url.Values{"name": {"Deployer"}, "description": {"runs updates"},
		"type": {"stack"}, "scope": {"stack:read", "stack:write"}})
	if status != 303 {
		t.Fatalf("create set: %d\n%s", status, body)
	}
	page := b.get(h.Get("Location"))
	if !strings.Contains(page, "Saved permission set") || !strings.Contains(page, "Deployer") {
		t.Fatalf("the set list lacks it:\n%s", page)
	}
	setID := e.roleID(t, "set", "Deployer")
	// A bad scope list: the form comes back with the API's message.
	status, _, body = b.do("POST", "/console/acme/permissions", url.Values{"name": {"Bad"}, "type": {"stack"}, "scope": {"stack:reed"}})
	if status != 400 || !strings.Contains(body, "stack:reed") {
		t.Errorf("a bad scope: %d\n%s", status, body)
	}

	// A role: Deployer on stacks tagged env=dev.
	status, h, body = b.do("POST", "/console/acme/roles", url.Values{"name": {"dev-deployer"}, "mode": {"form"},
		"rule0.kind": {"tag"}, "rule0.type": {"stack"}, "rule0.entity": {""}, "rule0.c0.key": {"env"}, "rule0.c0.op": {"eq"}, "rule0.c0.value": {"dev"},
		"rule0.c1.key": {""}, "rule0.c1.op": {"eq"}, "rule0.c1.value": {""}, "rule0.set": {setID},
		"rule1.kind": {"tag"}, "rule1.type": {"stack"}, "rule1.entity": {""}, "rule1.c0.key": {""}, "rule1.set": {""}})
	if status != 303 {
		t.Fatalf("create role: %d\n%s", status, body)
	}
	rolePage := b.get(h.Get("Location"))
	// The editor reads the saved tree back into its rows.
	if !strings.Contains(rolePage, `name="rule0.c0.key" value="env"`) || !strings.Contains(rolePage, `name="rule0.c0.value" value="dev"`) {
		t.Errorf("the role page does not show the tag rule:\n%s", rolePage)
	}
	roleID := strings.TrimPrefix(strings.Split(h.Get("Location"), "?")[0], "/console/acme/roles/")

	// Deleting the set now names the role that uses it.
	status, _, body = b.do("POST", "/console/acme/permissions/"+setID+"/delete", url.Values{})
	if status != 409 || !strings.Contains(body, "dev-deployer") {
		t.Errorf("deleting a set in use: %d\n%s", status, body)
	}

	// An organization token with that role, its value shown once.
	status, _, body = b.do("POST", "/console/acme/tokens", url.Values{"kind": {"org"}, "name": {"deploy-bot"}, "role": {roleID}, "expires": {"30"}})
	m := regexp.MustCompile(`id="token-value" readonly value="(pul-[0-9a-f]{40})"`).FindStringSubmatch(body)
	if status != 200 || m == nil {
		t.Fatalf("create token: %d\n%s", status, body)
	}
	bot := m[1]
	if page := b.get("/console/acme/tokens"); strings.Contains(page, bot) || !strings.Contains(page, "deploy-bot") {
		t.Errorf("the token list shows the value again, or lacks the token")
	}
	for _, s := range []struct{ name, env string }{{"dev", "dev"}, {"prod", "prod"}} {
		if status := e.api(e.admin, "POST", "/api/stacks/acme/app", wire.CreateStackRequest{StackName: s.name, Tags: map[string]string{"env": s.env}}, nil); status != 200 {
			t.Fatalf("stack %s: %d", s.name, status)
		}
	}
	if status := e.api(bot, "POST", "/api/stacks/acme/app/dev/update", map[string]any{"name": "app"}, nil); status != 200 {
		t.Errorf("the bot updating dev: %d", status)
	}
	if status := e.api(bot, "POST", "/api/stacks/acme/app/prod/update", map[string]any{"name": "app"}, nil); status != 404 {
		t.Errorf("the bot updating prod: %d", status)
	}
	// The denial is in the audit log page.
	var found bool
	for deadline := time.Now().Add(5 * time.Second); !found && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		found = strings.Contains(b.get("/console/acme/audit?event=access_denied"), "app/prod")
	}
	if !found {
		t.Errorf("the audit page does not show the denial")
	}
	// The access explorer explains the token's decision and who else may.
	_, _, page = b.do("POST", "/console/acme/access", url.Values{"scope": {"stack:write"}, "type": {"stack"}, "entity": {"app/dev"}, "token": {bot}})
	if strings.Contains(page, bot) || !strings.Contains(page, "Allowed") || !strings.Contains(page, "deploy-bot") || !strings.Contains(page, "admin") {
		t.Errorf("access explorer:\n%s", page)
	}

	// A team given write on the dev stack through its page; a grant of the
	// wrong permission is the API's refusal on the page.
	if status, _, body := b.do("POST", "/console/acme/teams", url.Values{"name": {"ops"}}); status != 303 {
		t.Fatalf("create team: %d\n%s", status, body)
	}
	if status, _, body := b.do("POST", "/console/acme/teams/ops/grants", url.Values{"action": {"add"}, "type": {"stack"}, "entity": {"app/dev"}, "permission": {"102"}}); status != 303 {
		t.Fatalf("grant: %d\n%s", status, body)
	}
	if page := b.get("/console/acme/teams/ops"); !strings.Contains(page, "stack app/dev: write") {
		t.Errorf("the team page lacks its grant:\n%s", page)
	}
	if status, _, body := b.do("POST", "/console/acme/teams/ops/grants", url.Values{"action": {"add"}, "type": {"stack"}, "entity": {"app/dev"}, "permission": {"open"}}); status != 400 {
		t.Errorf("a stack grant of open: %d\n%s", status, body)
	}
	// Audit dates: a bad one is named; today's events are found.
	if status, _, body := b.do("GET", "/console/acme/audit?from=yesterday", nil); status != 400 || !strings.Contains(body, "YYYY-MM-DD") {
		t.Errorf("a bad date: %d", status)
	}
	today := time.Now().UTC().Format("2006-01-02")
	if page := b.get("/console/acme/audit?event=team_created&from=" + today + "&to=" + today); !strings.Contains(page, "ops") {
		t.Errorf("today's team_created event is not listed")
	}

	// A member with the Reader role: the console shows the API's refusal.
	if _, err := e.svc.AddMember(ctx, orgID(t, e), "rita", "reader"); err != nil {
		t.Fatal(err)
	}
	rita, err := e.svc.IssueToken(ctx, "acme", "rita", "t", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	rb := e.browser()
	rb.signIn(rita)
	status, _, body = rb.do("POST", "/console/acme/permissions", url.Values{"name": {"Mine"}, "type": {"stack"}, "scope": {"stack:read"}})
	if status != 400 || !strings.Contains(body, "role:create") {
		t.Errorf("a reader creating a set: %d\n%s", status, body)
	}
	// Revoking the token a session was opened with ends the session.
	var toks wire.ListTokensResponse
	e.api(rita, "GET", "/api/user/tokens", nil, &toks)
	for _, tk := range toks.Tokens {
		e.api(rita, "DELETE", "/api/user/tokens/"+tk.ID, nil, nil)
	}
	if status, _, _ := rb.do("GET", "/console/acme/roles", nil); status != 303 {
		t.Errorf("a session of a revoked token: %d", status)
	}
}

func orgID(t *testing.T, e *env) string {
	var id string
	e.db.Read(context.Background(), func(tx gatehouse.Tx) error {
		o, err := tx.GetOrgByName(context.Background(), "acme")
		if err == nil {
			id = o.ID
		}
		return err
	})
	return id
}

// TestConsoleOIDC: an issuer's policy edited on its page, and a "test these
// claims" answer from the same evaluation as an exchange.
func TestConsoleOIDC(t *testing.T) {
	e := newEnv(t)
	var iss wire.Issuer
	if status := e.api(e.admin, "POST", "/api/orgs/acme/oidc/issuers", wire.IssuerRequest{Name: "ci", URL: "https://ci.example", JWKS: testJWKS(t)}, &iss); status != 200 {
		t.Fatalf("register: %d", status)
	}
	b := e.browser()
	b.signIn(e.admin)
	page := b.get("/console/acme/oidc/" + iss.ID)
	policy := regexp.MustCompile(`name="policy" value="([^"]+)"`).FindStringSubmatch(page)
	if policy == nil {
		t.Fatalf("no policy on the issuer page:\n%s", page)
	}
	claims := url.Values{"claims": {`{"sub":"repo:acme/app:ref:refs/heads/main","aud":"acme"}`}}.Encode()
	if page := b.get("/console/acme/oidc/" + iss.ID + "?" + claims); !strings.Contains(page, "deny:") {
		t.Errorf("a deny-all policy allowed the claims:\n%s", page)
	}
	if status, _, body := b.do("POST", "/console/acme/oidc/"+iss.ID+"/policy", url.Values{"policy": {policy[1]}, "rules": {`[{"decision":"allow","tokenType":"organization","rules":{"sub":"repo:acme/*"}}]`}}); status != 303 {
		t.Fatalf("save policy: %d\n%s", status, body)
	}
	if page := b.get("/console/acme/oidc/" + iss.ID + "?" + claims); !strings.Contains(page, "allow: rule 0 matches") {
		t.Errorf("the test box does not allow the claims:\n%s", page)
	}
	if status, _, body := b.do("POST", "/console/acme/oidc/"+iss.ID+"/policy", url.Values{"policy": {policy[1]}, "rules": {`[{"decision":"maybe"}]`}}); status != 400 {
		t.Errorf("a bad rule: %d\n%s", status, body)
	}
	// A misspelt field is refused, as the API refuses one, not dropped;
	// text that is not JSON is named.
	for rules, want := range map[string]string{`[{"decison":"allow","tokenType":"organization"}]`: `unknown field &#34;decison&#34;`, `[{`: "rules: not JSON"} {
		if status, _, body := b.do("POST", "/console/acme/oidc/"+iss.ID+"/policy", url.Values{"policy": {policy[1]}, "rules": {rules}}); status != 400 || !strings.Contains(body, want) {
			t.Errorf("rules %s: %d\n%s", rules, status, body)
		}
	}
	if page := b.get("/console/acme/oidc/" + iss.ID + "?" + claims); !strings.Contains(page, "allow: rule 0 matches") {
		t.Errorf("a refused edit changed the policy:\n%s", page)
	}
	// A deny names the issuer the page is about.
	if status, _, body := b.do("POST", "/console/acme/oidc/"+iss.ID+"/policy", url.Values{"policy": {policy[1]}, "rules": {`[{"decision":"deny","tokenType":"organization","rules":{"sub":"repo:acme/*"}}]`}}); status != 303 {
		t.Fatalf("save a deny: %d\n%s", status, body)
	}
	if page := b.get("/console/acme/oidc/" + iss.ID + "?" + claims); !strings.Contains(page, "deny: rule 0 of issuer &#34;ci&#34; denies") {
		t.Errorf("the deny does not name the issuer:\n%s", page)
	}
	// Times in one format: relative, the exact UTC time on hover.
	if page := b.get("/console/acme/oidc"); !regexp.MustCompile(`<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC">just now</time>`).MatchString(page) {
		t.Errorf("the issuer's registration time:\n%s", page)
	}
}
