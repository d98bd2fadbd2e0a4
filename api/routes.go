package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/service"
)

// maxRoleBody is the largest role document accepted, as Pulumi (1 MB), plus
// room for the envelope.
const maxRoleBody = 1<<20 + 4<<10

func (s *Server) register() {
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	s.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if s.ready != nil {
			if err := s.ready(r.Context()); err != nil {
				http.Error(w, "not ready: database unavailable", http.StatusServiceUnavailable)
				return
			}
		}
		w.Write([]byte("ready\n"))
	})
	if !s.metricsElsewhere {
		s.mux.Handle("GET /metrics", s.metrics.handler())
	}

	s.registerInvites()

	// Who am I.
	s.handle(&route{method: "GET", pattern: "/api/user", h: s.getUser})
	s.handle(&route{method: "GET", pattern: "/api/user/organizations/default", h: s.defaultOrg})
	s.handle(&route{method: "GET", pattern: "/api/capabilities", h: func(q *request) (any, error) {
		return capabilities(), nil
	}})

	// Roles, permission sets and policies.
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

	// Members.
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/members", scopes: scopes("org_member:read"), h: s.listMembers})
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/members/{userLogin}", scopes: scopes("org_member:add"), h: s.addMember})
	s.handle(&route{method: "PATCH", pattern: "/api/orgs/{orgName}/members/{userLogin}", scopes: scopes("org_member:update"), h: s.updateMember})
	s.handle(&route{method: "DELETE", pattern: "/api/orgs/{orgName}/members/{userLogin}", scopes: scopes("org_member:delete"), h: s.removeMember})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/members/{userLogin}/teams", scopes: scopes("org_member:read"), h: s.memberTeams})

	// Teams.
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/teams", scopes: scopes("team:list"), h: s.listTeams})
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/teams/pulumi", scopes: scopes("team:create"), status: http.StatusCreated, h: s.createTeam})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/teams/{teamName}", scopes: scopes("team:read"), h: s.getTeam})
	s.handle(&route{method: "PATCH", pattern: "/api/orgs/{orgName}/teams/{teamName}", scopes: scopes("team:update"), h: s.updateTeam})
	s.handle(&route{method: "DELETE", pattern: "/api/orgs/{orgName}/teams/{teamName}", scopes: scopes("team:delete"), h: s.deleteTeam})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/teams/{teamName}/roles", scopes: scopes("team:read", "role:read"), h: s.teamRoles})
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/teams/{teamName}/roles/{roleID}", scopes: scopes("role:update", "team:update"), noBody: true, h: s.addTeamRole})
	s.handle(&route{method: "DELETE", pattern: "/api/orgs/{orgName}/teams/{teamName}/roles/{roleID}", scopes: scopes("role:update", "team:update"), h: s.removeTeamRole})

	// Tokens.
	s.handle(&route{method: "GET", pattern: "/api/user/tokens", h: s.listPersonalTokens})
	s.handle(&route{method: "POST", pattern: "/api/user/tokens", h: s.createPersonalToken})
	s.handle(&route{method: "DELETE", pattern: "/api/user/tokens/{tokenID}", h: s.deletePersonalToken})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/tokens", scopes: scopes("org_token:read"), h: s.listOrgTokens})
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/tokens", scopes: scopes("org_token:create"), h: s.createOrgToken})
	s.handle(&route{method: "DELETE", pattern: "/api/orgs/{orgName}/tokens/{tokenID}", scopes: scopes("org_token:delete"), h: s.deleteOrgToken})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/teams/{teamName}/tokens", scopes: scopes("team:list_tokens"), h: s.listTeamTokens})
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/teams/{teamName}/tokens", scopes: scopes("team:create_token"), h: s.createTeamToken})
	s.handle(&route{method: "DELETE", pattern: "/api/orgs/{orgName}/teams/{teamName}/tokens/{tokenID}", scopes: scopes("team:delete_token"), h: s.deleteTeamToken})

	s.handle(&route{method: "GET", pattern: "/api/openapi/pulumi-spec.json", public: true, h: func(q *request) (any, error) {
		doc, err := s.openAPI()
		return rawBody{contentType: "application/json", data: doc}, err
	}})

	// OIDC issuers, their policies, and the token exchange.
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/oidc/issuers", scopes: scopes("oidc_issuers:read"), h: s.listIssuers})
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/oidc/issuers", scopes: scopes("oidc_issuers:create"), h: s.createIssuer})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/oidc/issuers/{issuerID}", scopes: scopes("oidc_issuers:read"), h: s.getIssuer})
	s.handle(&route{method: "PATCH", pattern: "/api/orgs/{orgName}/oidc/issuers/{issuerID}", scopes: scopes("oidc_issuers:update"), h: s.updateIssuer})
	s.handle(&route{method: "DELETE", pattern: "/api/orgs/{orgName}/oidc/issuers/{issuerID}", scopes: scopes("oidc_issuers:delete"), h: s.deleteIssuer})
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/oidc/issuers/{issuerID}/regenerate-thumbprints", scopes: scopes("oidc_issuers:regenerate_thumbprints"), noBody: true, h: s.regenerateThumbprints})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/auth/policies/oidcissuers/{issuerID}", scopes: scopes("auth_policies:read"), h: s.getIssuerPolicy})
	s.handle(&route{method: "PATCH", pattern: "/api/orgs/{orgName}/auth/policies/{policyID}", scopes: scopes("auth_policies:update"), h: s.updatePolicy})
	s.routes = append(s.routes, &route{method: "POST", pattern: "/api/oauth/token", public: true})
	s.mux.Handle("POST /api/oauth/token", s.metrics.instrument("/api/oauth/token", http.HandlerFunc(s.exchange)))

	// Audit log.
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/auditlogs", scopes: scopes("audit_logs:read"), h: s.listAudit(false)})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/auditlogs/v2", scopes: scopes("audit_logs:read"), h: s.listAudit(true)})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/auditlogs/export", scopes: scopes("audit_logs:export"), h: s.exportAudit(false)})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/auditlogs/v2/export", scopes: scopes("audit_logs:export"), h: s.exportAudit(true)})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/auditlogs/event-types", scopes: scopes("audit_logs:read"), h: s.auditEventTypes})

	// Entity assignments.
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/assignments/list", entity: assignmentEntity,
		scopeFor: accessScope("read"), h: s.listAssignments})
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/assignments/update", entity: assignmentEntity,
		scopeFor: accessScope("update"), h: s.updateAssignment})

	// Stacks: the pulumi CLI's state backend.
	s.registerStacks()

	// Environments and Insights accounts.
	s.registerEnvironments()

	// Decisions for other services.
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/authz/check", scopes: scopes("org_member_access:read"), maxBytes: 1 << 20, h: s.check})
}

