package policy

import (
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

func TestOpenLimit(t *testing.T) {
	t.Parallel()
	open := catalog.MustLookup("environment:open")
	env := &gatehouse.Entity{Type: gatehouse.EntityEnvironment, ID: "e1"}
	allow := func(secs int, perms ...string) *Allow {
		a := &Allow{Permissions: perms}
		if secs > 0 {
			a.Constraints = &Constraints{MaxOpenDuration: secs}
		}
		return a
	}
	on := func(id string, n Node) Node {
		return &Condition{Condition: &Equal{Left: &Context{Type: gatehouse.EntityEnvironment}, Right: &EntityLit{Type: gatehouse.EntityEnvironment, ID: id}}, SubNode: n}
	}
	lib := []*Descriptor{
		{ID: "set60", Purpose: "set", Details: allow(60, "environment:open", "environment:read")},
		{ID: "setFree", Purpose: "set", Details: allow(0, "environment:open")},
		{ID: "loopA", Purpose: "policy", Details: &Group{Entries: []Node{allow(30, "environment:open"), &Compose{Descriptors: []string{"loopB"}}}}},
		{ID: "loopB", Purpose: "policy", Details: &Group{Entries: []Node{allow(90, "environment:open"), &Compose{Descriptors: []string{"loopA"}}}}},
	}
	lookup := MapLookup(lib...)
	cases := []struct {
		name      string
		roles     []Node
		wantLimit int
		wantOK    bool
	}{
		{"no grant", []Node{allow(0, "stack:read")}, 0, false},
		{"other environment", []Node{on("e2", allow(60, "environment:open"))}, 0, false},
		{"one limited grant", []Node{on("e1", allow(60, "environment:open"))}, 60, true},
		{"a limit on another scope does not bind", []Node{allow(10, "environment:read"), allow(60, "environment:open")}, 60, true},
		{"the largest of two", []Node{allow(60, "environment:open"), &Group{Entries: []Node{allow(300, "environment:open")}}}, 300, true},
		{"across roles", []Node{allow(60, "environment:open"), allow(120, "environment:open")}, 120, true},
		{"unconstrained lifts the limit", []Node{allow(60, "environment:open"), on("e1", allow(0, "environment:open"))}, 0, true},
		{"through a composed set", []Node{&Compose{Descriptors: []string{"set60"}}}, 60, true},
		{"composed unconstrained set", []Node{&Compose{Descriptors: []string{"set60", "setFree"}}}, 0, true},
		{"a cycle", []Node{&Compose{Descriptors: []string{"loopA"}}}, 90, true},
		{"false branch", []Node{&IfThenElse{Condition: &Bool{Value: false}, Then: allow(0, "environment:open"), Else: allow(45, "environment:open")}}, 45, true},
		{"dangling compose", []Node{&Compose{Descriptors: []string{"nope"}}}, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var roles []*Descriptor
			for i, n := range c.roles {
				roles = append(roles, &Descriptor{ID: string(rune('a' + i)), Details: n})
			}
			limit, ok := OpenLimit(roles, lookup, open, env)
			if limit != c.wantLimit || ok != c.wantOK {
				t.Errorf("OpenLimit = %d, %v; want %d, %v", limit, ok, c.wantLimit, c.wantOK)
			}
		})
	}
	if _, ok := OpenLimit([]*Descriptor{{Details: allow(0, "environment:open")}}, lookup, open, &gatehouse.Entity{Type: gatehouse.EntityStack}); ok {
		t.Errorf("environment:open granted on a stack")
	}
}

// refOpenLimit is OpenLimit without the memo: every Compose path walked.
func refOpenLimit(n Node, lookup Lookup, sc catalog.Scope, e *gatehouse.Entity, composing []string) openLimit {
	w := &limitWalk{lookup: lookup, sc: sc, ent: e, memo: map[string]openLimit{}}
	switch n := n.(type) {
	case *Compose:
		var out openLimit
		for _, id := range n.Descriptors {
			if containsString(composing, id) {
				continue
			}
			if d, ok := lookup(id); ok && d != nil {
				out = out.or(refOpenLimit(d.Details, lookup, sc, e, append(composing, id)))
			}
		}
		return out
	case *Group:
		var out openLimit
		for _, c := range n.Entries {
			out = out.or(refOpenLimit(c, lookup, sc, e, composing))
		}
		return out
	case *Condition:
		if evalBool(n.Condition, e) {
			return refOpenLimit(n.SubNode, lookup, sc, e, composing)
		}
		return openLimit{}
	case *IfThenElse:
		if evalBool(n.Condition, e) {
			return refOpenLimit(n.Then, lookup, sc, e, composing)
		}
		return refOpenLimit(n.Else, lookup, sc, e, composing)
	case *Select:
		var out openLimit
		sel := evalValue(n.Selector, e)
		for _, o := range n.Options {
			if sel.equal(evalValue(o.Value, e)) {
				out = out.or(refOpenLimit(o.Node, lookup, sc, e, composing))
			}
		}
		return out
	}
	return w.node(n, composing) // an Allow
}

// constrain gives some of a tree's Allows a MaxOpenDuration.
func constrain(g *gen, n Node) {
	switch n := n.(type) {
	case *Allow:
		if k := g.pick(3); k > 0 {
			n.Constraints = &Constraints{MaxOpenDuration: 60 * k * (1 + g.pick(5))}
		}
	case *Group:
		for _, c := range n.Entries {
			constrain(g, c)
		}
	case *Condition:
		constrain(g, n.SubNode)
	case *IfThenElse:
		constrain(g, n.Then)
		constrain(g, n.Else)
	case *Select:
		for _, o := range n.Options {
			constrain(g, o.Node)
		}
	}
}

// TestOpenLimitAgreesWithReference: on random trees and libraries (with
// cycles), OpenLimit grants exactly where Evaluate does, and its limit is
// the unmemoized walk's.
func TestOpenLimitAgreesWithReference(t *testing.T) {
	t.Parallel()
	open := catalog.MustLookup("environment:open")
	for i := 0; i < 2000; i++ {
		g := newGen(uint64(i), 0x09e7)
		lib := g.library()
		for _, d := range lib {
			constrain(g, d.Details)
		}
		lookup := MapLookup(lib...)
		roles := []*Descriptor{{ID: "r1", Details: g.node()}, {ID: "r2", Details: g.node()}}
		for _, r := range roles {
			constrain(g, r.Details)
		}
		for j := 0; j < 6; j++ {
			e := g.entity()
			e.Type = gatehouse.EntityEnvironment
			var want openLimit
			evaluated := false
			for _, r := range roles {
				want = want.or(refOpenLimit(r.Details, lookup, open, e, nil))
				s := Evaluate(r.Details, lookup, e)
				evaluated = evaluated || s.Has(open)
			}
			limit, ok := OpenLimit(roles, lookup, open, e)
			wantLimit := want.max
			if want.unlimited {
				wantLimit = 0
			}
			if ok != evaluated || ok != want.granted || limit != wantLimit {
				t.Fatalf("seed %d entity %+v: OpenLimit = %d, %v; reference %d, %v; Evaluate grants %v\n%s\n%s",
					i, *e, limit, ok, wantLimit, want.granted, evaluated, mustEncode(roles[0].Details), mustEncode(roles[1].Details))
			}
		}
	}
}
