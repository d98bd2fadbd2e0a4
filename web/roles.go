package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// The role editor writes roles as the Pulumi console does (spec §4.3): a
// role composing a policy, whose tree is a Group of one Compose of the
// organization-wide sets, then one Condition per rule — on one entity by
// id, or on tags (equals, not equals, has; two conditions joined by and) —
// each composing one set.

// rule is one row of the editor.
type rule struct {
	Kind       string // "entity" or "tag"
	EntityType string // stack, environment, insights-account
	Entity     string // project/name, or the account's name
	Conds      [2]tagCond
	SetID      string
}

type tagCond struct{ Key, Op, Value string } // Op: eq, ne, has

// minRules is how many rule rows the form offers without JavaScript.
const minRules = 2

type roleForm struct {
	Role      wire.Role
	PolicyID  string
	New       bool
	BuiltIn   bool
	OrgSets   []string
	Rules     []rule
	Sets      []wire.Role
	JSON      string
	NotShaped bool
	Entities  map[string][]string // datalists by entity type
	Holders   struct {
		Users  []string
		Teams  []string
		Tokens []string
	}
	SetNames map[string]string
}

// ruleTypes are the entity types a rule can name, by their form value.
var ruleTypes = map[string]gatehouse.EntityType{"stack": gatehouse.EntityStack, "environment": gatehouse.EntityEnvironment,
	"insights-account": gatehouse.EntityInsightsAccount}

// resolver finds the id of a rule's entity.
type resolver func(r rule) (string, error)

// tree builds the policy tree of the form's sets and rules, resolving
// entity names to ids, in Pulumi's wire format.
func (c *Console) tree(q *req, orgSets []string, rules []rule) (json.RawMessage, error) {
	org, err := c.az.Org(q.r.Context(), q.org)
	if err != nil {
		return nil, err
	}
	resolve := func(r rule) (string, error) {
		ce := gatehouse.CheckEntity{Type: r.EntityType, Name: r.Entity}
		if p, n, ok := strings.Cut(r.Entity, "/"); ok && r.EntityType != "insights-account" {
			ce.Project, ce.Name = p, n
		}
		e, err := c.svc.ResolveEntity(q.r.Context(), org.ID, ce)
		if err != nil {
			return "", err
		}
		return e.ID, nil
	}
	g, err := buildTree(orgSets, rules, resolve)
	if err != nil {
		return nil, err
	}
	return policy.Encode(g)
}

// buildTree is the role editor's tree: a Group of one Compose of the
// organization-wide sets, then one Condition per rule composing its set.
func buildTree(orgSets []string, rules []rule, resolve resolver) (*policy.Group, error) {
	g := &policy.Group{Entries: []policy.Node{}}
	if len(orgSets) > 0 {
		g.Entries = append(g.Entries, &policy.Compose{Descriptors: orgSets})
	}
	for i, r := range rules {
		cond, err := ruleCondition(r, resolve)
		if err != nil {
			return nil, fmt.Errorf("rule %d: %s", i+1, err)
		}
		g.Entries = append(g.Entries, &policy.Condition{Condition: cond, SubNode: &policy.Compose{Descriptors: []string{r.SetID}}})
	}
	return g, nil
}

// ruleCondition is the condition of one rule.
func ruleCondition(r rule, resolve resolver) (policy.Expr, error) {
	if r.SetID == "" {
		return nil, fmt.Errorf("choose the permission set it grants")
	}
	t, ok := ruleTypes[r.EntityType]
	if !ok {
		return nil, fmt.Errorf("%q is not stack, environment or insights-account", r.EntityType)
	}
	switch r.Kind {
	case "entity":
		id, err := resolve(r)
		if err != nil {
			return nil, fmt.Errorf("%s %q not found", r.EntityType, r.Entity)
		}
		return &policy.Equal{Left: &policy.Context{Type: t}, Right: &policy.EntityLit{Type: t, ID: id}}, nil
	case "tag":
		return tagCondition(&policy.Context{Type: t}, r.Conds)
	}
	return nil, fmt.Errorf("%q is not an entity or a tag rule", r.Kind)
}

