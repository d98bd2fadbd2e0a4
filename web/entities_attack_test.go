package web_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/api"
	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// Attacks on the console's stack, environment and Insights account pages
// (web/stacks.go, environments.go, accounts.go, entities.go): each test
// is an attack a hostile user would try, with what must hold.

// entityState is what the entity pages' forms can change, read through the
// API as the admin: a change an attack made shows as a difference.
func (e *env) entityState(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, p := range []string{"/api/stacks/acme/app/dev", "/api/stacks/acme/app/prod", "/api/esc/environments/acme/app/cfg/tags",
		"/api/preview/insights/acme/accounts/aws/tags"} {
		var out json.RawMessage
		status := e.api(e.admin, "GET", p, nil, &out)
		b.WriteString(p + " " + http.StatusText(status) + " ")
		var v map[string]any
		json.Unmarshal(out, &v)
		delete(v, "version") // a stack's version moves only with updates
		data, _ := json.Marshal(map[string]any{"tags": v["tags"], "name": v["stackName"]})
		b.Write(data)
		b.WriteByte('\n')
	}
	b.WriteString("cfg " + http.StatusText(e.api(e.admin, "GET", "/api/esc/environments/acme/app/cfg", nil, nil)) + "\n")
	b.WriteString("aws " + http.StatusText(e.api(e.admin, "GET", "/api/preview/insights/acme/accounts/aws", nil, nil)) + "\n")
	return b.String()
}

// entityForms are every POST the entity pages take, with a form that
// would change something if it were let through.
var entityForms = []struct {
	path string
	form url.Values
}{
	{"/console/acme/stacks/app/dev/tags", url.Values{"name": {"owner"}, "value": {"mallory"}}},
	{"/console/acme/stacks/app/dev/tags", url.Values{"action": {"remove"}, "name": {"env"}}},
	{"/console/acme/stacks/app/prod/delete", url.Values{"force": {"true"}}},
	{"/console/acme/environments/app/cfg/tags", url.Values{"name": {"owner"}, "value": {"mallory"}}},
	{"/console/acme/environments/app/cfg/tags", url.Values{"name": {"owner"}, "value": {"x"}, "current": {"mallory"}}},
	{"/console/acme/environments/app/cfg/delete", url.Values{}},
	{"/console/acme/accounts/aws/tags", url.Values{"name": {"owner"}, "value": {"mallory"}}},
	{"/console/acme/accounts/aws/tags", url.Values{"action": {"remove"}, "name": {"team"}}},
	{"/console/acme/accounts/aws/delete", url.Values{}},
}

func cloneForm(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// TestAttackEntityFormsCSRF: every new POST refuses a missing or forged
// CSRF token and a cross-site Origin; a GET on a POST's path does not
// write; a form replayed after the session's token is revoked leads to
// sign-in. Nothing changes in any case.
func TestAttackEntityFormsCSRF(t *testing.T) {
	e := newEnv(t)
	admin := e.browser()
	admin.signIn(e.admin)
	e.seedEntities(t, admin)
	before := e.entityState(t)
	for _, f := range entityForms {
		for name, csrf := range map[string]string{"missing": "", "forged": strings.Repeat("0", 64), "another session's": "x"} {
			form := cloneForm(f.form)
			if csrf != "" {
				form.Set("csrf", csrf)
			} else {
				form.Set("csrf", " ") // b.do fills an empty one in
			}
			if status, _, _ := admin.do("POST", f.path, form); status != http.StatusForbidden {
				t.Errorf("POST %s with a %s CSRF token: %d", f.path, name, status)
			}
		}
		form := cloneForm(f.form)
		form.Set("csrf", admin.csrf)
		req, _ := http.NewRequest("POST", e.srv.URL+f.path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		if resp, err := admin.c.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site POST %s: %v %v", f.path, resp.StatusCode, err)
		}
		// Method confusion: a GET (or HEAD) of the form's path with its
		// fields in the query writes nothing.
		for _, m := range []string{"GET", "HEAD", "PUT", "DELETE"} {
			q := cloneForm(f.form)
			q.Set("csrf", admin.csrf)
			if status, _, _ := admin.do(m, f.path+"?"+q.Encode(), nil); status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d", m, f.path, status)
			}
		}
	}
	if after := e.entityState(t); after != before {
		t.Fatalf("an attack changed something:\nbefore %s\nafter %s", before, after)
	}

	// A session whose token is revoked: its forms, replayed with the
	// right CSRF token, lead to sign-in.
	b := e.browser()
	var tok wire.CreateTokenResponse
	e.must(e.admin, "POST", "/api/user/tokens", wire.CreatePersonalTokenRequest{Description: "console"}, &tok)
	b.signIn(tok.TokenValue)
	b.get("/console/acme/stacks/app/dev")
	e.must(e.admin, "DELETE", "/api/user/tokens/"+tok.ID, nil, nil)
	for _, f := range entityForms {
		if status, h, _ := b.do("POST", f.path, cloneForm(f.form)); status != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/console/login") {
			t.Errorf("POST %s after the token is revoked: %d %q", f.path, status, h.Get("Location"))
		}
	}
	if after := e.entityState(t); after != before {
		t.Fatalf("a revoked session changed something:\nbefore %s\nafter %s", before, after)
	}
}

