package api

import (
	"encoding/json"
	"net/url"
	"strconv"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/service"
)

// registerAccounts registers the routes of Insights accounts.
func (s *Server) registerAccounts() {
	const accounts = "/api/preview/insights/{orgName}/accounts"
	s.handle(&route{method: "GET", pattern: accounts, doc: doc{"ListInsightsAccounts", "Insights accounts the caller may read", []string{"continuationToken", "count"}, "", "ListInsightsAccountsResponse"}, scopes: scopes("insights_account:list"), h: s.listAccounts})
	s.handle(&route{method: "POST", pattern: accounts + "/{accountName}", doc: doc{"CreateInsightsAccount", "Create an Insights account; its creator administers it", nil, "CreateInsightsAccountRequest", ""}, scopes: scopes("insights_account:create"), h: s.createAccount})
	acct := func(method, suffix, scope string, d doc, h handler) {
		s.handle(&route{method: method, pattern: accounts + "/{accountName}" + suffix, doc: d, scopes: scopes(scope), entity: accountEntity, h: h})
	}
	acct("GET", "", "insights_account:read", doc{"GetInsightsAccount", "An Insights account", nil, "", "InsightsAccount"}, s.getAccount)
	acct("DELETE", "", "insights_account:delete", doc{"DeleteInsightsAccount", "Delete an Insights account", nil, "", ""}, s.deleteAccount)
	acct("GET", "/tags", "insights_account:read", doc{"GetInsightsAccountTags", "An Insights account's tags", nil, "", "InsightsAccountTags"}, s.getAccountTags)
	acct("PUT", "/tags", "insights_account:update", doc{"SetInsightsAccountTags", "Replace an Insights account's tags", nil, "InsightsAccountTags", ""}, s.setAccountTags)
}

// accountName is the account in the path; the CLI encodes it twice.
func accountName(q *request) string {
	n := q.r.PathValue("accountName")
	if u, err := url.PathUnescape(n); err == nil {
		return u
	}
	return n
}

func accountEntity(q *request) (*gatehouse.Entity, error) {
	name := accountName(q)
	notFound := gatehouse.Errorf(gatehouse.ENOTFOUND, "Insights account %q not found", name)
	e, err := q.srv.az.Entity(q.ctx(), q.org.ID, gatehouse.EntityInsightsAccount, name)
	if err != nil {
		return nil, notFound
	}
	if q.account, err = q.srv.svc.Account(q.ctx(), q.org.ID, name); err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return nil, notFound
		}
		return nil, err
	}
	return e, nil
}

func toAccount(a *gatehouse.Account, loginOf func(id string) string) wire.InsightsAccount {
	var d service.AccountDetails
	json.Unmarshal(a.Details, &d)
	out := wire.InsightsAccount{ID: a.ID, Name: a.Name, Provider: d.Provider, ProviderEnvRef: d.Environment,
		ScheduledScanEnabled: d.ScanSchedule != "" && d.ScanSchedule != "none", AgentPoolID: d.AgentPoolID, ProviderConfig: d.ProviderConfig, Tags: a.Tags}
	if a.CreatedBy != "" {
		out.OwnedBy.GitHubLogin = loginOf(a.CreatedBy)
		out.OwnedBy.Name = out.OwnedBy.GitHubLogin
	}
	return out
}

func (s *Server) listAccounts(q *request) (any, error) {
	opts := gatehouse.ListOptions{Continuation: q.r.URL.Query().Get("continuationToken"), Limit: 100}
	if c := q.r.URL.Query().Get("count"); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 1 || n > gatehouse.MaxListLimit {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "count: %q is not a number from 1 to %d", c, gatehouse.MaxListLimit)
		}
		opts.Limit = n
	}
	as, next, err := s.svc.Accounts(q.ctx(), q.org.ID, func(a *gatehouse.Account) bool {
		ent, err := s.az.EntityByID(q.ctx(), q.org.ID, a.ID)
		return err == nil && s.may(q, "insights_account:read", ent)
	}, opts)
	if err != nil {
		return nil, err
	}
	var creators []string
	for _, a := range as {
		creators = append(creators, a.CreatedBy)
	}
	loginOf := s.loginsOf(q, creators...)
	out := wire.ListInsightsAccountsResponse{Accounts: []wire.InsightsAccount{}, NextToken: q.next(next)}
	for _, a := range as {
		out.Accounts = append(out.Accounts, toAccount(a, loginOf))
	}
	return out, nil
}

func (s *Server) createAccount(q *request) (any, error) {
	var in wire.CreateInsightsAccountRequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	_, err := s.svc.CreateAccount(q.ctx(), q.org.ID, q.id, service.AccountInput{Name: accountName(q), Provider: in.Provider,
		Environment: in.Environment, ScanSchedule: in.ScanSchedule, AgentPoolID: in.AgentPoolID, ProviderConfig: in.ProviderConfig})
	return nil, err
}

func (s *Server) getAccount(q *request) (any, error) {
	return toAccount(q.account, s.loginsOf(q, q.account.CreatedBy)), nil
}

func (s *Server) deleteAccount(q *request) (any, error) {
	return nil, s.svc.DeleteAccount(q.ctx(), q.account)
}

func (s *Server) getAccountTags(q *request) (any, error) {
	tags := q.account.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	return wire.InsightsAccountTags{Tags: tags}, nil
}

func (s *Server) setAccountTags(q *request) (any, error) {
	var in wire.InsightsAccountTags
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	if in.Tags == nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "tags: missing")
	}
	return nil, s.svc.SetAccountTags(q.ctx(), q.account, in.Tags)
}