// tagCondition joins a tag rule's conditions with And; the first needs a
// tag name, a later one without is skipped.
func tagCondition(ctx *policy.Context, conds [2]tagCond) (policy.Expr, error) {
	var cond policy.Expr
	for j, tc := range conds {
		if tc.Key == "" {
			if j == 0 {
				return nil, fmt.Errorf("a tag rule needs a tag name")
			}
			continue
		}
		var ex policy.Expr
		switch tc.Op {
		case "has":
			ex = &policy.HasTag{Context: ctx, Key: tc.Key}
		case "eq", "ne":
			ex = &policy.Equal{Left: &policy.Tag{Context: ctx, Key: tc.Key}, Right: &policy.String{Value: tc.Value}}
			if tc.Op == "ne" {
				ex = &policy.Not{Node: ex}
			}
		default:
			return nil, fmt.Errorf("%q is not equals, not equals or has", tc.Op)
		}
		if cond == nil {
			cond = ex
		} else {
			cond = &policy.And{Left: cond, Right: ex}
		}
	}
	return cond, nil
}

// parseRules reads the form's rule rows; empty rows are skipped.
func parseRules(f url.Values) []rule {
	var out []rule
	for i := 0; i < 50; i++ {
		p := "rule" + strconv.Itoa(i) + "."
		if _, ok := f[p+"kind"]; !ok {
			break
		}
		r := rule{Kind: f.Get(p + "kind"), EntityType: f.Get(p + "type"), Entity: strings.TrimSpace(f.Get(p + "entity")), SetID: f.Get(p + "set")}
		for j := range r.Conds {
			s := p + "c" + strconv.Itoa(j) + "."
			r.Conds[j] = tagCond{Key: strings.TrimSpace(f.Get(s + "key")), Op: f.Get(s + "op"), Value: f.Get(s + "value")}
		}
		if r.Entity == "" && r.Conds[0].Key == "" {
			continue
		}
		if r.Kind == "" {
			r.Kind = "tag"
			if r.Entity != "" {
				r.Kind = "entity"
			}
		}
		out = append(out, r)
	}
	return out
}

// shape reads a policy tree written the console's way back into the form;
// ok is false for any other shape.
func shape(details json.RawMessage, names map[string]string) (orgSets []string, rules []rule, ok bool) {
	n, err := policy.Decode(details)
	if err != nil {
		return nil, nil, false
	}
	g, isGroup := n.(*policy.Group)
	if !isGroup {
		return nil, nil, false
	}
	for i, e := range g.Entries {
		switch e := e.(type) {
		case *policy.Compose:
			if i != 0 {
				return nil, nil, false
			}
			orgSets = e.Descriptors
		case *policy.Condition:
			sub, isCompose := e.SubNode.(*policy.Compose)
			if !isCompose || len(sub.Descriptors) != 1 {
				return nil, nil, false
			}
			r, ok := ruleOf(e.Condition, names)
			if !ok {
				return nil, nil, false
			}
			r.SetID = sub.Descriptors[0]
			rules = append(rules, r)
		default:
			return nil, nil, false
		}
	}
	return orgSets, rules, true
}

// typeOfContext is the form value of a context's entity type, or "" for a
// type no rule can name.
func typeOfContext(c *policy.Context) string {
	if c == nil {
		return ""
	}
	for k, t := range ruleTypes {
		if t == c.Type {
			return k
		}
	}
	return ""
}

// ruleOf reads one rule's condition: an entity (Equal of a context and a
// literal) or one or two tag conditions joined by And.
func ruleOf(e policy.Expr, names map[string]string) (rule, bool) {
	if eq, isEqual := e.(*policy.Equal); isEqual {
		ctx, _ := eq.Left.(*policy.Context)
		lit, _ := eq.Right.(*policy.EntityLit)
		if t := typeOfContext(ctx); t != "" && lit != nil && lit.ID != "" {
			name := names[strings.ToLower(lit.ID)]
			if name == "" {
				name = lit.ID
			}
			return rule{Kind: "entity", EntityType: t, Entity: name}, true
		}
	}
	conds := []policy.Expr{e}
	if and, isAnd := e.(*policy.And); isAnd {
		conds = []policy.Expr{and.Left, and.Right}
	}
	r := rule{Kind: "tag"}
	for i, c := range conds {
		tc, t, ok := condOf(c)
		if !ok || (r.EntityType != "" && r.EntityType != t) {
			return rule{}, false
		}
		r.EntityType, r.Conds[i] = t, tc
	}
	return r, true
}

