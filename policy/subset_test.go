package policy

import (
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

func grantsOf(nodes ...Node) *Grants {
	cs := make([]*Compiled, len(nodes))
	for i, n := range nodes {
		cs[i] = Compile(n, nil)
	}
	return Union(cs...)
}

func allowN(scopes ...string) *Allow { return &Allow{Permissions: scopes} }

func onStack(id string, n Node) Node {
	return &Condition{Condition: &Equal{Left: &Context{Type: gatehouse.EntityStack}, Right: &EntityLit{Type: gatehouse.EntityStack, ID: id}}, SubNode: n}
}

func stackTag(key, value string, n Node) Node {
	return &Condition{Condition: &Equal{Left: &Tag{Context: &Context{Type: gatehouse.EntityStack}, Key: key}, Right: &String{Value: value}}, SubNode: n}
}

func stackHasTag(key string, n Node) Node {
	return &Condition{Condition: &HasTag{Context: &Context{Type: gatehouse.EntityStack}, Key: key}, SubNode: n}
}

func TestSubset(t *testing.T) {
	t.Parallel()
	s1 := genID(gatehouse.EntityStack, 1)
	s2 := genID(gatehouse.EntityStack, 2)
	prodStack := &gatehouse.Entity{Type: gatehouse.EntityStack, ID: s1, Tags: []gatehouse.Tag{{Key: "env", Value: "prod"}}}
	lookup := func(t gatehouse.EntityType, id string) *gatehouse.Entity {
		if id == s1 {
			return prodStack
		}
		return nil
	}
	// A condition the index cannot use: the stack's tag equals another
	// of its tags.
	opaque := &Equal{Left: &Tag{Context: &Context{Type: gatehouse.EntityStack}, Key: "a"}, Right: &Tag{Context: &Context{Type: gatehouse.EntityStack}, Key: "b"}}
	opaque2 := &Equal{Left: &Tag{Context: &Context{Type: gatehouse.EntityStack}, Key: "a"}, Right: &Tag{Context: &Context{Type: gatehouse.EntityStack}, Key: "c"}}
	cases := []struct {
		name   string
		holder []Node
		cand   []Node
		lookup EntityLookup
		want   string // "" when covered; else the start of Excess.String()
	}{
		{"empty candidate", nil, nil, nil, ""},
		{"same scopes everywhere", []Node{allowN("stack:read", "stack:write")}, []Node{allowN("stack:read")}, nil, ""},
		{"more scopes everywhere", []Node{allowN("stack:read")}, []Node{allowN("stack:read", "stack:delete")}, nil, "stack:delete on every stack"},
		{"org scope", []Node{allowN("role:update")}, []Node{allowN("role:update", "org_member:update")}, nil, "org_member:update on the organization"},
		{"entity under type-wide", []Node{allowN("stack:read")}, []Node{onStack(s1, allowN("stack:read"))}, nil, ""},
		{"entity under same entity", []Node{onStack(s1, allowN("stack:read", "stack:write"))}, []Node{onStack(s1, allowN("stack:write"))}, nil, ""},
		{"entity under other entity", []Node{onStack(s2, allowN("stack:read"))}, []Node{onStack(s1, allowN("stack:read"))}, nil, "stack:read on stack " + s1},
		{"type-wide under entity", []Node{onStack(s1, allowN("stack:read"))}, []Node{allowN("stack:read")}, nil, "stack:read on every stack"},
		{"entity proved through its tags", []Node{stackTag("env", "prod", allowN("stack:read"))}, []Node{onStack(s1, allowN("stack:read"))}, lookup, ""},
		{"entity not proved without the snapshot", []Node{stackTag("env", "prod", allowN("stack:read"))}, []Node{onStack(s1, allowN("stack:read"))}, nil, "stack:read on stack " + s1},
		{"entity whose tags do not match", []Node{stackTag("env", "dev", allowN("stack:read"))}, []Node{onStack(s1, allowN("stack:read"))}, lookup, "stack:read on stack " + s1},
		{"tag rule under same tag rule", []Node{stackTag("env", "prod", allowN("stack:read"))}, []Node{stackTag("env", "prod", allowN("stack:read"))}, nil, ""},
		{"tag value under key rule", []Node{stackHasTag("env", allowN("stack:read"))}, []Node{stackTag("env", "prod", allowN("stack:read"))}, nil, ""},
		{"key rule under value rule", []Node{stackTag("env", "prod", allowN("stack:read"))}, []Node{stackHasTag("env", allowN("stack:read"))}, nil, "stack:read on every stack with tag env"},
		{"tag rule under other value", []Node{stackTag("env", "dev", allowN("stack:read"))}, []Node{stackTag("env", "prod", allowN("stack:read"))}, nil, "stack:read on every stack tagged env=prod"},
		{"tag rule under entity rules", []Node{onStack(s1, allowN("stack:read"))}, []Node{stackTag("env", "prod", allowN("stack:read"))}, lookup, "stack:read on every stack tagged env=prod"},
		{"tag rule under type-wide", []Node{allowN("stack:read")}, []Node{stackTag("env", "prod", allowN("stack:read"))}, nil, ""},
		{"residual under type-wide", []Node{allowN("stack:read")}, []Node{&Condition{Condition: opaque, SubNode: allowN("stack:read")}}, nil, ""},
		{"residual under the same residual", []Node{&Condition{Condition: opaque, SubNode: allowN("stack:read")}}, []Node{&Condition{Condition: opaque, SubNode: allowN("stack:read")}}, nil, ""},
		{"residual under another residual", []Node{&Condition{Condition: opaque2, SubNode: allowN("stack:read")}}, []Node{&Condition{Condition: opaque, SubNode: allowN("stack:read")}}, nil, "stack:read on every stack (under a condition"},
		{"residual under a conditional entity rule", []Node{onStack(s1, allowN("stack:read"))}, []Node{&Condition{Condition: opaque, SubNode: allowN("stack:read")}}, lookup, "stack:read on every stack (under a condition"},
		{"entity rule with a condition under same entity", []Node{onStack(s1, allowN("stack:read"))}, []Node{&Condition{Condition: opaque, SubNode: onStack(s1, allowN("stack:read"))}}, nil, ""},
		{"entity rule with a condition under a conditional entity rule", []Node{&Condition{Condition: opaque, SubNode: onStack(s1, allowN("stack:read"))}},
			[]Node{&Condition{Condition: opaque, SubNode: onStack(s1, allowN("stack:read"))}}, nil, ""},
		{"entity rule with a condition under another conditional entity rule", []Node{&Condition{Condition: opaque2, SubNode: onStack(s1, allowN("stack:read"))}},
			[]Node{&Condition{Condition: opaque, SubNode: onStack(s1, allowN("stack:read"))}}, nil, "stack:read on stack " + s1 + " (under a condition"},
		{"tag rule with a condition under the same", []Node{&Condition{Condition: opaque, SubNode: stackTag("env", "prod", allowN("stack:read"))}},
			[]Node{&Condition{Condition: opaque, SubNode: stackTag("env", "prod", allowN("stack:read"))}}, nil, ""},
		{"tag rule with a condition under another value", []Node{&Condition{Condition: opaque, SubNode: stackTag("env", "dev", allowN("stack:read"))}},
			[]Node{&Condition{Condition: opaque, SubNode: stackTag("env", "prod", allowN("stack:read"))}}, nil, "stack:read on every stack tagged env=prod (under a condition"},
		{"two holder roles", []Node{allowN("stack:read"), onStack(s1, allowN("stack:delete"))}, []Node{onStack(s1, allowN("stack:read", "stack:delete"))}, nil, ""},
		{"admin holds all", []Node{&Allow{Permissions: catalog.AllScopes().Names()}}, []Node{allowN("stack:delete"), stackTag("env", "x", allowN("role:update")), &Condition{Condition: opaque, SubNode: allowN("stack:read")}}, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := Subset(grantsOf(c.cand...), grantsOf(c.holder...), c.lookup)
			switch {
			case c.want == "" && x != nil:
				t.Fatalf("refused with %s, want covered", x)
			case c.want != "" && x == nil:
				t.Fatalf("covered, want refused with %s", c.want)
			case c.want != "" && !strings.HasPrefix(x.String(), c.want):
				t.Fatalf("refused with %q, want %q", x, c.want)
			}
		})
	}
}

