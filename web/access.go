package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

type accessData struct {
	Scope, EntityType, Entity, Token string
	Scopes                           []string
	Holders                          []wire.AccessHolder
	Decision                         *gatehouse.CheckResult
	TokenScopes                      []string
	Asked                            bool
}

// access answers the explorer's questions through the API: who holds the
// scope (GET .../access/holders) and, for a token, its decision and the
// scopes it holds on the entity (POST .../authz/check). A token, being a
// secret, comes only in a POST body, never in a URL.
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
	show := func(msg string) error {
		return q.render(http.StatusBadRequest, "access", "Access explorer", "access", d, msg, "")
	}
	if err := q.holders(&d); err != nil {
		if e, ok := err.(*apiError); ok && e.Code < 500 {
			return q.render(e.Code, "access", "Access explorer", "access", d, e.Message, "")
		}
		return err
	}
	if d.Token != "" {
		if err := q.tokenAccess(&d); err != nil {
			return q.fail(err, show)
		}
	}
	return q.render(http.StatusOK, "access", "Access explorer", "access", d, "", "")
}

// entityRef is the explorer's entity as a check names it.
func (d *accessData) entityRef() gatehouse.CheckEntity {
	if d.EntityType == "global" {
		return gatehouse.CheckEntity{Type: "global"}
	}
	entity := gatehouse.CheckEntity{Type: d.EntityType}
	if project, name, ok := strings.Cut(d.Entity, "/"); ok {
		entity.Project, entity.Name = project, name
	} else {
		entity.Name = d.Entity
	}
	return entity
}

// holders asks the API who holds the scope on the entity.
func (q *req) holders(d *accessData) error {
	v := url.Values{"scope": {d.Scope}, "entityType": {d.EntityType}}
	if d.EntityType != "global" {
		v.Set("entity", d.Entity)
	}
	var out wire.ListAccessHoldersResponse
	if err := q.call("GET", "/api/orgs/"+url.PathEscape(q.org)+"/access/holders?"+v.Encode(), nil, &out); err != nil {
		return err
	}
	d.Holders = out.Holders
	return nil
}

// tokenAccess asks the API for the token's decision and, when the token
// is valid here, for every scope of the entity's type it holds there (one
// batch, so that a guessed token counts as one failure, as before).
func (q *req) tokenAccess(d *accessData) error {
	path := "/api/orgs/" + url.PathEscape(q.org) + "/authz/check"
	entity := d.entityRef()
	var out wire.CheckResponse
	if err := q.call("POST", path, wire.CheckRequest{Checks: []gatehouse.CheckRequest{{Token: d.Token, Scope: d.Scope, Entity: entity}}}, &out); err != nil {
		return err
	}
	if len(out.Results) != 1 {
		return nil
	}
	d.Decision = &out.Results[0]
	et, ok := gatehouse.ParseEntityType(d.EntityType)
	if d.Decision.Error != "" || !ok {
		return nil
	}
	var checks []gatehouse.CheckRequest
	for _, i := range catalog.All() {
		if i.AppliesTo(et) {
			checks = append(checks, gatehouse.CheckRequest{Token: d.Token, Scope: i.Name, Entity: entity})
		}
	}
	if len(checks) == 0 {
		return nil
	}
	var all wire.CheckResponse
	if err := q.call("POST", path, wire.CheckRequest{Checks: checks}, &all); err != nil {
		return err
	}
	for i, r := range all.Results {
		if r.Allowed && i < len(checks) {
			d.TokenScopes = append(d.TokenScopes, checks[i].Scope)
		}
	}
	return nil
}
