package api

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/service"
	"github.com/gatehouse-iam/gatehouse/state"
)

const envPath = "/api/esc/environments/{orgName}/{projectName}/{envName}"

// Wire types of environments (Pulumi ESC) and Insights accounts, mirrored
// from github.com/pulumi/esc and apitype as the stack types are.

type envSummaryJSON struct {
	Organization string            `json:"organization"`
	Project      string            `json:"project"`
	Name         string            `json:"name"`
	Created      string            `json:"created,omitempty"`
	Modified     string            `json:"modified,omitempty"`
	Tags         map[string]string `json:"tags,omitempty"`
}

type listEnvironmentsResponse struct {
	Environments []envSummaryJSON `json:"environments"`
	NextToken    string           `json:"nextToken,omitempty"`
}

type createEnvironmentRequest struct {
	Project string `json:"project"`
	Name    string `json:"name"`
}

type envTagJSON struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	Created  string `json:"created,omitempty"`
	Modified string `json:"modified,omitempty"`
}

type updateEnvTagRequest struct {
	// Both required: null or absent is a 400, not an empty tag.
	CurrentTag *struct {
		Value string `json:"value"`
	} `json:"currentTag"`
	NewTag *struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"newTag"`
}

type envRevisionJSON struct {
	Number       int    `json:"number"`
	Created      string `json:"created"`
	CreatorLogin string `json:"creatorLogin,omitempty"`
}

type insightsAccountJSON struct {
	ID                   string            `json:"id"`
	Name                 string            `json:"name"`
	Provider             string            `json:"provider"`
	ProviderEnvRef       string            `json:"providerEnvRef,omitempty"`
	ScheduledScanEnabled bool              `json:"scheduledScanEnabled"`
	AgentPoolID          string            `json:"agentPoolID,omitempty"`
	ProviderConfig       json.RawMessage   `json:"providerConfig,omitempty"`
	OwnedBy              accountOwnerJSON  `json:"ownedBy"`
	Tags                 map[string]string `json:"tags,omitempty"`
}

type accountOwnerJSON struct {
	Name        string `json:"name"`
	GitHubLogin string `json:"githubLogin"`
	AvatarURL   string `json:"avatarUrl"`
}

type createInsightsAccountRequest struct {
	Provider       string          `json:"provider"`
	Environment    string          `json:"environment"`
	ScanSchedule   string          `json:"scanSchedule,omitempty"`
	AgentPoolID    string          `json:"agentPoolID,omitempty"`
	ProviderConfig json.RawMessage `json:"providerConfig,omitempty"`
}

type accountTagsJSON struct {
	Tags map[string]string `json:"tags"`
}

func (s *Server) registerEnvironments() {
	s.handle(&route{method: "GET", pattern: "/api/esc/environments/{orgName}", scopes: scopes("environment:list"), h: s.listEnvironments})
	s.handle(&route{method: "POST", pattern: "/api/esc/environments/{orgName}", scopes: scopes("environment:create"), h: s.createEnvironment})
	s.handle(&route{method: "GET", pattern: "/api/esc/environments/{orgName}/tags", scopes: scopes("environment_tags:list"), h: s.orgEnvironmentTags})
	s.handle(&route{method: "POST", pattern: envPath, scopes: scopes("environment:create"), noBody: true, h: s.createEnvironment})
	env := func(method, suffix, scope string, h handler) {
		s.handle(&route{method: method, pattern: envPath + suffix, scopes: scopes(scope), entity: envEntity, h: h})
	}
	env("GET", "", "environment:read", s.getDefinition)
	s.handle(&route{method: "PATCH", pattern: envPath, scopes: scopes("environment:write"), entity: envEntity, maxBytes: state.MaxDefinition, h: s.updateDefinition})
	env("DELETE", "", "environment:delete", s.deleteEnvironment)
	s.handle(&route{method: "POST", pattern: envPath + "/open", scopes: scopes("environment:open"), entity: envEntity, noBody: true, h: s.openEnvironment})
	env("GET", "/open/{openSessionID}", "environment:open", s.readOpenEnvironment)
	env("GET", "/versions", "environment_version:read", s.listEnvironmentVersions)
	env("GET", "/versions/{version}", "environment_version:read", s.getDefinition)
	env("GET", "/tags", "environment_tag:read", s.listEnvironmentTags)
	env("POST", "/tags", "environment_tag:create", s.createEnvironmentTag)
	env("GET", "/tags/{tagName}", "environment_tag:read", s.getEnvironmentTag)
	env("PATCH", "/tags/{tagName}", "environment_tag:update", s.updateEnvironmentTag)
	env("DELETE", "/tags/{tagName}", "environment_tag:delete", s.deleteEnvironmentTag)

	const accounts = "/api/preview/insights/{orgName}/accounts"
	s.handle(&route{method: "GET", pattern: accounts, scopes: scopes("insights_account:list"), h: s.listAccounts})
	s.handle(&route{method: "POST", pattern: accounts + "/{accountName}", scopes: scopes("insights_account:create"), h: s.createAccount})
	acct := func(method, suffix, scope string, h handler) {
		s.handle(&route{method: method, pattern: accounts + "/{accountName}" + suffix, scopes: scopes(scope), entity: accountEntity, h: h})
	}
	acct("GET", "", "insights_account:read", s.getAccount)
	acct("DELETE", "", "insights_account:delete", s.deleteAccount)
	acct("GET", "/tags", "insights_account:read", s.getAccountTags)
	acct("PUT", "/tags", "insights_account:update", s.setAccountTags)
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// envEntity resolves the environment in the path from the snapshot and
// loads its record.
func envEntity(q *request) (*gatehouse.Entity, error) {
	project, name := q.r.PathValue("projectName"), q.r.PathValue("envName")
	notFound := gatehouse.Errorf(gatehouse.ENOTFOUND, "environment '%s/%s' not found", project, name)
	e, err := q.srv.az.Entity(q.ctx(), q.org.ID, gatehouse.EntityEnvironment, project+"/"+name)
	if err != nil {
		return nil, notFound
	}
	if q.env, err = q.srv.svc.Environment(q.ctx(), q.org.ID, project, name); err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return nil, notFound
		}
		return nil, err
	}
	return e, nil
}

func (s *Server) may(q *request, scope string, e *gatehouse.Entity) bool {
	ok, _ := s.az.Decide(q.ctx(), q.id, q.org.ID, catalog.MustLookup(scope), e)
	return ok
}

// readableEnv is the filter of environment lists: those the caller may
// read.
func (s *Server) readableEnv(q *request) func(*gatehouse.Environment) bool {
	return func(e *gatehouse.Environment) bool {
		ent, err := s.az.EntityByID(q.ctx(), q.org.ID, e.ID)
		return err == nil && s.may(q, "environment:read", ent)
	}
}

func (s *Server) listEnvironments(q *request) (any, error) {
	opts, err := q.listOptions()
	if err != nil {
		return nil, err
	}
	opts.Continuation = q.r.URL.Query().Get("continuationToken")
	if opts.Limit == 0 {
		opts.Limit = gatehouse.MaxListLimit
	}
	envs, next, err := s.svc.Environments(q.ctx(), q.org.ID, s.readableEnv(q), opts)
	if err != nil {
		return nil, err
	}
	out := listEnvironmentsResponse{Environments: []envSummaryJSON{}, NextToken: q.next(next)}
	for _, e := range envs {
		out.Environments = append(out.Environments, envSummaryJSON{Organization: q.org.Name, Project: e.Project, Name: e.Name,
			Created: rfc3339(e.Created), Modified: rfc3339(e.Modified), Tags: e.Tags})
	}
	return out, nil
}

func (s *Server) createEnvironment(q *request) (any, error) {
	in := createEnvironmentRequest{Project: q.r.PathValue("projectName"), Name: q.r.PathValue("envName")}
	// The path names the environment, or the body does (serve refuses a
	// body on the path's form, which is declared noBody).
	if in.Name == "" {
		if err := q.decode(&in); err != nil {
			return nil, err
		}
	}
	e, err := s.svc.CreateEnvironment(q.ctx(), q.org.ID, q.id, in.Project, in.Name)
	if err != nil {
		return nil, err
	}
	return envSummaryJSON{Organization: q.org.Name, Project: e.Project, Name: e.Name, Created: rfc3339(e.Created), Modified: rfc3339(e.Modified)}, nil
}

// getDefinition serves a version's YAML (the current one by default) with
// its version as the ETag. showSecrets=true reveals the secrets to a caller
// who may open the environment.
func (s *Server) getDefinition(q *request) (any, error) {
	version, err := versionParam(q, "version")
	if err != nil {
		return nil, err
	}
	reveal, err := q.boolParam("showSecrets")
	if err != nil {
		return nil, err
	}
	if reveal {
		if err := s.require(q, catalog.MustLookup("environment:open")); err != nil {
			return nil, err
		}
	}
	def, v, err := s.svc.Definition(q.ctx(), q.env, version, reveal)
	if err != nil {
		return nil, err
	}
	q.w.Header().Set("ETag", strconv.Itoa(v))
	return rawBody{contentType: "application/x-yaml", data: def}, nil
}

func (s *Server) updateDefinition(q *request) (any, error) {
	def, err := q.readBody()
	if err != nil {
		return nil, err
	}
	expect := -1
	if m := strings.Trim(q.r.Header.Get("If-Match"), `" `); m != "" && m != "*" {
		if expect, err = strconv.Atoi(m); err != nil || expect < 1 {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "If-Match: %q is not an ETag this server gave", m)
		}
	}
	v, err := s.svc.UpdateDefinition(q.ctx(), q.env, def, expect, q.id)
	if err != nil {
		return nil, err
	}
	q.w.Header().Set("ETag", strconv.Itoa(v))
	return map[string]any{}, nil
}