// TestAttackDisabledControlsRefused: a Reader (every control of the
// entity pages disabled) and a member reading only env=dev stacks post
// each form anyway, with a valid CSRF token: the API refuses every one
// and nothing changes.
func TestAttackDisabledControlsRefused(t *testing.T) {
	e := newEnv(t)
	admin := e.browser()
	admin.signIn(e.admin)
	dana := e.browser()
	dana.signIn(e.seedEntities(t, admin))
	reader := e.browser()
	reader.signIn(e.member(t, "rex", "reader"))
	before := e.entityState(t)
	for name, b := range map[string]*browser{"reader": reader, "dana": dana} {
		for _, f := range entityForms {
			status, _, page := b.do("POST", f.path, cloneForm(f.form))
			if status != http.StatusForbidden && status != http.StatusNotFound {
				t.Errorf("%s: POST %s %v: %d\n%s", name, f.path, f.form, status, page)
			}
		}
	}
	if after := e.entityState(t); after != before {
		t.Fatalf("a disabled control wrote:\nbefore %s\nafter %s", before, after)
	}
}

// TestAttackOtherOrgEntityPages: another organization's admin, signed in
// to the console, gets the not-found page for every entity page and form
// of acme, whether the entity exists or not (so not even its existence
// shows), and its forms change nothing.
func TestAttackOtherOrgEntityPages(t *testing.T) {
	e := newEnv(t)
	admin := e.browser()
	admin.signIn(e.admin)
	d := e.seedPages(t, admin)
	e.seedEntities(t, admin)
	before := e.entityState(t)
	outsider := e.browser()
	if status, _, body := outsider.do("POST", "/console/login", url.Values{"token": {d.carol}}); status != 303 {
		t.Fatalf("carol signs in: %d\n%s", status, body)
	}
	outsider.get("/console/carols/") // the CSRF token of carol's session
	var missing string
	for _, path := range []string{"/console/acme/stacks", "/console/acme/stacks/app/dev", "/console/acme/stacks/app/dev/access",
		"/console/acme/stacks/app/nope", "/console/acme/stacks/app/nope/access", "/console/acme/stacks?tag=env%3Ddev",
		"/console/acme/environments", "/console/acme/environments/app/cfg", "/console/acme/environments/app/cfg/access",
		"/console/acme/environments/app/nope", "/console/acme/accounts", "/console/acme/accounts/aws", "/console/acme/accounts/aws/access",
		"/console/acme/accounts/nope"} {
		status, _, page := outsider.do("GET", path, nil)
		if status != http.StatusNotFound {
			t.Errorf("carol: GET %s: %d", path, status)
		}
		// The not-found page names the path asked for; nothing else of
		// acme's may show.
		shown := strings.ReplaceAll(page, path, "")
		for _, leak := range []string{"app/dev", "app/cfg", "aws", "eu-west-1", "fn::secret", "dana", "Dev Readers", "env=dev"} {
			if strings.Contains(shown, leak) {
				t.Errorf("carol: GET %s shows %q", path, leak)
			}
		}
		// The page of an entity that exists is the page of one that does
		// not, but for the path it names.
		p := strings.ReplaceAll(page, path, "")
		if strings.HasSuffix(path, "/nope") {
			if missing != "" && p != missing {
				t.Errorf("carol: GET %s differs from another missing entity's page", path)
			}
			missing = p
		}
	}
	for _, f := range entityForms {
		if status, _, _ := outsider.do("POST", f.path, cloneForm(f.form)); status != http.StatusNotFound {
			t.Errorf("carol: POST %s: %d", f.path, status)
		}
	}
	if after := e.entityState(t); after != before {
		t.Fatalf("another organization's admin changed something:\nbefore %s\nafter %s", before, after)
	}
}

