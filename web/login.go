package web

import (
	"errors"
	"net/http"
	"strings"
)

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
