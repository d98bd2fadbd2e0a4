package api_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestEnvironmentEvaluation: definitions evaluated by ESC's evaluator
// (imports, interpolation, the built-ins, secrets), errors answered as 400
// with diagnostics, and opening decided through every import, for the
// caller, with a refusal naming the import.
func TestEnvironmentEvaluation(t *testing.T) {
	e := newEnv(t)
	const envs = "/api/esc/environments/acme"
	put := func(name, def string) {
		t.Helper()
		e.must(e.admin, "POST", envs, map[string]string{"project": "app", "name": name}, 200, nil)
		if status, _, body := e.callRaw(e.admin, "PATCH", envs+"/app/"+name, def, nil); status != 200 {
			t.Fatalf("PATCH %s: %d %s", name, status, body)
		}
	}
	put("base", "values:\n  region: us-west-2\n  pw:\n    fn::secret: hunter2\n")
	put("mid", "imports:\n  - app/base\nvalues:\n  url: https://${region}.example.com\n")
	put("top", `imports:
  - app/mid
values:
  url2: ${url}/v2
  json:
    fn::toJSON: {a: 1, b: [x, y]}
  parsed:
    fn::fromJSON: '{"k": "v"}'
  b64:
    fn::toBase64: hello
  unb64:
    fn::fromBase64: aGVsbG8=
  str:
    fn::toString: 42
  joined:
    fn::join: [",", [a, b, c]]
  secretPw: ${pw}
  environmentVariables:
    REGION: ${region}
`)
	open := func(token, name string) (status int, props map[string]any, body string) {
		t.Helper()
		status, data := e.call(token, "POST", envs+"/app/"+name+"/open", nil, nil)
		if status != 200 {
			return status, nil, data
		}
		var opened struct{ ID string }
		json.Unmarshal([]byte(data), &opened)
		var values struct{ Properties map[string]any }
		e.must(token, "GET", envs+"/app/"+name+"/open/"+opened.ID, nil, 200, &values)
		return status, values.Properties, ""
	}
	_, props, _ := open(e.admin, "top")
	val := func(k string) any {
		v, _ := props[k].(map[string]any)
		return v["value"]
	}
	want := map[string]any{"url2": "https://us-west-2.example.com/v2", "json": `{"a":1,"b":["x","y"]}`, "b64": "aGVsbG8=",
		"unb64": "hello", "str": "42", "joined": "a,b,c", "secretPw": "hunter2", "region": "us-west-2"}
	for k, w := range want {
		if got := val(k); got != w {
			t.Errorf("%s = %#v, want %#v", k, got, w)
		}
	}
	if p, _ := props["secretPw"].(map[string]any); p["secret"] != true {
		t.Errorf("an interpolated secret is not secret: %v", p)
	}
	if parsed, _ := val("parsed").(map[string]any); parsed["k"].(map[string]any)["value"] != "v" {
		t.Errorf("parsed = %v", val("parsed"))
	}
	if v, _, _ := e.callRaw(e.admin, "GET", envs+"/app/top/open/"+"x?property=url2", "", nil); v != 404 {
		t.Errorf("a forged session reads: %d", v)
	}

	// Errors are diagnostics with their path, as Pulumi answers them.
	put("bad", "values:\n  a: ${nope}\n  p:\n    fn::open::aws-secrets: {}\n")
	status, data := e.call(e.admin, "POST", envs+"/app/bad/open", nil, nil)
	var diags struct {
		Code        int
		Diagnostics []struct {
			Summary string
			Path    string
			Range   *struct{ Begin struct{ Line int } }
		}
	}
	json.Unmarshal([]byte(data), &diags)
	if status != 400 || diags.Code != 400 || len(diags.Diagnostics) < 2 {
		t.Fatalf("bad open: %d %s", status, data)
	}
	if !strings.Contains(data, `unknown property \"nope\"`) || !strings.Contains(data, `unknown provider \"aws-secrets\"`) {
		t.Errorf("the diagnostics do not name the property and the provider: %s", data)
	}
	if diags.Diagnostics[0].Range == nil || diags.Diagnostics[0].Range.Begin.Line == 0 || diags.Diagnostics[0].Path == "" {
		t.Errorf("a diagnostic without its range or path: %s", data)
	}

	// An update ESC cannot parse is refused with its diagnostics.
	status, _, body0 := e.callRaw(e.admin, "PATCH", envs+"/app/bad", "values:\n  a:\n    fn::bogus: 1\n", nil)
	if status != 400 || !strings.Contains(body0, `"path":"values.a"`) || !strings.Contains(body0, "reserved prefix") {
		t.Errorf("an update with a bad built-in: %d %s", status, body0)
	}

	// A caller who may open top and mid but not base is refused, and the
	// refusal names the import: opening is decided on every import.
	sets := e.roles("set")
	tagged := func(value string) map[string]any {
		return map[string]any{"__type": "PermissionDescriptorCondition",
			"condition": map[string]any{"__type": "PermissionExpressionEqual",
				"left":  map[string]any{"__type": "PermissionExpressionTag", "context": map[string]any{"__type": "PermissionExpressionEnvironment"}, "key": "open"},
				"right": map[string]any{"__type": "PermissionLiteralExpressionString", "value": value}},
			"subNode": map[string]any{"__type": "PermissionDescriptorCompose", "permissionDescriptors": []string{sets["Environment Open"].ID}}}
	}
	role := e.customRole("env-opener", map[string]any{"__type": "PermissionDescriptorGroup", "entries": []any{
		map[string]any{"__type": "PermissionDescriptorAllow", "permissions": []string{"environment:list", "environment_yaml:open"}}, tagged("yes")}})
	opener := e.orgToken("env-opener", role)
	for _, n := range []string{"top", "mid"} {
		e.must(e.admin, "POST", envs+"/app/"+n+"/tags", map[string]string{"name": "open", "value": "yes"}, 200, nil)
	}
	status, _, body := open(opener, "top")
	if status != 400 || !strings.Contains(body, `import \"app/base\" refused`) || !strings.Contains(body, "environment:open") {
		t.Errorf("opening through a refused import: %d %s", status, body)
	}
	status, _, body = e.callRaw(opener, "POST", envs+"/yaml/open", "imports:\n  - app/top\n", nil)
	if status != 400 || !strings.Contains(body, `app/base`) {
		t.Errorf("an anonymous open through a refused import: %d %s", status, body)
	}
	e.must(e.admin, "POST", envs+"/app/base/tags", map[string]string{"name": "open", "value": "yes"}, 200, nil)
	if status, props, body = open(opener, "top"); status != 200 || val("url2") != "https://us-west-2.example.com/v2" {
		t.Errorf("opening once every import is allowed: %d %s %v", status, body, props)
	}

	// fn::open::pulumi-stacks reads a stack only for a caller with
	// stack:read on it.
	e.createStack("app", "dev", nil, "")
	put("outs", "values:\n  s:\n    fn::open::pulumi-stacks:\n      stacks:\n        d: {stack: app/dev}\n")
	e.must(e.admin, "POST", envs+"/app/outs/tags", map[string]string{"name": "open", "value": "yes"}, 200, nil)
	if status, _, body = open(opener, "outs"); status != 400 || !strings.Contains(body, "stack:read") || !strings.Contains(body, `stack \"app/dev\"`) {
		t.Errorf("stack outputs without stack:read: %d %s", status, body)
	}
	if status, props, body = open(e.admin, "outs"); status != 200 || props["s"] == nil {
		t.Errorf("stack outputs: %d %s %v", status, body, props)
	}

	// The anonymous definitions stacks send: check and open, then read.
	status, _, body = e.callRaw(opener, "POST", envs+"/yaml/check", "imports:\n  - app/top\nvalues:\n  x: ${url2}\n", nil)
	if status != 200 || !strings.Contains(body, `"exprs"`) || strings.Contains(body, "hunter2") {
		t.Errorf("yaml/check: %d %s", status, body)
	}
	status, _, body = e.callRaw(opener, "POST", envs+"/yaml/check", "values:\n  x: ${nope}\n", nil)
	if status != 400 || !strings.Contains(body, "diagnostics") {
		t.Errorf("yaml/check of a bad definition: %d %s", status, body)
	}
	var opened struct{ ID string }
	e.must(opener, "POST", envs+"/yaml/open?duration=1h", "imports:\n  - app/top\nvalues:\n  x: ${url2}\n", 200, &opened)
	var x struct {
		Value  string
		Secret bool
	}
	e.must(opener, "GET", envs+"/yaml/open/"+opened.ID+"?property=x", nil, 200, &x)
	if x.Value != "https://us-west-2.example.com/v2" {
		t.Errorf("yaml/open property x = %+v", x)
	}
	e.must(opener, "GET", envs+"/yaml/open/"+opened.ID+"?property=secretPw", nil, 200, &x)
	if x.Value != "hunter2" || !x.Secret {
		t.Errorf("yaml/open property secretPw = %+v", x)
	}
	e.fails(e.admin, "GET", envs+"/yaml/open/"+opened.ID, nil, 404, "open session")
	e.fails(opener, "GET", envs+"/yaml/open/nope", nil, 404, "open session")
}

