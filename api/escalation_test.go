package api_test

import (
	"context"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/service"
)

// Issue 12 §2: no delegated scope becomes Admin. Each attacker is a custom
// role holding just the management scopes of one path; each path, taken
// today, hands it Admin (or more than it holds). The refusal is a 403 that
// names the first scope it would gain.

func allowDetails(scopes ...string) map[string]any {
	return map[string]any{"__type": "PermissionDescriptorAllow", "permissions": scopes}
}

// memberWithRole adds login with a custom role and returns a personal
// token of theirs.
func (e *env) memberWithRole(login, roleID string) string {
	e.t.Helper()
	e.must(e.admin, "POST", "/api/orgs/acme/members/"+login, map[string]any{"role": "member"}, 200, nil)
	e.must(e.admin, "PATCH", "/api/orgs/acme/members/"+login, map[string]any{"fgaRoleId": roleID}, 204, nil)
	ctx := context.Background()
	var u *gatehouse.User
	if err := e.db.Read(ctx, func(tx gatehouse.Tx) (err error) { u, err = tx.GetUserByLogin(ctx, login); return err }); err != nil {
		e.t.Fatal(err)
	}
	_, value, err := e.svc.CreateToken(ctx, service.TokenInput{Kind: gatehouse.TokenPersonal, UserID: u.ID, Description: "test"})
	if err != nil {
		e.t.Fatal(err)
	}
	return value
}

