package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gatehouse-iam/gatehouse/api/wire"
)

type tokensData struct {
	Org, Personal []wire.AccessToken
	OrgErr        string
	Roles         []wire.Role
	Created       string // a new token's value, shown once
	CreatedName   string
}

func (c *Console) tokensPage(q *req, status int, created, createdName, errMsg string) error {
	d := tokensData{Created: created, CreatedName: createdName}
	var list wire.ListTokensResponse
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
func expiryOf(v string, now time.Time) (int64, error) {
	if v == "" || v == "never" {
		return 0, nil
	}
	days, err := strconv.Atoi(v)
	if err != nil || days < 1 || days > 730 {
		return 0, fmt.Errorf("expires: %q is not a number of days from 1 to 730", v)
	}
	return now.Add(time.Duration(days) * 24 * time.Hour).Unix(), nil
}

func (c *Console) createToken(q *req) error {
	f := q.r.PostForm
	exp, err := expiryOf(f.Get("expires"), c.svc.Now())
	if err != nil {
		return c.tokensPage(q, http.StatusBadRequest, "", "", err.Error())
	}
	var out wire.CreateTokenResponse
	switch f.Get("kind") {
	case "personal":
		err = q.call("POST", "/api/user/tokens", wire.CreatePersonalTokenRequest{Description: f.Get("description"), Expires: exp}, &out)
	case "team":
		err = q.call("POST", "/api/orgs/"+url.PathEscape(q.org)+"/teams/"+url.PathEscape(f.Get("team"))+"/tokens",
			wire.CreateTokenRequest{Name: f.Get("name"), Description: f.Get("description"), Expires: exp}, &out)
	default:
		err = q.call("POST", "/api/orgs/"+url.PathEscape(q.org)+"/tokens",
			wire.CreateTokenRequest{Name: f.Get("name"), Description: f.Get("description"), Expires: exp, RoleID: f.Get("role")}, &out)
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
