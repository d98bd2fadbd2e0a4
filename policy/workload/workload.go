// Package workload generates synthetic organizations for benchmarks and
// cross-engine comparisons: stacks, environments and Insights accounts with
// tags, roles of realistic shapes, and principals holding several roles.
//
// Roles are generated as Rules, a small engine-neutral form, and rendered as
// Gatehouse descriptor trees here; the bench module renders the same Rules
// as Cedar and casbin policies, so every engine decides the same question.
package workload

import (
	"fmt"
	"math/rand/v2"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// Config sizes an organization.
type Config struct {
	Seed         uint64
	Stacks       int
	Environments int
	Accounts     int
	Roles        int
	Principals   int
	// MaxEntityRules caps the entity rules of one console-shaped role.
	MaxEntityRules int
}

// Large is the organization of the benchmarks: 10,000 stacks,
// 2,000 environments, 200 accounts, 500 roles.
func Large() Config {
	return Config{Seed: 1, Stacks: 10000, Environments: 2000, Accounts: 200, Roles: 500, Principals: 1000, MaxEntityRules: 2000}
}

// Sized is Large with the given number of stacks; environments, accounts
// and roles keep their size so that only the stack count varies.
func Sized(stacks int) Config {
	c := Large()
	c.Stacks = stacks
	return c
}

// Tag keys and their value pools. Every entity has 0 to 8 of these keys.
var TagKeys = []struct {
	Key    string
	Values int
}{
	{"env", 4}, {"team", 50}, {"region", 8}, {"tier", 3},
	{"owner", 100}, {"cost-center", 20}, {"service", 200}, {"compliance", 3},
}

// TagValue returns the i-th value of tag key k.
func TagValue(k string, i int) string {
	if k == "env" {
		return []string{"prod", "staging", "dev", "test"}[i%4]
	}
	return fmt.Sprintf("%s-%d", k, i)
}

// Cond is an engine-neutral condition on the entity being decided.
type Cond interface{ isCond() }

// EntityIs holds for the one entity with this id.
type EntityIs struct {
	Type gatehouse.EntityType
	ID   string
}

// TagEq holds when the entity of Type has tag Key equal to Value.
type TagEq struct {
	Type       gatehouse.EntityType
	Key, Value string
}

// TagHas holds when the entity of Type has tag Key.
type TagHas struct {
	Type gatehouse.EntityType
	Key  string
}

// Not, And and Or combine conditions.
type (
	Not struct{ C Cond }
	And struct{ L, R Cond }
	Or  struct{ L, R Cond }
)

func (EntityIs) isCond() {}
func (TagEq) isCond()    {}
func (TagHas) isCond()   {}
func (Not) isCond()      {}
func (And) isCond()      {}
func (Or) isCond()       {}

// Rule grants the built-in set Set where Cond holds (everywhere for a nil
// Cond), and ElseSet where it does not (an IfThenElse), if ElseSet is set.
type Rule struct {
	Set     string
	Cond    Cond
	ElseSet string
}

// Role is a generated role: a name, its rules, and how it is rendered.
type Role struct {
	ID    string
	Name  string
	Shape string
	Rules []Rule
}

// Org is a generated organization.
type Org struct {
	Stacks       []*gatehouse.Entity
	Environments []*gatehouse.Entity
	Accounts     []*gatehouse.Entity
	Roles        []*Role
	// Principals lists, per principal, the indexes of the roles it holds
	// (1 to 5).
	Principals [][]int
	// Sets are the built-in permission sets as descriptors, by identifier.
	Sets map[string]*policy.Descriptor
}

// Generate builds an organization deterministically from cfg.
func Generate(cfg Config) *Org {
	r := rand.New(rand.NewPCG(cfg.Seed, 0x6a7e))
	o := &Org{Sets: map[string]*policy.Descriptor{}}
	for _, s := range catalog.Sets() {
		o.Sets[s.Identifier] = &policy.Descriptor{ID: s.Identifier, Name: s.Name, Purpose: "set",
			ResourceType: s.ResourceType, Details: &policy.Allow{Permissions: s.Scopes.Names()}}
	}
	o.Stacks = entities(r, gatehouse.EntityStack, cfg.Stacks)
	o.Environments = entities(r, gatehouse.EntityEnvironment, cfg.Environments)
	o.Accounts = entities(r, gatehouse.EntityInsightsAccount, cfg.Accounts)
	for i := 0; i < cfg.Roles; i++ {
		o.Roles = append(o.Roles, o.role(r, i, cfg))
	}
	for i := 0; i < cfg.Principals; i++ {
		n := 1 + r.IntN(5)
		p := make([]int, 0, n)
		for len(p) < n {
			p = append(p, r.IntN(len(o.Roles)))
		}
		o.Principals = append(o.Principals, p)
	}
	return o
}

// EntityID returns the UUID of the i-th entity of type t.
func EntityID(t gatehouse.EntityType, i int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", int(t), i)
}

func entities(r *rand.Rand, t gatehouse.EntityType, n int) []*gatehouse.Entity {
	out := make([]*gatehouse.Entity, n)
	for i := range out {
		e := &gatehouse.Entity{Type: t, ID: EntityID(t, i)}
		for _, k := range TagKeys {
			if r.IntN(2) == 0 {
				e.Tags = append(e.Tags, gatehouse.Tag{Key: k.Key, Value: TagValue(k.Key, r.IntN(k.Values))})
			}
		}
		out[i] = e
	}
	return out
}

// WithTags returns a copy of e carrying all eight tag keys, for the
// benchmarks that decide on an entity with 8 tags.
func WithTags(r *rand.Rand, e *gatehouse.Entity) *gatehouse.Entity {
	c := &gatehouse.Entity{Type: e.Type, ID: e.ID}
	for _, k := range TagKeys {
		v, ok := e.Tag(k.Key)
		if !ok {
			v = TagValue(k.Key, r.IntN(k.Values))
		}
		c.Tags = append(c.Tags, gatehouse.Tag{Key: k.Key, Value: v})
	}
	return c
}

func (o *Org) randomTag(r *rand.Rand, t gatehouse.EntityType) TagEq {
	k := TagKeys[r.IntN(len(TagKeys))]
	return TagEq{Type: t, Key: k.Key, Value: TagValue(k.Key, r.IntN(k.Values))}
}

// role generates role i with one of the shapes organizations use.
func (o *Org) role(r *rand.Rand, i int, cfg Config) *Role {
	ro := &Role{ID: fmt.Sprintf("role-%04d", i), Name: fmt.Sprintf("Role %d", i)}
	org := []string{"org-read-only", "org-standard"}[r.IntN(2)]
	ro.Rules = append(ro.Rules, Rule{Set: org})
	stackSet := func() string { return []string{"stack-read", "stack-write", "stack-admin"}[r.IntN(3)] }
	envSet := func() string { return []string{"environment-read", "environment-open", "environment-write"}[r.IntN(3)] }
	switch k := r.IntN(20); {
	case k < 8 && len(o.Stacks) > 0:
		// Console-shaped: a default on all stacks, then entity rules by id.
		ro.Shape = "console"
		if r.IntN(2) == 0 {
			ro.Rules = append(ro.Rules, Rule{Set: "stack-read"})
		}
		n := entityRuleCount(r, cfg.MaxEntityRules, len(o.Stacks))
		for _, j := range r.Perm(len(o.Stacks))[:n] {
			ro.Rules = append(ro.Rules, Rule{Set: stackSet(), Cond: EntityIs{gatehouse.EntityStack, o.Stacks[j].ID}})
		}
	case k < 13:
		// Tag rules: equals, has, not-equals, and pairs folded into And.
		ro.Shape = "tags"
		for n := 1 + r.IntN(6); n > 0; n-- {
			var c Cond
			t := gatehouse.EntityStack
			set := stackSet()
			if r.IntN(4) == 0 {
				t, set = gatehouse.EntityEnvironment, envSet()
			}
			switch r.IntN(4) {
			case 0:
				c = o.randomTag(r, t)
			case 1:
				c = TagHas{Type: t, Key: TagKeys[r.IntN(len(TagKeys))].Key}
			case 2:
				c = Not{o.randomTag(r, t)}
			default:
				c = And{o.randomTag(r, t), TagHas{Type: t, Key: TagKeys[r.IntN(len(TagKeys))].Key}}
			}
			ro.Rules = append(ro.Rules, Rule{Set: set, Cond: c})
		}
	case k < 16:
		// Nested conditions, and an IfThenElse.
		ro.Shape = "nested"
		t := gatehouse.EntityStack
		ro.Rules = append(ro.Rules,
			Rule{Set: "stack-write", Cond: And{Or{o.randomTag(r, t), o.randomTag(r, t)}, Not{TagHas{Type: t, Key: "compliance"}}}},
			Rule{Set: "stack-admin", ElseSet: "stack-read", Cond: And{o.randomTag(r, t), o.randomTag(r, t)}},
			Rule{Set: "environment-open", Cond: Or{o.randomTag(r, gatehouse.EntityEnvironment), Not{TagHas{Type: gatehouse.EntityEnvironment, Key: "env"}}}},
		)
	case k < 18 && len(o.Environments) > 0:
		// Environment and account rules by id.
		ro.Shape = "environments"
		n := entityRuleCount(r, min(cfg.MaxEntityRules, 200), len(o.Environments))
		for _, j := range r.Perm(len(o.Environments))[:n] {
			ro.Rules = append(ro.Rules, Rule{Set: envSet(), Cond: EntityIs{gatehouse.EntityEnvironment, o.Environments[j].ID}})
		}
		for j := 0; j < min(5, len(o.Accounts)); j++ {
			a := o.Accounts[r.IntN(len(o.Accounts))]
			ro.Rules = append(ro.Rules, Rule{Set: "insights-account-read", Cond: EntityIs{gatehouse.EntityInsightsAccount, a.ID}})
		}
	default:
		// Organization-wide: defaults on every entity, like Builder.
		ro.Shape = "wide"
		ro.Rules = append(ro.Rules, Rule{Set: stackSet()}, Rule{Set: envSet()}, Rule{Set: "insights-account-read"})
	}
	return ro
}

// entityRuleCount draws between 10 and max rules, most roles small and a
// few at the maximum, as real console roles.
func entityRuleCount(r *rand.Rand, max, n int) int {
	c := 10
	switch x := r.IntN(10); {
	case x < 6:
		c = 10 + r.IntN(40)
	case x < 9:
		c = 50 + r.IntN(450)
	default:
		c = max
	}
	return min(c, max, n)
}

// Descriptor renders role ro as Gatehouse descriptors in the console's
// shape: a role composing a policy that holds the tree.
func (o *Org) Descriptor(ro *Role) (role, pol *policy.Descriptor) {
	var unconditional []string
	entries := []policy.Node{nil}
	for _, ru := range ro.Rules {
		switch {
		case ru.Cond == nil:
			unconditional = append(unconditional, ru.Set)
		case ru.ElseSet != "":
			entries = append(entries, &policy.IfThenElse{Condition: Expr(ru.Cond),
				Then: &policy.Compose{Descriptors: []string{ru.Set}}, Else: &policy.Compose{Descriptors: []string{ru.ElseSet}}})
		default:
			entries = append(entries, &policy.Condition{Condition: Expr(ru.Cond),
				SubNode: &policy.Compose{Descriptors: []string{ru.Set}}})
		}
	}
	entries[0] = &policy.Compose{Descriptors: unconditional}
	pol = &policy.Descriptor{ID: ro.ID + "-policy", Name: ro.Name, Purpose: "policy", Details: &policy.Group{Entries: entries}}
	role = &policy.Descriptor{ID: ro.ID, Name: ro.Name, Purpose: "role", Details: &policy.Compose{Descriptors: []string{pol.ID}}}
	return role, pol
}

// Expr renders a condition as a descriptor expression.
func Expr(c Cond) policy.Expr {
	switch c := c.(type) {
	case EntityIs:
		return &policy.Equal{Left: &policy.Context{Type: c.Type}, Right: &policy.EntityLit{Type: c.Type, ID: c.ID}}
	case TagEq:
		return &policy.Equal{Left: &policy.Tag{Context: &policy.Context{Type: c.Type}, Key: c.Key}, Right: &policy.String{Value: c.Value}}
	case TagHas:
		return &policy.HasTag{Context: &policy.Context{Type: c.Type}, Key: c.Key}
	case Not:
		return &policy.Not{Node: Expr(c.C)}
	case And:
		return &policy.And{Left: Expr(c.L), Right: Expr(c.R)}
	case Or:
		return &policy.Or{Left: Expr(c.L), Right: Expr(c.R)}
	}
	panic(fmt.Sprintf("workload: unknown condition %T", c))
}

// Compiled holds the organization's roles compiled by Gatehouse.
type Compiled struct {
	Roles  []*policy.Compiled
	Lookup policy.Lookup
	Descs  []*policy.Descriptor // roles then policies then sets
}

// Compile renders and compiles every role.
func (o *Org) Compile() *Compiled {
	c := &Compiled{}
	for _, s := range o.Sets {
		c.Descs = append(c.Descs, s)
	}
	var roles []*policy.Descriptor
	for _, ro := range o.Roles {
		role, pol := o.Descriptor(ro)
		roles = append(roles, role)
		c.Descs = append(c.Descs, role, pol)
	}
	c.Lookup = policy.MapLookup(c.Descs...)
	for _, role := range roles {
		c.Roles = append(c.Roles, policy.Compile(role.Details, c.Lookup))
	}
	return c
}

// Grants returns the union of principal p's compiled roles.
func (c *Compiled) Grants(o *Org, p int) *policy.Grants {
	roles := make([]*policy.Compiled, len(o.Principals[p]))
	for i, ri := range o.Principals[p] {
		roles[i] = c.Roles[ri]
	}
	return policy.Union(roles...)
}

// Query is one decision to make.
type Query struct {
	Principal int
	Scope     catalog.Scope
	Entity    *gatehouse.Entity
}

// QueryScopes are the scopes queries ask about, per entity type.
var QueryScopes = map[gatehouse.EntityType][]string{
	gatehouse.EntityStack:           {"stack:read", "stack:write", "stack:delete", "stack:export", "stack_tags:update"},
	gatehouse.EntityEnvironment:     {"environment:read", "environment:open", "environment:write"},
	gatehouse.EntityInsightsAccount: {"insights_account:read", "insights_account:scan"},
	gatehouse.EntityGlobal:          {"org_member:read", "environment:create", "audit_logs:read"},
}

// Queries draws n decisions. With eightTags, every entity carries all eight
// tag keys; fiveRoles picks only principals holding five roles.
func (o *Org) Queries(seed uint64, n int, eightTags, fiveRoles bool) []Query {
	r := rand.New(rand.NewPCG(seed, 0x9e3))
	var principals []int
	for i, p := range o.Principals {
		if !fiveRoles || len(p) == 5 {
			principals = append(principals, i)
		}
	}
	org := &gatehouse.Entity{Type: gatehouse.EntityGlobal, ID: EntityID(gatehouse.EntityGlobal, 0)}
	out := make([]Query, n)
	for i := range out {
		var e *gatehouse.Entity
		switch x := r.IntN(10); {
		case x < 7 && len(o.Stacks) > 0:
			e = o.Stacks[r.IntN(len(o.Stacks))]
		case x < 9 && len(o.Environments) > 0:
			e = o.Environments[r.IntN(len(o.Environments))]
		case x < 10 && len(o.Accounts) > 0 && r.IntN(2) == 0:
			e = o.Accounts[r.IntN(len(o.Accounts))]
		default:
			e = org
		}
		if eightTags && e.Type != gatehouse.EntityGlobal {
			e = WithTags(r, e)
		}
		scopes := QueryScopes[e.Type]
		out[i] = Query{Principal: principals[r.IntN(len(principals))], Scope: catalog.MustLookup(scopes[r.IntN(len(scopes))]), Entity: e}
	}
	return out
}
