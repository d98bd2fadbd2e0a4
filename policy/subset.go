package policy

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

// Excess is the first thing a candidate grants that its holder does not
// hold (see Subset): a scope and where it would be granted.
type Excess struct {
	Scope catalog.Scope
	// Type is the entity type the grant applies to.
	Type gatehouse.EntityType
	// Entity is the entity id of an entity rule; TagKey (and TagValue when
	// HasValue) the tag of a tag rule. All empty: everywhere the scope
	// applies.
	Entity   string
	TagKey   string
	TagValue string
	HasValue bool
	// Condition is set when the candidate grants the scope under a
	// condition Subset cannot compare with the holder's grants, and the
	// holder lacks the scope unconditionally where the condition applies.
	Condition bool
}

// Where says where the excess grant applies, in words.
func (x *Excess) Where() string {
	var w string
	switch {
	case x.Entity != "":
		w = fmt.Sprintf("on %s %s", x.Type, x.Entity)
	case x.TagKey != "" && x.HasValue:
		w = fmt.Sprintf("on every %s tagged %s=%s", x.Type, x.TagKey, x.TagValue)
	case x.TagKey != "":
		w = fmt.Sprintf("on every %s with tag %s", x.Type, x.TagKey)
	case x.Type == gatehouse.EntityGlobal:
		w = "on the organization"
	default:
		w = fmt.Sprintf("on every %s", x.Type)
	}
	if x.Condition {
		w += " (under a condition that cannot be compared with the caller's grants, which the caller does not hold unconditionally there)"
	}
	return w
}

// String names the scope and where.
func (x *Excess) String() string { return x.Scope.Name() + " " + x.Where() }

// EntityLookup returns an entity (with its current tags) by type and id, or
// nil when it is unknown. Subset uses it to prove that a holder's tag rules
// cover an entity rule of the candidate.
type EntityLookup func(t gatehouse.EntityType, id string) *gatehouse.Entity

// Subset reports whether everything cand grants, on every entity, is also
// granted by holder, and when it is not, returns the first excess grant
// (nil when cand ⊆ holder). It compares the compiled indexes, not entities,
// and is conservative: it may refuse a candidate that is in fact covered,
// but never accepts one that is not (for entities as entity returns them,
// when an entity rule is proved through the entity's tags).
//
// The rules, per grant of the candidate:
//   - unconditional: the holder holds the scope unconditionally;
//   - on one entity: the holder holds it unconditionally, on that same
//     entity without a further condition, or (entity not nil) on the
//     entity as it is now, tags included;
//   - on a tag key or key=value: the holder holds it unconditionally, or
//     through the same tag rule without a further condition (a rule on the
//     key alone covers every value of it);
//   - under any other condition: the holder holds it unconditionally, or
//     (an entity rule, a tag rule, or a residual) gives it under the very
//     same condition on the same index key.
//
// Order is deterministic: unconditional grants, then per role of cand its
// entity rules by id, its tag rules by key and value, its residual
// conditions; each by scope.
func Subset(cand, holder *Grants, entity EntityLookup) *Excess {
	if cand == nil {
		return nil
	}
	if holder == nil {
		holder = &Grants{}
	}
	if x, ok := firstMissing(cand.uncond, func(sc catalog.Scope) bool { return holder.uncond.Has(sc) }); ok {
		return &Excess{Scope: x, Type: scopeType(x)}
	}
	for _, r := range cand.roles {
		if x := r.subsetOf(holder, entity); x != nil {
			return x
		}
	}
	return ownedSubset(cand.owned, holder, entity)
}

// ownedSubset is Subset for what a creator holds on what they created:
// per entity, every scope its set may grant there (conditions or not) is
// held by the holder on that entity (conservative, as an entity rule).
func ownedSubset(o *Owned, h *Grants, entity EntityLookup) *Excess {
	if o == nil {
		return nil
	}
	var x *Excess
	o.Each(func(t gatehouse.EntityType, id string) bool {
		c := o.Sets[t]
		if c == nil {
			return true
		}
		var e *gatehouse.Entity
		if entity != nil {
			e = entity(t, id)
		}
		s := c.uncond
		s.Union(&c.cond)
		s = s.Intersect(masks[t])
		if sc, ok := firstMissing(s, func(sc catalog.Scope) bool { return h.holdsOnEntity(sc, t, id, e) }); ok {
			x = &Excess{Scope: sc, Type: t, Entity: id}
			return false
		}
		return true
	})
	return x
}

// firstMissing returns the first scope of s for which has is false.
func firstMissing(s catalog.Set, has func(catalog.Scope) bool) (catalog.Scope, bool) {
	for _, sc := range s.Scopes() {
		if !has(sc) {
			return sc, true
		}
	}
	return 0, false
}

func scopeType(sc catalog.Scope) gatehouse.EntityType {
	for t := range masks {
		if masks[t].Has(sc) {
			return gatehouse.EntityType(t)
		}
	}
	return gatehouse.EntityGlobal
}