// --- who am I

func (s *Server) getUser(q *request) (any, error) {
	type tokenInfo struct {
		Name         string `json:"name"`
		Organization string `json:"organization,omitempty"`
		Team         string `json:"team,omitempty"`
	}
	type user struct {
		ID            string     `json:"id"`
		GitHubLogin   string     `json:"githubLogin"`
		Name          string     `json:"name"`
		Email         string     `json:"email"`
		AvatarURL     string     `json:"avatarUrl"`
		Organizations []userInfo `json:"organizations"`
		Identities    []string   `json:"identities"`
		SiteAdmin     bool       `json:"siteAdmin"`
		TokenInfo     *tokenInfo `json:"tokenInfo,omitempty"`
	}
	t := q.id.Token
	if q.id.User != nil {
		u := q.id.User
		orgs, err := s.userOrgs(q)
		if err != nil {
			return nil, err
		}
		out := user{ID: u.ID, GitHubLogin: u.Login, Name: u.Name, Email: u.Email, AvatarURL: u.AvatarURL,
			Organizations: []userInfo{}, Identities: []string{}}
		for _, o := range orgs {
			out.Organizations = append(out.Organizations, userInfo{Name: o.DisplayName, GitHubLogin: o.Name})
		}
		return out, nil
	}
	org, err := s.orgByID(q, t.OrgID)
	if err != nil {
		return nil, err
	}
	out := user{ID: t.ID, GitHubLogin: org.Name, Name: org.DisplayName, Organizations: []userInfo{{Name: org.DisplayName, GitHubLogin: org.Name}},
		Identities: []string{}, TokenInfo: &tokenInfo{Name: t.Name, Organization: org.Name}}
	if t.Kind == gatehouse.TokenTeam {
		team, err := s.teamName(q, org, t.TeamID)
		if err != nil {
			return nil, err
		}
		out.GitHubLogin, out.TokenInfo.Team = team, team
	}
	return out, nil
}

func (s *Server) orgByID(q *request, id string) (*gatehouse.Organization, error) {
	var org *gatehouse.Organization
	err := s.svc.Store.Read(q.ctx(), func(tx gatehouse.Tx) (err error) {
		org, err = tx.GetOrg(q.ctx(), id)
		return err
	})
	return org, err
}

func (s *Server) teamName(q *request, org *gatehouse.Organization, teamID string) (string, error) {
	var name string
	err := s.svc.Store.Read(q.ctx(), func(tx gatehouse.Tx) error {
		t, err := tx.GetTeamByID(q.ctx(), teamID)
		if err == nil {
			name = t.Name
		}
		return err
	})
	return name, err
}

