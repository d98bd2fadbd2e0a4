package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/service"
)

// raw sends a body as it is (an environment's YAML) and returns the status.
func (e *env) raw(token, method, path, body string) int {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "token "+token)
	req.Header.Set("Content-Type", "application/x-yaml")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// seedEntities makes the stacks app/dev (env=dev) and app/prod
// (env=prod), the environment app/cfg with a secret, the Insights
// account aws (team=data), and the role "Dev Readers": Stack Read on the
// stacks tagged env=dev, held by member dana.
func (e *env) seedEntities(t *testing.T, admin *browser) (dana string) {
	t.Helper()
	if status := e.api(e.admin, "POST", "/api/stacks/acme/app", wire.CreateStackRequest{StackName: "dev"}, nil); status != 200 && status != 409 {
		t.Fatalf("create app/dev: %d", status) // 409: seedPages made it
	}
	e.must(e.admin, "POST", "/api/stacks/acme/app/dev/tags", wire.StackTag{Name: "env", Value: "dev"}, nil)
	e.must(e.admin, "POST", "/api/stacks/acme/app", wire.CreateStackRequest{StackName: "prod", Tags: map[string]string{"env": "prod"}}, nil)
	e.must(e.admin, "POST", "/api/esc/environments/acme", wire.CreateEnvironmentRequest{Project: "app", Name: "cfg"}, nil)
	if status := e.raw(e.admin, "PATCH", "/api/esc/environments/acme/app/cfg", "values:\n  region: eu-west-1\n  password:\n    fn::secret: hunter2\n"); status != 200 {
		t.Fatalf("define app/cfg: %d", status)
	}
	if status := e.api(e.admin, "POST", "/api/preview/insights/acme/accounts/aws", wire.CreateInsightsAccountRequest{Provider: "aws", Environment: "app/cfg"}, nil); status/100 != 2 {
		t.Fatalf("create account aws: %d", status)
	}
	e.must(e.admin, "PUT", "/api/preview/insights/acme/accounts/aws/tags", wire.InsightsAccountTags{Tags: map[string]string{"team": "data"}}, nil)
	status, h, body := admin.do("POST", "/console/acme/roles", url.Values{"name": {"Dev Readers"}, "mode": {"form"},
		"rule0.kind": {"tag"}, "rule0.type": {"stack"}, "rule0.c0.key": {"env"}, "rule0.c0.op": {"eq"}, "rule0.c0.value": {"dev"},
		"rule0.set": {e.roleID(t, "set", "Stack Read")}})
	if status != 303 {
		t.Fatalf("create role: %d\n%s", status, body)
	}
	roleID := strings.TrimPrefix(strings.Split(h.Get("Location"), "?")[0], "/console/acme/roles/")
	dana = e.member(t, "dana", "member")
	e.must(e.admin, "PATCH", "/api/orgs/acme/members/dana", wire.UpdateMemberRequest{FGARoleID: roleID}, nil)
	return dana
}

