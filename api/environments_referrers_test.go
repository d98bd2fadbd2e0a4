package api_test

import (
	"net/http"
	"testing"
)

// Referrers name the stacks whose last update imported the environment
// (the stack.environments metadata the pulumi CLI sends with each
// update), to a caller who may read them; an update that drops the
// import drops the referrer; metadata that is not the CLI's list is
// refused naming it.
func TestStackReferrers(t *testing.T) {
	e := newEnv(t)
	e.must(e.admin, "POST", "/api/esc/environments/acme", map[string]string{"project": "app", "name": "base"}, 200, nil)
	status, _, body := e.callRaw(e.admin, "PATCH", "/api/esc/environments/acme/app/base", "values: {a: 1}\n", nil)
	if status != http.StatusOK {
		t.Fatalf("PATCH: %d %s", status, body)
	}
	e.must(e.admin, "POST", "/api/esc/environments/acme", map[string]string{"project": "app", "name": "web"}, 200, nil)
	status, _, body = e.callRaw(e.admin, "PATCH", "/api/esc/environments/acme/app/web", "imports: [app/base]\n", nil)
	if status != http.StatusOK {
		t.Fatalf("PATCH: %d %s", status, body)
	}
	e.createStack("app", "dev", nil, "")
	program := func(envs string) map[string]any {
		return map[string]any{"name": "app", "runtime": "yaml", "options": map[string]any{"dryRun": true}, "config": map[string]any{},
			"metadata": map[string]any{"message": "", "environment": map[string]string{"stack.environments": envs}}}
	}
	e.must(e.admin, "POST", "/api/stacks/acme/app/dev/preview", program(`[{"id":"app/base"},{"id":"app/web@1"}]`), 200, nil)

	type referrers struct {
		Referrers map[string][]struct {
			Environment *struct{ Project, Name string }
			Stack       *struct {
				Project, Stack string
				Version        int
			}
		}
	}
	var got referrers
	e.must(e.admin, "GET", "/api/esc/environments/acme/app/base/referrers", nil, 200, &got)
	var stacks, envs int
	for _, r := range got.Referrers["2"] {
		if r.Stack != nil && r.Stack.Project == "app" && r.Stack.Stack == "dev" {
			stacks++
		}
		if r.Environment != nil && r.Environment.Name == "web" {
			envs++
		}
	}
	if stacks != 1 || envs != 1 || len(got.Referrers) != 1 {
		t.Fatalf("referrers of app/base = %+v", got)
	}
	// app/web@1 is not its current version: only with allRevisions.
	got = referrers{}
	e.must(e.admin, "GET", "/api/esc/environments/acme/app/web/referrers", nil, 200, &got)
	if len(got.Referrers) != 0 {
		t.Errorf("referrers of app/web's current version = %+v", got)
	}
	got = referrers{}
	e.must(e.admin, "GET", "/api/esc/environments/acme/app/web/referrers?allRevisions=true", nil, 200, &got)
	if len(got.Referrers["1"]) != 1 || got.Referrers["1"][0].Stack == nil {
		t.Errorf("referrers of app/web, every version = %+v", got)
	}

	// A reader of environments who may not read the stack is not told of it.
	sets := e.roles("set")
	role := e.customRole("env-only", map[string]any{"__type": "PermissionDescriptorCompose", "permissionDescriptors": []string{sets["Environment Read"].ID}})
	reader := e.orgToken("env-only", role)
	got = referrers{}
	e.must(reader, "GET", "/api/esc/environments/acme/app/base/referrers", nil, 200, &got)
	if rs := got.Referrers["2"]; len(rs) != 1 || rs[0].Environment == nil {
		t.Errorf("a caller without stack:read sees %+v, want app/web alone", got)
	}

	e.fails(e.admin, "POST", "/api/stacks/acme/app/dev/preview", program(`{"id":"app/base"}`), 400, "stack.environments")
	e.fails(e.admin, "POST", "/api/stacks/acme/app/dev/preview", program(`[{"id":"bad name/x"}]`), 400, "stack.environments")
	e.must(e.admin, "POST", "/api/stacks/acme/app/dev/preview", program(`[]`), 200, nil)
	got = referrers{}
	e.must(e.admin, "GET", "/api/esc/environments/acme/app/base/referrers", nil, 200, &got)
	for _, r := range got.Referrers["2"] {
		if r.Stack != nil {
			t.Errorf("the stack dropped the import, still a referrer: %+v", r.Stack)
		}
	}
}
