package api

import (
	"net/http"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/service"
)

// registerMembers registers the routes of organization members.
func (s *Server) registerMembers() {
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/members", doc: doc{"ListOrganizationMembers", "List members", []string{"type", "continuationToken", "maxResults", "includeSuspended"}, "", "ListOrganizationMembersResponse"}, scopes: scopes("org_member:read"), h: s.listMembers})
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/members/{userLogin}", doc: doc{"AddOrganizationMember", "Add a member with a built-in role (202 with an invitation for a user the organization does not manage)", nil, "AddOrganizationMemberRequest", "OrganizationMember"}, scopes: scopes("org_member:add"), h: s.addMember})
	s.handle(&route{method: "PATCH", pattern: "/api/orgs/{orgName}/members/{userLogin}", doc: doc{"UpdateOrganizationMember", "Change a member's role", nil, "UpdateOrganizationMemberRequest", ""}, scopes: scopes("org_member:update"), h: s.updateMember})
	s.handle(&route{method: "DELETE", pattern: "/api/orgs/{orgName}/members/{userLogin}", doc: doc{"DeleteOrganizationMember", "Remove a member and their team memberships", nil, "", ""}, scopes: scopes("org_member:delete"), h: s.removeMember})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/members/{userLogin}/teams", doc: doc{"ListMemberTeams", "A member's teams", nil, "", "ListMemberTeamsResponse"}, scopes: scopes("org_member:read"), h: s.memberTeams})
}

func (s *Server) listMembers(q *request) (any, error) {
	switch t := q.r.URL.Query().Get("type"); t {
	case "", "frontend", "backend":
	default:
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "type: %q is not one of frontend, backend", t)
	}
	opts, err := q.listOptions()
	if err != nil {
		return nil, err
	}
	includeSuspended, err := q.boolParam("includeSuspended")
	if err != nil {
		return nil, err
	}
	ms, next, err := s.svc.Members(q.ctx(), q.org.ID, opts)
	if err != nil {
		return nil, err
	}
	out := wire.ListMembersResponse{Members: []wire.Member{}, ContinuationToken: q.next(next)}
	for _, m := range ms {
		if m.Membership.Suspended && !includeSuspended {
			continue
		}
		out.Members = append(out.Members, toMember(m, q.org))
	}
	return out, nil
}

func (s *Server) addMember(q *request) (any, error) {
	var in wire.AddMemberRequest
	if q.r.ContentLength != 0 {
		if err := q.decode(&in); err != nil {
			return nil, err
		}
	}
	login := q.r.PathValue("userLogin")
	// A user this organization does not manage is invited, and joins when
	// it accepts: 202 with the invitation.
	if managed, err := s.svc.Managed(q.ctx(), q.org.ID, login); err != nil || !managed {
		if err != nil {
			return nil, err
		}
		// Sending an invitation is what invites:create allows; a role
		// with org_member:add alone adds only the organization's own users.
		if err := s.require(q, catalog.MustLookup("invites:create")); err != nil {
			return nil, err
		}
		v, err := s.svc.Invite(q.ctx(), q.org.ID, service.InviteInput{Login: login, Role: in.Role, CreatedBy: createdBy(q)})
		if err != nil {
			return nil, err
		}
		return statusBody{http.StatusAccepted, toInvite(v, s.now())}, nil
	}
	v, err := s.svc.AddMember(q.ctx(), q.org.ID, login, in.Role)
	if err != nil {
		return nil, err
	}
	return toMember(v, q.org), nil
}

func (s *Server) updateMember(q *request) (any, error) {
	var in wire.UpdateMemberRequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	return nil, s.svc.UpdateMember(q.ctx(), q.org.ID, q.r.PathValue("userLogin"), in.Role, in.FGARoleID)
}

func (s *Server) removeMember(q *request) (any, error) {
	return nil, s.svc.RemoveMember(q.ctx(), q.org.ID, q.r.PathValue("userLogin"), q.id)
}

func (s *Server) memberTeams(q *request) (any, error) {
	names, err := s.svc.MemberTeams(q.ctx(), q.org.ID, q.r.PathValue("userLogin"))
	if err != nil {
		return nil, err
	}
	if names == nil {
		names = []string{}
	}
	return wire.MemberTeams{Teams: names}, nil
}

// organizationRoles are the values of Pulumi's deprecated role projection.
var organizationRoles = map[string]bool{"member": true, "admin": true, "billing-manager": true, "reader": true, "builder": true, "maintainer": true}

func toMember(v *service.MemberView, org *gatehouse.Organization) wire.Member {
	role := "member"
	if organizationRoles[v.Role.DefaultIdentifier] {
		role = v.Role.DefaultIdentifier
	}
	return wire.Member{Role: role, User: toUserInfo(v.User), Created: v.Membership.Created, KnownToPulumi: true,
		Links: map[string]string{}, FGARole: wire.FGARole{ID: v.Role.ID, Name: v.Role.Name, ModifiedAt: v.Role.Modified},
		Suspended: v.Membership.Suspended, FollowsDefaultRole: v.Membership.RoleID == org.Settings.DefaultRoleID}
}
