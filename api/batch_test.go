package api_test

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
)

func stackChange(name string, set map[string]string, remove ...string) wire.TagBatchChange {
	return wire.TagBatchChange{Entity: wire.BatchEntity{Type: "stack", Name: name}, Set: set, Remove: remove}
}

// stackTags reads a stack's tags through the API, without the built-in
// project tag.
func (e *env) stackTags(name string) map[string]string {
	e.t.Helper()
	var st wire.Stack
	e.must(e.admin, "GET", "/api/stacks/acme/"+name, nil, 200, &st)
	tags := maps.Clone(st.Tags)
	delete(tags, "pulumi:project")
	return tags
}

// A batch changes every entity in one transaction with one event per
// changed entity, and an environment in the same batch.
func TestTagBatch(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, e *env) {
		for i := range 3 {
			e.createStack("app", fmt.Sprintf("s%d", i), map[string]string{"owner": "x"}, "")
		}
		e.must(e.admin, "POST", "/api/esc/environments/acme", map[string]string{"project": "app", "name": "cfg"}, 200, nil)
		e.must(e.admin, "POST", "/api/preview/insights/acme/accounts/aws", map[string]string{"provider": "aws", "environment": "app/cfg"}, 204, nil)
		var out wire.TagBatchResponse
		e.must(e.admin, "POST", "/api/orgs/acme/tags/batch", wire.TagBatchRequest{Changes: []wire.TagBatchChange{
			stackChange("app/s0", map[string]string{"env": "prod"}),
			stackChange("app/s1", map[string]string{"env": "prod"}, "owner"),
			stackChange("app/s2", nil, "absent"),
			{Entity: wire.BatchEntity{Type: "environment", Name: "app/cfg"}, Set: map[string]string{"env": "prod"}},
			{Entity: wire.BatchEntity{Type: "insights-account", Name: "aws"}, Set: map[string]string{"tier": "sandbox"}},
		}}, 200, &out)
		if len(out.Changes) != 5 || !out.Changes[0].Changed || !out.Changes[1].Changed || out.Changes[2].Changed || !out.Changes[3].Changed || !out.Changes[4].Changed {
			t.Fatalf("results %+v; want all but 2 changed", out.Changes)
		}
		if got := e.stackTags("app/s1"); !maps.Equal(got, map[string]string{"env": "prod"}) {
			t.Errorf("app/s1 tags %v, want env=prod alone", got)
		}
		if got := e.stackTags("app/s0"); !maps.Equal(got, map[string]string{"env": "prod", "owner": "x"}) {
			t.Errorf("app/s0 tags %v", got)
		}
		if n := len(e.events(gatehouse.EventStackTagsChanged)); n != 2 {
			t.Errorf("%d stack tag events, want 2 (one per changed stack)", n)
		}
		if n := len(e.events(gatehouse.EventEnvTagsChanged)); n != 1 {
			t.Errorf("%d environment tag events, want 1", n)
		}
		if n := len(e.events(gatehouse.EventAccountTagsChanged)); n != 1 {
			t.Errorf("%d account tag events, want 1", n)
		}
		var acct struct{ Tags map[string]string }
		e.must(e.admin, "GET", "/api/preview/insights/acme/accounts/aws/tags", nil, 200, &acct)
		if fmt.Sprint(acct.Tags) != "map[tier:sandbox]" {
			t.Errorf("the account's tags: %v", acct.Tags)
		}
	})
}

