package api

import (
	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// registerUser registers who the caller is: the user, their default
// organization, and the server's capabilities.
func (s *Server) registerUser() {
	s.handle(&route{method: "GET", pattern: "/api/user", doc: doc{"GetCurrentUser", "Who the caller is", nil, "", "User"}, h: s.getUser})
	s.handle(&route{method: "GET", pattern: "/api/user/organizations/default", doc: doc{"GetDefaultOrganization", "The caller's default organization", nil, "", "DefaultOrganization"}, h: s.defaultOrg})
	s.handle(&route{method: "GET", pattern: "/api/capabilities", doc: doc{"GetCapabilities", "What this service supports", nil, "", "Capabilities"}, h: func(q *request) (any, error) {
		return capabilities(), nil
	}})
}

func (s *Server) getUser(q *request) (any, error) {

	t := q.id.Token
	if q.id.User != nil {
		u := q.id.User
		orgs, err := s.userOrgs(q)
		if err != nil {
			return nil, err
		}
		out := wire.User{ID: u.ID, GitHubLogin: u.Login, Name: u.Name, Email: u.Email, AvatarURL: u.AvatarURL,
			Organizations: []wire.UserInfo{}, Identities: []string{}}
		for _, o := range orgs {
			out.Organizations = append(out.Organizations, wire.UserInfo{Name: o.DisplayName, GitHubLogin: o.Name})
		}
		return out, nil
	}
	org, err := s.orgByID(q, t.OrgID)
	if err != nil {
		return nil, err
	}
	out := wire.User{ID: t.ID, GitHubLogin: org.Name, Name: org.DisplayName, Organizations: []wire.UserInfo{{Name: org.DisplayName, GitHubLogin: org.Name}},
		Identities: []string{}, TokenInfo: &wire.TokenInfo{Name: t.Name, Organization: org.Name}}
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
	return s.svc.Org(q.ctx(), id)
}

func (s *Server) teamName(q *request, org *gatehouse.Organization, teamID string) (string, error) {
	t, err := s.svc.TeamByID(q.ctx(), org.ID, teamID)
	if err != nil {
		return "", err
	}
	return t.Name, nil
}

func (s *Server) defaultOrg(q *request) (any, error) {
	name, err := s.defaultOrgName(q)
	if err != nil {
		return nil, err
	}
	return wire.DefaultOrganization{GitHubLogin: name, Messages: []any{}}, nil
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

func toUserInfo(u *gatehouse.User) wire.UserInfo {
	if u == nil {
		return wire.UserInfo{}
	}
	return wire.UserInfo{Name: u.Name, GitHubLogin: u.Login, AvatarURL: u.AvatarURL, Email: u.Email}
}
