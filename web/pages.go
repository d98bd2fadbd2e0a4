package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/service"
)

func (c *Console) routes() {
	m := c.mux
	m.Handle("GET /console/-/static/{file...}", staticHandler())
	m.HandleFunc("GET /console/login", c.loginPage)
	m.HandleFunc("POST /console/login", c.login)
	m.HandleFunc("POST /console/logout", c.authed(func(q *req) error {
		c.signOut(q.w, q.r)
		http.Redirect(q.w, q.r, "/console/login?signedout=1", http.StatusSeeOther)
		return nil
	}))
	m.HandleFunc("GET /console/{$}", c.authed(c.home))
	m.HandleFunc("GET /console/{org}/{$}", c.authed(c.overview))

	m.HandleFunc("GET /console/{org}/permissions", c.authed(c.permissions))
	m.HandleFunc("GET /console/{org}/permissions/new", c.authed(c.permissionForm))
	m.HandleFunc("POST /console/{org}/permissions", c.authed(c.savePermission))
	m.HandleFunc("GET /console/{org}/permissions/{id}", c.authed(c.permissionForm))
	m.HandleFunc("POST /console/{org}/permissions/{id}", c.authed(c.savePermission))
	m.HandleFunc("POST /console/{org}/permissions/{id}/delete", c.authed(c.deleteDescriptor("permissions")))

	m.HandleFunc("GET /console/{org}/roles", c.authed(c.roles))
	m.HandleFunc("GET /console/{org}/roles/new", c.authed(c.roleForm))
	m.HandleFunc("POST /console/{org}/roles", c.authed(c.saveRole))
	m.HandleFunc("GET /console/{org}/roles/{id}", c.authed(c.roleForm))
	m.HandleFunc("POST /console/{org}/roles/{id}", c.authed(c.saveRole))
	m.HandleFunc("POST /console/{org}/roles/{id}/delete", c.authed(c.deleteDescriptor("roles")))
	m.HandleFunc("POST /console/{org}/roles/{id}/default", c.authed(c.defaultRole))

	m.HandleFunc("GET /console/{org}/tokens", c.authed(c.tokens))
	m.HandleFunc("POST /console/{org}/tokens", c.authed(c.createToken))
	m.HandleFunc("POST /console/{org}/tokens/{kind}/{id}/revoke", c.authed(c.revokeToken))

	m.HandleFunc("GET /console/{org}/teams", c.authed(c.teams))
	m.HandleFunc("POST /console/{org}/teams", c.authed(c.createTeam))
	m.HandleFunc("GET /console/{org}/teams/{team}", c.authed(c.team))
	m.HandleFunc("POST /console/{org}/teams/{team}/members", c.authed(c.teamMember))
	m.HandleFunc("POST /console/{org}/teams/{team}/roles", c.authed(c.teamRole))
	m.HandleFunc("POST /console/{org}/teams/{team}/grants", c.authed(c.teamGrant))
	m.HandleFunc("POST /console/{org}/teams/{team}/delete", c.authed(c.deleteTeam))

	c.inviteRoutes()
	m.HandleFunc("GET /console/{org}/members", c.authed(c.members))
	m.HandleFunc("POST /console/{org}/members", c.authed(c.addMember))
	m.HandleFunc("POST /console/{org}/members/{login}", c.authed(c.updateMember))

	m.HandleFunc("GET /console/{org}/oidc", c.authed(c.issuers))
	m.HandleFunc("POST /console/{org}/oidc", c.authed(c.addIssuer))
	m.HandleFunc("GET /console/{org}/oidc/{id}", c.authed(c.issuer))
	m.HandleFunc("POST /console/{org}/oidc/{id}/policy", c.authed(c.savePolicy))
	m.HandleFunc("POST /console/{org}/oidc/{id}/delete", c.authed(c.deleteIssuer))

	m.HandleFunc("GET /console/{org}/audit", c.authed(c.audit))
	m.HandleFunc("GET /console/{org}/access", c.authed(c.access))
	m.HandleFunc("POST /console/{org}/access", c.authed(c.access))
}

// --- sign in

type loginData struct{ Next, Error, Notice string }

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	if c.session(r) != nil {
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
		return
	}
	d := loginData{Next: r.URL.Query().Get("next")}
	if r.URL.Query().Get("signedout") != "" {
		d.Notice = "Signed out."
	}
	c.renderLogin(w, http.StatusOK, d)
}