// TestEntityPages renders the stack, environment and account pages on
// real data for an admin: lists with tags, a stack's tags and empty
// updates, an environment's definition with its secret sealed, its
// versions, and each Access tab naming the holders and why.
func TestEntityPages(t *testing.T) {
	e := newEnv(t)
	admin := e.browser()
	admin.signIn(e.admin)
	e.seedEntities(t, admin)
	dep := json.RawMessage(`{"version":3,"deployment":{"manifest":{"time":"2026-12-01T00:00:00Z","magic":"","version":""},"resources":[` +
		`{"urn":"urn:pulumi:prod::app::pulumi:pulumi:Stack::app-prod","custom":false,"type":"pulumi:pulumi:Stack",` +
		`"outputs":{"url":"https://app.example","dbPassword":{"4dabf18193072939515e22adb298388d":"1b47061264138c4ac30d75fd1eb44270","ciphertext":"v1:abc"}}}]}}`)
	e.must(e.admin, "POST", "/api/stacks/acme/app/prod/import", dep, nil)
	e.must(e.admin, "POST", "/api/stacks/acme/app", wire.CreateStackRequest{StackName: "broken"}, nil)
	e.must(e.admin, "POST", "/api/stacks/acme/app/broken/import", json.RawMessage(`{"version":3,"deployment":{"resources":"nope"}}`), nil)
	for _, p := range []struct {
		name, path string
		wants      []string
		lacks      []string
	}{
		{"stacks", "/console/acme/stacks", []string{">app/dev</a>", ">app/prod</a>", `<span class="tag">env=dev</span>`}, nil},
		{"stacks by tag", "/console/acme/stacks?tag=env%3Dprod", []string{">app/prod</a>"}, []string{">app/dev</a>"}},
		{"stacks by name", "/console/acme/stacks?name=DE", []string{">app/dev</a>"}, []string{">app/prod</a>"}},
		{"no stack matches", "/console/acme/stacks?project=nope", []string{"No stack you may read matches these filters"}, nil},
		{"stack", "/console/acme/stacks/app/dev", []string{"<code>env</code></td><td>dev</td>", "No updates yet", "No outputs",
			`<button type="submit">Delete this stack</button>`}, []string{"disabled"}},
		{"stack access", "/console/acme/stacks/app/dev/access", []string{"user <strong>admin</strong>", "role <strong>Admin</strong> <span class=\"via\">(organization role)</span>",
			"user <strong>dana</strong>", "role <strong>Dev Readers</strong>", "<code>stack.tags[&#34;env&#34;] == &#34;dev&#34;</code>", `<code class="scope">stack:read</code>`}, nil},
		{"stack with outputs", "/console/acme/stacks/app/prod", []string{"<li><code>dbPassword</code></li><li><code>url</code></li>", "<td>1</td><td>import</td><td>succeeded</td>"},
			[]string{"https://app.example", "v1:abc"}},
		{"stack whose deployment does not parse", "/console/acme/stacks/app/broken", []string{"The outputs cannot be shown: internal error", "<td>1</td><td>import</td>"}, nil},
		{"prod access", "/console/acme/stacks/app/prod/access", []string{"user <strong>admin</strong>"}, []string{"dana"}},
		{"environments", "/console/acme/environments", []string{">app/cfg</a>"}, nil},
		{"environment", "/console/acme/environments/app/cfg", []string{"region: eu-west-1", "fn::secret", "<td>1</td>", "<td>2</td>"}, []string{"hunter2"}},
		{"environment access", "/console/acme/environments/app/cfg/access", []string{"user <strong>admin</strong>", `<code class="scope">environment:read</code>`}, []string{"dana"}},
		{"accounts", "/console/acme/accounts", []string{">aws</a></td><td>aws</td>", `<span class="tag">team=data</span>`}, nil},
		{"account", "/console/acme/accounts/aws", []string{"<code>team</code></td><td>data</td>", "<code>app/cfg</code>"}, nil},
		{"account access", "/console/acme/accounts/aws/access", []string{"user <strong>admin</strong>", `<code class="scope">insights_account:read</code>`}, nil},
	} {
		t.Run(p.name, func(t *testing.T) {
			status, _, page := admin.do("GET", p.path, nil)
			if status != 200 {
				t.Fatalf("GET %s: %d\n%s", p.path, status, page)
			}
			for _, want := range p.wants {
				if !strings.Contains(page, want) {
					t.Errorf("lacks %s:\n%s", want, page)
				}
			}
			for _, not := range p.lacks {
				if strings.Contains(page, not) {
					t.Errorf("shows %s:\n%s", not, page)
				}
			}
		})
	}
}