// condOf reads one tag condition: HasTag, Equal(Tag, String) or its Not.
func condOf(e policy.Expr) (tagCond, string, bool) {
	neg := false
	if not, isNot := e.(*policy.Not); isNot {
		neg, e = true, not.Node
	}
	switch e := e.(type) {
	case *policy.HasTag:
		if neg || typeOfContext(e.Context) == "" {
			return tagCond{}, "", false
		}
		return tagCond{Key: e.Key, Op: "has"}, typeOfContext(e.Context), true
	case *policy.Equal:
		tag, _ := e.Left.(*policy.Tag)
		s, _ := e.Right.(*policy.String)
		if tag == nil || s == nil || typeOfContext(tag.Context) == "" {
			return tagCond{}, "", false
		}
		op := "eq"
		if neg {
			op = "ne"
		}
		return tagCond{Key: tag.Key, Op: op, Value: s.Value}, typeOfContext(tag.Context), true
	}
	return tagCond{}, "", false
}

func (c *Console) roles(q *req) error {
	roles, err := q.descriptors("role")
	if err != nil {
		return q.fail(err, func(msg string) error { return q.render(http.StatusForbidden, "roles", "Roles", "roles", nil, msg, "") })
	}
	return q.render(http.StatusOK, "roles", "Roles", "roles", roles, "", q.notice())
}