func (o *Compiled) subsetOf(h *Grants, entity EntityLookup) *Excess {
	for t := range o.byEntity {
		et := gatehouse.EntityType(t)
		ids := make([]string, 0, len(o.byEntity[t]))
		for id := range o.byEntity[t] {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			g := o.byEntity[t][id]
			var e *gatehouse.Entity
			if entity != nil {
				e = entity(et, id)
			}
			has := func(sc catalog.Scope) bool { return h.holdsOnEntity(sc, et, id, e) }
			if x, ok := firstMissing(g.all, has); ok {
				return &Excess{Scope: x, Type: et, Entity: id}
			}
			var hg []*guarded
			for _, r := range h.roles {
				if m := r.byEntity[t]; m != nil && m[id] != nil {
					hg = append(hg, m[id])
				}
			}
			if x, ok := missingRest(g.rest, has, hg); ok {
				return &Excess{Scope: x, Type: et, Entity: id, Condition: true}
			}
		}
	}
	for t := range o.tagKeys {
		et := gatehouse.EntityType(t)
		for _, k := range o.tagKeys[t] {
			has := func(sc catalog.Scope) bool { return h.holdsOnTag(sc, et, k.key, "", false) }
			if x, ok := firstMissing(k.has.all, has); ok {
				return &Excess{Scope: x, Type: et, TagKey: k.key}
			}
			if x, ok := missingRest(k.has.rest, has, h.keyGuards(et, k.key, "", false)); ok {
				return &Excess{Scope: x, Type: et, TagKey: k.key, Condition: true}
			}
			vals := make([]string, 0, len(k.values))
			for v := range k.values {
				vals = append(vals, v)
			}
			slices.Sort(vals)
			for _, v := range vals {
				g := k.values[v]
				has := func(sc catalog.Scope) bool { return h.holdsOnTag(sc, et, k.key, v, true) }
				if x, ok := firstMissing(g.all, has); ok {
					return &Excess{Scope: x, Type: et, TagKey: k.key, TagValue: v, HasValue: true}
				}
				if x, ok := missingRest(g.rest, has, h.keyGuards(et, k.key, v, true)); ok {
					return &Excess{Scope: x, Type: et, TagKey: k.key, TagValue: v, HasValue: true, Condition: true}
				}
			}
		}
	}
	var hres []residual
	for _, r := range h.roles {
		hres = append(hres, r.residual...)
	}
	for i := range o.residual {
		if x, ok := missingRest(o.residual[i:i+1], func(sc catalog.Scope) bool { return h.uncond.Has(sc) }, []*guarded{{rest: hres}}); ok {
			return &Excess{Scope: x, Type: scopeType(x), Condition: true}
		}
	}
	return nil
}

// missingRest returns the first scope of the conditional grants rest that
// has does not cover and that no holder grant in hg gives under the very
// same condition.
func missingRest(rest []residual, has func(catalog.Scope) bool, hg []*guarded) (catalog.Scope, bool) {
	for i := range rest {
		for _, sc := range rest[i].scopes.Scopes() {
			if has(sc) || sameCondition(sc, rest[i].cond, hg) {
				continue
			}
			return sc, true
		}
	}
	return 0, false
}

// sameCondition reports whether a grant of hg gives sc under a condition
// identical to cond (same index key, same remaining condition: the same
// grant).
func sameCondition(sc catalog.Scope, cond Expr, hg []*guarded) bool {
	for _, g := range hg {
		for i := range g.rest {
			if g.rest[i].scopes.Has(sc) && reflect.DeepEqual(g.rest[i].cond, cond) {
				return true
			}
		}
	}
	return false
}

// keyGuards returns the holder's index entries for tag key (and value
// val when hasVal) of type t: a key rule covers every value.
func (g *Grants) keyGuards(t gatehouse.EntityType, key, val string, hasVal bool) []*guarded {
	var out []*guarded
	for _, r := range g.roles {
		k := r.keyIndex(t, key)
		if k == nil {
			continue
		}
		out = append(out, &k.has)
		if hasVal && k.values[val] != nil {
			out = append(out, k.values[val])
		}
	}
	return out
}

// holdsOnEntity reports whether g grants sc on entity id of type t whatever
// else is true of it, or, e not nil, on e as it is.
func (g *Grants) holdsOnEntity(sc catalog.Scope, t gatehouse.EntityType, id string, e *gatehouse.Entity) bool {
	if g.uncond.Has(sc) {
		return true
	}
	for _, r := range g.roles {
		if m := r.byEntity[t]; m != nil {
			if eg := m[id]; eg != nil && eg.all.Has(sc) {
				return true
			}
		}
	}
	if o := g.owned; o != nil && o.Sets[t] != nil && o.Sets[t].uncond.Has(sc) && o.Owns(t, id) {
		return true
	}
	return e != nil && e.Type == t && strings.EqualFold(e.ID, id) && g.Decide(sc, e)
}

// holdsOnTag reports whether g grants sc on every entity of type t with tag
// key (with value val when hasVal), whatever else is true of it.
func (g *Grants) holdsOnTag(sc catalog.Scope, t gatehouse.EntityType, key, val string, hasVal bool) bool {
	if g.uncond.Has(sc) {
		return true
	}
	for _, r := range g.roles {
		k := r.keyIndex(t, key)
		if k == nil {
			continue
		}
		if k.has.all.Has(sc) {
			return true
		}
		if hasVal {
			if vg := k.values[val]; vg != nil && vg.all.Has(sc) {
				return true
			}
		}
	}
	return false
}

func (o *Compiled) keyIndex(t gatehouse.EntityType, key string) *keyIndex {
	if m := o.tagKeyMap[t]; m != nil {
		return m[key]
	}
	for _, k := range o.tagKeys[t] {
		if k.key == key {
			return k
		}
	}
	return nil
}

// Holds reports whether the grants give every scope unconditionally: what
// an organization's Admin holds.
func (g *Grants) Holds(s catalog.Set) bool {
	return g != nil && s.Minus(g.uncond).Empty()
}
