package api_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestEntityAccessAndOutputNames: GET .../access/entity lists, for an
// admin, each holder of a scope on the stack with the role, the way it is
// held and the rule that matched, and refuses a token scoped to one tag
// (no org_member_access:read); GET .../outputs gives that token the names
// of app/dev's outputs, never their values, and app/prod is not found.
func TestEntityAccessAndOutputNames(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createStack("app", "dev", map[string]string{"env": "dev"}, "")
	e.createStack("app", "prod", map[string]string{"env": "prod"}, "")
	details, _ := json.Marshal(map[string]any{"__type": "PermissionDescriptorCondition",
		"condition": map[string]any{"__type": "PermissionExpressionEqual",
			"left":  map[string]any{"__type": "PermissionExpressionTag", "context": map[string]any{"__type": "PermissionExpressionStack"}, "key": "env"},
			"right": map[string]any{"__type": "PermissionLiteralExpressionString", "value": "dev"}},
		"subNode": map[string]any{"__type": "PermissionDescriptorCompose", "permissionDescriptors": []string{e.roles("set")["Stack Read"].ID}}})
	var role struct{ ID string }
	e.must(e.admin, "POST", "/api/orgs/acme/roles", map[string]any{"name": "dev-reader", "uxPurpose": "role", "details": json.RawMessage(details)}, 200, &role)
	scoped := e.orgToken("dev-bot", role.ID)

	type grant struct {
		Via, Role, Path string
		Holds, Scopes   []string
	}
	var out struct {
		Principals []struct {
			Kind, ID, Name string
			Grants         []grant
		}
	}
	e.must(e.admin, "GET", "/api/orgs/acme/access/entity?entityType=stack&entity=app/dev", nil, 200, &out)
	var found bool
	for _, p := range out.Principals {
		if p.Kind == "token" && p.Name == "dev-bot" {
			found = len(p.Grants) == 1 && p.Grants[0].Role == "dev-reader" && p.Grants[0].Via == "token role" &&
				slices.Equal(p.Grants[0].Holds, []string{`stack.tags["env"] == "dev"`}) && slices.Contains(p.Grants[0].Scopes, "stack:read") &&
				!slices.Contains(p.Grants[0].Scopes, "stack:write")
		}
	}
	if !found || out.Principals[0].Kind != "user" || out.Principals[0].Name != "admin" {
		t.Errorf("app/dev's access: %+v", out.Principals)
	}
	e.must(e.admin, "GET", "/api/orgs/acme/access/entity?entityType=stack&entity=app/prod", nil, 200, &out)
	for _, p := range out.Principals {
		if p.Name == "dev-bot" {
			t.Errorf("dev-bot holds a scope on app/prod: %+v", p)
		}
	}
	e.fails(scoped, "GET", "/api/orgs/acme/access/entity?entityType=stack&entity=app/dev", nil, 403, "org_member_access:read")
	// Errors name the query parameter and the problem.
	for _, c := range []struct {
		query  string
		status int
		want   string
	}{
		{"entityType=planet&entity=x", 400, `entityType: "planet" is not one of`},
		{"entityType=team&entity=x", 400, `entityType: "team" is not one of`},
		{"entityType=stack", 400, "entity: required with entityType stack"},
		{"entityType=stack&entity=dev", 400, `entity: "dev" is not project/name`},
		{"entityType=stack&entity=/dev", 400, `entity: "/dev" is not project/name`},
		{"entityType=stack&entity=app/dev/x", 400, `entity: "app/dev/x" is not project/name`},
		{"entityType=environment&entity=app/", 400, `entity: "app/" is not project/name`},
		{"entityType=stack&entity=app/nope", 404, `entity: stack "app/nope" not found`},
		{"entityType=insights-account&entity=nope", 404, `entity: insights-account "nope" not found`},
	} {
		e.fails(e.admin, "GET", "/api/orgs/acme/access/entity?"+c.query, nil, c.status, c.want)
		e.fails(e.admin, "GET", "/api/orgs/acme/access/holders?scope=stack:read&"+c.query, nil, c.status, c.want)
	}
	// Another organization's stack is not found, whatever its name.
	e.fails(e.admin, "GET", "/api/orgs/other/access/entity?entityType=stack&entity=app/dev", nil, 404, "")

	dep := `{"version":3,"deployment":{"resources":[{"urn":"urn:pulumi:dev::app::pulumi:pulumi:Stack::app-dev","type":"pulumi:pulumi:Stack",` +
		`"outputs":{"url":"https://dev.example","dbPassword":{"4dabf18193072939515e22adb298388d":"1b47061264138c4ac30d75fd1eb44270","ciphertext":"v1:x"}}}]}}`
	e.must(e.admin, "POST", "/api/stacks/acme/app/dev/import", json.RawMessage(dep), 200, nil)
	var names struct{ Names []string }
	body := e.must(scoped, "GET", "/api/stacks/acme/app/dev/outputs", nil, 200, &names)
	if !slices.Equal(names.Names, []string{"dbPassword", "url"}) || strings.Contains(body, "dev.example") || strings.Contains(body, "v1:x") {
		t.Errorf("app/dev's outputs: %s", body)
	}
	e.must(e.admin, "GET", "/api/stacks/acme/app/prod/outputs", nil, 200, &names)
	if names.Names == nil || len(names.Names) != 0 {
		t.Errorf("app/prod (no deployment) has outputs %v", names.Names)
	}
	e.fails(scoped, "GET", "/api/stacks/acme/app/prod/outputs", nil, 404, "")
}