// TestSubsetAgreesWithReference checks Subset against the reference
// evaluator on random trees: whenever Subset says the candidate is covered,
// on every entity every scope the candidate grants (by Evaluate) is granted
// by the holder (by Evaluate). Holders are built to often cover the
// candidate, so that the check is not vacuous.
func TestSubsetAgreesWithReference(t *testing.T) {
	t.Parallel()
	cases := 4000
	if testing.Short() {
		cases = 400
	}
	covered := 0
	for i := 0; i < cases; i++ {
		g := newGen(uint64(i), 0x5ab5e7)
		lib := g.library()
		lookup := MapLookup(lib...)
		cand := g.node()
		var holder Node
		if i%5 == 4 { // flat rules from small pools, for both
			cand = flatRules(g, 1+g.pick(3))
		}
		switch i % 5 {
		case 4:
			holder = flatRules(g, 2+g.pick(6))
		case 0: // the candidate plus more
			holder = &Group{Entries: []Node{cand, g.node()}}
		case 1: // a random tree plus many unconditional scopes
			n := &Allow{}
			for _, s := range genScopes {
				if g.pick(3) > 0 {
					n.Permissions = append(n.Permissions, s)
				}
			}
			holder = &Group{Entries: []Node{g.node(), n}}
		case 2: // the candidate with its string literals and ids changed
			holder = &Group{Entries: []Node{mutate(t, g, cand), g.node()}}
		default:
			holder = g.node()
		}
		// A pool of entities the lookup knows, with their tags.
		pool := map[string]*gatehouse.Entity{}
		for j := 0; j < 8; j++ {
			e := g.entity()
			pool[e.ID] = e
		}
		var el EntityLookup
		if i%2 == 0 {
			el = func(t gatehouse.EntityType, id string) *gatehouse.Entity {
				if e := pool[id]; e != nil && e.Type == t {
					return e
				}
				return nil
			}
		}
		cg := Union(Compile(cand, lookup))
		hg := Union(Compile(holder, lookup))
		if Subset(cg, hg, el) != nil {
			continue
		}
		covered++
		var ents []*gatehouse.Entity
		for _, e := range pool {
			ents = append(ents, e)
		}
		if el == nil {
			for j := 0; j < 12; j++ {
				ents = append(ents, g.entity())
			}
		}
		for _, e := range ents {
			want := Evaluate(cand, lookup, e).Intersect(masks[e.Type])
			have := Evaluate(holder, lookup, e)
			if extra := want.Minus(have); !extra.Empty() {
				t.Fatalf("case %d: Subset said covered, but on %+v the candidate grants %v the holder does not\ncandidate %s\nholder %s",
					i, *e, extra.Names(), mustEncode(cand), mustEncode(holder))
			}
		}
	}
	if covered < cases/10 {
		t.Fatalf("only %d of %d random candidates were covered: the check is nearly vacuous", covered, cases)
	}
	t.Logf("%d of %d random candidates covered", covered, cases)
}