// Every change is validated before any is applied, and an error names the
// change's index and field.
func TestTagBatchValidation(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, e *env) {
		e.createStack("app", "a", nil, "")
		e.createStack("app", "b", nil, "")
		good := stackChange("app/a", map[string]string{"env": "prod"})
		cases := []struct {
			name    string
			changes []wire.TagBatchChange
			status  int
			want    string
		}{
			{"bad tag name", []wire.TagBatchChange{good, stackChange("app/b", map[string]string{"bad name": "v"})}, 400, "changes[1].set: name \"bad name\""},
			{"built-in tag", []wire.TagBatchChange{good, stackChange("app/b", nil, "pulumi:project")}, 400, "changes[1].remove[0]: pulumi:project is built in"},
			{"unknown type", []wire.TagBatchChange{good, {Entity: wire.BatchEntity{Type: "team", Name: "x/y"}, Set: map[string]string{"a": "b"}}}, 400, "changes[1].entity.type"},
			{"bad name", []wire.TagBatchChange{good, stackChange("nope", map[string]string{"a": "b"})}, 400, `changes[1].entity.name: "nope" is not project/name`},
			{"twice", []wire.TagBatchChange{good, stackChange("app/a", map[string]string{"a": "b"})}, 400, "changes[1].entity: stack \"app/a\" is changes[0] too"},
			{"nothing", []wire.TagBatchChange{good, stackChange("app/b", nil)}, 400, "changes[1].set: nothing to set or remove"},
			{"missing stack", []wire.TagBatchChange{good, stackChange("app/missing", map[string]string{"a": "b"})}, 404, `changes[1].entity: stack "app/missing" not found`},
			{"empty", nil, 400, "changes: at least one change"},
		}
		for _, c := range cases {
			e.fails(e.admin, "POST", "/api/orgs/acme/tags/batch", wire.TagBatchRequest{Changes: c.changes}, c.status, c.want)
		}
		many := make([]wire.TagBatchChange, 1001)
		for i := range many {
			many[i] = stackChange(fmt.Sprintf("app/s%d", i), map[string]string{"a": "b"})
		}
		e.fails(e.admin, "POST", "/api/orgs/acme/tags/batch", wire.TagBatchRequest{Changes: many}, 400, "1001 changes, over the limit of 1000")
		if got := e.stackTags("app/a"); len(got) != 0 {
			t.Errorf("app/a tags %v after refused batches, want none", got)
		}
		if n := len(e.events(gatehouse.EventStackTagsChanged)); n != 0 {
			t.Errorf("%d tag events after refused batches", n)
		}
	})
}

// The caller needs stack_tags:update on every stack: a refusal names the
// change and the stack, and nothing is applied; a stack the caller may
// not read is not found. A change the service refuses (one that would
// give the caller a scope through a tag rule) rolls the batch back too.
func TestTagBatchAuthorization(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, e *env) {
		e.createStack("app", "mine", map[string]string{"team": "a"}, "")
		e.createStack("app", "theirs", map[string]string{"team": "b"}, "")
		e.createStack("app", "hidden", map[string]string{"team": "c"}, "")
		tok := e.orgToken("tagger", e.customRole("tagger", map[string]any{"__type": "PermissionDescriptorGroup", "entries": []any{
			tagRule("PermissionExpressionStack", "team", "a", "stack:read", "stack_tags:update"),
			tagRule("PermissionExpressionStack", "team", "b", "stack:read"),
			tagRule("PermissionExpressionStack", "env", "prod", "stack:delete"),
		}}))
		mine := stackChange("app/mine", map[string]string{"owner": "me"})
		e.fails(tok, "POST", "/api/orgs/acme/tags/batch", wire.TagBatchRequest{Changes: []wire.TagBatchChange{mine, stackChange("app/theirs", map[string]string{"owner": "me"})}},
			403, `changes[1].entity: stack "app/theirs": forbidden: this requires the stack_tags:update scope`)
		e.fails(tok, "POST", "/api/orgs/acme/tags/batch", wire.TagBatchRequest{Changes: []wire.TagBatchChange{mine, stackChange("app/hidden", map[string]string{"owner": "me"})}},
			404, `changes[1].entity: stack "app/hidden" not found`)
		e.fails(tok, "POST", "/api/orgs/acme/tags/batch", wire.TagBatchRequest{Changes: []wire.TagBatchChange{stackChange("app/mine", map[string]string{"env": "prod"})}},
			403, "changes[0] (stack app/mine): ")
		if got := e.stackTags("app/mine"); !maps.Equal(got, map[string]string{"team": "a"}) {
			t.Errorf("app/mine tags %v after refused batches, want team=a alone", got)
		}
		e.must(tok, "POST", "/api/orgs/acme/tags/batch", wire.TagBatchRequest{Changes: []wire.TagBatchChange{mine}}, 200, nil)
		if got := e.stackTags("app/mine"); got["owner"] != "me" {
			t.Errorf("app/mine tags %v, want owner=me", got)
		}
	})
}

