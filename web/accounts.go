package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

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

// accountTag sets or removes one tag. The API's own account route
// replaces the tags whole (PUT), so a change applied to tags read before
// would undo a change made in between; the tag batch route applies this
// one change to the tags as they are in its transaction, under the
// organization's lock, deciding insights_account:update as the PUT does.
func (c *Console) accountTag(q *req) error {
	f := q.tagForm()
	change := wire.TagBatchChange{Entity: wire.BatchEntity{Type: "insights-account", Name: q.r.PathValue("name")}}
	if f.Remove {
		change.Remove = []string{f.Name}
	} else {
		change.Set = map[string]string{f.Name: f.Value}
	}
	err := q.call("POST", "/api/orgs/"+url.PathEscape(q.org)+"/tags/batch", wire.TagBatchRequest{Changes: []wire.TagBatchChange{change}}, nil)
	if err != nil {
		if e, ok := err.(*apiError); ok {
			e.Message = oneChange(e.Message)
		}
		return q.fail(err, func(msg string) error { return c.accountPage(q, errStatus(err), msg) })
	}
	return q.redirect(q.accountPath(), tagNotice(f))
}

// oneChange words a tag batch error about its only change for the page
// it was made on: without the change's index and entity, and the tag
// fields as "tags", as the account's own route names them.
func oneChange(msg string) string {
	rest, ok := strings.CutPrefix(msg, "changes[0]")
	if !ok {
		return msg
	}
	switch {
	case strings.HasPrefix(rest, " ("): // " (insights-account aws): ..."
		if _, m, ok := strings.Cut(rest, "): "); ok {
			return m
		}
	case strings.HasPrefix(rest, ".entity: "): // `insights-account "aws": ...` or `... not found`
		m := strings.TrimPrefix(rest, ".entity: ")
		if _, after, ok := strings.Cut(m, `": `); ok {
			return after
		}
		return m
	case strings.HasPrefix(rest, ".set: "):
		return "tags: " + strings.TrimPrefix(rest, ".set: ")
	case strings.HasPrefix(rest, ".remove["):
		if _, m, ok := strings.Cut(rest, "]: "); ok {
			return "tags: " + m
		}
	}
	return msg
}

func (c *Console) deleteAccount(q *req) error {
	if err := q.call("DELETE", q.accountAPI(), nil, nil); err != nil {
		return q.fail(err, func(msg string) error { return c.accountPage(q, errStatus(err), msg) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/accounts", fmt.Sprintf("Deleted Insights account %s.", q.r.PathValue("name")))
}