// as returns the environment for a subtest, failing t.
func (e *env) as(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// firstNotHeld is the first scope of the catalog outside held: the first
// scope a caller holding held gains by becoming Admin.
func firstNotHeld(held ...string) string {
	for _, sc := range catalog.AllScopes().Scopes() {
		name := sc.Name()
		found := false
		for _, h := range held {
			found = found || h == name
		}
		if !found {
			return name
		}
	}
	return ""
}

// escalation is the refusal's wording for scope sc.
func escalation(sc string) string { return "would grant " + sc + " " }

func TestNoEscalationThroughDelegatedScopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adminID := e.roles("role")["Admin"].ID
	if adminID == "" {
		t.Fatal("no built-in Admin role")
	}

	t.Run("role:update on its own role", func(t *testing.T) {
		e := e.as(t)
		held := []string{"role:update"}
		e.createStack("p", "s", nil, "")
		rid := e.customRole("self-editor", allowDetails(held...))
		tok := e.orgToken("self-editor", rid)
		e.fails(tok, "PATCH", "/api/orgs/acme/roles/"+rid, map[string]any{"details": allowDetails("role:update", "stack:delete")}, 403, escalation("stack:delete")+"on every stack")
		e.fails(tok, "PATCH", "/api/orgs/acme/roles/"+rid, map[string]any{"details": allowDetails(catalog.AllScopes().Names()...)}, 403, escalation(firstNotHeld(held...)))
		if r := e.decide(tok, "stack:delete", map[string]string{"type": "stack", "project": "p", "name": "s"}); r.Allowed {
			t.Fatal("the refused edit took effect")
		}
		// Within what it holds, the edit is fine; the admin may do anything.
		e.must(tok, "PATCH", "/api/orgs/acme/roles/"+rid, map[string]any{"details": allowDetails("role:update")}, 200, nil)
		e.must(e.admin, "PATCH", "/api/orgs/acme/roles/"+rid, map[string]any{"details": allowDetails("role:update", "stack:delete")}, 200, nil)
	})

	t.Run("org_token:create with admin:true", func(t *testing.T) {
		e := e.as(t)
		held := []string{"org_token:create"}
		tok := e.orgToken("minter", e.customRole("minter", allowDetails(held...)))
		e.fails(tok, "POST", "/api/orgs/acme/tokens", map[string]any{"name": "legacy-admin", "admin": true}, 403, escalation(firstNotHeld(held...)))
		e.fails(tok, "POST", "/api/orgs/acme/tokens", map[string]any{"name": "admin-role", "roleID": adminID}, 403, escalation(firstNotHeld(held...)))
		// A token with its own role is within what it holds.
		e.must(tok, "POST", "/api/orgs/acme/tokens", map[string]any{"name": "same", "roleID": e.customRole("minter-copy", allowDetails(held...))}, 200, nil)
		e.must(e.admin, "POST", "/api/orgs/acme/tokens", map[string]any{"name": "by-admin", "admin": true}, 200, nil)
	})

	t.Run("team:create_token for a team holding Admin", func(t *testing.T) {
		e := e.as(t)
		held := []string{"team:create_token"}
		e.must(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]any{"name": "root-team"}, 201, nil)
		e.must(e.admin, "POST", "/api/orgs/acme/teams/root-team/roles/"+adminID, nil, 204, nil)
		tok := e.orgToken("team-minter", e.customRole("team-minter", allowDetails(held...)))
		e.fails(tok, "POST", "/api/orgs/acme/teams/root-team/tokens", map[string]any{"name": "ci", "description": "x"}, 403, escalation(firstNotHeld(held...)))
		e.must(e.admin, "POST", "/api/orgs/acme/teams/root-team/tokens", map[string]any{"name": "ci", "description": "x"}, 200, nil)
	})

	t.Run("role:update+team:update assigning Admin to a team", func(t *testing.T) {
		e := e.as(t)
		held := []string{"role:update", "team:update"}
		e.must(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]any{"name": "my-team"}, 201, nil)
		tok := e.orgToken("team-editor", e.customRole("team-editor", allowDetails(held...)))
		e.fails(tok, "POST", "/api/orgs/acme/teams/my-team/roles/"+adminID, nil, 403, escalation(firstNotHeld(held...)))
		e.must(e.admin, "POST", "/api/orgs/acme/teams/my-team/roles/"+adminID, nil, 204, nil)
	})

	t.Run("oidc_issuers:create+auth_policies:update", func(t *testing.T) {
		e := e.as(t)
		held := []string{"oidc_issuers:create", "auth_policies:update"}
		tok := e.orgToken("issuer-admin", e.customRole("issuer-admin", allowDetails(held...)))
		ti := newTestIssuer(t)
		var iss issuerResp
		e.must(tok, "POST", "/api/orgs/acme/oidc/issuers", map[string]any{"name": "mine", "url": ti.srv.URL}, 200, &iss)
		var pol struct{ ID string }
		e.must(e.admin, "GET", "/api/orgs/acme/auth/policies/oidcissuers/"+iss.ID, nil, 200, &pol)
		path := "/api/orgs/acme/auth/policies/" + pol.ID
		rule := func(extra map[string]any) map[string]any {
			r := map[string]any{"decision": "allow", "tokenType": "organization", "rules": map[string]string{"sub": "me"}}
			for k, v := range extra {
				r[k] = v
			}
			return map[string]any{"policies": []any{r}}
		}
		e.fails(tok, "PATCH", path, rule(map[string]any{"authorizedPermissions": []string{"admin"}}), 403, escalation(firstNotHeld(held...)))
		e.fails(tok, "PATCH", path, rule(map[string]any{"roleID": adminID}), 403, escalation(firstNotHeld(held...)))
		// Team tokens of a team holding Admin, personal tokens acting as the admin.
		e.must(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]any{"name": "oidc-root"}, 201, nil)
		e.must(e.admin, "POST", "/api/orgs/acme/teams/oidc-root/roles/"+adminID, nil, 204, nil)
		e.fails(tok, "PATCH", path, map[string]any{"policies": []any{map[string]any{"decision": "allow", "tokenType": "team", "teamName": "oidc-root", "rules": map[string]string{"sub": "me"}}}},
			403, escalation(firstNotHeld(held...)))
		e.fails(tok, "PATCH", path, map[string]any{"policies": []any{map[string]any{"decision": "allow", "tokenType": "personal", "userLogin": "admin", "rules": map[string]string{"sub": "me"}}}},
			403, "acting as admin would grant "+firstNotHeld(held...)+" ")
		// Patterns and unknown subjects cannot be compared: refused.
		teamRule := func(name string) map[string]any {
			return map[string]any{"policies": []any{map[string]any{"decision": "allow", "tokenType": "team", "teamName": name, "rules": map[string]string{"sub": "me"}}}}
		}
		e.fails(tok, "PATCH", path, teamRule("*"), 403, "policies[0].teamName: \"*\" is a pattern")
		e.fails(tok, "PATCH", path, teamRule("oidc.root"), 403, "is a pattern")
		e.fails(tok, "PATCH", path, teamRule("later"), 403, "no team \"later\" yet")
		e.fails(tok, "PATCH", path, map[string]any{"policies": []any{map[string]any{"decision": "allow", "tokenType": "personal", "userLogin": "adm?n", "rules": map[string]string{"sub": "me"}}}}, 403, "is a pattern")
		e.must(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]any{"name": "nothing"}, 201, nil)
		e.fails(tok, "PATCH", path, teamRule("nothing"), 403, "of team nothing would grant ") // team tokens hold the Member role
		// A deny rule grants nothing.
		e.must(tok, "PATCH", path, map[string]any{"policies": []any{map[string]any{"decision": "deny", "tokenType": "organization", "rules": map[string]string{"sub": "me"}}}}, 200, nil)
		e.must(e.admin, "PATCH", path, rule(map[string]any{"authorizedPermissions": []string{"admin"}}), 200, nil)
	})

	t.Run("org_member:update on oneself", func(t *testing.T) {
		e := e.as(t)
		held := []string{"org_member:update"}
		tok := e.memberWithRole("mallory", e.customRole("member-editor", allowDetails(held...)))
		e.fails(tok, "PATCH", "/api/orgs/acme/members/mallory", map[string]any{"role": "admin"}, 403, escalation(firstNotHeld(held...)))
		e.fails(tok, "PATCH", "/api/orgs/acme/members/mallory", map[string]any{"fgaRoleId": adminID}, 403, escalation(firstNotHeld(held...)))
		if r := e.decide(tok, "org_token:create", map[string]string{"type": "global"}); r.Allowed {
			t.Fatal("the refused role change took effect")
		}
		e.must(e.admin, "PATCH", "/api/orgs/acme/members/mallory", map[string]any{"role": "admin"}, 204, nil)
	})

	t.Run("team:update adding oneself to the admin team", func(t *testing.T) {
		e := e.as(t)
		held := []string{"team:update"}
		e.must(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]any{"name": "admins"}, 201, nil)
		e.must(e.admin, "POST", "/api/orgs/acme/teams/admins/roles/"+adminID, nil, 204, nil)
		tok := e.memberWithRole("trudy", e.customRole("team-updater", allowDetails(held...)))
		e.fails(tok, "PATCH", "/api/orgs/acme/teams/admins", map[string]any{"memberAction": "add", "member": "trudy"}, 403, escalation(firstNotHeld(held...)))
		// A team that grants nothing more may take members.
		e.must(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]any{"name": "empty"}, 201, nil)
		e.must(tok, "PATCH", "/api/orgs/acme/teams/empty", map[string]any{"memberAction": "add", "member": "trudy"}, 204, nil)
		e.must(e.admin, "PATCH", "/api/orgs/acme/teams/admins", map[string]any{"memberAction": "add", "member": "trudy"}, 204, nil)
	})

	t.Run("role:update+organization:update making Admin the default role", func(t *testing.T) {
		e := e.as(t)
		held := []string{"role:update", "organization:update"}
		tok := e.orgToken("defaulter", e.customRole("defaulter", allowDetails(held...)))
		e.fails(tok, "PATCH", "/api/orgs/acme/roles/"+adminID+"/default", nil, 403, escalation(firstNotHeld(held...)))
		if e.roles("role")["Admin"].IsOrgDefault {
			t.Fatal("the refused default took effect")
		}
	})

	t.Run("invites:create inviting someone as Admin", func(t *testing.T) {
		e := e.as(t)
		held := []string{"invites:create", "invites:read"}
		e.newOrg("elsewhere", "outsider")
		tok := e.orgToken("inviter", e.customRole("inviter", allowDetails(held...)))
		e.fails(tok, "POST", "/api/orgs/acme/invites", map[string]any{"userLogin": "outsider", "roleId": adminID}, 403, escalation(firstNotHeld(held...)))
		e.fails(tok, "POST", "/api/orgs/acme/invites", map[string]any{"userLogin": "outsider", "role": "admin"}, 403, escalation(firstNotHeld(held...)))
		var list struct{ Invites []map[string]any }
		e.must(e.admin, "GET", "/api/orgs/acme/invites", nil, 200, &list)
		if len(list.Invites) != 0 {
			t.Fatalf("a refused invitation was stored: %v", list.Invites)
		}
		// An invitation the admin made cannot be raised to Admin by the
		// inviter either.
		var inv struct{ ID string }
		e.must(e.admin, "POST", "/api/orgs/acme/invites", map[string]any{"userLogin": "outsider", "role": "member"}, 201, &inv)
		e.fails(tok, "PATCH", "/api/orgs/acme/invites/"+inv.ID, map[string]any{"roleId": adminID}, 403, escalation(firstNotHeld(held...)))
		e.must(e.admin, "DELETE", "/api/orgs/acme/invites/"+inv.ID, nil, 204, nil)
	})
}

