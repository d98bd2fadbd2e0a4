package api_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestRoleExpansionBudget: policies composing the previous one a hundred
// times, each under a condition of its own, three levels deep, expand to
// millions of nodes; the third level is refused with 400 naming the path,
// and the organization's writes stay fast (the first two are stored).
func TestRoleExpansionBudget(t *testing.T) {
	e := newEnv(t)
	var p role
	e.must(e.admin, "POST", "/api/orgs/acme/roles", `{"name":"p0","uxPurpose":"policy","details":{"__type":"PermissionDescriptorAllow","permissions":["stack:read"]}}`, 200, &p)
	prev := p.ID
	for level := 1; level <= 3; level++ {
		entries := make([]string, 100)
		for i := range entries {
			entries[i] = fmt.Sprintf(`{"__type":"PermissionDescriptorCondition","condition":{"__type":"PermissionExpressionEqual",
				"left":{"__type":"PermissionExpressionTag","context":{"__type":"PermissionExpressionStack"},"key":"k"},
				"right":{"__type":"PermissionLiteralExpressionString","value":"%d"}},
				"subNode":{"__type":"PermissionDescriptorCompose","permissionDescriptors":["%s"]}}`, i, prev)
		}
		body := fmt.Sprintf(`{"name":"p%d","uxPurpose":"policy","details":{"__type":"PermissionDescriptorGroup","entries":[%s]}}`, level, strings.Join(entries, ","))
		if level < 3 {
			e.must(e.admin, "POST", "/api/orgs/acme/roles", body, 200, &p)
			prev = p.ID
			continue
		}
		e.fails(e.admin, "POST", "/api/orgs/acme/roles", body, 400, "expands to more than 100000 nodes")
		e.fails(e.admin, "POST", "/api/orgs/acme/roles", body, 400, prev)
	}
}