func (s *Server) deleteEnvironment(q *request) (any, error) {
	return nil, s.svc.DeleteEnvironment(q.ctx(), q.env)
}

func (s *Server) openEnvironment(q *request) (any, error) {
	var d time.Duration
	if v := q.r.URL.Query().Get("duration"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil || d <= 0 {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "duration: %q is not a positive duration such as 2h", v)
		}
	}
	// The caller holds environment:open here (the route checked it); how
	// long it may keep the environment open is the largest maxOpenDuration
	// of the grants that give it that.
	limit, ok, err := s.az.OpenLimit(q.ctx(), q.id, q.org.ID, catalog.MustLookup("environment:open"), q.entity)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, gatehouse.Errorf(gatehouse.EFORBIDDEN, "opening environment %s/%s requires the environment:open scope", q.env.Project, q.env.Name)
	}
	id, err := s.svc.OpenEnvironment(q.ctx(), q.env, d, limit)
	if err != nil {
		return nil, err
	}
	return map[string]any{"id": id, "diagnostics": []any{}}, nil
}

func (s *Server) readOpenEnvironment(q *request) (any, error) {
	vals, err := s.svc.OpenedValues(q.ctx(), q.env, q.r.PathValue("openSessionID"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"properties": vals}, nil
}

func (s *Server) listEnvironmentVersions(q *request) (any, error) {
	opts, err := q.listOptions()
	if err != nil {
		return nil, err
	}
	vs, _, err := s.svc.EnvironmentVersions(q.ctx(), q.env, opts)
	if err != nil {
		return nil, err
	}
	out := []envRevisionJSON{}
	for _, v := range vs {
		out = append(out, envRevisionJSON{Number: v.Version, Created: rfc3339(v.Created), CreatorLogin: s.loginOf(q, v.CreatedBy)})
	}
	return out, nil
}

// loginOf names a user by id for display; anything else shows as is.
func (s *Server) loginOf(q *request, id string) string {
	var login string
	s.svc.Store.Read(q.ctx(), func(tx gatehouse.Tx) error {
		u, err := tx.GetUser(q.ctx(), id)
		if err == nil {
			login = u.Login
		}
		return nil
	})
	if login == "" {
		return id
	}
	return login
}

func (s *Server) envTag(q *request, name string) (envTagJSON, error) {
	v, ok := q.env.Tags[name]
	if !ok {
		return envTagJSON{}, gatehouse.Errorf(gatehouse.ENOTFOUND, "tag %q not found", name)
	}
	return envTagJSON{Name: name, Value: v, Modified: rfc3339(q.env.Modified)}, nil
}

func (s *Server) listEnvironmentTags(q *request) (any, error) {
	out := map[string]envTagJSON{}
	for k, v := range q.env.Tags {
		out[k] = envTagJSON{Name: k, Value: v, Modified: rfc3339(q.env.Modified)}
	}
	return map[string]any{"tags": out, "nextToken": ""}, nil
}

func (s *Server) getEnvironmentTag(q *request) (any, error) {
	return s.envTag(q, q.r.PathValue("tagName"))
}

func (s *Server) createEnvironmentTag(q *request) (any, error) {
	var in stackTagJSON
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	if err := s.svc.ChangeEnvironmentTags(q.ctx(), q.env, service.TagUpdate{Add: &[2]string{in.Name, in.Value}}); err != nil {
		return nil, err
	}
	return envTagJSON{Name: in.Name, Value: in.Value}, nil
}

func (s *Server) updateEnvironmentTag(q *request) (any, error) {
	var in updateEnvTagRequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	if in.CurrentTag == nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "currentTag: missing or null; want {\"value\": ...}")
	}
	if in.NewTag == nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "newTag: missing or null; want {\"name\": ..., \"value\": ...}")
	}
	name := q.r.PathValue("tagName")
	cur, err := s.envTag(q, name)
	if err != nil {
		return nil, err
	}
	if cur.Value != in.CurrentTag.Value {
		return nil, gatehouse.Errorf(gatehouse.ECONFLICT, "currentTag: the tag %q is %q now, not %q", name, cur.Value, in.CurrentTag.Value)
	}
	newName := in.NewTag.Name
	if newName == "" {
		newName = name
	}
	tags := map[string]string{}
	for k, v := range q.env.Tags {
		tags[k] = v
	}
	delete(tags, name)
	tags[newName] = in.NewTag.Value
	if err := s.svc.ChangeEnvironmentTags(q.ctx(), q.env, service.TagUpdate{Replace: tags}); err != nil {
		return nil, err
	}
	return envTagJSON{Name: newName, Value: in.NewTag.Value}, nil
}

