// Package bench compares Gatehouse's decision engine with Cedar
// (github.com/cedar-policy/cedar-go) and casbin (github.com/casbin/casbin/v2)
// on the same generated organizations. It is a module of its own so that the
// main module never depends on the peer engines.
//
// Each engine gets the most natural encoding of the same roles:
//
//   - Gatehouse: the console-shaped descriptor trees, compiled.
//   - Cedar: principals in Role groups, scopes as actions in action groups
//     (one per permission set), entity tags as Cedar entity tags; one policy
//     per role and set for unconditional grants and for each role's entity
//     rules (resource in a set literal), one per tag rule.
//   - casbin: an RBAC model with g(user, role), one policy line per rule and
//     custom matcher functions for scope-set membership and the condition.
package bench

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/cedar-policy/cedar-go"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/policy/workload"
)

// Engine decides one query.
type Engine interface {
	Name() string
	Decide(q *workload.Query) bool
}

// cedarType is the Cedar entity type for a Gatehouse entity type.
func cedarType(t gatehouse.EntityType) cedar.EntityType {
	switch t {
	case gatehouse.EntityStack:
		return "Stack"
	case gatehouse.EntityEnvironment:
		return "Environment"
	case gatehouse.EntityInsightsAccount:
		return "InsightsAccount"
	}
	return "Org"
}

// Cedar is the organization as a Cedar policy set and entity store.
type Cedar struct {
	ps       *cedar.PolicySet
	entities cedar.EntityMap
	actions  map[catalog.Scope]cedar.EntityUID
	Policies int
}

// Name implements Engine.
func (*Cedar) Name() string { return "cedar" }

// NewCedar translates the organization into Cedar.
func NewCedar(o *workload.Org) (*Cedar, error) {
	c := &Cedar{ps: cedar.NewPolicySet(), entities: cedar.EntityMap{}, actions: map[catalog.Scope]cedar.EntityUID{}}
	// Actions: one per scope, a child of one action group per built-in set
	// holding it.
	parents := map[catalog.Scope][]cedar.EntityUID{}
	for _, s := range catalog.Sets() {
		for _, sc := range s.Scopes.Scopes() {
			parents[sc] = append(parents[sc], cedar.NewEntityUID("Action", cedar.String("set:"+s.Identifier)))
		}
	}
	for i := 0; i < catalog.Len(); i++ {
		sc := catalog.Scope(i)
		uid := cedar.NewEntityUID("Action", cedar.String(sc.Name()))
		c.actions[sc] = uid
		c.entities[uid] = cedar.Entity{UID: uid, Parents: cedar.NewEntityUIDSet(parents[sc]...)}
	}
	for p, roles := range o.Principals {
		uid := cedar.NewEntityUID("User", cedar.String("p"+strconv.Itoa(p)))
		var ps []cedar.EntityUID
		for _, ri := range roles {
			ps = append(ps, cedar.NewEntityUID("Role", cedar.String(o.Roles[ri].ID)))
		}
		c.entities[uid] = cedar.Entity{UID: uid, Parents: cedar.NewEntityUIDSet(ps...)}
	}
	var src strings.Builder
	for _, ro := range o.Roles {
		byEntitySet := map[string][]string{}
		for _, ru := range ro.Rules {
			typ := setType(ru.Set)
			head := fmt.Sprintf("permit (principal in Role::%q, action in Action::%q, resource is %s)", ro.ID, "set:"+ru.Set, cedarType(typ))
			switch c := ru.Cond.(type) {
			case nil:
				src.WriteString(head + ";\n")
			case workload.EntityIs:
				byEntitySet[ru.Set] = append(byEntitySet[ru.Set], fmt.Sprintf("%s::%q", cedarType(c.Type), c.ID))
			default:
				fmt.Fprintf(&src, "%s when { %s };\n", head, cedarCond(ru.Cond))
				if ru.ElseSet != "" {
					fmt.Fprintf(&src, "permit (principal in Role::%q, action in Action::%q, resource is %s) unless { %s };\n",
						ro.ID, "set:"+ru.ElseSet, cedarType(setType(ru.ElseSet)), cedarCond(ru.Cond))
				}
			}
		}
		sets := make([]string, 0, len(byEntitySet))
		for s := range byEntitySet {
			sets = append(sets, s)
		}
		sort.Strings(sets)
		for _, s := range sets {
			fmt.Fprintf(&src, "permit (principal in Role::%q, action in Action::%q, resource) when { [%s].contains(resource) };\n",
				ro.ID, "set:"+s, strings.Join(byEntitySet[s], ", "))
		}
	}
	ps, err := cedar.NewPolicySetFromBytes("workload.cedar", []byte(src.String()))
	if err != nil {
		return nil, fmt.Errorf("cedar policies: %w", err)
	}
	c.ps = ps
	for range ps.All() {
		c.Policies++
	}
	return c, nil
}

func cedarCond(c workload.Cond) string {
	switch c := c.(type) {
	case workload.TagEq:
		return fmt.Sprintf("(resource is %s && resource.hasTag(%q) && resource.getTag(%q) == %q)", cedarType(c.Type), c.Key, c.Key, c.Value)
	case workload.TagHas:
		return fmt.Sprintf("(resource is %s && resource.hasTag(%q))", cedarType(c.Type), c.Key)
	case workload.EntityIs:
		return fmt.Sprintf("resource == %s::%q", cedarType(c.Type), c.ID)
	case workload.Not:
		return "!" + cedarCond(c.C)
	case workload.And:
		return "(" + cedarCond(c.L) + " && " + cedarCond(c.R) + ")"
	case workload.Or:
		return "(" + cedarCond(c.L) + " || " + cedarCond(c.R) + ")"
	}
	panic(fmt.Sprintf("bench: unknown condition %T", c))
}