func (s *Server) defaultOrg(q *request) (any, error) {
	name, err := s.defaultOrgName(q)
	if err != nil {
		return nil, err
	}
	return struct {
		GitHubLogin string `json:"GitHubLogin"`
		Messages    []any  `json:"Messages"`
	}{name, []any{}}, nil
}

// defaultOrgName is the caller's default organization: its token's, or the
// user's oldest membership ("" for none; UserOrgs lists them in the order
// the user joined, never by the organizations' age).
func (s *Server) defaultOrgName(q *request) (string, error) {
	if q.id.User == nil {
		org, err := s.orgByID(q, q.id.Token.OrgID)
		if err != nil {
			return "", err
		}
		return org.Name, nil
	}
	orgs, err := s.userOrgs(q)
	if err != nil || len(orgs) == 0 {
		return "", err
	}
	return orgs[0].Name, nil
}

// --- roles

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
	out := struct {
		Roles             []descriptorJSON `json:"roles"`
		ContinuationToken string           `json:"continuationToken,omitempty"`
	}{Roles: []descriptorJSON{}, ContinuationToken: q.next(next)}
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
	var in descriptorBase
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
	var in updateRoleRequest
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
	type scopeJSON struct {
		Name     string            `json:"name"`
		Metadata map[string]string `json:"metadata"`
	}
	type groupJSON struct {
		Name   string      `json:"name"`
		Scopes []scopeJSON `json:"scopes"`
	}
	out := map[string][]groupJSON{}
	for _, t := range []gatehouse.EntityType{gatehouse.EntityGlobal, gatehouse.EntityStack, gatehouse.EntityEnvironment, gatehouse.EntityInsightsAccount} {
		groups := []groupJSON{}
		for _, g := range catalog.Groups(t) {
			gj := groupJSON{Name: g.Name}
			for _, sc := range g.Scopes {
				gj.Scopes = append(gj.Scopes, scopeJSON{Name: sc.Name(), Metadata: map[string]string{"description": sc.Info().Description}})
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
	out := struct {
		Users []userInfo `json:"users"`
	}{Users: []userInfo{}}
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
	out := struct {
		Teams []teamJSON `json:"teams"`
	}{Teams: []teamJSON{}}
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

// --- members

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
	out := struct {
		Members           []organizationMember `json:"members"`
		ContinuationToken string               `json:"continuationToken,omitempty"`
	}{Members: []organizationMember{}, ContinuationToken: q.next(next)}
	for _, m := range ms {
		if m.Membership.Suspended && !includeSuspended {
			continue
		}
		out.Members = append(out.Members, toMember(m, q.org))
	}
	return out, nil
}

func (s *Server) addMember(q *request) (any, error) {
	var in struct {
		Role string `json:"role"`
	}
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
		return statusBody{http.StatusAccepted, toInvite(v, time.Now())}, nil
	}
	v, err := s.svc.AddMember(q.ctx(), q.org.ID, login, in.Role)
	if err != nil {
		return nil, err
	}
	return toMember(v, q.org), nil
}

func (s *Server) updateMember(q *request) (any, error) {
	var in struct {
		Role      string `json:"role"`
		FGARoleID string `json:"fgaRoleId"`
		Name      string `json:"name"`
	}
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
	return map[string][]string{"teams": names}, nil
}

// --- teams

func (s *Server) listTeams(q *request) (any, error) {
	opts, err := q.listOptions()
	if err != nil {
		return nil, err
	}
	if opts.Limit == 0 {
		opts.Limit = gatehouse.MaxListLimit
	}
	ts, next, err := s.svc.Teams(q.ctx(), q.org.ID, opts)
	if err != nil {
		return nil, err
	}
	out := struct {
		Teams             []teamJSON `json:"teams"`
		ContinuationToken string     `json:"continuationToken,omitempty"`
	}{Teams: []teamJSON{}, ContinuationToken: q.next(next)}
	for _, t := range ts {
		out.Teams = append(out.Teams, toTeam(t))
	}
	return out, nil
}

func (s *Server) createTeam(q *request) (any, error) {
	var in struct {
		Name        string `json:"name"`
		DisplayName string `json:"displayName"`
		Description string `json:"description"`
	}
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	t, err := s.svc.CreateTeam(q.ctx(), q.org.ID, in.Name, in.DisplayName, in.Description)
	if err != nil {
		return nil, err
	}
	return toTeam(t), nil
}

func (s *Server) getTeam(q *request) (any, error) {
	v, err := s.svc.Team(q.ctx(), q.org.ID, q.r.PathValue("teamName"))
	if err != nil {
		return nil, err
	}
	return toTeamView(v, q.id), nil
}

func (s *Server) updateTeam(q *request) (any, error) {
	var in updateTeamRequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	u := service.TeamUpdate{NewDisplayName: in.NewDisplayName, NewDescription: in.NewDescription, MemberAction: in.MemberAction, Member: in.Member}
	stack := func(j *teamStackJSON) *service.StackGrant {
		if j == nil {
			return nil
		}
		return &service.StackGrant{ProjectName: j.ProjectName, StackName: j.StackName, Permission: j.Permission}
	}
	env := func(j *teamEnvJSON) (*service.EnvironmentGrant, error) {
		if j == nil {
			return nil, nil
		}
		g := &service.EnvironmentGrant{ProjectName: j.ProjectName, EnvName: j.EnvName, Permission: j.Permission}
		if j.MaxOpenDuration != "" {
			d, err := time.ParseDuration(j.MaxOpenDuration)
			if err != nil || d < 0 {
				return nil, gatehouse.Errorf(gatehouse.EINVALID, "maxOpenDuration: %q is not a duration such as 1h30m", j.MaxOpenDuration)
			}
			g.MaxOpenDuration = d
		}
		return g, nil
	}
	u.AddStack, u.EditStack, u.RemoveStack = stack(in.AddStackPermission), stack(in.EditStackPermission), stack(in.RemoveStack)
	var err error
	if u.AddEnvironment, err = env(in.AddEnvironmentPermission); err != nil {
		return nil, err
	}
	if u.EditEnvironment, err = env(in.EditEnvironmentPermission); err != nil {
		return nil, err
	}
	if u.RemoveEnvironment, err = env(in.RemoveEnvironment); err != nil {
		return nil, err
	}
	return nil, s.svc.UpdateTeam(q.ctx(), q.org.ID, q.r.PathValue("teamName"), u)
}

func (s *Server) deleteTeam(q *request) (any, error) {
	return nil, s.svc.DeleteTeam(q.ctx(), q.org.ID, q.r.PathValue("teamName"))
}

func (s *Server) teamRoles(q *request) (any, error) {
	ds, err := s.svc.TeamRoles(q.ctx(), q.org.ID, q.r.PathValue("teamName"))
	if err != nil {
		return nil, err
	}
	out := struct {
		Roles []descriptorJSON `json:"roles"`
	}{Roles: []descriptorJSON{}}
	for _, d := range ds {
		out.Roles = append(out.Roles, toDescriptor(d, q.org))
	}
	return out, nil
}

func (s *Server) addTeamRole(q *request) (any, error) {
	return nil, s.svc.AddTeamRole(q.ctx(), q.org.ID, q.r.PathValue("teamName"), q.r.PathValue("roleID"))
}

func (s *Server) removeTeamRole(q *request) (any, error) {
	return nil, s.svc.RemoveTeamRole(q.ctx(), q.org.ID, q.r.PathValue("teamName"), q.r.PathValue("roleID"))
}

// --- decisions

// check answers a batch of "may this token use this scope on this entity",
// each with its explanation.
func (s *Server) check(q *request) (any, error) {
	var in struct {
		Checks []gatehouse.CheckRequest `json:"checks"`
	}
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	if len(in.Checks) == 0 || len(in.Checks) > 1000 {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "checks: give 1 to 1000 checks")
	}
	results, failed := s.svc.Check(q.ctx(), q.org.ID, in.Checks)
	if failed > 0 {
		// Asking about a token that is not valid here is guessing, like
		// presenting one: counted, limited and audited the same way.
		if err := s.authFailed(q, s.clientIP(q.r), errCheckedToken, failed); err == errTooManyFailures {
			return nil, err
		}
	}
	for i, r := range results {
		if r.Error == "" {
			if sc, ok := catalog.Lookup(in.Checks[i].Scope); ok {
				s.metrics.decision(sc, r.Allowed)
			}
		}
	}
	return struct {
		Results []gatehouse.CheckResult `json:"results"`
	}{results}, nil
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

// userOrgs are the organizations the caller's user reaches with this
// token: all of its own for a token the user made, the one that minted it
// for an exchanged one.
func (s *Server) userOrgs(q *request) ([]*gatehouse.Organization, error) {
	orgs, err := s.svc.UserOrgs(q.ctx(), q.id.User.ID)
	if err != nil || q.id.Token.OrgID == "" {
		return orgs, err
	}
	var out []*gatehouse.Organization
	for _, o := range orgs {
		if o.ID == q.id.Token.OrgID {
			out = append(out, o)
		}
	}
	return out, nil
}