func (s *Server) deleteEnvironmentTag(q *request) (any, error) {
	return nil, s.svc.ChangeEnvironmentTags(q.ctx(), q.env, service.TagUpdate{Delete: q.r.PathValue("tagName")})
}

// orgEnvironmentTags lists every tag name with its values across the
// environments the caller may read.
func (s *Server) orgEnvironmentTags(q *request) (any, error) {
	out := map[string][]string{}
	seen := map[string]bool{}
	opts := gatehouse.ListOptions{Limit: gatehouse.MaxListLimit}
	for {
		envs, next, err := s.svc.Environments(q.ctx(), q.org.ID, s.readableEnv(q), opts)
		if err != nil {
			return nil, err
		}
		for _, e := range envs {
			for k, v := range e.Tags {
				if !seen[k+"\x00"+v] {
					seen[k+"\x00"+v] = true
					out[k] = append(out[k], v)
				}
			}
		}
		if next == "" {
			return out, nil
		}
		opts.Continuation = next
	}
}

// --- Insights accounts

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

func (s *Server) toAccount(q *request, a *gatehouse.Account) insightsAccountJSON {
	var d service.AccountDetails
	json.Unmarshal(a.Details, &d)
	out := insightsAccountJSON{ID: a.ID, Name: a.Name, Provider: d.Provider, ProviderEnvRef: d.Environment,
		ScheduledScanEnabled: d.ScanSchedule != "" && d.ScanSchedule != "none", AgentPoolID: d.AgentPoolID, ProviderConfig: d.ProviderConfig, Tags: a.Tags}
	if a.CreatedBy != "" {
		out.OwnedBy.GitHubLogin = s.loginOf(q, a.CreatedBy)
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
	out := struct {
		Accounts  []insightsAccountJSON `json:"accounts"`
		NextToken string                `json:"nextToken,omitempty"`
	}{Accounts: []insightsAccountJSON{}, NextToken: q.next(next)}
	for _, a := range as {
		out.Accounts = append(out.Accounts, s.toAccount(q, a))
	}
	return out, nil
}

func (s *Server) createAccount(q *request) (any, error) {
	var in createInsightsAccountRequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	_, err := s.svc.CreateAccount(q.ctx(), q.org.ID, q.id, service.AccountInput{Name: accountName(q), Provider: in.Provider,
		Environment: in.Environment, ScanSchedule: in.ScanSchedule, AgentPoolID: in.AgentPoolID, ProviderConfig: in.ProviderConfig})
	return nil, err
}

func (s *Server) getAccount(q *request) (any, error) { return s.toAccount(q, q.account), nil }

func (s *Server) deleteAccount(q *request) (any, error) {
	return nil, s.svc.DeleteAccount(q.ctx(), q.account)
}

func (s *Server) getAccountTags(q *request) (any, error) {
	tags := q.account.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	return accountTagsJSON{Tags: tags}, nil
}

func (s *Server) setAccountTags(q *request) (any, error) {
	var in accountTagsJSON
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	if in.Tags == nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "tags: missing")
	}
	return nil, s.svc.SetAccountTags(q.ctx(), q.account, in.Tags)
}
