package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/service"
)

// profileRoutes are the signed-in user's own page: their personal tokens
// (through the API's routes, as every console action) and their console
// sessions.
func (c *Console) profileRoutes() {
	c.mux.HandleFunc("GET /console/-/profile", c.authed(c.profile))
	c.mux.HandleFunc("POST /console/-/profile/tokens", c.authed(c.createProfileToken))
	c.mux.HandleFunc("POST /console/-/profile/tokens/{id}/revoke", c.authed(c.revokeProfileToken))
	c.mux.HandleFunc("POST /console/-/profile/sessions/{id}/revoke", c.authed(c.revokeSession))
	c.mux.HandleFunc("POST /console/-/profile/sessions/revoke-all", c.authed(c.signOutEverywhere))
}

// sessionRow is one console session as the page shows it.
type sessionRow struct {
	ID               string
	Created, Expires time.Time
	LastSeen         time.Time // zero: not since it opened
	Current          bool
}

type profileData struct {
	Tokens   []wire.AccessToken
	Sessions []sessionRow
	Created  string // a new token's value, shown once
}

func (c *Console) profile(q *req) error { return c.profilePage(q, http.StatusOK, "", "") }

func (c *Console) profilePage(q *req, status int, created, errMsg string) error {
	d := profileData{Created: created}
	var list wire.ListTokensResponse
	if err := q.call("GET", "/api/user/tokens", nil, &list); err != nil {
		return err
	}
	d.Tokens = list.Tokens
	ss, err := c.svc.Sessions().List(q.r.Context(), q.sess.id.User.ID)
	if err != nil {
		return err
	}
	current := service.SessionID(q.sess.rec)
	for _, s := range ss {
		id := service.SessionID(s)
		d.Sessions = append(d.Sessions, sessionRow{ID: id, Created: s.Created, Expires: s.Expires, LastSeen: s.LastSeen, Current: id == current})
	}
	return q.render(status, "profile", "Your tokens and sessions", "", d, errMsg, q.notice())
}

func (c *Console) createProfileToken(q *req) error {
	f := q.r.PostForm
	exp, err := expiryOf(f.Get("expires"), c.svc.Now())
	if err != nil {
		return c.profilePage(q, http.StatusBadRequest, "", err.Error())
	}
	var out wire.CreateTokenResponse
	if err := q.call("POST", "/api/user/tokens", wire.CreatePersonalTokenRequest{Description: f.Get("description"), Expires: exp}, &out); err != nil {
		return q.fail(err, func(msg string) error { return c.profilePage(q, http.StatusBadRequest, "", msg) })
	}
	return c.profilePage(q, http.StatusOK, out.TokenValue, "")
}

func (c *Console) revokeProfileToken(q *req) error {
	id := q.r.PathValue("id")
	if err := q.call("DELETE", "/api/user/tokens/"+url.PathEscape(id), nil, nil); err != nil {
		return q.fail(err, func(msg string) error { return c.profilePage(q, http.StatusBadRequest, "", msg) })
	}
	if id == q.sess.id.Token.ID {
		// The session's own token: its sessions are over.
		return c.signedOut(q)
	}
	return q.redirect("/console/-/profile", "Token revoked.")
}

func (c *Console) revokeSession(q *req) error {
	id := q.r.PathValue("id")
	if err := c.svc.Sessions().Revoke(q.r.Context(), q.sess.id.User.ID, id); err != nil {
		return q.fail(asAPIError(err), func(msg string) error { return c.profilePage(q, http.StatusNotFound, "", msg) })
	}
	if id == service.SessionID(q.sess.rec) {
		return c.signedOut(q)
	}
	return q.redirect("/console/-/profile", "Session ended.")
}

func (c *Console) signOutEverywhere(q *req) error {
	n, err := c.svc.Sessions().EndAll(q.r.Context(), q.sess.id.User.ID)
	if err != nil {
		return err
	}
	c.log.Info("console sign-out everywhere", "user", q.sess.id.User.Login, "sessions", n, "remote", c.api.ClientIP(q.r))
	return c.signedOut(q)
}

// signedOut clears the cookie of a session that has ended and sends the
// browser to the sign-in page.
func (c *Console) signedOut(q *req) error {
	if err := c.signOut(q.w, q.r); err != nil {
		return err
	}
	http.Redirect(q.w, q.r, "/console/login?signedout=1", http.StatusSeeOther)
	return nil
}

// asAPIError shows a service's not-found as the API would; anything else
// stays an internal error.
func asAPIError(err error) error {
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return &apiError{Code: http.StatusNotFound, Message: gatehouse.ErrorMessage(err)}
	}
	return err
}
