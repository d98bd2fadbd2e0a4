package web

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
)

func (c *Console) accounts(q *req) error {
	var out wire.ListInsightsAccountsResponse
	if err := q.call("GET", "/api/preview/insights/"+url.PathEscape(q.org)+"/accounts", nil, &out); err != nil {
		return q.notFoundOr(err, func(msg string) error {
			return q.render(http.StatusForbidden, "accounts", "Insights accounts", "accounts", nil, msg, "")
		})
	}
	for i := range out.Accounts {
		out.Accounts[i].ProviderConfig = nil // not shown
	}
	return q.render(http.StatusOK, "accounts", "Insights accounts", "accounts", out.Accounts, "", q.notice())
}

type accountData struct {
	entityPage
	Account wire.InsightsAccount
}

func (q *req) accountAPI() string {
	// The API takes the name encoded twice, as the pulumi CLI sends it.
	return "/api/preview/insights/" + url.PathEscape(q.org) + "/accounts/" + url.PathEscape(url.PathEscape(q.r.PathValue("name")))
}

func (q *req) accountPath() string {
	return "/console/" + url.PathEscape(q.org) + "/accounts/" + url.PathEscape(q.r.PathValue("name"))
}

func (c *Console) account(q *req) error { return c.accountPage(q, http.StatusOK, "") }

// accountPage shows an Insights account with its tags, or its Access tab.
func (c *Console) accountPage(q *req, status int, errMsg string) error {
	d := accountData{entityPage: entityPage{Type: "insights-account", Name: q.r.PathValue("name"), Base: q.accountPath()}}
	if err := q.call("GET", q.accountAPI(), nil, &d.Account); err != nil {
		return q.notFoundOr(err, func(msg string) error {
			return q.render(http.StatusForbidden, "account", d.Name, "accounts", d, msg, "")
		})
	}
	var tags wire.InsightsAccountTags
	if err := q.call("GET", q.accountAPI()+"/tags", nil, &tags); err != nil {
		return q.fail(err, func(msg string) error {
			return q.render(http.StatusForbidden, "account", d.Name, "accounts", d, msg, "")
		})
	}
	q.openEntity(&d.entityPage, gatehouse.EntityInsightsAccount, tags.Tags)
	return q.render(status, "account", d.Name, "accounts", d, errMsg, q.notice())
}

// accountTag sets or removes one tag: the API replaces an account's tags
// whole, so the form's change is applied to the tags as read.
func (c *Console) accountTag(q *req) error {
	f := q.tagForm()
	var tags wire.InsightsAccountTags
	err := q.call("GET", q.accountAPI()+"/tags", nil, &tags)
	if err == nil {
		if tags.Tags == nil {
			tags.Tags = map[string]string{}
		}
		if f.Remove {
			delete(tags.Tags, f.Name)
		} else {
			tags.Tags[f.Name] = f.Value
		}
		err = q.call("PUT", q.accountAPI()+"/tags", tags, nil)
	}
	if err != nil {
		return q.fail(err, func(msg string) error { return c.accountPage(q, errStatus(err), msg) })
	}
	return q.redirect(q.accountPath(), tagNotice(f))
}

func (c *Console) deleteAccount(q *req) error {
	if err := q.call("DELETE", q.accountAPI(), nil, nil); err != nil {
		return q.fail(err, func(msg string) error { return c.accountPage(q, errStatus(err), msg) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/accounts", fmt.Sprintf("Deleted Insights account %s.", q.r.PathValue("name")))
}