func (c *Console) defaultRole(q *req) error {
	if err := q.call("PATCH", "/api/orgs/"+url.PathEscape(q.org)+"/roles/"+url.PathEscape(q.r.PathValue("id"))+"/default", nil, nil); err != nil {
		return q.fail(err, func(msg string) error { return c.showRoleForm(q, http.StatusBadRequest, msg) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/roles", "The default role changed.")
}

func (c *Console) roleForm(q *req) error { return c.showRoleForm(q, http.StatusOK, "") }

// entityNames lists the stacks, environments and accounts the user may
// read, for the pickers, and maps their ids to names.
func (c *Console) entityNames(q *req) (map[string][]string, map[string]string) {
	lists, names := map[string][]string{}, map[string]string{}
	var stacks wire.ListStacksResponse
	q.call("GET", "/api/user/stacks?organization="+url.QueryEscape(q.org), nil, &stacks)
	for _, s := range stacks.Stacks {
		n := s.ProjectName + "/" + s.StackName
		lists["stack"] = append(lists["stack"], n)
		names[strings.ToLower(s.ID)] = n
	}
	var envs wire.ListEnvironmentsResponse
	q.call("GET", "/api/esc/environments/"+url.PathEscape(q.org), nil, &envs)
	for _, e := range envs.Environments {
		lists["environment"] = append(lists["environment"], e.Project+"/"+e.Name)
	}
	var accts wire.ListInsightsAccountsResponse
	q.call("GET", "/api/preview/insights/"+url.PathEscape(q.org)+"/accounts", nil, &accts)
	for _, a := range accts.Accounts {
		lists["insights-account"] = append(lists["insights-account"], a.Name)
		names[strings.ToLower(a.ID)] = a.Name
	}
	org, err := c.az.Org(q.r.Context(), q.org)
	if err == nil {
		for _, n := range lists["environment"] {
			p, name, _ := strings.Cut(n, "/")
			if e, err := c.svc.ResolveEntity(q.r.Context(), org.ID, gatehouse.CheckEntity{Type: "environment", Project: p, Name: name}); err == nil {
				names[strings.ToLower(e.ID)] = n
			}
		}
	}
	return lists, names
}

func (c *Console) showRoleForm(q *req, status int, errMsg string) error {
	base := "/api/orgs/" + url.PathEscape(q.org) + "/roles"
	f := roleForm{New: q.r.PathValue("id") == "", SetNames: map[string]string{}}
	f.Sets, _ = q.descriptors("set")
	for _, s := range f.Sets {
		f.SetNames[s.ID] = s.Name
	}
	var names map[string]string
	f.Entities, names = c.entityNames(q)
	var details json.RawMessage
	if !f.New {
		id := q.r.PathValue("id")
		if err := q.call("GET", base+"/"+url.PathEscape(id), nil, &f.Role); err != nil {
			return q.fail(err, func(msg string) error { return q.render(http.StatusNotFound, "role", "Role", "roles", f, msg, "") })
		}
		f.BuiltIn = f.Role.DefaultIdentifier != ""
		details = f.Role.Details
		if n, err := policy.Decode(details); err == nil {
			compose, isCompose := n.(*policy.Compose)
			var pol wire.Role
			if isCompose && len(compose.Descriptors) == 1 &&
				q.call("GET", base+"/"+url.PathEscape(compose.Descriptors[0]), nil, &pol) == nil && pol.UXPurpose == "policy" {
				f.PolicyID, details = pol.ID, pol.Details
			}
		}
		var ok bool
		f.OrgSets, f.Rules, ok = shape(details, names)
		f.NotShaped = !ok || f.BuiltIn
		f.JSON = funcs["raw"].(func(json.RawMessage) string)(details)
		var users wire.ListRoleUsersResponse
		q.call("GET", base+"/"+url.PathEscape(id)+"/users", nil, &users)
		for _, u := range users.Users {
			f.Holders.Users = append(f.Holders.Users, u.GitHubLogin)
		}
		var teams wire.ListTeamsResponse
		q.call("GET", base+"/"+url.PathEscape(id)+"/teams", nil, &teams)
		for _, t := range teams.Teams {
			f.Holders.Teams = append(f.Holders.Teams, t.Name)
		}
		var toks wire.ListTokensResponse
		q.call("GET", base+"/"+url.PathEscape(id)+"/tokens", nil, &toks)
		for _, t := range toks.Tokens {
			f.Holders.Tokens = append(f.Holders.Tokens, t.Name)
		}
	}
	if editing(q) {
		pf := q.r.PostForm
		f.Role.Name, f.Role.Description, f.OrgSets, f.Rules, f.JSON = pf.Get("name"), pf.Get("description"), pf["orgset"], parseRules(pf), pf.Get("json")
	}
	// Blank rows to add rules with, at least one.
	blank := rule{Kind: "tag", EntityType: "stack", Conds: [2]tagCond{{Op: "eq"}, {Op: "eq"}}}
	f.Rules = append(f.Rules, blank)
	for len(f.Rules) < minRules {
		f.Rules = append(f.Rules, blank)
	}
	title := "New role"
	if !f.New {
		title = f.Role.Name
	}
	return q.render(status, "role", title, "roles", f, errMsg, q.notice())
}

func (c *Console) saveRole(q *req) error {
	pf := q.r.PostForm
	base := "/api/orgs/" + url.PathEscape(q.org) + "/roles"
	var details json.RawMessage
	if pf.Get("mode") == "json" {
		if err := json.Unmarshal([]byte(pf.Get("json")), &details); err != nil {
			return c.showRoleForm(q, http.StatusBadRequest, "details (JSON): "+err.Error())
		}
	} else {
		t, err := c.tree(q, pf["orgset"], parseRules(pf))
		if err != nil {
			return c.showRoleForm(q, http.StatusBadRequest, err.Error())
		}
		details = t
	}
	var saved wire.Role
	id := q.r.PathValue("id")
	var err error
	if id == "" {
		err = q.call("POST", base+"?createPolicyAndRole=true", wire.CreateRoleRequest{Name: new(pf.Get("name")), Description: new(pf.Get("description")),
			UXPurpose: new("role"), ResourceType: new("global"), Details: details}, &saved)
	} else if policy := pf.Get("policy"); policy != "" {
		if err = q.call("PATCH", base+"/"+url.PathEscape(policy), wire.UpdateRoleRequest{Details: details}, nil); err == nil {
			err = q.call("PATCH", base+"/"+url.PathEscape(id), wire.UpdateRoleRequest{Name: new(pf.Get("name")), Description: new(pf.Get("description"))}, &saved)
		}
	} else {
		err = q.call("PATCH", base+"/"+url.PathEscape(id), wire.UpdateRoleRequest{Name: new(pf.Get("name")), Description: new(pf.Get("description")), Details: details}, &saved)
	}
	if err != nil {
		return q.fail(err, func(msg string) error { return c.showRoleForm(q, http.StatusBadRequest, msg) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/roles/"+url.PathEscape(saved.ID), fmt.Sprintf("Saved role %q.", saved.Name))
}
