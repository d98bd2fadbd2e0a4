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
	ref := gatehouse.CheckEntity{Type: in.Get("entityType")}
	if ref.Type == "" {
		ref.Type = "global"
	}
	if ref.Type != "global" {
		ref.Name = in.Get("entity")
		if project, n, ok := strings.Cut(ref.Name, "/"); ok {
			ref.Project, ref.Name = project, n
		}
	}
	e, err := s.svc.ResolveEntity(q.ctx(), q.org.ID, ref)
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
	rank := map[string]int{"user": 0, "team": 1, "token": 2}
	sort.SliceStable(out, func(i, j int) bool {
		if rank[out[i].Kind] != rank[out[j].Kind] {
			return rank[out[i].Kind] < rank[out[j].Kind]
		}
		return out[i].Name < out[j].Name
	})
	return wire.ListAccessHoldersResponse{Holders: out}, nil
}
