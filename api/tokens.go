package api

import (
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/service"
)

// listTokens lists tokens with Pulumi's filter, search and sort, applied
// before the list is paged.
func (s *Server) listTokens(q *request, f gatehouse.TokenFilter) (any, error) {
	tf, err := tokenQuery(q, f)
	if err != nil {
		return nil, err
	}
	views, next, err := s.svc.Tokens(q.ctx(), tf)
	if err != nil {
		return nil, err
	}
	out := wire.ListTokensResponse{Tokens: []wire.AccessToken{}, ContinuationToken: q.next(next)}
	for _, v := range views {
		out.Tokens = append(out.Tokens, toAccessToken(v))
	}
	return out, nil
}

// tokenQuery reads a token list's query parameters: filter (active, the
// default, expired or all), search, sortBy and sortDirection, and the page.
func tokenQuery(q *request, f gatehouse.TokenFilter) (service.TokenFilter, error) {
	query := q.r.URL.Query()
	switch filter := query.Get("filter"); filter {
	case "", "active":
		f.Expiry = gatehouse.TokenLive
	case "expired":
		f.Expiry = gatehouse.TokenExpired
	case "all":
		f.IncludeDeleted = true
	default:
		return service.TokenFilter{}, gatehouse.Errorf(gatehouse.EINVALID, "filter: %q is not one of active, expired, all", filter)
	}
	f.SortBy = query.Get("sortBy")
	switch f.SortBy {
	case "", gatehouse.TokenSortName, gatehouse.TokenSortCreated, gatehouse.TokenSortLastUsed, gatehouse.TokenSortExpires:
	default:
		return service.TokenFilter{}, gatehouse.Errorf(gatehouse.EINVALID, "sortBy: %q is not one of name, created, lastUsed, expires", f.SortBy)
	}
	dir := query.Get("sortDirection")
	if dir != "" && dir != "asc" && dir != "desc" && dir != "ascending" && dir != "descending" {
		return service.TokenFilter{}, gatehouse.Errorf(gatehouse.EINVALID, "sortDirection: %q is not asc or desc", dir)
	}
	f.Desc = strings.HasPrefix(dir, "desc")
	f.Search = query.Get("search")
	opts, err := q.listOptions()
	return service.TokenFilter{TokenFilter: f, ListOptions: opts}, err
}

func toAccessToken(v service.TokenView) wire.AccessToken {
	t := v.Token
	j := wire.AccessToken{ID: t.ID, Name: t.Name, Description: t.Description, Created: t.Created.Format(time.RFC3339),
		LastUsed: unix(t.LastUsed), Expires: unix(t.Expires), Type: t.Kind}
	if v.CreatedByLogin != "" {
		j.CreatedBy = &v.CreatedByLogin
	}
	if d := v.Role; d != nil {
		j.Role = &wire.TokenRole{ID: d.ID, Name: d.Name, DefaultIdentifier: d.DefaultIdentifier}
		j.Admin = d.DefaultIdentifier == "admin"
	}
	return j
}

func (s *Server) createToken(q *request, in service.TokenInput) (any, error) {
	t, value, err := s.svc.CreateToken(q.ctx(), in)
	if err != nil {
		return nil, err
	}
	return wire.CreateTokenResponse{ID: t.ID, TokenValue: value}, nil
}

func userOnly(q *request) error {
	if q.id.User == nil {
		return gatehouse.Errorf(gatehouse.EFORBIDDEN, "forbidden: personal tokens belong to users; this request was made with a %s token", q.id.Token.Kind)
	}
	return nil
}

// unbound refuses a token bound to one organization (made by its single
// sign-on or its OIDC exchange): it speaks for the user there only, and
// may not answer the user's invitations to others.
func unbound(q *request, what string) error {
	if q.id.Token.OrgID != "" {
		return gatehouse.Errorf(gatehouse.EFORBIDDEN, "forbidden: this token acts for one organization only (made by its single sign-on, or exchanged through its OIDC issuer) and cannot %s; use a personal token you created", what)
	}
	return nil
}