// TestMemberEvaluatesInlineEnvironment: the built-in Member role may
// evaluate a stack's inline environment (the pulumi CLI's anonymous
// yaml/open of a stack with `environment:`), while each import is still
// decided on its own: an environment the member may not open is refused by
// name.
func TestMemberEvaluatesInlineEnvironment(t *testing.T) {
	e := newEnv(t)
	const envs = "/api/esc/environments/acme"
	member := e.orgToken("as-member", e.roles("role")["Member"].ID)
	e.must(e.admin, "POST", envs, map[string]string{"project": "app", "name": "secret"}, 200, nil)
	if status, _, body := e.callRaw(e.admin, "PATCH", envs+"/app/secret", "values:\n  pw:\n    fn::secret: hunter2\n", nil); status != 200 {
		t.Fatalf("PATCH: %d %s", status, body)
	}
	if status, _, body := e.callRaw(member, "POST", envs+"/yaml/open", "values:\n  region: us-west-2\n", nil); status != 200 {
		t.Errorf("a member's inline environment without imports: %d %s", status, body)
	}
	status, _, body := e.callRaw(member, "POST", envs+"/yaml/open", "imports:\n  - app/secret\n", nil)
	if status != 400 || !strings.Contains(body, "app/secret") || strings.Contains(body, "hunter2") {
		t.Errorf("a member's inline environment importing one it may not open: %d %s", status, body)
	}
}
