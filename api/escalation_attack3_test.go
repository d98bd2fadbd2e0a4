package api_test

import "testing"

// Attack review 3 of issue 12 §2. Deleting a role with force moves its
// members onto the organization's default role: that is giving them a
// role, and it is held to what the caller holds like any other.
func TestForcedRoleDeleteHeldToWhatTheCallerHolds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createStack("p", "s", nil, "")
	// The organization's default role is broad; the delegated deleter holds
	// only role:delete, through a custom role that is its own.
	dev := e.customRole("developer", allowDetails("stack:read", "stack:delete"))
	e.must(e.admin, "PATCH", "/api/orgs/acme/roles/"+dev+"/default", nil, 204, nil)
	mine := e.customRole("deleter", allowDetails("role:delete"))
	tok := e.memberWithRole("deleter", mine)
	stack := map[string]string{"type": "stack", "project": "p", "name": "s"}
	if r := e.decide(tok, "stack:delete", stack); r.Allowed {
		t.Fatal("the deleter holds stack:delete before the attack")
	}
	e.fails(tok, "DELETE", "/api/orgs/acme/roles/"+mine+"?force=true", nil, 403, escalation("stack:read"))
	if r := e.decide(tok, "stack:delete", stack); r.Allowed {
		t.Fatal("deleting its own role moved the deleter onto the default role: it now holds stack:delete")
	}
	// A role no member holds is deleted as before; the admin may delete any.
	spare := e.customRole("spare", allowDetails("role:delete"))
	e.must(tok, "DELETE", "/api/orgs/acme/roles/"+spare, nil, 204, nil)
	e.must(e.admin, "DELETE", "/api/orgs/acme/roles/"+mine+"?force=true", nil, 204, nil)
}

// A maxOpenDuration is part of what a grant gives: a member whose only way
// to open an environment is a team grant limited to a minute, holding
// team:update, may not lift its own team's limit (nor give any team a
// longer one on that environment).
func TestTeamGrantCannotLiftTheCallersOpenLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const base = "/api/esc/environments/acme/app/prod"
	e.must(e.admin, "POST", "/api/esc/environments/acme", map[string]string{"project": "app", "name": "prod"}, 200, nil)
	editor := e.customRole("team-editor", allowDetails("team:read", "team:update"))
	erin := e.memberWithRole("erin", editor)
	e.must(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]any{"name": "ops"}, 201, nil)
	e.must(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]any{"name": "other"}, 201, nil)
	e.must(e.admin, "PATCH", "/api/orgs/acme/teams/ops", map[string]any{"memberAction": "add", "member": "erin"}, 204, nil)
	e.must(e.admin, "PATCH", "/api/orgs/acme/teams/ops", map[string]any{"addEnvironmentPermission": map[string]any{
		"projectName": "app", "envName": "prod", "permission": "open", "maxOpenDuration": "1m"}}, 204, nil)
	e.fails(erin, "POST", base+"/open?duration=24h", nil, 403, "maxOpenDuration")

	for _, c := range []struct{ team, verb, max string }{
		{"ops", "editEnvironmentPermission", ""},
		{"ops", "editEnvironmentPermission", "24h"},
		{"other", "addEnvironmentPermission", ""},
		{"other", "addEnvironmentPermission", "2m"},
	} {
		g := map[string]any{"projectName": "app", "envName": "prod", "permission": "open"}
		if c.max != "" {
			g["maxOpenDuration"] = c.max
		}
		e.fails(erin, "PATCH", "/api/orgs/acme/teams/"+c.team, map[string]any{c.verb: g}, 403, "maxOpenDuration")
	}
	e.fails(erin, "POST", base+"/open?duration=24h", nil, 403, "maxOpenDuration")
	// Within its own limit the grant is fine; the admin may lift it.
	e.must(erin, "PATCH", "/api/orgs/acme/teams/other", map[string]any{"addEnvironmentPermission": map[string]any{
		"projectName": "app", "envName": "prod", "permission": "open", "maxOpenDuration": "30s"}}, 204, nil)
	e.must(e.admin, "PATCH", "/api/orgs/acme/teams/ops", map[string]any{"editEnvironmentPermission": map[string]any{
		"projectName": "app", "envName": "prod", "permission": "open"}}, 204, nil)
	e.must(erin, "POST", base+"/open?duration=24h", nil, 200, nil)
}

// The same limit holds when the caller joins a team whose grant on the
// environment has no (or a longer) maxOpenDuration.
func TestJoiningATeamCannotLiftTheCallersOpenLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const base = "/api/esc/environments/acme/app/prod"
	e.must(e.admin, "POST", "/api/esc/environments/acme", map[string]string{"project": "app", "name": "prod"}, 200, nil)
	erin := e.memberWithRole("erin", e.customRole("team-editor", allowDetails("team:read", "team:update")))
	for _, team := range []string{"ops", "wide", "narrow"} {
		e.must(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]any{"name": team}, 201, nil)
	}
	grant := func(team, max string) {
		g := map[string]any{"projectName": "app", "envName": "prod", "permission": "open"}
		if max != "" {
			g["maxOpenDuration"] = max
		}
		e.must(e.admin, "PATCH", "/api/orgs/acme/teams/"+team, map[string]any{"addEnvironmentPermission": g}, 204, nil)
	}
	grant("ops", "1m")
	grant("wide", "")
	grant("narrow", "30s")
	e.must(e.admin, "PATCH", "/api/orgs/acme/teams/ops", map[string]any{"memberAction": "add", "member": "erin"}, 204, nil)

	e.fails(erin, "PATCH", "/api/orgs/acme/teams/wide", map[string]any{"memberAction": "add", "member": "erin"}, 403, "maxOpenDuration")
	e.fails(erin, "POST", base+"/open?duration=24h", nil, 403, "maxOpenDuration")
	e.must(erin, "PATCH", "/api/orgs/acme/teams/narrow", map[string]any{"memberAction": "add", "member": "erin"}, 204, nil)
	e.must(e.admin, "PATCH", "/api/orgs/acme/teams/wide", map[string]any{"memberAction": "add", "member": "erin"}, 204, nil)
	e.must(erin, "POST", base+"/open?duration=24h", nil, 200, nil)
}
