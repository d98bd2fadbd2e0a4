package web

import (
	"net/http"
	"strings"
)

// notFound answers a URL under /console that no page has: a 404 page
// with the console's navigation for a signed-in user (the organization's
// when the path names one of theirs), the sign-in link otherwise.
func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	s := c.session(r)
	if s == nil {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		c.tmpl.ExecuteTemplate(w, "notfound-public", nil)
		return
	}
	q := &req{c: c, w: w, r: r, sess: s}
	q.org, _, _ = strings.Cut(strings.TrimPrefix(r.URL.Path, "/console/"), "/")
	if err := q.notFoundPage("Page not found", notFoundData{Path: r.URL.Path}); err != nil {
		c.log.Error("console page", "path", r.URL.Path, "err", err.Error())
	}
}

type notFoundData struct {
	Path string // the URL no page has
	Why  string // the API's word on what is not there
}

// missing shows the 404 page for a thing the API says is not there (or
// that the user may not read: the API tells them apart for no one).
func (q *req) missing(msg string) error {
	return q.notFoundPage("Not found", notFoundData{Path: q.r.URL.Path, Why: msg})
}

// notFoundPage renders the 404 page, with the navigation of the request's
// organization only when the user is its member.
func (q *req) notFoundPage(title string, d notFoundData) error {
	if q.organization() == nil {
		q.org = ""
	}
	return q.render(http.StatusNotFound, "notfound", title, "", d, "", "")
}
