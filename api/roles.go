package api

import (
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/service"
)

// maxRoleBody is the largest role document accepted, as Pulumi (1 MB), plus
// room for the envelope.
const maxRoleBody = 1<<20 + 4<<10

// registerRoles registers the routes of roles, permission sets and policies.
func (s *Server) registerRoles() {
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/roles", scopes: scopes("role:read"), h: s.listRoles})
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/roles", scopes: scopes("role:create"), maxBytes: maxRoleBody, h: s.createRole})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/roles/scopes", scopes: scopes("role:read"), h: s.roleScopes})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/roles/{roleID}", scopes: scopes("role:read"), h: s.getRole})
	s.handle(&route{method: "PATCH", pattern: "/api/orgs/{orgName}/roles/{roleID}", scopes: scopes("role:update"), maxBytes: maxRoleBody, h: s.updateRole})
	s.handle(&route{method: "DELETE", pattern: "/api/orgs/{orgName}/roles/{roleID}", scopes: scopes("role:delete"), h: s.deleteRole})
	s.handle(&route{method: "PATCH", pattern: "/api/orgs/{orgName}/roles/{roleID}/default", scopes: scopes("role:update", "organization:update"), noBody: true, h: s.defaultRole})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/roles/{roleID}/users", scopes: scopes("role:read", "org_member:read"), h: s.roleUsers})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/roles/{roleID}/teams", scopes: scopes("role:read", "team:read"), h: s.roleTeams})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/roles/{roleID}/tokens", scopes: scopes("role:read", "org_token:read"), h: s.roleTokens})
}

var listPurposes = []string{gatehouse.PurposeRole, gatehouse.PurposeRolePrivate, gatehouse.PurposeRoleUserPrivate,
	gatehouse.PurposeRoleTemporary, gatehouse.PurposePolicy, gatehouse.PurposeSet}

func (s *Server) listRoles(q *request) (any, error) {
	purpose := q.r.URL.Query().Get("uxPurpose")
	if purpose == "" {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "uxPurpose: required (one of %s)", strings.Join(listPurposes, ", "))
	}
	if !slices.Contains(listPurposes, purpose) {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "uxPurpose: %q is not one of %s", purpose, strings.Join(listPurposes, ", "))
	}
	opts, err := q.listOptions()
	if err != nil {
		return nil, err
	}
	if opts.Limit == 0 {
		opts.Limit = gatehouse.MaxListLimit
	}
	ds, next, err := s.svc.Descriptors(q.ctx(), q.org.ID, purpose, opts)
	if err != nil {
		return nil, err
	}
	out := wire.ListRolesResponse{Roles: []wire.Role{}, ContinuationToken: q.next(next)}
	for _, d := range ds {
		out.Roles = append(out.Roles, toDescriptor(d, q.org))
	}
	return out, nil
}

func (s *Server) createRole(q *request) (any, error) {
	both, err := q.boolParam("createPolicyAndRole")
	if err != nil {
		return nil, err
	}
	var in wire.CreateRoleRequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	d, err := s.svc.CreateDescriptor(q.ctx(), q.org.ID, service.DescriptorInput{Name: in.Name, Description: in.Description,
		ResourceType: in.ResourceType, Purpose: in.UXPurpose, Details: present(in.Details)}, both)
	if err != nil {
		return nil, err
	}
	return toDescriptor(d, q.org), nil
}

func (s *Server) getRole(q *request) (any, error) {
	d, err := s.az.Descriptor(q.ctx(), q.org.ID, q.r.PathValue("roleID"))
	if err != nil {
		return nil, err
	}
	return toDescriptor(d, q.org), nil
}

func (s *Server) updateRole(q *request) (any, error) {
	var in wire.UpdateRoleRequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	in.Details = present(in.Details)
	if in.Name == nil && in.Description == nil && in.Details == nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "request body: nothing to change; give name, description or details")
	}
	d, err := s.svc.UpdateDescriptor(q.ctx(), q.org.ID, q.r.PathValue("roleID"), service.DescriptorInput{Name: in.Name, Description: in.Description, Details: in.Details})
	if err != nil {
		return nil, err
	}
	org, err := s.orgByID(q, q.org.ID)
	if err != nil {
		return nil, err
	}
	return toDescriptor(d, org), nil
}

func (s *Server) deleteRole(q *request) (any, error) {
	force, err := q.boolParam("force")
	if err != nil {
		return nil, err
	}
	return nil, s.svc.DeleteDescriptor(q.ctx(), q.org.ID, q.r.PathValue("roleID"), force)
}

func (s *Server) defaultRole(q *request) (any, error) {
	return nil, s.svc.SetDefaultRole(q.ctx(), q.org.ID, q.r.PathValue("roleID"))
}

func (s *Server) roleScopes(q *request) (any, error) {
	out := wire.RoleScopes{}
	for _, t := range []gatehouse.EntityType{gatehouse.EntityGlobal, gatehouse.EntityStack, gatehouse.EntityEnvironment, gatehouse.EntityInsightsAccount} {
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
	return out, nil
}

func (s *Server) roleUsers(q *request) (any, error) {
	u, err := s.svc.Usage(q.ctx(), q.org.ID, q.r.PathValue("roleID"))
	if err != nil {
		return nil, err
	}
	out := wire.ListRoleUsersResponse{Users: []wire.UserInfo{}}
	err = s.svc.Store.Read(q.ctx(), func(tx gatehouse.Tx) error {
		for _, id := range u.Members {
			user, err := tx.GetUser(q.ctx(), id)
			if err != nil {
				return err
			}
			out.Users = append(out.Users, toUserInfo(user))
		}
		return nil
	})
	return out, err
}

func (s *Server) roleTeams(q *request) (any, error) {
	u, err := s.svc.Usage(q.ctx(), q.org.ID, q.r.PathValue("roleID"))
	if err != nil {
		return nil, err
	}
	out := wire.ListTeamsResponse{Teams: []wire.Team{}}
	err = s.svc.Store.Read(q.ctx(), func(tx gatehouse.Tx) error {
		for _, id := range u.Teams {
			t, err := tx.GetTeamByID(q.ctx(), id)
			if err != nil {
				return err
			}
			out.Teams = append(out.Teams, toTeam(t))
		}
		return nil
	})
	return out, err
}

func (s *Server) roleTokens(q *request) (any, error) {
	id := q.r.PathValue("roleID")
	if _, err := s.svc.Descriptor(q.ctx(), q.org.ID, id); err != nil {
		return nil, err
	}
	return s.listTokens(q, gatehouse.TokenFilter{OrgID: q.org.ID, Kind: gatehouse.TokenOrganization, RoleID: id})
}
