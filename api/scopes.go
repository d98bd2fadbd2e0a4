package api

import (
	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

// ScopeCatalog is the scope catalog as GET /api/orgs/{org}/roles/scopes
// serves it: for each entity type of types (every one when none), its
// groups of scopes with their descriptions. The CLI prints it offline
// (`gatehouse scopes -o json`) in the API's shape.
func ScopeCatalog(types ...gatehouse.EntityType) wire.RoleScopes {
	if len(types) == 0 {
		types = []gatehouse.EntityType{gatehouse.EntityGlobal, gatehouse.EntityStack, gatehouse.EntityEnvironment, gatehouse.EntityInsightsAccount}
	}
	out := wire.RoleScopes{}
	for _, t := range types {
		groups := []wire.ScopeGroup{}
		for _, g := range catalog.Groups(t) {
			gj := wire.ScopeGroup{Name: g.Name}
			for _, sc := range g.Scopes {
				gj.Scopes = append(gj.Scopes, wire.Scope{Name: sc.Name(), Metadata: map[string]string{"description": sc.Info().Description}})
			}
			groups = append(groups, gj)
		}
		out[t.String()] = groups
	}
	return out
}
