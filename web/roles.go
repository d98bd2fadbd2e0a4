package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
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
	Role      descriptor
	PolicyID  string
	New       bool
	BuiltIn   bool
	OrgSets   []string
	Rules     []rule
	Sets      []descriptor
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

type node = map[string]any

func typed(t string, kv ...any) node {
	n := node{"__type": t}
	for i := 0; i+1 < len(kv); i += 2 {
		n[kv[i].(string)] = kv[i+1]
	}
	return n
}

var contextTypes = map[string]string{"stack": "PermissionExpressionStack", "environment": "PermissionExpressionEnvironment",
	"insights-account": "PermissionExpressionInsightsAccount"}
var literalTypes = map[string]string{"stack": "PermissionLiteralExpressionStack", "environment": "PermissionLiteralExpressionEnvironment",
	"insights-account": "PermissionLiteralExpressionInsightsAccount"}

// tree builds the policy tree of the form's sets and rules, resolving
// entity names to ids.
func (c *Console) tree(q *req, orgSets []string, rules []rule) (node, error) {
	entries := []any{}
	if len(orgSets) > 0 {
		entries = append(entries, typed("PermissionDescriptorCompose", "permissionDescriptors", orgSets))
	}
	org, err := c.az.Org(q.r.Context(), q.org)
	if err != nil {
		return nil, err
	}
	for i, r := range rules {
		where := fmt.Sprintf("rule %d", i+1)
		if r.SetID == "" {
			return nil, fmt.Errorf("%s: choose the permission set it grants", where)
		}
		ctxType, ok := contextTypes[r.EntityType]
		if !ok {
			return nil, fmt.Errorf("%s: %q is not stack, environment or insights-account", where, r.EntityType)
		}
		var cond node
		switch r.Kind {
		case "entity":
			ce := gatehouse.CheckEntity{Type: r.EntityType, Name: r.Entity}
			if p, n, ok := strings.Cut(r.Entity, "/"); ok && r.EntityType != "insights-account" {
				ce.Project, ce.Name = p, n
			}
			e, err := c.svc.ResolveEntity(q.r.Context(), org.ID, ce)
			if err != nil {
				return nil, fmt.Errorf("%s: %s %q not found", where, r.EntityType, r.Entity)
			}
			cond = typed("PermissionExpressionEqual", "left", typed(ctxType), "right", typed(literalTypes[r.EntityType], "identity", e.ID))
		case "tag":
			for j, tc := range r.Conds {
				if tc.Key == "" {
					if j == 0 {
						return nil, fmt.Errorf("%s: a tag rule needs a tag name", where)
					}
					continue
				}
				var ex node
				switch tc.Op {
				case "has":
					ex = typed("PermissionExpressionHasTag", "context", typed(ctxType), "key", tc.Key)
				case "eq", "ne":
					ex = typed("PermissionExpressionEqual", "left", typed("PermissionExpressionTag", "context", typed(ctxType), "key", tc.Key),
						"right", typed("PermissionLiteralExpressionString", "value", tc.Value))
					if tc.Op == "ne" {
						ex = typed("PermissionExpressionNot", "expression", ex)
					}
				default:
					return nil, fmt.Errorf("%s: %q is not equals, not equals or has", where, tc.Op)
				}
				if cond == nil {
					cond = ex
				} else {
					cond = typed("PermissionExpressionAnd", "left", cond, "right", ex)
				}
			}
		default:
			return nil, fmt.Errorf("%s: %q is not an entity or a tag rule", where, r.Kind)
		}
		entries = append(entries, typed("PermissionDescriptorCondition", "condition", cond,
			"subNode", typed("PermissionDescriptorCompose", "permissionDescriptors", []string{r.SetID})))
	}
	return typed("PermissionDescriptorGroup", "entries", entries), nil
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
	var g struct {
		Type    string            `json:"__type"`
		Entries []json.RawMessage `json:"entries"`
	}
	if json.Unmarshal(details, &g) != nil || g.Type != "PermissionDescriptorGroup" {
		return nil, nil, false
	}
	for i, raw := range g.Entries {
		var n struct {
			Type      string          `json:"__type"`
			IDs       []string        `json:"permissionDescriptors"`
			Condition json.RawMessage `json:"condition"`
			SubNode   struct {
				Type string   `json:"__type"`
				IDs  []string `json:"permissionDescriptors"`
			} `json:"subNode"`
		}
		if json.Unmarshal(raw, &n) != nil {
			return nil, nil, false
		}
		switch {
		case n.Type == "PermissionDescriptorCompose" && i == 0:
			orgSets = n.IDs
		case n.Type == "PermissionDescriptorCondition" && n.SubNode.Type == "PermissionDescriptorCompose" && len(n.SubNode.IDs) == 1:
			r, ok := ruleOf(n.Condition, names)
			if !ok {
				return nil, nil, false
			}
			r.SetID = n.SubNode.IDs[0]
			rules = append(rules, r)
		default:
			return nil, nil, false
		}
	}
	return orgSets, rules, true
}

type expr struct {
	Type     string          `json:"__type"`
	Left     json.RawMessage `json:"left"`
	Right    json.RawMessage `json:"right"`
	Expr     json.RawMessage `json:"expression"`
	Context  *expr           `json:"context"`
	Key      string          `json:"key"`
	Value    string          `json:"value"`
	Identity string          `json:"identity"`
}

func typeOfContext(t string) string {
	for k, v := range contextTypes {
		if v == t {
			return k
		}
	}
	return ""
}

