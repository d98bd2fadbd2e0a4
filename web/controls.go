package web

import (
	"fmt"
	"html/template"
	"slices"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

// The console acts as its user: a control for an action the user may not
// take is disabled (or, for a link, shown as text) with the missing scope
// as its tooltip. Templates ask through the page ($.Can, $.Lacks,
// $.Link); each answer is one authz.Authorize, as the API's route decides
// when the action is taken (and the API decides again then).

// may reports whether the session's user holds scope in the organization:
// on the page's entity when the scope applies to its type, else on the
// organization.
func (q *req) may(scope string) bool {
	sc, ok := catalog.Lookup(scope)
	if !ok {
		return false
	}
	org := q.organization()
	if org == nil {
		return false
	}
	e := &gatehouse.Entity{Type: gatehouse.EntityGlobal, ID: org.ID}
	if q.entity != nil && slices.Contains(sc.Info().Types, q.entity.Type) {
		e = q.entity
	} else if !slices.Contains(sc.Info().Types, gatehouse.EntityGlobal) {
		return false // an entity's scope, and the page shows no such entity
	}
	d, err := q.c.az.Authorize(q.r.Context(), q.sess.id, org.ID, sc, e)
	return err == nil && d.Allowed
}

// organization is the organization in the path when the user is its
// member, nil otherwise; it is looked up once per request.
func (q *req) organization() *gatehouse.Organization {
	if q.orgRec == nil && q.org != "" {
		if o, err := q.c.az.Org(q.r.Context(), q.org); err == nil && q.c.az.Member(q.r.Context(), q.sess.id, o.ID) {
			q.orgRec = o
		}
	}
	return q.orgRec
}

// Can reports whether the user may use every one of scopes here (to hide
// a control).
func (p page) Can(scopes ...string) bool { return p.missing(scopes) == "" }

// missing is the first of scopes the user lacks here, "" when none.
func (p page) missing(scopes []string) string {
	for _, s := range scopes {
		if p.q == nil || !p.q.may(s) {
			return s
		}
	}
	return ""
}

// Lacks returns the attributes that disable a control (a button, or a
// fieldset of a form) whose action needs scopes, when the user lacks one:
// disabled, with the missing scope as the tooltip. Nothing when the user
// holds them all.
func (p page) Lacks(scopes ...string) template.HTMLAttr {
	s := p.missing(scopes)
	if s == "" {
		return ""
	}
	return template.HTMLAttr(fmt.Sprintf(`disabled title="%s"`, template.HTMLEscapeString(lacksTitle(s))))
}

// Link is a button-styled link to href that needs scope: the link when
// the user holds it, else its text, marked disabled, with the scope as the
// tooltip.
func (p page) Link(scope, href, text string) template.HTML {
	if p.Can(scope) {
		return template.HTML(fmt.Sprintf(`<a class="button" href="%s">%s</a>`, template.HTMLEscapeString(href), template.HTMLEscapeString(text)))
	}
	return template.HTML(fmt.Sprintf(`<span class="button disabled" role="link" aria-disabled="true" title="%s">%s</span>`,
		template.HTMLEscapeString(lacksTitle(scope)), template.HTMLEscapeString(text)))
}

func lacksTitle(scope string) string {
	return "Needs the " + scope + " scope, which your roles do not grant here"
}
