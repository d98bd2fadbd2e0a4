package web

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/policy"
)

func (q *req) descriptors(purpose string) ([]wire.Role, error) {
	var out wire.ListRolesResponse
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
	Set      wire.Role
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
		if n, err := policy.Decode(f.Set.Details); err == nil {
			if allow, ok := n.(*policy.Allow); ok {
				f.Selected = allow.Permissions
			}
		}
	}
	if v := q.r.URL.Query().Get("type"); f.New && v != "" {
		f.Type = v
	}
	if editing(q) {
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
	details, err := policy.Encode(&policy.Allow{Permissions: f["scope"]})
	if err != nil {
		return err
	}
	base := "/api/orgs/" + url.PathEscape(q.org) + "/roles"
	var saved wire.Role
	if id := q.r.PathValue("id"); id == "" {
		err = q.call("POST", base, wire.CreateRoleRequest{Name: new(f.Get("name")), Description: new(f.Get("description")), ResourceType: new(f.Get("type")),
			UXPurpose: new("set"), Details: details}, &saved)
	} else {
		err = q.call("PATCH", base+"/"+url.PathEscape(id), wire.UpdateRoleRequest{Name: new(f.Get("name")), Description: new(f.Get("description")), Details: details}, &saved)
	}
	if err != nil {
		return q.fail(err, func(msg string) error { return c.showSetForm(q, http.StatusBadRequest, msg) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/permissions", fmt.Sprintf("Saved permission set %q.", saved.Name))
}

// editing reports whether the request posted the editor's form, whose
// values the editor shows again (with the error that refused them).
// Another POST that shows the editor (a refused delete, a refused default)
// shows the descriptor as stored.
func editing(q *req) bool {
	return q.r.Method == http.MethodPost && q.r.PostForm.Has("name")
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