// A dry run changes nothing, records nothing, and says whose access the
// change would move through tag rules.
func TestTagBatchDryRun(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, e *env) {
		e.createStack("app", "api", map[string]string{"env": "dev"}, "")
		e.createStack("app", "web", nil, "")
		deployer := e.customRole("prod-deployer", tagRule("PermissionExpressionStack", "env", "prod", "stack:read", "stack:write"))
		devOps := e.customRole("dev-ops", tagRule("PermissionExpressionStack", "env", "dev", "stack:read"))
		e.orgToken("deploy", deployer)
		e.orgToken("dev", devOps)
		var out wire.TagBatchResponse
		e.must(e.admin, "POST", "/api/orgs/acme/tags/batch", wire.TagBatchRequest{DryRun: true, Changes: []wire.TagBatchChange{
			stackChange("app/api", map[string]string{"env": "prod"}),
			stackChange("app/web", map[string]string{"owner": "me"}),
		}}, 200, &out)
		if !out.DryRun || !out.Changes[0].Changed || out.Changes[0].After["env"] != "prod" {
			t.Fatalf("dry run %+v", out)
		}
		byName := map[string]wire.TagBatchAccess{}
		for _, a := range out.Access {
			if a.Entity.Name != "app/api" || a.Index != 0 {
				t.Errorf("access change on %s (change %d): only app/api's access moves", a.Entity.Name, a.Index)
			}
			byName[a.Principal.Kind+" "+a.Principal.Name] = a
		}
		if a := byName["token deploy"]; strings.Join(a.Gained, ",") != "stack:read,stack:write" || len(a.Lost) != 0 {
			t.Errorf("the deploy token: %+v; want it to gain stack:read and stack:write", a)
		}
		if a := byName["token dev"]; strings.Join(a.Lost, ",") != "stack:read" || len(a.Gained) != 0 {
			t.Errorf("the dev token: %+v; want it to lose stack:read", a)
		}
		if _, ok := byName["user admin"]; ok {
			t.Error("the admin's access does not move (it holds everything)")
		}
		if got := e.stackTags("app/api"); got["env"] != "dev" {
			t.Errorf("the dry run changed app/api's tags: %v", got)
		}
		if n := len(e.events(gatehouse.EventStackTagsChanged)); n != 0 {
			t.Errorf("%d tag events after a dry run", n)
		}
		// Without org_member_access:read the dry run lists the stacks only.
		tagger := e.orgToken("tagger", e.customRole("tagger", allowDetails("stack:read", "stack_tags:update")))
		out = wire.TagBatchResponse{}
		e.must(tagger, "POST", "/api/orgs/acme/tags/batch", wire.TagBatchRequest{DryRun: true, Changes: []wire.TagBatchChange{stackChange("app/web", map[string]string{"owner": "me"})}}, 200, &out)
		if out.AccessOmitted == "" || len(out.Access) != 0 || !out.Changes[0].Changed {
			t.Errorf("a dry run without org_member_access:read: %+v", out)
		}
	})
}

