package api_test

import "testing"

// "." and ".." are path segments in every URL that names a stack, project,
// environment or account: a client or proxy resolves them away and the
// request reaches another route. They are refused as names wherever a
// name arrives in a body, naming the field, and nothing is created.
func TestDotNamesRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createStack("app", "dev", nil, "")
	for _, dot := range []string{".", ".."} {
		e.fails(e.admin, "POST", "/api/stacks/acme/app", map[string]string{"stackName": dot}, 400, `stackName: "`+dot+`" is a path segment`)
		e.fails(e.admin, "POST", "/api/stacks/acme/app/dev/rename", map[string]string{"newName": dot}, 400, `newName: "`+dot+`" is a path segment`)
		e.fails(e.admin, "POST", "/api/stacks/acme/app/dev/rename", map[string]string{"newName": "dev2", "newProject": dot}, 400, `newProject: "`+dot+`" is a path segment`)
		e.fails(e.admin, "POST", "/api/esc/environments/acme", map[string]string{"project": dot, "name": "cfg"}, 400, `project: "`+dot+`" is a path segment`)
		e.fails(e.admin, "POST", "/api/esc/environments/acme", map[string]string{"project": "app", "name": dot}, 400, `name: "`+dot+`" is a path segment`)
	}
	var list struct{ Stacks []struct{ StackName string } }
	e.must(e.admin, "GET", "/api/user/stacks?organization=acme", nil, 200, &list)
	if len(list.Stacks) != 1 || list.Stacks[0].StackName != "dev" {
		t.Errorf("stacks after refused names: %+v, want app/dev alone", list.Stacks)
	}
}
