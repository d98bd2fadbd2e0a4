package web

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/service"
)

// The pages of the entities the access model protects (stacks,
// environments, Insights accounts) share their tags, their Access tab and
// the decision of their controls on the entity itself.

func (c *Console) entityRoutes() {
	m := c.mux
	m.HandleFunc("GET /console/{org}/stacks", c.authed(c.stacks))
	m.HandleFunc("GET /console/{org}/stacks/{project}/{name}", c.authed(c.stack))
	m.HandleFunc("GET /console/{org}/stacks/{project}/{name}/access", c.authed(c.stack))
	m.HandleFunc("POST /console/{org}/stacks/{project}/{name}/tags", c.authed(c.stackTag))
	m.HandleFunc("POST /console/{org}/stacks/{project}/{name}/delete", c.authed(c.deleteStack))

	m.HandleFunc("GET /console/{org}/environments", c.authed(c.environments))
	m.HandleFunc("GET /console/{org}/environments/{project}/{name}", c.authed(c.environment))
	m.HandleFunc("GET /console/{org}/environments/{project}/{name}/access", c.authed(c.environment))
	m.HandleFunc("POST /console/{org}/environments/{project}/{name}/tags", c.authed(c.environmentTag))
	m.HandleFunc("POST /console/{org}/environments/{project}/{name}/delete", c.authed(c.deleteEnvironment))

	m.HandleFunc("GET /console/{org}/accounts", c.authed(c.accounts))
	m.HandleFunc("GET /console/{org}/accounts/{name}", c.authed(c.account))
	m.HandleFunc("GET /console/{org}/accounts/{name}/access", c.authed(c.account))
	m.HandleFunc("POST /console/{org}/accounts/{name}/tags", c.authed(c.accountTag))
	m.HandleFunc("POST /console/{org}/accounts/{name}/delete", c.authed(c.deleteAccount))
}

// entityPage is what the page of a stack, an environment or an account
// shows in common.
type entityPage struct {
	Type string // stack, environment, insights-account
	Name string // project/name, or the account's name
	Base string // the page's URL
	// Access is the tab's list, when the tab is open and the user may see
	// it; AccessError says why not, when not.
	AccessTab   bool
	Access      []wire.EntityAccess
	AccessError string
	// TypeScopes is how many scopes apply to the entity's type: a grant of
	// them all is shown as such.
	TypeScopes int
	Tags       []gatehouse.Tag
}

// openEntity prepares an entity's page once the API has let the user
// read it: the entity from the authorizer's snapshot (its controls are
// decided on it), and, on the Access tab, who holds what there.
func (q *req) openEntity(p *entityPage, t gatehouse.EntityType, tags map[string]string) {
	if org := q.organization(); org != nil {
		q.entity, _ = q.c.az.Entity(q.r.Context(), org.ID, t, p.Name)
	}
	p.Tags = sortedTags(tags)
	base, _ := url.PathUnescape(p.Base)
	p.AccessTab = q.r.URL.Path == base+"/access"
	if !p.AccessTab {
		return
	}
	v := url.Values{"entityType": {p.Type}, "entity": {p.Name}}
	var out wire.EntityAccessResponse
	if err := q.call("GET", "/api/orgs/"+url.PathEscape(q.org)+"/access/entity?"+v.Encode(), nil, &out); err != nil {
		p.AccessError = err.Error()
		return
	}
	p.Access = out.Principals
	if q.entity != nil {
		// A rule naming this entity names it by id: show its name.
		id, name := strconv.Quote(q.entity.ID), strconv.Quote(p.Name)
		for _, a := range p.Access {
			for _, g := range a.Grants {
				for i, h := range g.Holds {
					g.Holds[i] = strings.ReplaceAll(h, id, name)
				}
			}
		}
		for _, i := range catalog.All() {
			if i.AppliesTo(q.entity.Type) {
				p.TypeScopes++
			}
		}
	}
}

func sortedTags(tags map[string]string) []gatehouse.Tag {
	out := make([]gatehouse.Tag, 0, len(tags))
	for k, v := range tags {
		out = append(out, gatehouse.Tag{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// notFoundOr shows a 4xx from the API: a 404 as the not-found page,
// another on the page that show renders.
func (q *req) notFoundOr(err error, show func(msg string) error) error {
	return q.fail(err, func(msg string) error {
		if e, ok := err.(*apiError); ok && e.Code == http.StatusNotFound {
			return q.missing(msg)
		}
		return show(msg)
	})
}

// tagForm is a tag form's fields: add name=value, or remove name.
type tagForm struct {
	Remove      bool
	Name, Value string
}

func (q *req) tagForm() tagForm {
	f := q.r.PostForm
	return tagForm{Remove: f.Get("action") == "remove", Name: f.Get("name"), Value: f.Get("value")}
}

// entityScopes are the scopes of an entity page's controls, by entity
// type: tag (add or change a tag), untag, delete.
var entityScopes = map[string]map[string]string{
	"stack":            {"tag": "stack_tags:update", "untag": "stack_tags:update", "delete": "stack:delete"},
	"environment":      {"tag": "environment_tag:create", "untag": "environment_tag:delete", "delete": "environment:delete"},
	"insights-account": {"tag": "insights_account:update", "untag": "insights_account:update", "delete": "insights_account:delete"},
}

// BuiltIn reports whether a tag is the stack's built-in project tag,
// which follows the stack's project and cannot be removed.
func (p entityPage) BuiltIn(key string) bool { return p.Type == "stack" && key == service.ProjectTag }

// Noun is the entity's type in a sentence: stack, environment, Insights
// account.
func (p entityPage) Noun() string {
	if p.Type == "insights-account" {
		return "Insights account"
	}
	return p.Type
}

// Scope is the scope the page's control for action needs.
func (p entityPage) Scope(action string) string { return entityScopes[p.Type][action] }
