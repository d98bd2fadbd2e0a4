package policy

import (
	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

// valueKind is the kind of an evaluated expression.
type valueKind uint8

const (
	absent valueKind = iota
	kindString
	kindNumber
	kindBool
	kindEntity
)

// value is an evaluated expression.
type value struct {
	kind valueKind
	s    string // string value, or entity id
	n    float64
	b    bool
	t    gatehouse.EntityType // entity type, for kindEntity
}

func (a value) equal(b value) bool {
	if a.kind == absent || a.kind != b.kind {
		return false
	}
	switch a.kind {
	case kindString:
		return a.s == b.s
	case kindNumber:
		return a.n == b.n
	case kindBool:
		return a.b == b.b
	case kindEntity:
		return a.t == b.t && a.s == b.s
	}
	return false
}

// evalValue evaluates e against entity ent.
func evalValue(e Expr, ent *gatehouse.Entity) value {
	switch e := e.(type) {
	case *Context:
		if ent.Type == e.Type {
			return value{kind: kindEntity, s: ent.ID, t: e.Type}
		}
	case *Tag:
		if e.Context != nil && ent.Type == e.Context.Type {
			if v, ok := ent.Tag(e.Key); ok {
				return value{kind: kindString, s: v}
			}
		}
	case *String:
		return value{kind: kindString, s: e.Value}
	case *Number:
		return value{kind: kindNumber, n: e.Value}
	case *Bool:
		return value{kind: kindBool, b: e.Value}
	case *EntityLit:
		return value{kind: kindEntity, s: e.ID, t: e.Type}
	case *And, *Or, *Not, *Equal, *HasTag, *In:
		return value{kind: kindBool, b: evalBool(e, ent)}
	}
	return value{}
}

// evalBool evaluates a condition against entity ent. A missing (nil)
// expression, which only a document that failed decoding can hold, is false.
func evalBool(e Expr, ent *gatehouse.Entity) bool {
	switch e := e.(type) {
	case *And:
		return evalBool(e.Left, ent) && evalBool(e.Right, ent)
	case *Or:
		return evalBool(e.Left, ent) || evalBool(e.Right, ent)
	case *Not:
		return !evalBool(e.Node, ent)
	case *Equal:
		return evalValue(e.Left, ent).equal(evalValue(e.Right, ent))
	case *HasTag:
		if e.Context == nil || ent.Type != e.Context.Type {
			return false
		}
		_, ok := ent.Tag(e.Key)
		return ok
	case *In:
		v := evalValue(e.Target, ent)
		switch set := e.Values.(type) {
		case *StringSet:
			if v.kind == kindString {
				for _, s := range set.Values {
					if s == v.s {
						return true
					}
				}
			}
		case *EntitySet:
			if v.kind == kindEntity && v.t == set.Type {
				for _, id := range set.IDs {
					if id == v.s {
						return true
					}
				}
			}
		}
		return false
	case nil:
		return false
	}
	v := evalValue(e, ent)
	return v.kind == kindBool && v.b
}

// scopeSet resolves scope names to a Set, skipping names the catalog does not
// hold (Validate rejects them; a stored document may name a scope a later
// catalog dropped).
func scopeSet(names []string) catalog.Set {
	var s catalog.Set
	for _, n := range names {
		if sc, ok := catalog.Lookup(n); ok {
			s.Add(sc)
		}
	}
	return s
}

// Evaluate is the reference evaluator: it walks the tree directly and
// returns every scope n grants on entity ent. It is slow and obviously
// correct; the compiled form (Compile, Grants.Decide) must always agree with
// it, which the differential tests and fuzz targets check.
func Evaluate(n Node, lookup Lookup, ent *gatehouse.Entity) catalog.Set {
	var out catalog.Set
	r := refEval{lookup: lookup, ent: ent, out: &out, mask: catalog.TypeMask(ent.Type)}
	r.node(n, nil)
	return out
}

type refEval struct {
	lookup Lookup
	ent    *gatehouse.Entity
	out    *catalog.Set
	mask   catalog.Set
}

func (r *refEval) node(n Node, composing []string) {
	switch n := n.(type) {
	case *Allow:
		s := scopeSet(n.Permissions).Intersect(r.mask)
		r.out.Union(&s)
	case *Group:
		for _, e := range n.Entries {
			r.node(e, composing)
		}
	case *Compose:
		for _, id := range n.Descriptors {
			if containsString(composing, id) || r.lookup == nil {
				continue
			}
			if d, ok := r.lookup(id); ok && d != nil {
				r.node(d.Details, append(composing, id))
			}
		}
	case *Condition:
		if evalBool(n.Condition, r.ent) {
			r.node(n.SubNode, composing)
		}
	case *IfThenElse:
		if evalBool(n.Condition, r.ent) {
			r.node(n.Then, composing)
		} else {
			r.node(n.Else, composing)
		}
	case *Select:
		sel := evalValue(n.Selector, r.ent)
		for _, o := range n.Options {
			if sel.equal(evalValue(o.Value, r.ent)) {
				r.node(o.Node, composing)
			}
		}
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