var literalRE = regexp.MustCompile(`"value":"[^"]*"|"id":"[^"]*"`)

// mutate returns n with some of its string literals and entity ids
// changed, so that holders often have the candidate's shape with other
// tag values or entities.
func mutate(t *testing.T, g *gen, n Node) Node {
	t.Helper()
	b := literalRE.ReplaceAllStringFunc(mustEncode(n), func(m string) string {
		if g.pick(2) == 0 {
			return m
		}
		if strings.HasPrefix(m, `"id"`) {
			return `"id":"` + genID(gatehouse.EntityStack, g.pick(5)) + `"`
		}
		return `"value":"` + genValues[g.pick(len(genValues))] + `"`
	})
	out, err := Decode([]byte(b))
	if err != nil {
		t.Fatalf("mutate: %v\n%s", err, b)
	}
	return out
}

// flatRules returns a Group of n rules of the kinds the index holds (type
// wide, one entity, a tag value, a tag key, an opaque condition), from
// small pools so that a holder often has the candidate's rules.
func flatRules(g *gen, n int) Node {
	grp := &Group{}
	for ; n > 0; n-- {
		a := &Allow{}
		for j := g.pick(2); j >= 0; j-- {
			a.Permissions = append(a.Permissions, []string{"stack:read", "stack:write", "environment:open"}[g.pick(3)])
		}
		t := []gatehouse.EntityType{gatehouse.EntityStack, gatehouse.EntityEnvironment}[g.pick(2)]
		ctx := &Context{Type: t}
		key := genKeys[g.pick(2)]
		var cond Expr
		switch g.pick(5) {
		case 0:
			grp.Entries = append(grp.Entries, a)
			continue
		case 1:
			cond = &Equal{Left: ctx, Right: &EntityLit{Type: t, ID: genID(t, g.pick(3))}}
		case 2:
			cond = &Equal{Left: &Tag{Context: ctx, Key: key}, Right: &String{Value: genValues[g.pick(2)]}}
		case 3:
			cond = &HasTag{Context: ctx, Key: key}
		default:
			cond = &Equal{Left: &Tag{Context: ctx, Key: genKeys[0]}, Right: &Tag{Context: ctx, Key: genKeys[1]}}
		}
		grp.Entries = append(grp.Entries, &Condition{Condition: cond, SubNode: a})
	}
	return grp
}
