package api_test

import "testing"

// tagRule is a descriptor granting scopes on entities of context ctxType
// (PermissionExpressionEnvironment, ...) whose tag key equals value.
func tagRule(ctxType, key, value string, scopes ...string) map[string]any {
	return map[string]any{"__type": "PermissionDescriptorCondition",
		"condition": map[string]any{"__type": "PermissionExpressionEqual",
			"left":  map[string]any{"__type": "PermissionExpressionTag", "context": map[string]any{"__type": ctxType}, "key": key},
			"right": map[string]any{"__type": "PermissionLiteralExpressionString", "value": value}},
		"subNode": allowDetails(scopes...)}
}

// TestEnvironmentRetagCannotGainScopes: a caller who may tag an
// environment may not tag it into a tag rule that gives the caller more
// there (issue 12 §2, as TestRetagCannotGainScopes for stacks).
func TestEnvironmentRetagCannotGainScopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.must(e.admin, "POST", "/api/esc/environments/acme", map[string]string{"project": "app", "name": "cfg"}, 200, nil)
	e.must(e.admin, "POST", "/api/esc/environments/acme/app/cfg/tags", map[string]string{"name": "env", "value": "prod"}, 200, nil)
	tok := e.orgToken("env-tagger", e.customRole("env-tagger", map[string]any{"__type": "PermissionDescriptorGroup", "entries": []any{
		allowDetails("environment:read", "environment_tag:read", "environment_tag:create", "environment_tag:update", "environment_tag:delete"),
		tagRule("PermissionExpressionEnvironment", "env", "dev", "environment:delete"),
	}}))
	envEntity := map[string]string{"type": "environment", "project": "app", "name": "cfg"}
	if e.decide(tok, "environment:delete", envEntity).Allowed {
		t.Fatal("environment:delete before the retag")
	}
	e.fails(tok, "PATCH", "/api/esc/environments/acme/app/cfg/tags/env",
		map[string]any{"currentTag": map[string]string{"value": "prod"}, "newTag": map[string]string{"name": "env", "value": "dev"}}, 403, "environment:delete")
	e.must(tok, "DELETE", "/api/esc/environments/acme/app/cfg/tags/env", nil, 204, nil)
	e.fails(tok, "POST", "/api/esc/environments/acme/app/cfg/tags", map[string]string{"name": "env", "value": "dev"}, 403, "environment:delete")
	if e.decide(tok, "environment:delete", envEntity).Allowed {
		t.Fatal("a refused retag took effect")
	}
	// A tag outside the rule is fine, and the admin may retag.
	e.must(tok, "POST", "/api/esc/environments/acme/app/cfg/tags", map[string]string{"name": "owner", "value": "me"}, 200, nil)
	e.must(e.admin, "POST", "/api/esc/environments/acme/app/cfg/tags", map[string]string{"name": "env", "value": "dev"}, 200, nil)
	if !e.decide(tok, "environment:delete", envEntity).Allowed {
		t.Fatal("the admin's retag did not take effect")
	}
}

// TestAccountRetagCannotGainScopes: the same for Insights accounts, whose
// tags are replaced whole.
func TestAccountRetagCannotGainScopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.must(e.admin, "POST", "/api/esc/environments/acme", map[string]string{"project": "app", "name": "cfg"}, 200, nil)
	e.must(e.admin, "POST", "/api/preview/insights/acme/accounts/aws", map[string]string{"provider": "aws", "environment": "app/cfg"}, 204, nil)
	tok := e.orgToken("acct-tagger", e.customRole("acct-tagger", map[string]any{"__type": "PermissionDescriptorGroup", "entries": []any{
		allowDetails("insights_account:read", "insights_account:update"),
		tagRule("PermissionExpressionInsightsAccount", "tier", "sandbox", "insights_account:delete"),
	}}))
	acct := map[string]string{"type": "insights-account", "name": "aws"}
	if e.decide(tok, "insights_account:delete", acct).Allowed {
		t.Fatal("insights_account:delete before the retag")
	}
	e.fails(tok, "PUT", "/api/preview/insights/acme/accounts/aws/tags", map[string]any{"tags": map[string]string{"tier": "sandbox"}}, 403, "insights_account:delete")
	if e.decide(tok, "insights_account:delete", acct).Allowed {
		t.Fatal("the refused retag took effect")
	}
	e.must(tok, "PUT", "/api/preview/insights/acme/accounts/aws/tags", map[string]any{"tags": map[string]string{"owner": "me"}}, 204, nil)
	e.must(e.admin, "PUT", "/api/preview/insights/acme/accounts/aws/tags", map[string]any{"tags": map[string]string{"tier": "sandbox"}}, 204, nil)
	if !e.decide(tok, "insights_account:delete", acct).Allowed {
		t.Fatal("the admin's retag did not take effect")
	}
}
