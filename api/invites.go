package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/service"
)

// Invitations. Pulumi's shapes: GET/POST /api/orgs/{org}/invites,
// PATCH/DELETE /api/orgs/{org}/invites/{id} (here PATCH changes a pending
// invitation's role or expiry), GET /api/user/pending-invites. Pulumi
// documents no accept endpoint an API client can call, so Gatehouse has
// POST /api/user/pending-invites/{id}/accept and .../decline.
func (s *Server) registerInvites() {
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/invites", doc: doc{"ListOrgInvites", "List pending invitations", nil, "", "ListOrganizationInvitesResponse"}, scopes: scopes("invites:read"), h: s.listInvites})
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/invites", doc: doc{"CreateOrgInvite", "Invite an existing user with a role", nil, "CreateOrganizationInviteRequest", "PendingOrganizationInvite"}, scopes: scopes("invites:create"), status: http.StatusCreated, h: s.createInvite})
	s.handle(&route{method: "PATCH", pattern: "/api/orgs/{orgName}/invites/{inviteID}", doc: doc{"UpdateOrgInvite", "Change a pending invitation's role or expiry", nil, "CreateOrganizationInviteRequest", "PendingOrganizationInvite"}, scopes: scopes("invites:create"), h: s.updateInvite})
	s.handle(&route{method: "DELETE", pattern: "/api/orgs/{orgName}/invites/{inviteID}", doc: doc{"DeleteOrgInvite", "Revoke a pending invitation", nil, "", ""}, scopes: scopes("invites:create"), h: s.revokeInvite})
	s.handle(&route{method: "GET", pattern: "/api/user/pending-invites", doc: doc{"ListPendingInvites", "The caller's pending invitations", nil, "", "ListOrganizationInvitesResponse"}, h: s.pendingInvites})
	s.handle(&route{method: "POST", pattern: "/api/user/pending-invites/{inviteID}/accept", doc: doc{"AcceptInvite", "Accept an invitation and join with its role", nil, "", "PendingOrganizationInvite"}, noBody: true, h: s.acceptInvite})
	s.handle(&route{method: "POST", pattern: "/api/user/pending-invites/{inviteID}/decline", doc: doc{"DeclineInvite", "Decline an invitation", nil, "", ""}, noBody: true, h: s.declineInvite})
}

func toInvite(v *service.InviteView, now time.Time) wire.Invite {
	j := wire.Invite{ID: v.Invite.ID, Email: v.User.Email, Role: v.Role.DefaultIdentifier, RoleID: v.Role.ID, RoleName: v.Role.Name,
		SentAt: v.Invite.Created.Unix(), User: wire.UserInfo{Name: v.User.Name, GitHubLogin: v.User.Login, AvatarURL: v.User.AvatarURL},
		Organization: v.Org.Name, ExpiresAt: v.Invite.Expires.Unix(), Status: "pending", AcceptInviteURL: "/console/-/invites"}
	if j.Role == "" {
		j.Role = "member"
	}
	if v.SentBy != nil {
		j.SentBy = wire.UserInfo{Name: v.SentBy.Name, GitHubLogin: v.SentBy.Login, AvatarURL: v.SentBy.AvatarURL}
	}
	if v.Invite.Expired(now) {
		j.Status = "expired"
	}
	return j
}

func toInvites(vs []*service.InviteView, now time.Time) wire.ListInvitesResponse {
	out := wire.ListInvitesResponse{Invites: []wire.Invite{}}
	for _, v := range vs {
		out.Invites = append(out.Invites, toInvite(v, now))
	}
	return out
}

func (s *Server) listInvites(q *request) (any, error) {
	vs, err := s.svc.Invites(q.ctx(), q.org.ID)
	if err != nil {
		return nil, err
	}
	return toInvites(vs, s.now()), nil
}

func (s *Server) createInvite(q *request) (any, error) {
	var in wire.InviteRequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	v, err := s.svc.Invite(q.ctx(), q.org.ID, service.InviteInput{Login: in.UserLogin, Role: in.Role, RoleID: in.RoleID,
		Expires: in.Expires, CreatedBy: createdBy(q)})
	if err != nil {
		return nil, err
	}
	return toInvite(v, s.now()), nil
}

func (s *Server) updateInvite(q *request) (any, error) {
	var in wire.InviteRequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	if in.UserLogin != "" {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "userLogin: an invitation's user cannot change; revoke it and invite another")
	}
	v, err := s.svc.UpdateInvite(q.ctx(), q.org.ID, q.r.PathValue("inviteID"), service.InviteInput{Role: in.Role, RoleID: in.RoleID, Expires: in.Expires})
	if err != nil {
		return nil, err
	}
	return toInvite(v, s.now()), nil
}

func (s *Server) revokeInvite(q *request) (any, error) {
	return nil, s.svc.RevokeInvite(q.ctx(), q.org.ID, q.r.PathValue("inviteID"))
}

// ownUser is the caller's user, for the routes where a user answers for
// itself: a user's own personal token only (not one bound to an
// organization by its SSO or OIDC exchange, which speaks for it alone).
func ownUser(q *request) (*gatehouse.User, error) {
	if err := userOnly(q); err != nil {
		return nil, err
	}
	if err := unbound(q, "answer the user's invitations"); err != nil {
		return nil, err
	}
	return q.id.User, nil
}

func (s *Server) pendingInvites(q *request) (any, error) {
	u, err := ownUser(q)
	if err != nil {
		return nil, err
	}
	vs, err := s.svc.PendingInvites(q.ctx(), u.ID)
	if err != nil {
		return nil, err
	}
	return toInvites(vs, s.now()), nil
}

func (s *Server) acceptInvite(q *request) (any, error) {
	u, err := ownUser(q)
	if err != nil {
		return nil, err
	}
	v, err := s.svc.AcceptInvite(q.ctx(), u, q.r.PathValue("inviteID"))
	if err != nil {
		return nil, err
	}
	return toInvite(v, s.now()), nil
}

func (s *Server) declineInvite(q *request) (any, error) {
	u, err := ownUser(q)
	if err != nil {
		return nil, err
	}
	return nil, s.svc.DeclineInvite(q.ctx(), u, q.r.PathValue("inviteID"))
}

// statusBody is a response whose status the handler chose (the route's
// status otherwise).
type statusBody struct {
	status int
	body   any
}

// boundElsewhere refuses a token of another organization (an organization
// or team token, or a personal token an OIDC exchange minted there) as a
// failed authentication of this one: 401, audited here.
func (s *Server) boundElsewhere(q *request, ip string, org *gatehouse.Organization) error {
	s.log.Info("authentication failed", "request_id", q.reqID, "remote", ip, "why", "token of another organization", "org", org.Name)
	ctx := gatehouse.WithActor(q.r.Context(), gatehouse.Actor{SourceIP: ip, UserAgent: q.r.UserAgent(), RequestID: q.reqID, TokenID: q.id.Token.ID})
	s.audit.add(service.NewAuditEvent(ctx, s.now(), org.ID, gatehouse.EventAuthFailure,
		fmt.Sprintf("authentication failed for %s %s (token of another organization)", q.r.Method, q.r.URL.Path), "",
		map[string]string{"reason": "another organization's token", "method": q.r.Method, "path": q.r.URL.Path}))
	return authz.ErrUnauthenticated
}
