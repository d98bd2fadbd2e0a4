package web

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/gatehouse-iam/gatehouse/api/wire"
)

type membersData struct {
	Members []wire.Member
	Roles   []wire.Role
	Invites []wire.Invite
}

func (c *Console) members(q *req) error { return c.membersPage(q, http.StatusOK, "") }

func (c *Console) membersPage(q *req, status int, errMsg string) error {
	var d membersData
	var out wire.ListMembersResponse
	if err := q.call("GET", "/api/orgs/"+url.PathEscape(q.org)+"/members", nil, &out); err != nil {
		return q.fail(err, func(msg string) error {
			return q.render(http.StatusForbidden, "members", "Members", "members", d, msg, "")
		})
	}
	d.Members = out.Members
	d.Roles, _ = q.descriptors("role")
	var inv wire.ListInvitesResponse
	if q.may("invites:read") && q.call("GET", "/api/orgs/"+url.PathEscape(q.org)+"/invites", nil, &inv) == nil {
		d.Invites = inv.Invites
	}
	return q.render(status, "members", "Members", "members", d, errMsg, q.notice())
}

func (c *Console) addMember(q *req) error {
	login := q.r.PostForm.Get("login")
	var out wire.Invite // Status "pending" when the API invited instead of adding
	if err := q.call("POST", "/api/orgs/"+url.PathEscape(q.org)+"/members/"+url.PathEscape(login), wire.AddMemberRequest{Role: "member"}, &out); err != nil {
		return q.fail(err, func(msg string) error { return c.membersPage(q, http.StatusBadRequest, msg) })
	}
	if out.Status == "pending" {
		return q.redirect("/console/"+url.PathEscape(q.org)+"/members", fmt.Sprintf("%s is not a user of this organization: invited; they join when they accept.", login))
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/members", fmt.Sprintf("Added %s.", login))
}

func (c *Console) updateMember(q *req) error {
	login := q.r.PathValue("login")
	var err error
	if q.r.PostForm.Get("action") == "remove" {
		err = q.call("DELETE", "/api/orgs/"+url.PathEscape(q.org)+"/members/"+url.PathEscape(login), nil, nil)
	} else {
		err = q.call("PATCH", "/api/orgs/"+url.PathEscape(q.org)+"/members/"+url.PathEscape(login), wire.UpdateMemberRequest{FGARoleID: q.r.PostForm.Get("role")}, nil)
	}
	if err != nil {
		return q.fail(err, func(msg string) error { return c.membersPage(q, http.StatusBadRequest, msg) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/members", fmt.Sprintf("Updated %s.", login))
}
