package api

import (
	"net/http"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/service"
)

// registerTeams registers the routes of teams and their roles.
func (s *Server) registerTeams() {
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/teams", doc: doc{"ListTeams", "List teams", []string{"continuationToken", "maxResults"}, "", "ListTeamsResponse"}, scopes: scopes("team:list"), h: s.listTeams})
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/teams/pulumi", doc: doc{"CreatePulumiTeam", "Create a team", nil, "CreatePulumiTeamRequest", "Team"}, scopes: scopes("team:create"), status: http.StatusCreated, h: s.createTeam})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/teams/{teamName}", doc: doc{"GetTeam", "Get a team with its members, roles and grants", nil, "", "Team"}, scopes: scopes("team:read"), h: s.getTeam})
	s.handle(&route{method: "PATCH", pattern: "/api/orgs/{orgName}/teams/{teamName}", doc: doc{"UpdateTeam", "Change a team: one action per call", nil, "UpdateTeamRequest", ""}, scopes: scopes("team:update"), h: s.updateTeam})
	s.handle(&route{method: "DELETE", pattern: "/api/orgs/{orgName}/teams/{teamName}", doc: doc{"DeleteTeam", "Delete a team and revoke its tokens", nil, "", ""}, scopes: scopes("team:delete"), h: s.deleteTeam})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/teams/{teamName}/roles", doc: doc{"ListTeamRoles", "A team's roles", nil, "", "ListRolesResponse"}, scopes: scopes("team:read", "role:read"), h: s.teamRoles})
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/teams/{teamName}/roles/{roleID}", doc: doc{"AddTeamRole", "Give a team a role", nil, "", ""}, scopes: scopes("role:update", "team:update"), noBody: true, h: s.addTeamRole})
	s.handle(&route{method: "DELETE", pattern: "/api/orgs/{orgName}/teams/{teamName}/roles/{roleID}", doc: doc{"RemoveTeamRole", "Take a role from a team", nil, "", ""}, scopes: scopes("role:update", "team:update"), h: s.removeTeamRole})
}

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
	out := wire.ListTeamsResponse{Teams: []wire.Team{}, ContinuationToken: q.next(next)}
	for _, t := range ts {
		out.Teams = append(out.Teams, toTeam(t))
	}
	return out, nil
}

func (s *Server) createTeam(q *request) (any, error) {
	var in wire.CreateTeamRequest
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
	var in wire.UpdateTeamRequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	stack := func(j *wire.TeamStack) *service.StackGrant {
		if j == nil {
			return nil
		}
		return &service.StackGrant{ProjectName: j.ProjectName, StackName: j.StackName, Permission: j.Permission}
	}
	env := func(j *wire.TeamEnv) (*service.EnvironmentGrant, error) {
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
	var puts, removes []service.TeamGrant
	for _, j := range []*wire.TeamStack{in.AddStackPermission, in.EditStackPermission} {
		if g := stack(j); g != nil {
			puts = append(puts, service.TeamGrant{Stack: g})
		}
	}
	for _, j := range []*wire.TeamEnv{in.AddEnvironmentPermission, in.EditEnvironmentPermission} {
		g, err := env(j)
		if err != nil {
			return nil, err
		}
		if g != nil {
			puts = append(puts, service.TeamGrant{Environment: g})
		}
	}
	if g := stack(in.RemoveStack); g != nil {
		removes = append(removes, service.TeamGrant{Stack: g})
	}
	g, err := env(in.RemoveEnvironment)
	if err != nil {
		return nil, err
	}
	if g != nil {
		removes = append(removes, service.TeamGrant{Environment: g})
	}
	return nil, s.svc.Batch(q.ctx(), q.org.ID, func(b *service.Batch) error {
		return patchTeam(b, q.r.PathValue("teamName"), in, puts, removes)
	})
}

// patchTeam applies a PATCH's changes in Pulumi's order: the names, the
// member, the grants given or changed, the grants taken away.
func patchTeam(b *service.Batch, name string, in wire.UpdateTeamRequest, puts, removes []service.TeamGrant) error {
	if err := b.RenameTeam(name, in.NewDisplayName, in.NewDescription); err != nil {
		return err
	}
	if in.MemberAction != "" {
		if err := b.SetTeamMember(name, in.MemberAction, in.Member); err != nil {
			return err
		}
	}
	for _, g := range puts {
		if err := b.PutTeamGrant(name, g); err != nil {
			return err
		}
	}
	for _, g := range removes {
		if err := b.RemoveTeamGrant(name, g); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) deleteTeam(q *request) (any, error) {
	return nil, s.svc.DeleteTeam(q.ctx(), q.org.ID, q.r.PathValue("teamName"))
}

func (s *Server) teamRoles(q *request) (any, error) {
	ds, err := s.svc.TeamRoles(q.ctx(), q.org.ID, q.r.PathValue("teamName"))
	if err != nil {
		return nil, err
	}
	out := wire.ListRolesResponse{Roles: []wire.Role{}}
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

var stackPermissionCodes = map[string]int{"stack-read": 101, "stack-write": 102, "stack-admin": 103}

var envPermissionNames = map[string]string{"environment-read": "read", "environment-open": "open", "environment-write": "write", "environment-admin": "admin"}

var accountPermissionCodes = map[string]int{"insights-account-read": 1, "insights-account-write": 2, "insights-account-admin": 3}

func toTeam(t *gatehouse.Team) wire.Team {
	return wire.Team{Kind: t.Kind, Name: t.Name, DisplayName: t.DisplayName, Description: t.Description}
}

func toTeamView(v *service.TeamView, caller *gatehouse.Identity) wire.Team {
	out := toTeam(v.Team)
	out.RoleIDs = v.RoleIDs
	out.UserRole = "none"
	for _, m := range v.Members {
		out.Members = append(out.Members, wire.TeamMember{UserInfo: toUserInfo(m.User), Role: m.Role})
		if caller != nil && caller.User != nil && caller.User.ID == m.User.ID {
			out.UserRole = m.Role
		}
	}
	for _, g := range v.Grants {
		switch g.Grant.Entity.Type {
		case gatehouse.EntityStack:
			out.Stacks = append(out.Stacks, wire.TeamStack{ProjectName: g.Project, StackName: g.Name,
				Permission: stackPermissionCodes[g.Set.DefaultIdentifier], PermissionSetName: g.Set.Name})
		case gatehouse.EntityEnvironment:
			e := wire.TeamEnv{ProjectName: g.Project, EnvName: g.Name, Permission: envPermissionNames[g.Set.DefaultIdentifier], PermissionSetName: g.Set.Name}
			if g.Grant.MaxOpenDuration > 0 {
				e.MaxOpenDuration = g.Grant.MaxOpenDuration.String()
			}
			out.Environments = append(out.Environments, e)
		case gatehouse.EntityInsightsAccount:
			out.Accounts = append(out.Accounts, wire.TeamAccount{AccountName: g.Name, Permission: accountPermissionCodes[g.Set.DefaultIdentifier], PermissionSetName: g.Set.Name})
		}
	}
	return out
}
