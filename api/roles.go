package api

import (
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/service"
)

// maxRoleBody is the largest role document accepted, as Pulumi (1 MB), plus
// room for the envelope.
const maxRoleBody = 1<<20 + 4<<10

// registerRoles registers the routes of roles, permission sets and policies.
func (s *Server) registerRoles() {
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/roles", doc: doc{"ListRoles", "List roles, permission sets or policies", []string{"uxPurpose", "continuationToken", "maxResults"}, "", "ListRolesResponse"}, scopes: scopes("role:read"), h: s.listRoles})
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/roles", doc: doc{"CreateRole", "Create a role, permission set or policy", []string{"createPolicyAndRole"}, "PermissionDescriptorBase", "PermissionDescriptorRecord"}, scopes: scopes("role:create"), maxBytes: maxRoleBody, h: s.createRole})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/roles/scopes", doc: doc{"ListRoleScopes", "The scope catalog by entity type", nil, "", "RoleScopes"}, scopes: scopes("role:read"), h: s.roleScopes})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/roles/{roleID}", doc: doc{"GetRole", "Get a role, set or policy", nil, "", "PermissionDescriptorRecord"}, scopes: scopes("role:read"), h: s.getRole})
	s.handle(&route{method: "PATCH", pattern: "/api/orgs/{orgName}/roles/{roleID}", doc: doc{"UpdateRole", "Change a role's name, description or details", nil, "UpdateRoleRequest", "PermissionDescriptorRecord"}, scopes: scopes("role:update"), maxBytes: maxRoleBody, h: s.updateRole})
	s.handle(&route{method: "DELETE", pattern: "/api/orgs/{orgName}/roles/{roleID}", doc: doc{"DeleteRole", "Delete a role, set or policy", []string{"force"}, "", ""}, scopes: scopes("role:delete"), h: s.deleteRole})
	s.handle(&route{method: "PATCH", pattern: "/api/orgs/{orgName}/roles/{roleID}/default", doc: doc{"UpdateDefaultRole", "Make a role the organization's default", nil, "", ""}, scopes: scopes("role:update", "organization:update"), noBody: true, h: s.defaultRole})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/roles/{roleID}/users", doc: doc{"ListRoleUsers", "Members assigned the role", nil, "", "ListRoleUsersResponse"}, scopes: scopes("role:read", "org_member:read"), h: s.roleUsers})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/roles/{roleID}/teams", doc: doc{"ListRoleTeams", "Teams holding the role", nil, "", "ListTeamsResponse"}, scopes: scopes("role:read", "team:read"), h: s.roleTeams})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/roles/{roleID}/tokens", doc: doc{"ListRoleTokens", "Organization tokens bound to the role", nil, "", "ListAccessTokensResponse"}, scopes: scopes("role:read", "org_token:read"), h: s.roleTokens})
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
	return ScopeCatalog(), nil
}

func (s *Server) roleUsers(q *request) (any, error) {
	users, _, err := s.svc.RoleHolders(q.ctx(), q.org.ID, q.r.PathValue("roleID"))
	if err != nil {
		return nil, err
	}
	out := wire.ListRoleUsersResponse{Users: []wire.UserInfo{}}
	for _, u := range users {
		out.Users = append(out.Users, toUserInfo(u))
	}
	return out, nil
}

func (s *Server) roleTeams(q *request) (any, error) {
	_, teams, err := s.svc.RoleHolders(q.ctx(), q.org.ID, q.r.PathValue("roleID"))
	if err != nil {
		return nil, err
	}
	out := wire.ListTeamsResponse{Teams: []wire.Team{}}
	for _, t := range teams {
		out.Teams = append(out.Teams, toTeam(t))
	}
	return out, nil
}

func (s *Server) roleTokens(q *request) (any, error) {
	id := q.r.PathValue("roleID")
	if _, err := s.svc.Descriptor(q.ctx(), q.org.ID, id); err != nil {
		return nil, err
	}
	return s.listTokens(q, gatehouse.TokenFilter{OrgID: q.org.ID, Kind: gatehouse.TokenOrganization, RoleID: id})
}

func toDescriptor(d *gatehouse.Descriptor, org *gatehouse.Organization) wire.Role {
	return wire.Role{ID: d.ID, OrgID: org.ID, Name: d.Name, Description: d.Description, ResourceType: d.ResourceType.String(),
		UXPurpose: d.Purpose, Details: d.Details, Version: d.Version, IsOrgDefault: org.Settings.DefaultRoleID == d.ID,
		DefaultIdentifier: d.DefaultIdentifier, Created: d.Created, Modified: d.Modified}
}