// The personal tokens routes serve a token bound to one organization (a
// console or CLI session of its single sign-on) too, on the user's tokens
// bound to that organization: they die with the membership, as the
// session does. Tokens exchanged from an OIDC ID token make none.
func (s *Server) listPersonalTokens(q *request) (any, error) {
	if err := personalTokensCaller(q); err != nil {
		return nil, err
	}
	return s.listTokens(q, gatehouse.TokenFilter{UserID: q.id.User.ID, Kind: gatehouse.TokenPersonal, OrgID: q.id.Token.OrgID})
}

// personalTokensCaller refuses a caller that is not a user, or whose
// token was exchanged from an OIDC ID token: that token is short-lived
// and dies with its issuer, and a personal token it made would do
// neither.
func personalTokensCaller(q *request) error {
	if err := userOnly(q); err != nil {
		return err
	}
	if q.id.Token.Exchanged {
		return gatehouse.Errorf(gatehouse.EFORBIDDEN, "forbidden: a token exchanged from an OIDC ID token cannot list, create or revoke personal access tokens; use a personal access token")
	}
	return nil
}

func (s *Server) createPersonalToken(q *request) (any, error) {
	if err := personalTokensCaller(q); err != nil {
		return nil, err
	}
	var in wire.CreatePersonalTokenRequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	return s.createToken(q, service.TokenInput{Kind: gatehouse.TokenPersonal, UserID: q.id.User.ID, OrgID: q.id.Token.OrgID,
		Description: in.Description, Expires: in.Expires, CreatedBy: q.id.User.ID})
}

func (s *Server) deletePersonalToken(q *request) (any, error) {
	if err := personalTokensCaller(q); err != nil {
		return nil, err
	}
	return nil, s.svc.RevokeToken(q.ctx(), q.r.PathValue("tokenID"), func(t *gatehouse.Token) error {
		if t.UserID != q.id.User.ID || t.Kind != gatehouse.TokenPersonal || (q.id.Token.OrgID != "" && t.OrgID != q.id.Token.OrgID) {
			return gatehouse.Errorf(gatehouse.ENOTFOUND, "token %q not found", t.ID)
		}
		return nil
	})
}

func (s *Server) listOrgTokens(q *request) (any, error) {
	return s.listTokens(q, gatehouse.TokenFilter{OrgID: q.org.ID, Kind: gatehouse.TokenOrganization})
}

func createdBy(q *request) string {
	if q.id.User != nil {
		return q.id.User.ID
	}
	return ""
}

func (s *Server) createOrgToken(q *request) (any, error) {
	var in wire.CreateTokenRequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	roleID := in.RoleID
	if in.Admin && roleID == "" {
		// The legacy admin flag maps onto the built-in Admin role.
		admin, err := s.svc.Builtin(q.ctx(), q.org.ID, "admin")
		if err != nil {
			return nil, err
		}
		roleID = admin.ID
	}
	return s.createToken(q, service.TokenInput{Kind: gatehouse.TokenOrganization, OrgID: q.org.ID, Name: in.Name,
		Description: in.Description, Expires: in.Expires, RoleID: roleID, CreatedBy: createdBy(q)})
}

func (s *Server) deleteOrgToken(q *request) (any, error) {
	return nil, s.svc.RevokeToken(q.ctx(), q.r.PathValue("tokenID"), func(t *gatehouse.Token) error {
		if t.OrgID != q.org.ID || t.Kind != gatehouse.TokenOrganization {
			return gatehouse.Errorf(gatehouse.ENOTFOUND, "token %q not found", t.ID)
		}
		return nil
	})
}

func (s *Server) listTeamTokens(q *request) (any, error) {
	id, err := s.svc.TeamID(q.ctx(), q.org.ID, q.r.PathValue("teamName"))
	if err != nil {
		return nil, err
	}
	return s.listTokens(q, gatehouse.TokenFilter{OrgID: q.org.ID, TeamID: id, Kind: gatehouse.TokenTeam})
}