func ruleOf(raw json.RawMessage, names map[string]string) (rule, bool) {
	var e expr
	if json.Unmarshal(raw, &e) != nil {
		return rule{}, false
	}
	// An entity rule: Equal(context, literal).
	if e.Type == "PermissionExpressionEqual" {
		var l, r expr
		json.Unmarshal(e.Left, &l)
		json.Unmarshal(e.Right, &r)
		if t := typeOfContext(l.Type); t != "" && r.Identity != "" {
			name := names[strings.ToLower(r.Identity)]
			if name == "" {
				name = r.Identity
			}
			return rule{Kind: "entity", EntityType: t, Entity: name}, true
		}
	}
	conds := []json.RawMessage{raw}
	if e.Type == "PermissionExpressionAnd" {
		conds = []json.RawMessage{e.Left, e.Right}
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

func condOf(raw json.RawMessage) (tagCond, string, bool) {
	var e expr
	if json.Unmarshal(raw, &e) != nil {
		return tagCond{}, "", false
	}
	neg := false
	if e.Type == "PermissionExpressionNot" {
		neg = true
		if json.Unmarshal(e.Expr, &e) != nil {
			return tagCond{}, "", false
		}
	}
	switch e.Type {
	case "PermissionExpressionHasTag":
		if neg || e.Context == nil {
			return tagCond{}, "", false
		}
		return tagCond{Key: e.Key, Op: "has"}, typeOfContext(e.Context.Type), true
	case "PermissionExpressionEqual":
		var l, r expr
		json.Unmarshal(e.Left, &l)
		json.Unmarshal(e.Right, &r)
		if l.Type != "PermissionExpressionTag" || l.Context == nil || r.Type != "PermissionLiteralExpressionString" {
			return tagCond{}, "", false
		}
		op := "eq"
		if neg {
			op = "ne"
		}
		return tagCond{Key: l.Key, Op: op, Value: r.Value}, typeOfContext(l.Context.Type), true
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
	var stacks struct {
		Stacks []struct{ ID, ProjectName, StackName string }
	}
	q.call("GET", "/api/user/stacks?organization="+url.QueryEscape(q.org), nil, &stacks)
	for _, s := range stacks.Stacks {
		n := s.ProjectName + "/" + s.StackName
		lists["stack"] = append(lists["stack"], n)
		names[strings.ToLower(s.ID)] = n
	}
	var envs struct {
		Environments []struct{ Project, Name string }
	}
	q.call("GET", "/api/esc/environments/"+url.PathEscape(q.org), nil, &envs)
	for _, e := range envs.Environments {
		lists["environment"] = append(lists["environment"], e.Project+"/"+e.Name)
	}
	var accts struct {
		Accounts []struct{ ID, Name string }
	}
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
		var compose struct {
			Type string   `json:"__type"`
			IDs  []string `json:"permissionDescriptors"`
		}
		if json.Unmarshal(details, &compose) == nil && compose.Type == "PermissionDescriptorCompose" && len(compose.IDs) == 1 {
			var pol descriptor
			if q.call("GET", base+"/"+url.PathEscape(compose.IDs[0]), nil, &pol) == nil && pol.UXPurpose == "policy" {
				f.PolicyID, details = pol.ID, pol.Details
			}
		}
		var ok bool
		f.OrgSets, f.Rules, ok = shape(details, names)
		f.NotShaped = !ok || f.BuiltIn
		f.JSON = funcs["raw"].(func(json.RawMessage) string)(details)
		var users struct {
			Users []struct{ GitHubLogin string }
		}
		q.call("GET", base+"/"+url.PathEscape(id)+"/users", nil, &users)
		for _, u := range users.Users {
			f.Holders.Users = append(f.Holders.Users, u.GitHubLogin)
		}
		var teams struct{ Teams []struct{ Name string } }
		q.call("GET", base+"/"+url.PathEscape(id)+"/teams", nil, &teams)
		for _, t := range teams.Teams {
			f.Holders.Teams = append(f.Holders.Teams, t.Name)
		}
		var toks struct{ Tokens []struct{ Name string } }
		q.call("GET", base+"/"+url.PathEscape(id)+"/tokens", nil, &toks)
		for _, t := range toks.Tokens {
			f.Holders.Tokens = append(f.Holders.Tokens, t.Name)
		}
	}
	if q.r.Method == http.MethodPost {
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
	var details any
	if pf.Get("mode") == "json" {
		var raw json.RawMessage
		if err := json.Unmarshal([]byte(pf.Get("json")), &raw); err != nil {
			return c.showRoleForm(q, http.StatusBadRequest, "details (JSON): "+err.Error())
		}
		details = raw
	} else {
		t, err := c.tree(q, pf["orgset"], parseRules(pf))
		if err != nil {
			return c.showRoleForm(q, http.StatusBadRequest, err.Error())
		}
		details = t
	}
	var saved descriptor
	id := q.r.PathValue("id")
	var err error
	if id == "" {
		err = q.call("POST", base+"?createPolicyAndRole=true", map[string]any{"name": pf.Get("name"), "description": pf.Get("description"),
			"uxPurpose": "role", "resourceType": "global", "details": details}, &saved)
	} else if policy := pf.Get("policy"); policy != "" {
		if err = q.call("PATCH", base+"/"+url.PathEscape(policy), map[string]any{"details": details}, nil); err == nil {
			err = q.call("PATCH", base+"/"+url.PathEscape(id), map[string]any{"name": pf.Get("name"), "description": pf.Get("description")}, &saved)
		}
	} else {
		err = q.call("PATCH", base+"/"+url.PathEscape(id), map[string]any{"name": pf.Get("name"), "description": pf.Get("description"), "details": details}, &saved)
	}
	if err != nil {
		return q.fail(err, func(msg string) error { return c.showRoleForm(q, http.StatusBadRequest, msg) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/roles/"+url.PathEscape(saved.ID), fmt.Sprintf("Saved role %q.", saved.Name))
}