func (c *Console) renderLogin(w http.ResponseWriter, status int, d loginData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.tmpl.ExecuteTemplate(w, "login", d); err != nil {
		c.log.Error("console login page", "err", err.Error())
	}
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		c.renderLogin(w, http.StatusForbidden, loginData{Error: "this form was posted from another site"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		c.renderLogin(w, http.StatusBadRequest, loginData{Error: "bad form"})
		return
	}
	next := r.PostForm.Get("next")
	if err := c.signIn(w, r, r.PostForm.Get("token")); err != nil {
		status, msg := http.StatusUnauthorized, err.Error()
		// A bad token is a failed authentication like the API's: counted
		// against the client address's limit, audited in the organization
		// the form was headed for, and logged.
		var bad *badToken
		if errors.As(err, &bad) && !c.api.SignInFailed(w, r, nextOrg(next), bad.why) {
			status, msg = http.StatusTooManyRequests, "too many failed sign-ins from this address; try again later"
		}
		c.renderLogin(w, status, loginData{Next: next, Error: msg})
		return
	}
	// Only the console's own pages, never another site.
	if !strings.HasPrefix(next, "/console/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		next = "/console/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// nextOrg is the organization a sign-in form was headed for
// ("/console/{org}/..."), or "".
func nextOrg(next string) string {
	rest, ok := strings.CutPrefix(next, "/console/")
	if !ok {
		return ""
	}
	org, _, _ := strings.Cut(rest, "/")
	return org
}

func (c *Console) home(q *req) error {
	var d struct{ GitHubLogin string }
	if err := q.call("GET", "/api/user/organizations/default", nil, &d); err != nil {
		return err
	}
	if d.GitHubLogin == "" {
		return q.render(http.StatusOK, "overview", "Gatehouse", "", nil, "You belong to no organization yet.", "")
	}
	return q.redirect("/console/"+url.PathEscape(d.GitHubLogin)+"/", "")
}

func (c *Console) overview(q *req) error {
	type section struct{ Path, Name, What, Scope string }
	var out []section
	for _, s := range []section{
		{"permissions", "Permissions", "Permission sets: named scopes for one entity type", "role:read"},
		{"roles", "Roles", "Roles: organization-wide sets plus rules on stacks, environments and accounts", "role:read"},
		{"tokens", "Access tokens", "Organization, team and personal tokens", ""},
		{"teams", "Teams", "Teams, their members, roles and tokens", "team:list"},
		{"members", "Members", "Members and their roles", "org_member:read"},
		{"oidc", "OIDC", "Trusted issuers and their policies for CI/CD", "oidc_issuers:read"},
		{"audit", "Audit log", "Every change, denial and failed sign-in", "audit_logs:read"},
		{"access", "Access explorer", "Who can do what, and why", "org_member_access:read"},
	} {
		if s.Scope == "" || q.may(s.Scope) {
			out = append(out, s)
		}
	}
	return q.render(http.StatusOK, "overview", "Organization settings", "", out, "", q.notice())
}

// --- permission sets and roles

type descriptor struct {
	ID                string          `json:"id"`
	Name              string          `json:"name"`
	Description       string          `json:"description"`
	ResourceType      string          `json:"resourceType"`
	UXPurpose         string          `json:"uxPurpose"`
	Details           json.RawMessage `json:"details"`
	Version           int             `json:"version"`
	IsOrgDefault      bool            `json:"isOrgDefault"`
	DefaultIdentifier string          `json:"defaultIdentifier"`
}

func (q *req) descriptors(purpose string) ([]descriptor, error) {
	var out struct{ Roles []descriptor }
	err := q.call("GET", "/api/orgs/"+url.PathEscape(q.org)+"/roles?uxPurpose="+purpose, nil, &out)
	sort.SliceStable(out.Roles, func(i, j int) bool {
		a, b := out.Roles[i], out.Roles[j]
		if (a.DefaultIdentifier != "") != (b.DefaultIdentifier != "") {
			return a.DefaultIdentifier != ""
		}
		return a.Name < b.Name
	})
	return out.Roles, err
}

func (c *Console) permissions(q *req) error {
	sets, err := q.descriptors("set")
	if err != nil {
		return q.fail(err, func(msg string) error {
			return q.render(http.StatusForbidden, "permissions", "Permissions", "permissions", nil, msg, "")
		})
	}
	return q.render(http.StatusOK, "permissions", "Permissions", "permissions", sets, "", q.notice())
}

// setForm is the permission set editor's data.
type setForm struct {
	Set      descriptor
	Type     string
	Types    []string
	Groups   []catalog.Group
	Selected []string
	BuiltIn  bool
	New      bool
}

var entityTypes = []string{"global", "stack", "environment", "insights-account"}

func parseType(s string) (gatehouse.EntityType, bool) {
	for _, t := range []gatehouse.EntityType{gatehouse.EntityGlobal, gatehouse.EntityStack, gatehouse.EntityEnvironment, gatehouse.EntityInsightsAccount} {
		if t.String() == s {
			return t, true
		}
	}
	return 0, false
}

func (c *Console) permissionForm(q *req) error {
	return c.showSetForm(q, http.StatusOK, "")
}

func (c *Console) showSetForm(q *req, status int, errMsg string) error {
	f := setForm{Types: entityTypes, New: q.r.PathValue("id") == ""}
	if !f.New {
		if err := q.call("GET", "/api/orgs/"+url.PathEscape(q.org)+"/roles/"+url.PathEscape(q.r.PathValue("id")), nil, &f.Set); err != nil {
			return q.fail(err, func(msg string) error {
				return q.render(http.StatusNotFound, "permission", "Permission set", "permissions", f, msg, "")
			})
		}
		f.Type, f.BuiltIn = f.Set.ResourceType, f.Set.DefaultIdentifier != ""
		var allow struct{ Permissions []string }
		json.Unmarshal(f.Set.Details, &allow)
		f.Selected = allow.Permissions
	}
	if v := q.r.URL.Query().Get("type"); f.New && v != "" {
		f.Type = v
	}
	if q.r.Method == http.MethodPost {
		f.Set.Name, f.Set.Description, f.Type, f.Selected = q.r.PostForm.Get("name"), q.r.PostForm.Get("description"), q.r.PostForm.Get("type"), q.r.PostForm["scope"]
	}
	if f.Type == "" {
		f.Type = "stack"
	}
	if t, ok := parseType(f.Type); ok {
		f.Groups = catalog.Groups(t)
	}
	title := "New permission set"
	if !f.New {
		title = f.Set.Name
	}
	return q.render(status, "permission", title, "permissions", f, errMsg, q.notice())
}

func (c *Console) savePermission(q *req) error {
	f := q.r.PostForm
	details := map[string]any{"__type": "PermissionDescriptorAllow", "permissions": nonNil(f["scope"])}
	base := "/api/orgs/" + url.PathEscape(q.org) + "/roles"
	var saved descriptor
	var err error
	if id := q.r.PathValue("id"); id == "" {
		err = q.call("POST", base, map[string]any{"name": f.Get("name"), "description": f.Get("description"), "resourceType": f.Get("type"),
			"uxPurpose": "set", "details": details}, &saved)
	} else {
		err = q.call("PATCH", base+"/"+url.PathEscape(id), map[string]any{"name": f.Get("name"), "description": f.Get("description"), "details": details}, &saved)
	}
	if err != nil {
		return q.fail(err, func(msg string) error { return c.showSetForm(q, http.StatusBadRequest, msg) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/permissions", fmt.Sprintf("Saved permission set %q.", saved.Name))
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func (c *Console) deleteDescriptor(list string) handlerFunc {
	return func(q *req) error {
		path := "/api/orgs/" + url.PathEscape(q.org) + "/roles/" + url.PathEscape(q.r.PathValue("id"))
		if q.r.PostForm.Get("force") == "true" {
			path += "?force=true"
		}
		if err := q.call("DELETE", path, nil, nil); err != nil {
			return q.fail(err, func(msg string) error {
				if list == "permissions" {
					return c.showSetForm(q, http.StatusConflict, msg)
				}
				return c.showRoleForm(q, http.StatusConflict, msg)
			})
		}
		return q.redirect("/console/"+url.PathEscape(q.org)+"/"+list, "Deleted.")
	}
}

func (c *Console) roles(q *req) error {
	roles, err := q.descriptors("role")
	if err != nil {
		return q.fail(err, func(msg string) error { return q.render(http.StatusForbidden, "roles", "Roles", "roles", nil, msg, "") })
	}
	return q.render(http.StatusOK, "roles", "Roles", "roles", roles, "", q.notice())
}

func (c *Console) defaultRole(q *req) error {
	if err := q.call("PATCH", "/api/orgs/"+url.PathEscape(q.org)+"/roles/"+url.PathEscape(q.r.PathValue("id"))+"/default", nil, nil); err != nil {
		return q.fail(err, func(msg string) error { return c.showRoleForm(q, http.StatusBadRequest, msg) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/roles", "The default role changed.")
}

// --- tokens

type token struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Created     string `json:"created"`
	LastUsed    int64  `json:"lastUsed"`
	Expires     int64  `json:"expires"`
	Role        *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"role"`
}

type tokensData struct {
	Org, Personal []token
	OrgErr        string
	Roles         []descriptor
	Created       string // a new token's value, shown once
	CreatedName   string
	CanCreate     bool
}

func (c *Console) tokensPage(q *req, status int, created, createdName, errMsg string) error {
	d := tokensData{Created: created, CreatedName: createdName, CanCreate: q.may("org_token:create")}
	var list struct{ Tokens []token }
	if err := q.call("GET", "/api/orgs/"+url.PathEscape(q.org)+"/tokens", nil, &list); err != nil {
		d.OrgErr = err.Error()
	}
	d.Org = list.Tokens
	list.Tokens = nil
	if err := q.call("GET", "/api/user/tokens", nil, &list); err != nil {
		return err
	}
	d.Personal = list.Tokens
	d.Roles, _ = q.descriptors("role")
	return q.render(status, "tokens", "Access tokens", "tokens", d, errMsg, q.notice())
}

func (c *Console) tokens(q *req) error { return c.tokensPage(q, http.StatusOK, "", "", "") }

// expiryOf reads an expiry choice: days from now, or 0 for never.
func expiryOf(v string) (int64, error) {
	if v == "" || v == "never" {
		return 0, nil
	}
	days, err := strconv.Atoi(v)
	if err != nil || days < 1 || days > 730 {
		return 0, fmt.Errorf("expires: %q is not a number of days from 1 to 730", v)
	}
	return time.Now().Add(time.Duration(days) * 24 * time.Hour).Unix(), nil
}

func (c *Console) createToken(q *req) error {
	f := q.r.PostForm
	exp, err := expiryOf(f.Get("expires"))
	if err != nil {
		return c.tokensPage(q, http.StatusBadRequest, "", "", err.Error())
	}
	var out struct{ ID, TokenValue string }
	switch f.Get("kind") {
	case "personal":
		err = q.call("POST", "/api/user/tokens", map[string]any{"description": f.Get("description"), "expires": exp}, &out)
	case "team":
		err = q.call("POST", "/api/orgs/"+url.PathEscape(q.org)+"/teams/"+url.PathEscape(f.Get("team"))+"/tokens",
			map[string]any{"name": f.Get("name"), "description": f.Get("description"), "expires": exp}, &out)
	default:
		err = q.call("POST", "/api/orgs/"+url.PathEscape(q.org)+"/tokens",
			map[string]any{"name": f.Get("name"), "description": f.Get("description"), "expires": exp, "roleID": f.Get("role")}, &out)
	}
	if err != nil {
		return q.fail(err, func(msg string) error { return c.tokensPage(q, http.StatusBadRequest, "", "", msg) })
	}
	if t := f.Get("team"); f.Get("kind") == "team" {
		return c.teamPage(q, t, http.StatusOK, out.TokenValue, f.Get("name"), "")
	}
	return c.tokensPage(q, http.StatusOK, out.TokenValue, f.Get("name"), "")
}

func (c *Console) revokeToken(q *req) error {
	id := url.PathEscape(q.r.PathValue("id"))
	var path string
	switch q.r.PathValue("kind") {
	case "personal":
		path = "/api/user/tokens/" + id
	case "team":
		path = "/api/orgs/" + url.PathEscape(q.org) + "/teams/" + url.PathEscape(q.r.PostForm.Get("team")) + "/tokens/" + id
	default:
		path = "/api/orgs/" + url.PathEscape(q.org) + "/tokens/" + id
	}
	if err := q.call("DELETE", path, nil, nil); err != nil {
		return q.fail(err, func(msg string) error { return c.tokensPage(q, http.StatusBadRequest, "", "", msg) })
	}
	if q.r.PathValue("kind") == "team" {
		return q.redirect("/console/"+url.PathEscape(q.org)+"/teams/"+url.PathEscape(q.r.PostForm.Get("team")), "Token revoked.")
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/tokens", "Token revoked.")
}

// --- teams and members

type team struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	Description string `json:"description"`
	Members     []struct {
		GitHubLogin string `json:"githubLogin"`
		Role        string `json:"role"`
	} `json:"members"`
	Stacks []struct {
		ProjectName string `json:"projectName"`
		StackName   string `json:"stackName"`
		Permission  int    `json:"permission"`
	} `json:"stacks"`
	Environments []struct {
		ProjectName string `json:"projectName"`
		EnvName     string `json:"envName"`
		Permission  string `json:"permission"`
	} `json:"environments"`
	RoleIDs []string `json:"roleIds"`
}

func (c *Console) teams(q *req) error { return c.teamsPage(q, http.StatusOK, "") }

func (c *Console) teamsPage(q *req, status int, errMsg string) error {
	var out struct{ Teams []team }
	if err := q.call("GET", "/api/orgs/"+url.PathEscape(q.org)+"/teams", nil, &out); err != nil {
		return q.fail(err, func(msg string) error { return q.render(http.StatusForbidden, "teams", "Teams", "teams", nil, msg, "") })
	}
	return q.render(status, "teams", "Teams", "teams", out.Teams, errMsg, q.notice())
}

func (c *Console) createTeam(q *req) error {
	f := q.r.PostForm
	if err := q.call("POST", "/api/orgs/"+url.PathEscape(q.org)+"/teams/pulumi",
		map[string]string{"name": f.Get("name"), "displayName": f.Get("displayName"), "description": f.Get("description")}, nil); err != nil {
		return q.fail(err, func(msg string) error { return c.teamsPage(q, http.StatusBadRequest, msg) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/teams/"+url.PathEscape(f.Get("name")), "Team created.")
}

type teamData struct {
	Team        team
	Roles       []descriptor
	AllRoles    []descriptor
	Tokens      []token
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
	var roles struct{ Roles []descriptor }
	q.call("GET", base+"/roles", nil, &roles)
	d.Roles = roles.Roles
	d.AllRoles, _ = q.descriptors("role")
	var toks struct{ Tokens []token }
	q.call("GET", base+"/tokens", nil, &toks)
	d.Tokens = toks.Tokens
	return q.render(status, "team", d.Team.Name, "teams", d, errMsg, q.notice())
}

func (c *Console) teamMember(q *req) error {
	name := q.r.PathValue("team")
	f := q.r.PostForm
	err := q.call("PATCH", "/api/orgs/"+url.PathEscape(q.org)+"/teams/"+url.PathEscape(name),
		map[string]string{"memberAction": f.Get("action"), "member": f.Get("member")}, nil)
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
	var body map[string]any
	switch f.Get("type") {
	case "stack":
		perm, _ := strconv.Atoi(f.Get("permission"))
		g := map[string]any{"projectName": project, "stackName": entity, "permission": perm}
		if remove {
			body = map[string]any{"removeStack": g}
		} else {
			body = map[string]any{"addStackPermission": g}
		}
	case "environment":
		g := map[string]any{"projectName": project, "envName": entity, "permission": f.Get("permission")}
		if remove {
			body = map[string]any{"removeEnvironment": g}
		} else {
			body = map[string]any{"addEnvironmentPermission": g}
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

type member struct {
	Role string `json:"role"`
	User struct {
		Name        string `json:"name"`
		GitHubLogin string `json:"githubLogin"`
	} `json:"user"`
	FGARole struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"fgaRole"`
}

type membersData struct {
	Members []member
	Roles   []descriptor
	Invites []invite
}

func (c *Console) members(q *req) error { return c.membersPage(q, http.StatusOK, "") }

func (c *Console) membersPage(q *req, status int, errMsg string) error {
	var d membersData
	var out struct{ Members []member }
	if err := q.call("GET", "/api/orgs/"+url.PathEscape(q.org)+"/members", nil, &out); err != nil {
		return q.fail(err, func(msg string) error {
			return q.render(http.StatusForbidden, "members", "Members", "members", d, msg, "")
		})
	}
	d.Members = out.Members
	d.Roles, _ = q.descriptors("role")
	var inv struct{ Invites []invite }
	if q.may("invites:read") && q.call("GET", "/api/orgs/"+url.PathEscape(q.org)+"/invites", nil, &inv) == nil {
		d.Invites = inv.Invites
	}
	return q.render(status, "members", "Members", "members", d, errMsg, q.notice())
}

func (c *Console) addMember(q *req) error {
	login := q.r.PostForm.Get("login")
	var out struct{ Status string } // "pending" when the API invited instead
	if err := q.call("POST", "/api/orgs/"+url.PathEscape(q.org)+"/members/"+url.PathEscape(login), map[string]string{"role": "member"}, &out); err != nil {
		return q.fail(err, func(msg string) error { return c.membersPage(q, http.StatusBadRequest, msg) })
	}
	if out.Status == "pending" {
		return q.redirect("/console/"+url.PathEscape(q.org)+"/members", fmt.Sprintf("%s is not a user of this organization: invited; they join when they accept.", login))
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/members", fmt.Sprintf("Added %s.", login))
}

func (c *Console) updateMember(q *req) error {
	login := q.r.PathValue("login")
	var err error
	if q.r.PostForm.Get("action") == "remove" {
		err = q.call("DELETE", "/api/orgs/"+url.PathEscape(q.org)+"/members/"+url.PathEscape(login), nil, nil)
	} else {
		err = q.call("PATCH", "/api/orgs/"+url.PathEscape(q.org)+"/members/"+url.PathEscape(login), map[string]string{"fgaRoleId": q.r.PostForm.Get("role")}, nil)
	}
	if err != nil {
		return q.fail(err, func(msg string) error { return c.membersPage(q, http.StatusBadRequest, msg) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/members", fmt.Sprintf("Updated %s.", login))
}

// --- OIDC

type issuer struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	URL      string `json:"url"`
	Created  string `json:"created"`
	LastUsed string `json:"lastUsed"`
}

func (c *Console) issuers(q *req) error { return c.issuersPage(q, http.StatusOK, "") }

func (c *Console) issuersPage(q *req, status int, errMsg string) error {
	var out struct{ OIDCIssuers []issuer }
	if err := q.call("GET", "/api/orgs/"+url.PathEscape(q.org)+"/oidc/issuers", nil, &out); err != nil {
		return q.fail(err, func(msg string) error {
			return q.render(http.StatusForbidden, "oidc", "OIDC issuers", "oidc", nil, msg, "")
		})
	}
	return q.render(status, "oidc", "OIDC issuers", "oidc", out.OIDCIssuers, errMsg, q.notice())
}

func (c *Console) addIssuer(q *req) error {
	f := q.r.PostForm
	var out issuer
	if err := q.call("POST", "/api/orgs/"+url.PathEscape(q.org)+"/oidc/issuers", map[string]string{"name": f.Get("name"), "url": f.Get("url")}, &out); err != nil {
		return q.fail(err, func(msg string) error { return c.issuersPage(q, http.StatusBadRequest, msg) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/oidc/"+url.PathEscape(out.ID), "Issuer registered: its policy denies everything until you add rules.")
}

type issuerData struct {
	Issuer   issuer
	PolicyID string
	Rules    string
	Claims   string
	Result   string
}

func (c *Console) issuer(q *req) error { return c.issuerPage(q, http.StatusOK, "", "") }

func (c *Console) issuerPage(q *req, status int, errMsg, rules string) error {
	base := "/api/orgs/" + url.PathEscape(q.org)
	id := q.r.PathValue("id")
	var d issuerData
	if err := q.call("GET", base+"/oidc/issuers/"+url.PathEscape(id), nil, &d.Issuer); err != nil {
		return q.fail(err, func(msg string) error {
			return q.render(http.StatusNotFound, "issuer", "OIDC issuer", "oidc", d, msg, "")
		})
	}
	var pol struct {
		ID       string          `json:"id"`
		Policies json.RawMessage `json:"policies"`
	}
	if err := q.call("GET", base+"/auth/policies/oidcissuers/"+url.PathEscape(id), nil, &pol); err == nil {
		d.PolicyID, d.Rules = pol.ID, funcs["raw"].(func(json.RawMessage) string)(pol.Policies)
	}
	if rules != "" {
		d.Rules = rules
	}
	if claims := q.r.URL.Query().Get("claims"); claims != "" {
		d.Claims = claims
		d.Result = c.testClaims(q, id, claims)
	}
	return q.render(status, "issuer", d.Issuer.Name, "oidc", d, errMsg, q.notice())
}

// testClaims evaluates the issuer's policy on a claims document for an
// organization token, as `gatehouse oidc test` does.
func (c *Console) testClaims(q *req, issuerID, claims string) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(claims), &m); err != nil {
		return "claims: not a JSON object: " + err.Error()
	}
	var pol struct {
		Policies []gatehouse.AuthPolicyRule `json:"policies"`
	}
	if err := q.call("GET", "/api/orgs/"+url.PathEscape(q.org)+"/auth/policies/oidcissuers/"+url.PathEscape(issuerID), nil, &pol); err != nil {
		return err.Error()
	}
	d := service.EvaluatePolicy(pol.Policies, m, gatehouse.TokenOrganization, "", "")
	if !d.Allowed {
		return "deny: " + d.Reason
	}
	role := pol.Policies[d.Rule].RoleID
	if role == "" {
		role = "the organization's default role"
	}
	return fmt.Sprintf("allow: rule %d matches; an exchange would issue an organization token holding %s", d.Rule, role)
}

func (c *Console) savePolicy(q *req) error {
	rules := q.r.PostForm.Get("rules")
	var policies json.RawMessage
	if err := json.Unmarshal([]byte(rules), &policies); err != nil {
		return c.issuerPage(q, http.StatusBadRequest, "rules: not JSON: "+err.Error(), rules)
	}
	err := q.call("PATCH", "/api/orgs/"+url.PathEscape(q.org)+"/auth/policies/"+url.PathEscape(q.r.PostForm.Get("policy")),
		map[string]any{"policies": policies}, nil)
	if err != nil {
		return q.fail(err, func(msg string) error { return c.issuerPage(q, http.StatusBadRequest, msg, rules) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/oidc/"+url.PathEscape(q.r.PathValue("id")), "Policy saved.")
}

func (c *Console) deleteIssuer(q *req) error {
	if err := q.call("DELETE", "/api/orgs/"+url.PathEscape(q.org)+"/oidc/issuers/"+url.PathEscape(q.r.PathValue("id")), nil, nil); err != nil {
		return q.fail(err, func(msg string) error { return c.issuerPage(q, http.StatusBadRequest, msg, "") })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/oidc", "Issuer deleted.")
}

// --- audit log

type auditData struct {
	Events []struct {
		Timestamp   int64  `json:"timestamp"`
		Event       string `json:"event"`
		Description string `json:"description"`
		SourceIP    string `json:"sourceIP"`
		ActorName   string `json:"actorName"`
		User        struct {
			GitHubLogin string `json:"githubLogin"`
		} `json:"user"`
		TokenName string `json:"tokenName"`
	} `json:"auditLogEvents"`
	Next   string `json:"continuationToken"`
	Types  []string
	Filter url.Values
	Export string
}

func (c *Console) audit(q *req) error {
	in := q.r.URL.Query()
	v := url.Values{}
	if e := in.Get("event"); e != "" {
		v.Set("eventFilter", e)
	}
	if u := in.Get("user"); u != "" {
		v.Set("userFilter", u)
	}
	d := auditData{Filter: in}
	// Dates (YYYY-MM-DD, UTC) bound the events: from the start of the
	// first day to the end of the last.
	for k, param := range map[string]string{"from": "startTime", "to": "endTime"} {
		if s := in.Get(k); s != "" {
			t, err := time.Parse("2006-01-02", s)
			if err != nil {
				return q.render(http.StatusBadRequest, "audit", "Audit log", "audit", d, fmt.Sprintf("%s: %q is not a date (YYYY-MM-DD)", k, s), "")
			}
			if k == "to" {
				t = t.Add(24 * time.Hour)
			}
			v.Set(param, strconv.FormatInt(t.Unix(), 10))
		}
	}
	if s := in.Get("continuationToken"); s != "" {
		v.Set("continuationToken", s)
	}
	base := "/api/orgs/" + url.PathEscape(q.org) + "/auditlogs"
	if err := q.call("GET", base+"/v2?"+v.Encode(), nil, &d); err != nil {
		return q.fail(err, func(msg string) error {
			return q.render(http.StatusForbidden, "audit", "Audit log", "audit", d, msg, "")
		})
	}
	for _, t := range gatehouse.AuditEventTypes {
		d.Types = append(d.Types, t.Event)
	}
	sort.Strings(d.Types)
	v.Del("continuationToken")
	d.Export = base + "/v2/export?" + v.Encode()
	return q.render(http.StatusOK, "audit", "Audit log", "audit", d, "", "")
}

// --- access explorer

type accessData struct {
	Scope, EntityType, Entity, Token string
	Scopes                           []string
	Holders                          any
	Decision                         *gatehouse.CheckResult
	TokenCan                         []string
	Asked                            bool
}

// access answers the explorer's questions. A token, being a secret, comes
// only in a POST body, never in a URL.
func (c *Console) access(q *req) error {
	in := q.r.URL.Query()
	if q.r.Method == http.MethodPost {
		in = q.r.PostForm
	}
	d := accessData{Scope: in.Get("scope"), EntityType: in.Get("type"), Entity: in.Get("entity")}
	if q.r.Method == http.MethodPost {
		d.Token = in.Get("token")
	}
	for _, i := range catalog.All() {
		d.Scopes = append(d.Scopes, i.Name)
	}
	if d.EntityType == "" {
		d.EntityType = "stack"
	}
	if d.Scope == "" {
		return q.render(http.StatusOK, "access", "Access explorer", "access", d, "", "")
	}
	d.Asked = true
	if !q.may("org_member_access:read") {
		return q.render(http.StatusForbidden, "access", "Access explorer", "access", d, "the access explorer needs the org_member_access:read scope", "")
	}
	org, err := c.az.Org(q.r.Context(), q.org)
	if err != nil {
		return err
	}
	entity := gatehouse.CheckEntity{Type: d.EntityType}
	if project, name, ok := strings.Cut(d.Entity, "/"); ok {
		entity.Project, entity.Name = project, name
	} else {
		entity.Name = d.Entity
	}
	if d.EntityType == "global" {
		entity = gatehouse.CheckEntity{Type: "global"}
	}
	sc, ok := catalog.Lookup(d.Scope)
	if !ok {
		return q.render(http.StatusBadRequest, "access", "Access explorer", "access", d, fmt.Sprintf("scope: %q is not a scope", d.Scope), "")
	}
	e, err := c.svc.ResolveEntity(q.r.Context(), org.ID, entity)
	if err != nil {
		return q.fail(err, func(msg string) error {
			return q.render(http.StatusBadRequest, "access", "Access explorer", "access", d, msg, "")
		})
	}
	if d.Holders, err = c.az.WhoCan(q.r.Context(), org.ID, sc, e); err != nil {
		return err
	}
	if d.Token != "" {
		var out struct{ Results []gatehouse.CheckResult }
		if err := q.call("POST", "/api/orgs/"+url.PathEscape(q.org)+"/authz/check",
			map[string]any{"checks": []gatehouse.CheckRequest{{Token: d.Token, Scope: d.Scope, Entity: entity}}}, &out); err != nil {
			return q.fail(err, func(msg string) error {
				return q.render(http.StatusBadRequest, "access", "Access explorer", "access", d, msg, "")
			})
		}
		if len(out.Results) == 1 {
			d.Decision = &out.Results[0]
		}
		if id, err := c.az.Authenticate("token " + d.Token); err == nil {
			for _, i := range catalog.All() {
				if s, ok := catalog.Lookup(i.Name); ok && i.AppliesTo(e.Type) {
					if ok, _ := c.az.Decide(q.r.Context(), id, org.ID, s, e); ok {
						d.TokenCan = append(d.TokenCan, i.Name)
					}
				}
			}
		}
	}
	return q.render(http.StatusOK, "access", "Access explorer", "access", d, "", "")
}