// TestAttackScopedMemberSeesOnlyItsStacks: dana reads only the stacks
// tagged env=dev. No filter of the stacks list (a project, a tag, a name,
// a next page) names app/prod or its tags, and app/prod's pages (its
// Access tab, its outputs) are the not-found page; her own stack's Access
// tab, behind org_member_access:read, names no principal, role or token.
func TestAttackScopedMemberSeesOnlyItsStacks(t *testing.T) {
	e := newEnv(t)
	admin := e.browser()
	admin.signIn(e.admin)
	e.seedPages(t, admin)
	dana := e.browser()
	dana.signIn(e.seedEntities(t, admin))
	for _, path := range []string{"/console/acme/stacks", "/console/acme/stacks?tag=env%3Dprod", "/console/acme/stacks?tag=env",
		"/console/acme/stacks?project=app", "/console/acme/stacks?name=prod", "/console/acme/stacks?continuationToken=forged"} {
		status, _, page := dana.do("GET", path, nil)
		want := http.StatusOK
		if strings.Contains(path, "forged") {
			want = http.StatusBadRequest // the API's answer, not a 403
		}
		if status != want {
			t.Errorf("dana: GET %s: %d\n%s", path, status, page)
		}
		if strings.Contains(page, ">app/prod<") || strings.Contains(page, `"tag">env=prod`) || strings.Contains(page, "Next page") {
			t.Errorf("dana: GET %s reveals app/prod:\n%s", path, page)
		}
	}
	if page := dana.get("/console/acme/stacks?tag=env%3Dprod"); !strings.Contains(page, "No stack you may read matches") {
		t.Errorf("dana's env=prod filter:\n%s", page)
	}
	for _, path := range []string{"/console/acme/stacks/app/prod", "/console/acme/stacks/app/prod/access"} {
		if status, _, page := dana.do("GET", path, nil); status != 404 || strings.Contains(page, "env=prod") || strings.Contains(page, "Outputs") {
			t.Errorf("dana: GET %s: %d\n%s", path, status, page)
		}
	}
	page := dana.get("/console/acme/stacks/app/dev/access")
	for _, leak := range []string{"admin</strong>", "mallory", "release-bot", "Release Managers", "platform", "stack.tags"} {
		if strings.Contains(page, leak) {
			t.Errorf("dana's Access tab names %q:\n%s", leak, page)
		}
	}
}

// TestAttackEntityPagesEscapeEverything: tag names and values, an
// environment's definition and a role's name, all chosen by a hostile
// member, carry markup, quotes and javascript: URLs. Every page shows
// them as text, never as markup or an attribute, and the CSP still
// allows no inline script.
func TestAttackEntityPagesEscapeEverything(t *testing.T) {
	e := newEnv(t)
	admin := e.browser()
	admin.signIn(e.admin)
	e.seedEntities(t, admin)
	const xss = `<script>alert(1)</script>"'><img src=x onerror=alert(2)>javascript:alert(3)`
	e.must(e.admin, "POST", "/api/stacks/acme/app/dev/tags", wire.StackTag{Name: "note", Value: xss}, nil)
	e.must(e.admin, "POST", "/api/stacks/acme/app/dev/tags", wire.StackTag{Name: "x:y/z.-_", Value: `" onmouseover="alert(4)`}, nil)
	e.must(e.admin, "POST", "/api/esc/environments/acme/app/cfg/tags", wire.EnvironmentTag{Name: "note", Value: xss}, nil)
	e.must(e.admin, "PUT", "/api/preview/insights/acme/accounts/aws/tags", wire.InsightsAccountTags{Tags: map[string]string{"note": xss, "x:y/z.-_": `" onmouseover="alert(4)`}}, nil)
	if status := e.raw(e.admin, "PATCH", "/api/esc/environments/acme/app/cfg",
		"values:\n  html: \"</pre><script>alert(5)</script>\"\n  link: \"javascript:alert(6)\"\n"); status != 200 {
		t.Fatalf("define app/cfg: %d", status)
	}
	status, h, body := admin.do("POST", "/console/acme/roles", url.Values{"name": {`<script>alert(7)</script>"`}, "mode": {"form"},
		"rule0.kind": {"entity"}, "rule0.type": {"stack"}, "rule0.entity": {"app/dev"}, "rule0.set": {e.roleID(t, "set", "Stack Read")}})
	if status != 303 {
		t.Fatalf("create role: %d\n%s", status, body)
	}
	e.member(t, "eve", "member")
	e.must(e.admin, "PATCH", "/api/orgs/acme/members/eve", wire.UpdateMemberRequest{
		FGARoleID: strings.TrimPrefix(strings.Split(h.Get("Location"), "?")[0], "/console/acme/roles/")}, nil)
	for _, path := range []string{"/console/acme/stacks", "/console/acme/stacks/app/dev", "/console/acme/stacks/app/dev/access",
		"/console/acme/environments", "/console/acme/environments/app/cfg", "/console/acme/environments/app/cfg/access",
		"/console/acme/accounts", "/console/acme/accounts/aws", "/console/acme/accounts/aws/access"} {
		status, h, page := admin.do("GET", path, nil)
		if status != 200 {
			t.Fatalf("GET %s: %d\n%s", path, status, page)
		}
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: CSP %q", path, csp)
		}
		for _, bad := range []string{"<script>alert", "<img", `" onmouseover`, `href="javascript:`, "</pre><script"} {
			if strings.Contains(page, bad) {
				t.Errorf("GET %s carries %q unescaped", path, bad)
			}
		}
		if strings.Count(page, "<script") != 1 {
			t.Errorf("GET %s: %d script elements, want the console's one", path, strings.Count(page, "<script"))
		}
	}
	if page := admin.get("/console/acme/stacks/app/dev"); !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the stack page does not show the tag value as text:\n%s", page)
	}
	if page := admin.get("/console/acme/stacks/app/dev/access"); !strings.Contains(page, "&lt;script&gt;alert(7)&lt;/script&gt;") {
		t.Errorf("the Access tab does not show the role's name as text:\n%s", page)
	}
}

