package web

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// inviteRoutes are the signed-in user's pending invitations (accept or
// decline) and an organization's invitations on its members page.
func (c *Console) inviteRoutes() {
	c.mux.HandleFunc("GET /console/-/invites", c.authed(c.invites))
	c.mux.HandleFunc("POST /console/-/invites/{id}", c.authed(c.answerInvite))
	c.mux.HandleFunc("POST /console/{org}/invites", c.authed(c.createInvite))
	c.mux.HandleFunc("POST /console/{org}/invites/{id}/revoke", c.authed(c.revokeInvite))
}

func (c *Console) invites(q *req) error { return c.invitesPage(q, http.StatusOK, "") }

func (c *Console) invitesPage(q *req, status int, errMsg string) error {
	var out wire.ListInvitesResponse
	if err := q.call("GET", "/api/user/pending-invites", nil, &out); err != nil {
		return q.fail(err, func(msg string) error {
			return q.render(http.StatusForbidden, "invites", "Invitations", "", nil, msg, "")
		})
	}
	return q.render(status, "invites", "Invitations", "", out.Invites, errMsg, q.notice())
}

func (c *Console) answerInvite(q *req) error {
	action := q.r.PostForm.Get("action")
	if action != "accept" && action != "decline" {
		return c.invitesPage(q, http.StatusBadRequest, "action: choose accept or decline")
	}
	var inv wire.Invite
	if err := q.call("POST", "/api/user/pending-invites/"+url.PathEscape(q.r.PathValue("id"))+"/"+action, nil, &inv); err != nil {
		return q.fail(err, func(msg string) error { return c.invitesPage(q, http.StatusBadRequest, msg) })
	}
	if action == "accept" {
		return q.redirect("/console/"+url.PathEscape(inv.Organization)+"/", fmt.Sprintf("You joined %s as %s.", inv.Organization, inv.RoleName))
	}
	return q.redirect("/console/-/invites", "Declined.")
}

func (c *Console) createInvite(q *req) error {
	body := wire.InviteRequest{UserLogin: q.r.PostForm.Get("login"), RoleID: q.r.PostForm.Get("role")}
	if err := q.call("POST", "/api/orgs/"+url.PathEscape(q.org)+"/invites", body, nil); err != nil {
		return q.fail(err, func(msg string) error { return c.membersPage(q, http.StatusBadRequest, msg) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/members", fmt.Sprintf("Invited %s.", body.UserLogin))
}

func (c *Console) revokeInvite(q *req) error {
	if err := q.call("DELETE", "/api/orgs/"+url.PathEscape(q.org)+"/invites/"+url.PathEscape(q.r.PathValue("id")), nil, nil); err != nil {
		return q.fail(err, func(msg string) error { return c.membersPage(q, http.StatusBadRequest, msg) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/members", "Revoked the invitation.")
}

// pendingFirst sends a user who has invitations waiting to them, with a
// notice, from the console's landing page (where signing in arrives): it
// reports whether it did.
func (c *Console) pendingFirst(q *req) (bool, error) {
	var out wire.ListInvitesResponse
	if err := q.call("GET", "/api/user/pending-invites", nil, &out); err != nil {
		return false, err
	}
	n := 0
	for _, inv := range out.Invites {
		if inv.Status == "pending" {
			n++
		}
	}
	if n == 0 {
		return false, nil
	}
	msg := "You have an invitation to answer."
	if n > 1 {
		msg = fmt.Sprintf("You have %d invitations to answer.", n)
	}
	return true, q.redirect("/console/-/invites", msg)
}