// TestGrantingWithinWhatTheCallerHolds: a caller holding Stack Write on
// every stack may create a role granting stack:read on one stack, not one
// granting stack:delete there; a direct entity grant (team stack
// permission) follows the same rule.
func TestGrantingWithinWhatTheCallerHolds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sets := e.roles("set")
	stackWrite := sets["Stack Write"].ID
	if stackWrite == "" {
		t.Fatalf("no Stack Write set: %v", sets)
	}
	st := e.createStack("infra", "prod", nil, "")
	details := map[string]any{"__type": "PermissionDescriptorGroup", "entries": []any{
		map[string]any{"__type": "PermissionDescriptorCompose", "permissionDescriptors": []string{stackWrite}},
		allowDetails("role:create", "team:update", "stack_access:update"),
	}}
	tok := e.orgToken("writer", e.customRole("writer", details))
	onStack := func(scopes ...string) map[string]any {
		return map[string]any{"__type": "PermissionDescriptorCondition",
			"condition": map[string]any{"__type": "PermissionExpressionEqual",
				"left":  map[string]any{"__type": "PermissionExpressionStack"},
				"right": map[string]any{"__type": "PermissionLiteralExpressionStack", "identity": st.ID}},
			"subNode": allowDetails(scopes...)}
	}
	e.must(tok, "POST", "/api/orgs/acme/roles", map[string]any{"name": "reader-of-prod", "uxPurpose": "role", "details": onStack("stack:read")}, 200, nil)
	e.fails(tok, "POST", "/api/orgs/acme/roles", map[string]any{"name": "deleter-of-prod", "uxPurpose": "role", "details": onStack("stack:delete")}, 403,
		escalation("stack:delete")+"on stack "+st.ID)
	e.must(e.admin, "POST", "/api/orgs/acme/roles", map[string]any{"name": "deleter-of-prod", "uxPurpose": "role", "details": onStack("stack:delete")}, 200, nil)

	e.must(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]any{"name": "devs"}, 201, nil)
	grant := func(perm int) map[string]any {
		return map[string]any{"addStackPermission": map[string]any{"projectName": "infra", "stackName": "prod", "permission": perm}}
	}
	e.must(tok, "PATCH", "/api/orgs/acme/teams/devs", grant(102), 204, nil)
	e.fails(tok, "PATCH", "/api/orgs/acme/teams/devs", grant(103), 403, "on stack "+st.ID)
	e.must(e.admin, "PATCH", "/api/orgs/acme/teams/devs", grant(103), 204, nil)

	// A direct assignment likewise.
	e.must(e.admin, "POST", "/api/orgs/acme/members/bob", nil, 200, nil)
	assign := func(set string) map[string]any {
		return map[string]any{"context": map[string]string{"__type": "PermissionExpressionStack"}, "id": st.ID, "userId": "bob", "permissionSetId": sets[set].ID}
	}
	e.must(tok, "POST", "/api/orgs/acme/assignments/update", assign("Stack Read"), 200, nil)
	e.fails(tok, "POST", "/api/orgs/acme/assignments/update", assign("Stack Admin"), 403, "on stack "+st.ID)
	e.must(e.admin, "POST", "/api/orgs/acme/assignments/update", assign("Stack Admin"), 200, nil)
}

