package web

import (
	"net/http"
	"net/url"

	"github.com/gatehouse-iam/gatehouse/api/wire"
)

func (c *Console) home(q *req) error {
	if sent, err := c.pendingFirst(q); sent || err != nil {
		return err
	}
	var d wire.DefaultOrganization
	if err := q.call("GET", "/api/user/organizations/default", nil, &d); err != nil {
		return err
	}
	if d.GitHubLogin == "" {
		return q.render(http.StatusOK, "overview", "Gatehouse", "", nil, "You belong to no organization yet.", "")
	}
	return q.redirect("/console/"+url.PathEscape(d.GitHubLogin)+"/", "")
}

func (c *Console) overview(q *req) error {
	type section struct{ Path, Name, What, Scope string }
	var out []section
	for _, s := range []section{
		{"stacks", "Stacks", "Stacks, their updates, outputs, tags and who may use them", ""},
		{"environments", "Environments", "Environments (ESC), their versions, tags and access", "environment:list"},
		{"accounts", "Insights accounts", "Insights accounts, their tags and access", "insights_account:list"},
		{"permissions", "Permissions", "Permission sets: named scopes for one entity type", "role:read"},
		{"roles", "Roles", "Roles: organization-wide sets plus rules on stacks, environments and accounts", "role:read"},
		{"tokens", "Access tokens", "Organization, team and personal tokens", ""},
		{"teams", "Teams", "Teams, their members, roles and tokens", "team:list"},
		{"members", "Members", "Members and their roles", "org_member:read"},
		{"oidc", "OIDC", "Trusted issuers and their policies for CI/CD", "oidc_issuers:read"},
		{"audit", "Audit log", "Every change, denial and failed sign-in", "audit_logs:read"},
		{"access", "Access explorer", "Who can do what, and why", "org_member_access:read"},
	} {
		if s.Scope == "" || q.may(s.Scope) {
			out = append(out, s)
		}
	}
	return q.render(http.StatusOK, "overview", "Overview", "", out, "", q.notice())
}
