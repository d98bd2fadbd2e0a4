package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/api/wire"
)

func (c *Console) teams(q *req) error { return c.teamsPage(q, http.StatusOK, "") }

func (c *Console) teamsPage(q *req, status int, errMsg string) error {
	var out wire.ListTeamsResponse
	if err := q.call("GET", "/api/orgs/"+url.PathEscape(q.org)+"/teams", nil, &out); err != nil {
		return q.fail(err, func(msg string) error { return q.render(http.StatusForbidden, "teams", "Teams", "teams", nil, msg, "") })
	}
	return q.render(status, "teams", "Teams", "teams", out.Teams, errMsg, q.notice())
}

func (c *Console) createTeam(q *req) error {
	f := q.r.PostForm
	if err := q.call("POST", "/api/orgs/"+url.PathEscape(q.org)+"/teams/pulumi",
		wire.CreateTeamRequest{Name: f.Get("name"), DisplayName: f.Get("displayName"), Description: f.Get("description")}, nil); err != nil {
		return q.fail(err, func(msg string) error { return c.teamsPage(q, http.StatusBadRequest, msg) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/teams/"+url.PathEscape(f.Get("name")), "Team created.")
}

type teamData struct {
	Team        wire.Team
	Roles       []wire.Role
	AllRoles    []wire.Role
	Tokens      []wire.AccessToken
	Created     string
	CreatedName string
}

func (c *Console) team(q *req) error {
	return c.teamPage(q, q.r.PathValue("team"), http.StatusOK, "", "", "")
}

func (c *Console) teamPage(q *req, name string, status int, created, createdName, errMsg string) error {
	base := "/api/orgs/" + url.PathEscape(q.org) + "/teams/" + url.PathEscape(name)
	d := teamData{Created: created, CreatedName: createdName}
	if err := q.call("GET", base, nil, &d.Team); err != nil {
		return q.fail(err, func(msg string) error { return q.render(http.StatusNotFound, "team", name, "teams", d, msg, "") })
	}
	var roles wire.ListRolesResponse
	q.call("GET", base+"/roles", nil, &roles)
	d.Roles = roles.Roles
	d.AllRoles, _ = q.descriptors("role")
	var toks wire.ListTokensResponse
	q.call("GET", base+"/tokens", nil, &toks)
	d.Tokens = toks.Tokens
	return q.render(status, "team", d.Team.Name, "teams", d, errMsg, q.notice())
}

func (c *Console) teamMember(q *req) error {
	name := q.r.PathValue("team")
	f := q.r.PostForm
	err := q.call("PATCH", "/api/orgs/"+url.PathEscape(q.org)+"/teams/"+url.PathEscape(name),
		wire.UpdateTeamRequest{MemberAction: f.Get("action"), Member: f.Get("member")}, nil)
	if err != nil {
		return q.fail(err, func(msg string) error { return c.teamPage(q, name, http.StatusBadRequest, "", "", msg) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/teams/"+url.PathEscape(name), "Team updated.")
}

func (c *Console) teamRole(q *req) error {
	name := q.r.PathValue("team")
	method := "POST"
	if q.r.PostForm.Get("action") == "remove" {
		method = "DELETE"
	}
	err := q.call(method, "/api/orgs/"+url.PathEscape(q.org)+"/teams/"+url.PathEscape(name)+"/roles/"+url.PathEscape(q.r.PostForm.Get("role")), nil, nil)
	if err != nil {
		return q.fail(err, func(msg string) error { return c.teamPage(q, name, http.StatusBadRequest, "", "", msg) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/teams/"+url.PathEscape(name), "Team roles updated.")
}

// teamGrant adds or removes a team's permission on one stack or
// environment (Pulumi's team grants: stack read 101, write 102, admin 103;
// environment read, open, write, admin).
func (c *Console) teamGrant(q *req) error {
	name := q.r.PathValue("team")
	f := q.r.PostForm
	project, entity, ok := strings.Cut(strings.TrimSpace(f.Get("entity")), "/")
	if !ok {
		return c.teamPage(q, name, http.StatusBadRequest, "", "", fmt.Sprintf("entity: %q is not project/name", f.Get("entity")))
	}
	remove := f.Get("action") == "remove"
	var body wire.UpdateTeamRequest
	switch f.Get("type") {
	case "stack":
		perm, _ := strconv.Atoi(f.Get("permission"))
		g := &wire.TeamStack{ProjectName: project, StackName: entity, Permission: perm}
		if remove {
			body.RemoveStack = g
		} else {
			body.AddStackPermission = g
		}
	case "environment":
		g := &wire.TeamEnv{ProjectName: project, EnvName: entity, Permission: f.Get("permission")}
		if remove {
			body.RemoveEnvironment = g
		} else {
			body.AddEnvironmentPermission = g
		}
	default:
		return c.teamPage(q, name, http.StatusBadRequest, "", "", fmt.Sprintf("type: %q is not stack or environment", f.Get("type")))
	}
	if err := q.call("PATCH", "/api/orgs/"+url.PathEscape(q.org)+"/teams/"+url.PathEscape(name), body, nil); err != nil {
		return q.fail(err, func(msg string) error { return c.teamPage(q, name, http.StatusBadRequest, "", "", msg) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/teams/"+url.PathEscape(name), "Team grants updated.")
}

func (c *Console) deleteTeam(q *req) error {
	name := q.r.PathValue("team")
	if err := q.call("DELETE", "/api/orgs/"+url.PathEscape(q.org)+"/teams/"+url.PathEscape(name), nil, nil); err != nil {
		return q.fail(err, func(msg string) error { return c.teamPage(q, name, http.StatusBadRequest, "", "", msg) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/teams", "Team deleted; its tokens are revoked.")
}