// TestAttackEnvironmentPageShowsNoSecret: the definition shown on an
// environment's page holds neither a secret's plaintext nor its
// ciphertext (a ciphertext is the secret to anyone who later holds the
// key, and is not the console's to show), however the secret is written;
// nor does any other page or the console's log.
func TestAttackEnvironmentPageShowsNoSecret(t *testing.T) {
	var logs bytes.Buffer
	e := newEnvWith(t, api.Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	admin := e.browser()
	admin.signIn(e.admin)
	e.seedEntities(t, admin)
	if status := e.raw(e.admin, "PATCH", "/api/esc/environments/acme/app/cfg", "values:\n  region: eu-west-1\n  password:\n    fn::secret: hunter2\n"+
		"  nested:\n    - fn::secret: correct-horse\n    - {\"fn::secret\": battery-staple}\n  plain: visible\n"); status != 200 {
		t.Fatalf("define app/cfg: %d", status)
	}
	var def string
	{
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/esc/environments/acme/app/cfg", nil)
		req.Header.Set("Authorization", "token "+e.admin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		def = b.String()
	}
	var ciphertexts []string
	for _, line := range strings.Split(def, "\n") {
		if _, c, ok := strings.Cut(line, "ciphertext: "); ok {
			ciphertexts = append(ciphertexts, strings.TrimSpace(c))
		}
	}
	if len(ciphertexts) != 3 {
		t.Fatalf("the API's definition has %d ciphertexts, want 3:\n%s", len(ciphertexts), def)
	}
	for _, path := range []string{"/console/acme/environments/app/cfg", "/console/acme/environments/app/cfg/access", "/console/acme/environments",
		"/console/acme/accounts/aws"} {
		page := admin.get(path)
		for _, s := range append([]string{"hunter2", "correct-horse", "battery-staple", "ciphertext"}, ciphertexts...) {
			if strings.Contains(page, s) || strings.Contains(page, strings.ReplaceAll(s, "+", "&#43;")) {
				t.Errorf("GET %s shows %q", path, s)
			}
		}
	}
	page := admin.get("/console/acme/environments/app/cfg")
	for _, want := range []string{"region: eu-west-1", "plain: visible", "fn::secret: "} {
		if !strings.Contains(page, want) {
			t.Errorf("the definition lacks %q:\n%s", want, page)
		}
	}
	for _, s := range append([]string{"hunter2", "correct-horse", "battery-staple"}, ciphertexts...) {
		if strings.Contains(logs.String(), s) {
			t.Errorf("the log holds %q", s)
		}
	}
}

// TestAttackStackPageShowsNoOutputValue: a stack's outputs, plain and
// secret, show by name only: no value, no ciphertext, in the page or the
// log, even when the deployment is malformed around a secret.
func TestAttackStackPageShowsNoOutputValue(t *testing.T) {
	var logs bytes.Buffer
	e := newEnvWith(t, api.Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	admin := e.browser()
	admin.signIn(e.admin)
	e.seedEntities(t, admin)
	dep := json.RawMessage(`{"version":3,"deployment":{"resources":[{"urn":"urn:pulumi:prod::app::pulumi:pulumi:Stack::app-prod","type":"pulumi:pulumi:Stack",` +
		`"outputs":{"url":"https://plain-value.example","dbPassword":{"4dabf18193072939515e22adb298388d":"1b47061264138c4ac30d75fd1eb44270","ciphertext":"v1:SECRETCIPHER"},` +
		`"<b>bold</b>":"x"}}]}}`)
	e.must(e.admin, "POST", "/api/stacks/acme/app/prod/import", dep, nil)
	e.must(e.admin, "POST", "/api/stacks/acme/app", wire.CreateStackRequest{StackName: "odd"}, nil)
	e.must(e.admin, "POST", "/api/stacks/acme/app/odd/import", json.RawMessage(`{"version":3,"deployment":{"resources":[{"type":"pulumi:pulumi:Stack","outputs":"v1:ODDCIPHER"}]}}`), nil)
	for _, path := range []string{"/console/acme/stacks/app/prod", "/console/acme/stacks/app/odd", "/console/acme/stacks"} {
		page := admin.get(path)
		for _, s := range []string{"plain-value.example", "SECRETCIPHER", "ODDCIPHER", "<b>bold"} {
			if strings.Contains(page, s) {
				t.Errorf("GET %s shows %q", path, s)
			}
		}
	}
	if page := admin.get("/console/acme/stacks/app/prod"); !strings.Contains(page, "<code>dbPassword</code>") || !strings.Contains(page, "&lt;b&gt;bold&lt;/b&gt;") {
		t.Errorf("the output names are not shown as text:\n%s", page)
	}
	for _, s := range []string{"plain-value.example", "SECRETCIPHER", "ODDCIPHER"} {
		if strings.Contains(logs.String(), s) {
			t.Errorf("the log holds %q", s)
		}
	}
}

// TestAttackDotSegments: names the API's router cannot address (".",
// "..", which the stack and tag name rules allow) never make the console
// report a change it did not make, nor answer with a server error: the
// API's redirect to a cleaned path is not a success.
func TestAttackDotSegments(t *testing.T) {
	e := newEnv(t)
	admin := e.browser()
	admin.signIn(e.admin)
	e.seedEntities(t, admin)
	e.must(e.admin, "POST", "/api/stacks/acme/app/dev/tags", wire.StackTag{Name: "..", Value: "dots"}, nil)
	before := e.entityState(t)
	for _, f := range []struct {
		path string
		form url.Values
	}{
		{"/console/acme/stacks/app/dev/tags", url.Values{"action": {"remove"}, "name": {".."}}},
		{"/console/acme/stacks/app/dev/tags", url.Values{"action": {"remove"}, "name": {"."}}},
		{"/console/acme/environments/app/cfg/tags", url.Values{"action": {"remove"}, "name": {".."}}},
		{"/console/acme/environments/app/cfg/tags", url.Values{"name": {".."}, "value": {"x"}, "current": {"y"}}},
		{"/console/acme/stacks/app/%2E%2E/delete", url.Values{}},
		{"/console/acme/stacks/%2E%2E/dev/delete", url.Values{}},
		{"/console/acme/environments/app/%2E%2E/delete", url.Values{}},
		{"/console/acme/accounts/%2E%2E/delete", url.Values{}},
	} {
		status, h, page := admin.do("POST", f.path, cloneForm(f.form))
		if status == http.StatusSeeOther || status >= 500 || strings.Contains(h.Get("Location"), "notice=") {
			t.Errorf("POST %s %v: %d %q\n%s", f.path, f.form, status, h.Get("Location"), page)
		}
	}
	for _, path := range []string{"/console/acme/stacks/app/%2E%2E", "/console/acme/stacks/app/%2E", "/console/acme/stacks/%2E%2E/%2E%2E",
		"/console/acme/stacks/app/%2E%2E/access", "/console/acme/environments/app/%2E%2E", "/console/acme/environments/%2E%2E/cfg",
		"/console/acme/accounts/%2E%2E", "/console/acme/accounts/%2E", "/console/acme/accounts/..%2F..%2Froles"} {
		if status, _, page := admin.do("GET", path, nil); status != http.StatusNotFound {
			t.Errorf("GET %s: %d\n%s", path, status, page)
		}
	}
	if after := e.entityState(t); after != before {
		t.Fatalf("changed:\nbefore %s\nafter %s", before, after)
	}
}