func (s *Server) createTeamToken(q *request) (any, error) {
	var in wire.CreateTokenRequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	if in.RoleID != "" || in.Admin {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "roleID: a team token holds its team's roles and takes no role of its own")
	}
	return s.createToken(q, service.TokenInput{Kind: gatehouse.TokenTeam, OrgID: q.org.ID, TeamName: q.r.PathValue("teamName"),
		Name: in.Name, Description: in.Description, Expires: in.Expires, CreatedBy: createdBy(q)})
}

func (s *Server) deleteTeamToken(q *request) (any, error) {
	teamID, err := s.svc.TeamID(q.ctx(), q.org.ID, q.r.PathValue("teamName"))
	if err != nil {
		return nil, err
	}
	return nil, s.svc.RevokeToken(q.ctx(), q.r.PathValue("tokenID"), func(t *gatehouse.Token) error {
		if t.OrgID != q.org.ID {
			return gatehouse.Errorf(gatehouse.ENOTFOUND, "token %q not found", t.ID)
		}
		if t.Kind != gatehouse.TokenTeam || t.TeamID != teamID {
			return gatehouse.Errorf(gatehouse.EINVALID, "token %q is not a token of team %q", t.ID, q.r.PathValue("teamName"))
		}
		return nil
	})
}

// registerTokens registers the routes of personal, organization and team tokens.
func (s *Server) registerTokens() {
	s.handle(&route{method: "GET", pattern: "/api/user/tokens", doc: doc{"ListPersonalTokens", "The caller's personal tokens", []string{"filter", "continuationToken", "maxResults", "search", "sortBy", "sortDirection"}, "", "ListAccessTokensResponse"}, h: s.listPersonalTokens})
	s.handle(&route{method: "POST", pattern: "/api/user/tokens", doc: doc{"CreatePersonalToken", "Create a personal token; its value is shown once", nil, "CreatePersonalAccessTokenRequest", "CreateAccessTokenResponse"}, h: s.createPersonalToken})
	s.handle(&route{method: "DELETE", pattern: "/api/user/tokens/{tokenID}", doc: doc{"DeletePersonalToken", "Revoke a personal token", nil, "", ""}, h: s.deletePersonalToken})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/tokens", doc: doc{"ListOrgTokens", "Organization tokens", []string{"filter", "continuationToken", "maxResults", "search", "sortBy", "sortDirection"}, "", "ListAccessTokensResponse"}, scopes: scopes("org_token:read"), h: s.listOrgTokens})
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/tokens", doc: doc{"CreateOrgToken", "Create an organization token bound to a role", nil, "CreateOrgAccessTokenRequest", "CreateAccessTokenResponse"}, scopes: scopes("org_token:create"), h: s.createOrgToken})
	s.handle(&route{method: "DELETE", pattern: "/api/orgs/{orgName}/tokens/{tokenID}", doc: doc{"DeleteOrgToken", "Revoke an organization token; its name stays reserved", nil, "", ""}, scopes: scopes("org_token:delete"), h: s.deleteOrgToken})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/teams/{teamName}/tokens", doc: doc{"ListTeamTokens", "A team's tokens", []string{"filter", "continuationToken", "maxResults", "search", "sortBy", "sortDirection"}, "", "ListAccessTokensResponse"}, scopes: scopes("team:list_tokens"), h: s.listTeamTokens})
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/teams/{teamName}/tokens", doc: doc{"CreateTeamToken", "Create a team token", nil, "CreateTeamAccessTokenRequest", "CreateAccessTokenResponse"}, scopes: scopes("team:create_token"), h: s.createTeamToken})
	s.handle(&route{method: "DELETE", pattern: "/api/orgs/{orgName}/teams/{teamName}/tokens/{tokenID}", doc: doc{"DeleteTeamToken", "Revoke a team token", nil, "", ""}, scopes: scopes("team:delete_token"), h: s.deleteTeamToken})
}