func setType(identifier string) gatehouse.EntityType {
	s, ok := catalog.SetByIdentifier(identifier)
	if !ok {
		panic("bench: unknown set " + identifier)
	}
	return s.ResourceType
}

// Decide implements Engine. The resource entity, with its tags, is part of
// the request's entity store, as a Cedar integration would supply it.
func (c *Cedar) Decide(q *workload.Query) bool {
	uid := cedar.NewEntityUID(cedarType(q.Entity.Type), cedar.String(q.Entity.ID))
	tags := make(cedar.RecordMap, len(q.Entity.Tags))
	for _, t := range q.Entity.Tags {
		tags[cedar.String(t.Key)] = cedar.String(t.Value)
	}
	ents := requestEntities{base: c.entities, uid: uid, ent: cedar.Entity{UID: uid, Tags: cedar.NewRecord(tags)}}
	d, _ := c.ps.IsAuthorized(ents, cedar.Request{
		Principal: cedar.NewEntityUID("User", cedar.String("p"+strconv.Itoa(q.Principal))),
		Action:    c.actions[q.Scope],
		Resource:  uid,
		Context:   cedar.NewRecord(nil),
	})
	return d == cedar.Allow
}

// requestEntities adds the request's resource to the shared entity store.
type requestEntities struct {
	base cedar.EntityMap
	uid  cedar.EntityUID
	ent  cedar.Entity
}

func (r requestEntities) Get(uid cedar.EntityUID) (cedar.Entity, bool) {
	if uid == r.uid {
		return r.ent, true
	}
	e, ok := r.base[uid]
	return e, ok
}

// Casbin is the organization as a casbin enforcer.
type Casbin struct {
	e     *casbin.Enforcer
	conds []workload.Cond
	Lines int
}

// Name implements Engine.
func (*Casbin) Name() string { return "casbin" }

const casbinModel = `
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && inSet(r.act, p.act) && objMatch(r.obj, p.obj)
`

// NewCasbin translates the organization into casbin policy lines: p lines
// (role, object condition, permission set) and g lines (principal, role).
// An object condition is "type:<t>" (every entity of a type), "id:<uuid>"
// (one entity) or "cond:<n>" (a condition evaluated by objMatch).
func NewCasbin(o *workload.Org) (*Casbin, error) {
	m, err := model.NewModelFromString(casbinModel)
	if err != nil {
		return nil, err
	}
	e, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, err
	}
	c := &Casbin{e: e}
	sets := map[string]catalog.Set{}
	for _, s := range catalog.Sets() {
		sets[s.Identifier] = s.Scopes
	}
	e.AddFunction("inSet", func(args ...any) (any, error) {
		sc := args[0].(catalog.Scope)
		s := sets[args[1].(string)]
		return s.Has(sc), nil
	})
	e.AddFunction("objMatch", func(args ...any) (any, error) {
		ent := args[0].(*gatehouse.Entity)
		obj := args[1].(string)
		kind, val, _ := strings.Cut(obj, ":")
		switch kind {
		case "type":
			return ent.Type.String() == val, nil
		case "id":
			return ent.ID == val, nil
		case "cond":
			i, _ := strconv.Atoi(val)
			return evalCond(c.conds[i], ent), nil
		case "notcond":
			i, _ := strconv.Atoi(val)
			return !evalCond(c.conds[i], ent), nil
		}
		return false, nil
	})
	var lines [][]string
	for _, ro := range o.Roles {
		for _, ru := range ro.Rules {
			switch cond := ru.Cond.(type) {
			case nil:
				lines = append(lines, []string{ro.ID, "type:" + setType(ru.Set).String(), ru.Set})
			case workload.EntityIs:
				lines = append(lines, []string{ro.ID, "id:" + cond.ID, ru.Set})
			default:
				n := strconv.Itoa(len(c.conds))
				c.conds = append(c.conds, ru.Cond)
				lines = append(lines, []string{ro.ID, "cond:" + n, ru.Set})
				if ru.ElseSet != "" {
					lines = append(lines, []string{ro.ID, "notcond:" + n, ru.ElseSet})
				}
			}
		}
	}
	if _, err := e.AddPolicies(lines); err != nil {
		return nil, err
	}
	var groups [][]string
	for p, roles := range o.Principals {
		for _, ri := range roles {
			groups = append(groups, []string{"p" + strconv.Itoa(p), o.Roles[ri].ID})
		}
	}
	if _, err := e.AddGroupingPolicies(groups); err != nil {
		return nil, err
	}
	c.Lines = len(lines) + len(groups)
	return c, nil
}

// Decide implements Engine. A scope is granted only on entity types it
// applies to, as in Gatehouse.
func (c *Casbin) Decide(q *workload.Query) bool {
	if !q.Scope.Info().AppliesTo(q.Entity.Type) {
		return false
	}
	ok, err := c.e.Enforce("p"+strconv.Itoa(q.Principal), q.Entity, q.Scope)
	return err == nil && ok
}

// evalCond evaluates a workload condition with Gatehouse's semantics: a tag
// condition on another entity type, or on a missing tag, is false.
func evalCond(c workload.Cond, e *gatehouse.Entity) bool {
	switch c := c.(type) {
	case workload.EntityIs:
		return e.Type == c.Type && e.ID == c.ID
	case workload.TagEq:
		v, ok := e.Tag(c.Key)
		return e.Type == c.Type && ok && v == c.Value
	case workload.TagHas:
		_, ok := e.Tag(c.Key)
		return e.Type == c.Type && ok
	case workload.Not:
		return !evalCond(c.C, e)
	case workload.And:
		return evalCond(c.L, e) && evalCond(c.R, e)
	case workload.Or:
		return evalCond(c.L, e) || evalCond(c.R, e)
	}
	return false
}
