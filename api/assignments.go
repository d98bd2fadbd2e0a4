package api

import (
	"strings"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

var contextEntityTypes = map[string]gatehouse.EntityType{
	"PermissionExpressionStack":           gatehouse.EntityStack,
	"PermissionExpressionEnvironment":     gatehouse.EntityEnvironment,
	"PermissionExpressionInsightsAccount": gatehouse.EntityInsightsAccount,
}

// assignmentEntity reads the body (kept for the handler) and finds the
// entity it names, for the route's decision.
func assignmentEntity(q *request) (*gatehouse.Entity, error) {
	var in wire.EntityInstance
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	t, ok := contextEntityTypes[in.Context.Type]
	if !ok {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "context.__type: %q is not PermissionExpressionStack, PermissionExpressionEnvironment or PermissionExpressionInsightsAccount", in.Context.Type)
	}
	if in.ID == "" {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "id: missing")
	}
	e, err := q.srv.az.EntityByID(q.ctx(), q.org.ID, strings.ToLower(in.ID))
	if err != nil || e.Type != t {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "%s %q not found", t, in.ID)
	}
	q.body = &in
	return e, nil
}

// accessScope returns, per entity type, the scope that reads (or updates)
// who can reach an entity: stack_access, environment_access or
// insights_account_access.
func accessScope(action string) func(gatehouse.EntityType) catalog.Scope {
	return func(t gatehouse.EntityType) catalog.Scope {
		switch t {
		case gatehouse.EntityEnvironment:
			return catalog.MustLookup("environment_access:" + action)
		case gatehouse.EntityInsightsAccount:
			return catalog.MustLookup("insights_account_access:" + action)
		}
		return catalog.MustLookup("stack_access:" + action)
	}
}

func toPermissionSet(d *gatehouse.Descriptor) wire.PermissionSet {
	return wire.PermissionSet{ID: d.ID, Name: d.Name, ResourceType: d.ResourceType.String(), DefaultIdentifier: d.DefaultIdentifier}
}

func (s *Server) listAssignments(q *request) (any, error) {
	views, sets, err := s.svc.Assignments(q.ctx(), q.org.ID, gatehouse.EntityRef{Type: q.entity.Type, ID: q.entity.ID})
	if err != nil {
		return nil, err
	}
	out := wire.ListAssignmentsResponse{Assignments: []wire.Assignment{}, AvailablePermissionSets: []wire.PermissionSet{}}
	for _, v := range views {
		a := wire.Assignment{PermissionSet: toPermissionSet(v.Set), Source: v.Source}
		if v.User != nil {
			u := toUserInfo(v.User)
			a.Principal.User = &u
		} else {
			a.Principal.Team = &wire.PrincipalTeam{Name: v.Team.Name, DisplayName: v.Team.DisplayName}
		}
		out.Assignments = append(out.Assignments, a)
	}
	for _, d := range sets {
		out.AvailablePermissionSets = append(out.AvailablePermissionSets, toPermissionSet(d))
	}
	return out, nil
}

func (s *Server) updateAssignment(q *request) (any, error) {
	in := q.body.(*wire.EntityInstance)
	if in.UserID == "" {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "userId: missing")
	}
	setID := ""
	if in.PermissionSetID != nil {
		setID = *in.PermissionSetID
	}
	v, err := s.svc.Assign(q.ctx(), q.org.ID, gatehouse.EntityRef{Type: q.entity.Type, ID: q.entity.ID}, in.UserID, setID)
	if err != nil {
		return nil, err
	}
	out := wire.UpdateAssignmentResponse{}
	if v != nil {
		a := wire.Assignment{PermissionSet: toPermissionSet(v.Set), Source: v.Source}
		u := toUserInfo(v.User)
		a.Principal.User = &u
		out.Assignment = &a
	}
	return out, nil
}

// registerAssignments registers the routes of entity assignments.
func (s *Server) registerAssignments() {
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/assignments/list", entity: assignmentEntity,
		scopeFor: accessScope("read"), h: s.listAssignments})
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/assignments/update", entity: assignmentEntity,
		scopeFor: accessScope("update"), h: s.updateAssignment})
}
