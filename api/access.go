package api

import (
	"sort"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

// registerAccess registers the access explorer's reverse query.
func (s *Server) registerAccess() {
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/access/holders", doc: doc{"ListAccessHolders", "The members, teams and organization tokens that hold a scope on an entity (Gatehouse extension)", []string{"scope", "entityType", "entity"}, "", "ListAccessHoldersResponse"}, scopes: scopes("org_member_access:read"), h: s.accessHolders})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/access/entity", doc: doc{"GetEntityAccess", "Who holds which scopes on one entity, and through which role, team and rule (Gatehouse extension)", []string{"entityType", "entity"}, "", "EntityAccessResponse"}, scopes: scopes("org_member_access:read"), h: s.entityAccess})
}

// accessHolders answers "who may use this scope on this entity": the
// members, teams and organization tokens of the organization holding it.
// Users come first, then teams, then tokens, each by name.
// The entity is named as in a check (entityType, then entity as
// project/name or an account's name; none for the organization).
func (s *Server) accessHolders(q *request) (any, error) {
	in := q.r.URL.Query()
	name := in.Get("scope")
	sc, ok := catalog.Lookup(name)
	if !ok {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "scope: %q is not a scope", name)
	}
	e, err := s.queryEntity(q)
	if err != nil {
		return nil, err
	}
	holders, err := s.az.WhoCan(q.ctx(), q.org.ID, sc, e)
	if err != nil {
		return nil, err
	}
	out := make([]wire.AccessHolder, len(holders))
	for i, h := range holders {
		out[i] = wire.AccessHolder{Kind: h.Kind, ID: h.ID, Name: h.Name}
	}
	sortByKind(out, func(h wire.AccessHolder) (string, string) { return h.Kind, h.Name })
	return wire.ListAccessHoldersResponse{Holders: out}, nil
}

// queryEntity is the entity a query names as a check does: entityType,
// then entity as project/name or an account's name (none for the
// organization). Its errors name the query parameter.
func (s *Server) queryEntity(q *request) (*gatehouse.Entity, error) {
	in := q.r.URL.Query()
	ref := gatehouse.CheckEntity{Type: in.Get("entityType")}
	if ref.Type == "" {
		ref.Type = "global"
	}
	et, ok := gatehouse.ParseEntityType(ref.Type)
	if !ok || et == gatehouse.EntityTeam {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "entityType: %q is not one of global, stack, environment, insights-account", ref.Type)
	}
	if et == gatehouse.EntityGlobal {
		return s.svc.ResolveEntity(q.ctx(), q.org.ID, ref)
	}
	name := in.Get("entity")
	switch project, n, _ := strings.Cut(name, "/"); {
	case name == "":
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "entity: required with entityType %s", ref.Type)
	case et == gatehouse.EntityInsightsAccount:
		ref.Name = name
	case project == "" || n == "" || strings.Contains(n, "/"):
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "entity: %q is not project/name", name)
	default:
		ref.Project, ref.Name = project, n
	}
	e, err := s.svc.ResolveEntity(q.ctx(), q.org.ID, ref)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "entity: %s %q not found", ref.Type, name)
	}
	return e, err
}

// entityAccess answers "who holds what on this entity, and why": every
// member, team and organization token holding a scope of the entity's
// type there, with the roles, teams and rules that grant it
// (authz.Access). Users come first, then teams, then tokens, each by name.
func (s *Server) entityAccess(q *request) (any, error) {
	e, err := s.queryEntity(q)
	if err != nil {
		return nil, err
	}
	access, err := s.az.Access(q.ctx(), q.org.ID, e)
	if err != nil {
		return nil, err
	}
	out := make([]wire.EntityAccess, len(access))
	for i, a := range access {
		w := wire.EntityAccess{Kind: a.Kind, ID: a.ID, Name: a.Name, Grants: make([]wire.EntityAccessGrant, len(a.Grants))}
		for j, g := range a.Grants {
			w.Grants[j] = wire.EntityAccessGrant{Via: g.Via, Role: g.Role, RoleID: g.RoleID, Path: g.Path, Holds: g.Holds, Scopes: g.Scopes}
		}
		out[i] = w
	}
	sortByKind(out, func(a wire.EntityAccess) (string, string) { return a.Kind, a.Name })
	return wire.EntityAccessResponse{Principals: out}, nil
}

// sortByKind orders principals users first, then teams, then tokens,
// each by name.
func sortByKind[T any](list []T, key func(T) (kind, name string)) {
	rank := map[string]int{"user": 0, "team": 1, "token": 2}
	sort.SliceStable(list, func(i, j int) bool {
		ki, ni := key(list[i])
		kj, nj := key(list[j])
		if rank[ki] != rank[kj] {
			return rank[ki] < rank[kj]
		}
		return ni < nj
	})
}
