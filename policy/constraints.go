package policy

import (
	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

// OpenLimit answers, for the roles a principal holds, how long it may keep
// an environment open: among the Allows that grant scope sc on entity e,
// the largest constraints.MaxOpenDuration in seconds. An Allow without the
// constraint (or with zero) lifts every limit: limit is 0 with granted
// true. granted is false when no Allow grants sc on e at all.
//
// It walks the trees like Evaluate, not the compiled form, so that
// Compiled and the hot Decide path carry nothing for it; each composed
// descriptor is walked once per call (its result is memoized), so the cost
// is linear in the size of the roles. It is asked once per environment
// open.
func OpenLimit(roles []*Descriptor, lookup Lookup, sc catalog.Scope, e *gatehouse.Entity) (limit int, granted bool) {
	if int(e.Type) >= numTypes || int(sc) >= catalog.MaxScopes || !masks[e.Type].Has(sc) {
		return 0, false
	}
	w := &limitWalk{lookup: lookup, sc: sc, ent: e, memo: map[string]openLimit{}}
	var out openLimit
	for _, r := range roles {
		if r == nil {
			continue
		}
		out = out.or(w.node(r.Details, nil))
		if out.unlimited {
			break
		}
	}
	if out.unlimited {
		return 0, true
	}
	return out.max, out.granted
}

// openLimit is what a subtree grants of one scope on one entity.
type openLimit struct {
	granted   bool
	unlimited bool // some granting Allow has no MaxOpenDuration
	max       int  // the largest MaxOpenDuration of the granting Allows
}

func (a openLimit) or(b openLimit) openLimit {
	return openLimit{granted: a.granted || b.granted, unlimited: a.unlimited || b.unlimited, max: max(a.max, b.max)}
}

type limitWalk struct {
	lookup Lookup
	sc     catalog.Scope
	ent    *gatehouse.Entity
	// memo holds each composed descriptor's result. A result computed
	// while an ancestor was on the Compose path lacks that ancestor's
	// part, which the ancestor itself contributes to the same union, so
	// the total is the same as Evaluate's.
	memo map[string]openLimit
}

func (w *limitWalk) node(n Node, composing []string) openLimit {
	switch n := n.(type) {
	case *Allow:
		for _, p := range n.Permissions {
			if sc, ok := catalog.Lookup(p); ok && sc == w.sc {
				if n.Constraints == nil || n.Constraints.MaxOpenDuration <= 0 {
					return openLimit{granted: true, unlimited: true}
				}
				return openLimit{granted: true, max: n.Constraints.MaxOpenDuration}
			}
		}
	case *Group:
		var out openLimit
		for _, e := range n.Entries {
			out = out.or(w.node(e, composing))
		}
		return out
	case *Compose:
		var out openLimit
		for _, id := range n.Descriptors {
			if containsString(composing, id) || w.lookup == nil {
				continue
			}
			r, ok := w.memo[id]
			if !ok {
				if d, found := w.lookup(id); found && d != nil {
					r = w.node(d.Details, append(composing, id))
				}
				w.memo[id] = r
			}
			out = out.or(r)
		}
		return out
	case *Condition:
		if evalBool(n.Condition, w.ent) {
			return w.node(n.SubNode, composing)
		}
	case *IfThenElse:
		if evalBool(n.Condition, w.ent) {
			return w.node(n.Then, composing)
		}
		return w.node(n.Else, composing)
	case *Select:
		var out openLimit
		sel := evalValue(n.Selector, w.ent)
		for _, o := range n.Options {
			if sel.equal(evalValue(o.Value, w.ent)) {
				out = out.or(w.node(o.Node, composing))
			}
		}
		return out
	}
	return openLimit{}
}
