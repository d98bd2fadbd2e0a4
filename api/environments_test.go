package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// callRaw sends a raw body with headers and returns status, headers and
// body.
func (e *env) callRaw(token, method, path, body string, headers map[string]string) (int, http.Header, string) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "token "+token)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, resp.Header, b.String()
}

// TestEnvironments: versioned YAML definitions with an ETag, secrets
// sealed at rest and revealed only to a caller who may open, tags, and
// every route gated by its environment scope.
func TestEnvironments(t *testing.T) {
	e := newEnv(t)
	const base = "/api/esc/environments/acme/app/prod"
	e.must(e.admin, "POST", "/api/esc/environments/acme", map[string]string{"project": "app", "name": "prod"}, 200, nil)
	e.fails(e.admin, "POST", "/api/esc/environments/acme", map[string]string{"project": "app", "name": "prod"}, 409, "already exists")
	e.fails(e.admin, "POST", "/api/esc/environments/acme", map[string]string{"project": "app", "name": "bad name"}, 400, "name")

	def := "values:\n  region: us-west-2\n  db:\n    password:\n      fn::secret: hunter2\n"
	status, h, body := e.callRaw(e.admin, "PATCH", base, def, map[string]string{"If-Match": "1"})
	if status != 200 || h.Get("ETag") != "2" {
		t.Fatalf("PATCH: %d %s, ETag %q", status, body, h.Get("ETag"))
	}
	status, _, body = e.callRaw(e.admin, "PATCH", base, "values: {a: 1}", map[string]string{"If-Match": "1"})
	if status != 409 {
		t.Errorf("stale If-Match: %d %s", status, body)
	}
	status, _, body = e.callRaw(e.admin, "PATCH", base, "values: [1]", nil)
	if status != 400 || !strings.Contains(body, "values must be a mapping") {
		t.Errorf("bad definition: %d %s", status, body)
	}
	status, h, body = e.callRaw(e.admin, "GET", base, "", nil)
	if status != 200 || h.Get("ETag") != "2" || strings.Contains(body, "hunter2") || !strings.Contains(body, "ciphertext:") {
		t.Fatalf("GET: %d %q %s", status, h.Get("ETag"), body)
	}
	if _, _, body = e.callRaw(e.admin, "GET", base+"?showSecrets=true", "", nil); !strings.Contains(body, "fn::secret: hunter2") {
		t.Errorf("showSecrets: %s", body)
	}
	if _, _, body = e.callRaw(e.admin, "GET", base+"/versions/1", "", nil); strings.TrimSpace(body) != "" {
		t.Errorf("version 1 = %q", body)
	}
	var revisions []struct {
		Number       int
		CreatorLogin string
	}
	e.must(e.admin, "GET", base+"/versions", nil, 200, &revisions)
	if len(revisions) != 2 || revisions[0].Number != 2 || revisions[0].CreatorLogin != "admin" {
		t.Errorf("revisions = %+v", revisions)
	}
	var opened struct{ ID string }
	e.must(e.admin, "POST", base+"/open?duration=1h", nil, 200, &opened)
	var values struct {
		Properties map[string]struct {
			Value  any
			Secret bool
		}
	}
	e.must(e.admin, "GET", base+"/open/"+opened.ID, nil, 200, &values)
	db, _ := values.Properties["db"].Value.(map[string]any)
	pw, _ := db["password"].(map[string]any)
	if values.Properties["region"].Value != "us-west-2" || pw["value"] != "hunter2" || pw["secret"] != true {
		t.Fatalf("opened = %+v", values.Properties)
	}
	e.fails(e.admin, "GET", base+"/open/bm9wZQ", nil, 404, "open session")
	e.fails(e.admin, "POST", base+"/open?duration=forever", nil, 400, "duration")

	// Tags: 409 on a duplicate, optimistic change, delete.
	e.must(e.admin, "POST", base+"/tags", map[string]string{"name": "team", "value": "core"}, 200, nil)
	e.fails(e.admin, "POST", base+"/tags", map[string]string{"name": "team", "value": "x"}, 409, "exists")
	e.fails(e.admin, "PATCH", base+"/tags/team", map[string]any{"currentTag": map[string]string{"value": "old"}, "newTag": map[string]string{"value": "x"}}, 409, "currentTag")
	e.must(e.admin, "PATCH", base+"/tags/team", map[string]any{"currentTag": map[string]string{"value": "core"}, "newTag": map[string]string{"name": "owner", "value": "ops"}}, 200, nil)
	var tag struct{ Name, Value string }
	e.must(e.admin, "GET", base+"/tags/owner", nil, 200, &tag)
	if tag.Value != "ops" {
		t.Errorf("tag = %+v", tag)
	}
	var orgTags map[string][]string
	e.must(e.admin, "GET", "/api/esc/environments/acme/tags", nil, 200, &orgTags)
	if len(orgTags["owner"]) != 1 || orgTags["owner"][0] != "ops" {
		t.Errorf("org tags = %v", orgTags)
	}

	// A reader sees the definition sealed, and may not open it.
	sets := e.roles("set")
	var env struct{ Environments []struct{ Name string } }
	readRole := e.customRole("env-reader", withList("environment:list", map[string]any{"__type": "PermissionDescriptorCondition",
		"condition": map[string]any{"__type": "PermissionExpressionEqual",
			"left":  map[string]any{"__type": "PermissionExpressionTag", "context": map[string]any{"__type": "PermissionExpressionEnvironment"}, "key": "owner"},
			"right": map[string]any{"__type": "PermissionLiteralExpressionString", "value": "ops"}},
		"subNode": map[string]any{"__type": "PermissionDescriptorCompose", "permissionDescriptors": []string{sets["Environment Read"].ID}}}))
	reader := e.orgToken("env-reader", readRole)
	e.must(e.admin, "POST", "/api/esc/environments/acme", map[string]string{"project": "app", "name": "other"}, 200, nil)
	e.must(reader, "GET", "/api/esc/environments/acme", nil, 200, &env)
	if len(env.Environments) != 1 || env.Environments[0].Name != "prod" {
		t.Errorf("the reader lists %+v", env.Environments)
	}
	if status, _, body := e.callRaw(reader, "GET", base, "", nil); status != 200 || strings.Contains(body, "hunter2") {
		t.Errorf("reader GET: %d %s", status, body)
	}
	e.fails(reader, "GET", base+"?showSecrets=true", nil, 403, "environment:open")
	e.fails(reader, "POST", base+"/open", nil, 403, "environment:open")
	e.fails(reader, "GET", base+"/open/"+opened.ID, nil, 403, "environment:open")
	e.fails(reader, "PATCH", base, "values: {}", 403, "environment:write")
	e.fails(reader, "GET", "/api/esc/environments/acme/app/other", nil, 404, "not found")

	e.must(e.admin, "DELETE", base, nil, 204, nil)
	e.fails(e.admin, "GET", base, nil, 404, "not found")
}

// withList adds an organization-wide list scope to a role's details.
func withList(scope string, details map[string]any) map[string]any {
	return map[string]any{"__type": "PermissionDescriptorGroup", "entries": []any{
		map[string]any{"__type": "PermissionDescriptorAllow", "permissions": []string{scope}}, details}}
}
