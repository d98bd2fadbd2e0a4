package api_test

import "testing"

// The metadata route gives the environment's id, which a role names it
// by: a role granting reads to that identity reads it and no other.
func TestEnvironmentMetadata(t *testing.T) {
	e := newEnv(t)
	e.must(e.admin, "POST", "/api/esc/environments/acme", map[string]string{"project": "app", "name": "prod"}, 200, nil)
	e.must(e.admin, "POST", "/api/esc/environments/acme", map[string]string{"project": "app", "name": "other"}, 200, nil)
	var meta struct {
		ID      string
		OwnedBy struct{ GithubLogin string }
	}
	e.must(e.admin, "GET", "/api/esc/environments/acme/app/prod/metadata", nil, 200, &meta)
	if meta.ID == "" || meta.OwnedBy.GithubLogin != "admin" {
		t.Fatalf("metadata = %+v", meta)
	}
	sets := e.roles("set")
	role := e.customRole("prod-reader", map[string]any{"__type": "PermissionDescriptorCondition",
		"condition": map[string]any{"__type": "PermissionExpressionIn", "target": map[string]any{"__type": "PermissionExpressionEnvironment"},
			"values": map[string]any{"__type": "PermissionSetExpressionEnvironment", "identities": []string{meta.ID}}},
		"subNode": map[string]any{"__type": "PermissionDescriptorCompose", "permissionDescriptors": []string{sets["Environment Read"].ID}}})
	reader := e.orgToken("prod-reader", role)
	var again struct{ ID string }
	e.must(reader, "GET", "/api/esc/environments/acme/app/prod/metadata", nil, 200, &again)
	if again.ID != meta.ID {
		t.Errorf("the reader's metadata id %q, want %q", again.ID, meta.ID)
	}
	e.must(reader, "GET", "/api/esc/environments/acme/app/prod", nil, 200, nil)
	e.fails(reader, "GET", "/api/esc/environments/acme/app/other/metadata", nil, 404, "not found")
	e.fails(e.admin, "GET", "/api/esc/environments/acme/app/nope/metadata", nil, 404, "not found")
}