// TestStacksNextPage: past a page of stacks (1,000) the list links the
// next page, keeping the filters, and the link works (html/template would
// escape a query put after a literal "?" as one value).
func TestStacksNextPage(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.admin)
	ctx := context.Background()
	id, err := e.az.Authenticate("token " + e.admin)
	if err != nil {
		t.Fatal(err)
	}
	err = e.svc.Batch(ctx, orgID(t, e), func(bt *service.Batch) error {
		for i := range 1001 {
			if _, err := bt.CreateStack(id, service.StackInput{Project: "bulk", Name: fmt.Sprintf("s%04d", i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	page := b.get("/console/acme/stacks?project=bulk")
	m := regexp.MustCompile(`<a href="([^"]*)">Next page</a>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no next page link:\n%.2000s", page)
	}
	next := html.UnescapeString(m[1])
	u, err := url.Parse(next)
	if err != nil || u.Path != "/console/acme/stacks" || u.Query().Get("project") != "bulk" || u.Query().Get("continuationToken") == "" {
		t.Fatalf("next page link %q: %v", next, err)
	}
	if page := b.get(next); strings.Count(page, `<a href="/console/acme/stacks/bulk/`) != 1 || strings.Contains(page, "Next page") {
		t.Errorf("the next page does not hold the last stack alone:\n%.3000s", page)
	}
}

// TestAccountTagsConcurrent: tag changes made at once to one Insights
// account through its page all land. (The API's account route replaces an account's tags whole; a page that read them, changed one and
// wrote them back lost the changes made in between.)
func TestAccountTagsConcurrent(t *testing.T) {
	e := newEnv(t)
	admin := e.browser()
	admin.signIn(e.admin)
	e.seedEntities(t, admin) // the account aws, tagged team=data
	const n = 12
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			form := url.Values{"csrf": {admin.csrf}, "name": {fmt.Sprintf("k%d", i)}, "value": {"v"}}
			if i%4 == 3 {
				form = url.Values{"csrf": {admin.csrf}, "action": {"remove"}, "name": {"team"}}
			}
			req, _ := http.NewRequest("POST", e.srv.URL+"/console/acme/accounts/aws/tags", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := admin.c.Do(req)
			if err != nil {
				statuses[i] = -1
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	var tags wire.InsightsAccountTags
	e.must(e.admin, "GET", "/api/preview/insights/acme/accounts/aws/tags", nil, &tags)
	for i, s := range statuses {
		if s != http.StatusSeeOther {
			t.Errorf("change %d: status %d", i, s)
		}
		if _, ok := tags.Tags[fmt.Sprintf("k%d", i)]; !ok && i%4 != 3 {
			t.Errorf("tag k%d was lost: %v", i, tags.Tags)
		}
	}
	if _, ok := tags.Tags["team"]; ok {
		t.Errorf("the removal of team was lost: %v", tags.Tags)
	}
}

// TestAccountTagErrors: a refused tag change of an account is named on its
// page as the account's own route would name it: the field and the
// problem, or the scope the user lacks; nothing changes.
func TestAccountTagErrors(t *testing.T) {
	e := newEnv(t)
	admin := e.browser()
	admin.signIn(e.admin)
	e.seedEntities(t, admin)
	reader := e.browser()
	reader.signIn(e.member(t, "rex", "reader"))
	for _, c := range []struct {
		who    string
		b      *browser
		form   url.Values
		status int
		want   string
	}{
		{"admin", admin, url.Values{"name": {"bad tag"}, "value": {"x"}}, 400, `tags: name &#34;bad tag&#34; must be 1 to 40 letters`},
		{"admin", admin, url.Values{"name": {"big"}, "value": {strings.Repeat("x", 257)}}, 400, `tags: the value of &#34;big&#34; is 257 characters`},
		{"admin", admin, url.Values{"action": {"remove"}, "name": {"no such"}}, 400, `tags: &#34;no such&#34; is not a tag name`},
		{"reader", reader, url.Values{"name": {"owner"}, "value": {"rex"}}, 403, `forbidden: this requires the insights_account:update scope`},
	} {
		status, _, body := c.b.do("POST", "/console/acme/accounts/aws/tags", c.form)
		if status != c.status || !strings.Contains(body, `<p class="error" role="alert">`+c.want) || strings.Contains(body, "changes[0]") {
			t.Errorf("%s's %v: %d\n%s", c.who, c.form, status, body)
		}
	}
	if page := admin.get("/console/acme/accounts/aws"); !strings.Contains(page, ">Delete this Insights account</button>") {
		t.Errorf("the account's page does not name its type in words:\n%s", page)
	}
	var tags wire.InsightsAccountTags
	e.must(e.admin, "GET", "/api/preview/insights/acme/accounts/aws/tags", nil, &tags)
	if len(tags.Tags) != 1 || tags.Tags["team"] != "data" {
		t.Errorf("refused changes changed the tags: %v", tags.Tags)
	}
}