// TestRetagCannotGainScopes: a caller that may change a stack's tags may
// not retag it into a tag rule that gives it more on that stack.
func TestRetagCannotGainScopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createStack("web", "prod", map[string]string{"env": "prod"}, "")
	details := map[string]any{"__type": "PermissionDescriptorGroup", "entries": []any{
		allowDetails("stack:read", "stack_tags:update", "stack:write"),
		map[string]any{"__type": "PermissionDescriptorCondition",
			"condition": map[string]any{"__type": "PermissionExpressionEqual",
				"left":  map[string]any{"__type": "PermissionExpressionTag", "context": map[string]any{"__type": "PermissionExpressionStack"}, "key": "env"},
				"right": map[string]any{"__type": "PermissionLiteralExpressionString", "value": "dev"}},
			"subNode": allowDetails("stack:delete")},
	}}
	tok := e.orgToken("tagger", e.customRole("tagger", details))
	stack := map[string]string{"type": "stack", "project": "web", "name": "prod"}
	if e.decide(tok, "stack:delete", stack).Allowed {
		t.Fatal("stack:delete before the retag")
	}
	e.fails(tok, "PATCH", stackPath("web", "prod", "tags", "env"), map[string]string{"name": "env", "value": "dev"}, 403, "stack:delete")
	e.fails(tok, "PATCH", stackPath("web", "prod", "tags"), map[string]string{"env": "dev"}, 403, "stack:delete")
	if e.decide(tok, "stack:delete", stack).Allowed {
		t.Fatal("the refused retag took effect")
	}
	// Nor through the tags an update brings: the update does not start.
	var created struct{ UpdateID string }
	e.must(tok, "POST", stackPath("web", "prod", "update"), map[string]any{"name": "web", "runtime": "yaml",
		"options": map[string]any{}, "config": map[string]any{}, "metadata": map[string]any{"message": "m"}}, 200, &created)
	e.fails(tok, "POST", stackPath("web", "prod", "update", created.UpdateID), map[string]any{"tags": map[string]string{"env": "dev"}}, 403, "stack:delete")
	e.must(tok, "POST", stackPath("web", "prod", "update", created.UpdateID), map[string]any{"tags": map[string]string{"pulumi:runtime": "yaml"}}, 200, nil)
	// A tag that changes nothing of its access is fine; so is the admin.
	e.must(tok, "POST", stackPath("web", "prod", "tags"), map[string]string{"name": "owner", "value": "me"}, 204, nil)
	e.must(e.admin, "PATCH", stackPath("web", "prod", "tags", "env"), map[string]string{"name": "env", "value": "dev"}, 204, nil)
	if !e.decide(tok, "stack:delete", stack).Allowed {
		t.Fatal("the admin's retag did not take effect")
	}
}

// TestNewStackTeamGrantWithinWhatTheCallerHolds: an organization token
// (which is no stack's creator) may give a team Stack Write on the stack it
// creates only when it holds that itself.
func TestNewStackTeamGrantWithinWhatTheCallerHolds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.must(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]any{"name": "ops"}, 201, nil)
	creator := e.orgToken("creator", e.customRole("creator", allowDetails("stack:create", "team:update")))
	e.fails(creator, "POST", "/api/stacks/acme/app", map[string]any{"stackName": "mine", "teams": []string{"ops"}}, 403, "would grant stack:")
	e.must(creator, "POST", "/api/stacks/acme/app", map[string]any{"stackName": "mine"}, 200, nil)
	writer := e.orgToken("writer", e.customRole("writer", map[string]any{"__type": "PermissionDescriptorGroup", "entries": []any{
		map[string]any{"__type": "PermissionDescriptorCompose", "permissionDescriptors": []string{e.roles("set")["Stack Write"].ID}},
		allowDetails("stack:create", "team:update"),
	}}))
	e.must(writer, "POST", "/api/stacks/acme/app", map[string]any{"stackName": "shared", "teams": []string{"ops"}}, 200, nil)
}
