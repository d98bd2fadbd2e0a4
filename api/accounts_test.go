package api_test

import "testing"

// TestInsightsAccounts: create, read, list by access, tags, delete.
func TestInsightsAccounts(t *testing.T) {
	e := newEnv(t)
	const base = "/api/preview/insights/acme/accounts"
	e.must(e.admin, "POST", base+"/aws-prod", map[string]string{"provider": "aws", "environment": "creds/aws", "scanSchedule": "daily"}, 204, nil)
	e.fails(e.admin, "POST", base+"/aws-prod", map[string]string{"provider": "aws", "environment": "creds/aws"}, 409, "already exists")
	e.fails(e.admin, "POST", base+"/x", map[string]string{"provider": "vax", "environment": "creds/aws"}, 400, "provider")
	e.fails(e.admin, "POST", base+"/x", map[string]string{"provider": "aws"}, 400, "environment")
	e.must(e.admin, "POST", base+"/gcp-dev", map[string]string{"provider": "gcp", "environment": "creds/gcp"}, 204, nil)
	var acct struct {
		Name, Provider, ProviderEnvRef string
		ScheduledScanEnabled           bool
		OwnedBy                        struct{ GitHubLogin string }
	}
	e.must(e.admin, "GET", base+"/aws-prod", nil, 200, &acct)
	if acct.Provider != "aws" || acct.ProviderEnvRef != "creds/aws" || !acct.ScheduledScanEnabled || acct.OwnedBy.GitHubLogin != "admin" {
		t.Errorf("account = %+v", acct)
	}
	e.must(e.admin, "PUT", base+"/aws-prod/tags", map[string]any{"tags": map[string]string{"env": "prod"}}, 204, nil)
	var tags struct{ Tags map[string]string }
	e.must(e.admin, "GET", base+"/aws-prod/tags", nil, 200, &tags)
	if tags.Tags["env"] != "prod" {
		t.Errorf("tags = %v", tags.Tags)
	}
	// Account Read on accounts tagged env=prod.
	sets := e.roles("set")
	role := e.customRole("acct-reader", withList("insights_account:list", map[string]any{"__type": "PermissionDescriptorCondition",
		"condition": map[string]any{"__type": "PermissionExpressionEqual",
			"left":  map[string]any{"__type": "PermissionExpressionTag", "context": map[string]any{"__type": "PermissionExpressionInsightsAccount"}, "key": "env"},
			"right": map[string]any{"__type": "PermissionLiteralExpressionString", "value": "prod"}},
		"subNode": map[string]any{"__type": "PermissionDescriptorCompose", "permissionDescriptors": []string{sets["Account Read"].ID}}}))
	reader := e.orgToken("acct-reader", role)
	var list struct{ Accounts []struct{ Name string } }
	e.must(reader, "GET", base, nil, 200, &list)
	if len(list.Accounts) != 1 || list.Accounts[0].Name != "aws-prod" {
		t.Errorf("reader lists %+v", list.Accounts)
	}
	e.fails(reader, "GET", base+"/gcp-dev", nil, 404, "not found")
	e.fails(reader, "DELETE", base+"/aws-prod", nil, 403, "insights_account:delete")
	e.fails(reader, "PUT", base+"/aws-prod/tags", map[string]any{"tags": map[string]string{}}, 403, "insights_account:update")
	e.must(e.admin, "DELETE", base+"/aws-prod", nil, 204, nil)
	e.fails(e.admin, "GET", base+"/aws-prod", nil, 404, "not found")
}
