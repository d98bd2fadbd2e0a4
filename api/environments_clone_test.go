package api_test

import "testing"

// Clone's preserveAccess: the roles naming the source by identity (in a
// set, or by an equality) name the clone too, so whoever could read the
// source reads the clone; it changes roles, so it needs role:update;
// without it the clone is reached only by what matches it.
func TestClonePreservesAccess(t *testing.T) {
	e := newEnv(t)
	const envs = "/api/esc/environments/acme"
	e.must(e.admin, "POST", envs, map[string]string{"project": "app", "name": "src"}, 200, nil)
	var meta struct{ ID string }
	e.must(e.admin, "GET", envs+"/app/src/metadata", nil, 200, &meta)
	sets := e.roles("set")
	read := map[string]any{"__type": "PermissionDescriptorCompose", "permissionDescriptors": []string{sets["Environment Read"].ID}}
	inSet := e.customRole("src-in-set", map[string]any{"__type": "PermissionDescriptorCondition",
		"condition": map[string]any{"__type": "PermissionExpressionIn", "target": map[string]any{"__type": "PermissionExpressionEnvironment"},
			"values": map[string]any{"__type": "PermissionSetExpressionEnvironment", "identities": []string{meta.ID}}},
		"subNode": read})
	equal := e.customRole("src-equal", map[string]any{"__type": "PermissionDescriptorCondition",
		"condition": map[string]any{"__type": "PermissionExpressionEqual", "left": map[string]any{"__type": "PermissionExpressionEnvironment"},
			"right": map[string]any{"__type": "PermissionLiteralExpressionEnvironment", "identity": meta.ID}},
		"subNode": read})
	bySet, byEqual := e.orgToken("by-set", inSet), e.orgToken("by-equal", equal)
	for _, tok := range []string{bySet, byEqual} {
		e.must(tok, "GET", envs+"/app/src", nil, 200, nil)
	}

	// Without preserveAccess, the roles do not reach the clone.
	e.must(e.admin, "POST", envs+"/app/src/clone", map[string]any{"name": "plain"}, 204, nil)
	for _, tok := range []string{bySet, byEqual} {
		e.fails(tok, "GET", envs+"/app/plain", nil, 404, "not found")
	}
	// A cloner who may create environments but not change roles.
	cloner := e.orgToken("cloner", e.customRole("cloner", map[string]any{"__type": "PermissionDescriptorAllow",
		"permissions": []string{"environment:create", "environment:read", "environment:open"}}))
	e.fails(cloner, "POST", envs+"/app/src/clone", map[string]any{"name": "copy", "preserveAccess": true}, 403, "role:update")
	e.fails(e.admin, "GET", envs+"/app/copy", nil, 404, "not found")

	e.must(e.admin, "POST", envs+"/app/src/clone", map[string]any{"name": "copy", "preserveAccess": true}, 204, nil)
	for _, tok := range []string{bySet, byEqual} {
		e.must(tok, "GET", envs+"/app/copy", nil, 200, nil)
		e.must(tok, "GET", envs+"/app/src", nil, 200, nil)
		e.fails(tok, "GET", envs+"/app/plain", nil, 404, "not found")
	}
}