// A batch of grants is all or none: every entity's access-update scope is
// decided first (a refusal names the grant), and a grant the service
// refuses rolls back the ones before it.
func TestAssignmentBatch(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, e *env) {
		sets := e.roles("set")
		e.createStack("app", "a", nil, "")
		e.createStack("app", "b", map[string]string{"team": "x"}, "")
		e.must(e.admin, "POST", "/api/orgs/acme/members/bob", nil, 200, nil)
		write := sets["Stack Write"].ID
		grant := func(stack, set string) map[string]any {
			g := map[string]any{"entity": map[string]string{"type": "stack", "name": stack}, "userId": "bob"}
			if set != "" {
				g["permissionSetId"] = set
			}
			return g
		}
		var out wire.AssignmentBatchResponse
		e.must(e.admin, "POST", "/api/orgs/acme/assignments/batch", map[string]any{"assignments": []any{grant("app/a", write), grant("app/b", write)}}, 200, &out)
		if len(out.Assignments) != 2 || out.Assignments[1].Assignment == nil || out.Assignments[1].Assignment.PermissionSet.Name != "Stack Write" {
			t.Fatalf("assignments %+v", out.Assignments)
		}
		if n := len(e.events(gatehouse.EventAssignmentChanged)); n != 2 {
			t.Errorf("%d assignment events, want 2", n)
		}
		e.fails(e.admin, "POST", "/api/orgs/acme/assignments/batch", map[string]any{"assignments": []any{grant("app/a", ""), grant("app/b", sets["Environment Read"].ID)}},
			400, "assignments[1] (stack app/b): ")
		e.fails(e.admin, "POST", "/api/orgs/acme/assignments/batch", map[string]any{"assignments": []any{grant("app/a", ""), grant("app/a", write)}},
			400, `assignments[1]: "bob" on stack app/a is assignments[0] too`)
		e.fails(e.admin, "POST", "/api/orgs/acme/assignments/batch", map[string]any{"assignments": []any{grant("app/a", ""), grant("app/missing", write)}},
			404, `assignments[1].entity: stack "app/missing" not found`)
		tok := e.orgToken("granter", e.customRole("granter", map[string]any{"__type": "PermissionDescriptorGroup", "entries": []any{
			allowDetails("stack:read", "stack:write"),
			tagRule("PermissionExpressionStack", "team", "x", "stack_access:update"),
		}}))
		e.fails(tok, "POST", "/api/orgs/acme/assignments/batch", map[string]any{"assignments": []any{grant("app/b", ""), grant("app/a", "")}},
			403, `assignments[1].entity: stack "app/a": forbidden: this requires the stack_access:update scope`)
		if n := len(e.events(gatehouse.EventAssignmentChanged)); n != 2 {
			t.Errorf("%d assignment events after refused batches, want 2", n)
		}
		// Both grants are still there: a revocation of app/a then app/b works.
		out = wire.AssignmentBatchResponse{}
		e.must(e.admin, "POST", "/api/orgs/acme/assignments/batch", map[string]any{"assignments": []any{grant("app/a", ""), grant("app/b", "")}}, 200, &out)
		if out.Assignments[0].Assignment != nil || out.Assignments[1].Assignment != nil {
			t.Errorf("revocations answered %+v", out.Assignments)
		}
		many := make([]any, 1001)
		for i := range many {
			many[i] = grant(fmt.Sprintf("app/s%d", i), write)
		}
		e.fails(e.admin, "POST", "/api/orgs/acme/assignments/batch", map[string]any{"assignments": many}, 400, "1001 assignments, over the limit of 1000")
	})
}

// Batches that retag the same stacks at once lose nothing: each sets a
// tag of its own on every stack, and every stack ends with all of them
// and one event per change (on PostgreSQL at READ COMMITTED a
// read-modify-write of the tags without a lock would keep only some).
func TestTagBatchConcurrent(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, e *env) {
		const stacks, writers = 10, 8
		for i := range stacks {
			e.createStack("app", fmt.Sprintf("s%d", i), nil, "")
		}
		errs := make(chan string, writers)
		for w := range writers {
			go func() {
				changes := make([]wire.TagBatchChange, stacks)
				for i := range changes {
					changes[i] = stackChange(fmt.Sprintf("app/s%d", i), map[string]string{fmt.Sprintf("w%d", w): "yes"})
				}
				st, body := e.call(e.admin, "POST", "/api/orgs/acme/tags/batch", wire.TagBatchRequest{Changes: changes}, nil)
				if st != 200 {
					errs <- fmt.Sprintf("writer %d: %d %s", w, st, body)
					return
				}
				errs <- ""
			}()
		}
		for range writers {
			if msg := <-errs; msg != "" {
				t.Error(msg)
			}
		}
		for i := range stacks {
			if got := e.stackTags(fmt.Sprintf("app/s%d", i)); len(got) != writers {
				t.Errorf("app/s%d tags %v, want the %d writers' tags", i, got, writers)
			}
		}
		if n := len(e.events(gatehouse.EventStackTagsChanged)); n != stacks*writers {
			t.Errorf("%d tag events, want %d", n, stacks*writers)
		}
	})
}
