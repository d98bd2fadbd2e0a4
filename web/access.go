package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

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
