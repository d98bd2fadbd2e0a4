package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

const numTypes = gatehouse.NumEntityTypes

// masks[t] is the set of scopes that apply to entity type t.
var masks = func() (m [numTypes]catalog.Set) {
	for t := range m {
		m[t] = catalog.TypeMask(gatehouse.EntityType(t))
	}
	return m
}()

// Compiled is one role compiled into the indexed form of ARCHITECTURE §5:
// the scopes it grants unconditionally; per entity type, maps from entity id
// and from tag key (and value) to the scopes a matching entity gets; and the
// residual conditions the index does not cover, evaluated generally.
// A Compiled is immutable and safe for concurrent use.
type Compiled struct {
	// uncond holds the scopes granted on every entity they apply to.
	uncond catalog.Set
	// cond is the union of every conditional grant: a scope outside it can
	// only come from uncond.
	cond     catalog.Set
	byEntity [numTypes]map[string]*guarded
	// tagKeys lists, per type, the tag keys the role's rules read, sorted;
	// tagKeyMap indexes the same when there are many.
	tagKeys   [numTypes][]*keyIndex
	tagKeyMap [numTypes]map[string]*keyIndex
	residual  []residual
}

// guarded is what an index key grants: all whenever the key matches, and
// each rest grant when its remaining condition also holds.
type guarded struct {
	all  catalog.Set
	rest []residual
}

func (g *guarded) allows(sc catalog.Scope, e *gatehouse.Entity) bool {
	if g.all.Has(sc) {
		return true
	}
	for i := range g.rest {
		if g.rest[i].scopes.Has(sc) && evalBool(g.rest[i].cond, e) {
			return true
		}
	}
	return false
}

// keyIndex is everything one tag key grants: on HasTag, and per value.
type keyIndex struct {
	key    string
	any    catalog.Set
	has    guarded
	values map[string]*guarded
}

// residual is a grant under a condition the index does not cover.
type residual struct {
	scopes catalog.Set
	cond   Expr
}

// manyKeys is the number of tag keys past which a role looks tags up by map
// instead of scanning its key list.
const manyKeys = 8

// dnfLimit bounds the disjunctive normal form of one guard; a guard that
// would expand further is kept whole as a residual condition.
const dnfLimit = 64

// Compile compiles a descriptor tree, its Compose references resolved through
// lookup, into the indexed form. It accepts any decoded tree; Validate is
// where bad documents are refused. Compile and Evaluate agree on every tree.
//
// Each descriptor is walked once per guard and Compose chain in one
// compile (composing the same descriptor again under the same conditions
// adds nothing), so that nesting costs the size of the descriptors, not
// the number of paths through them. A tree whose expansion is still over
// MaxExpansion nodes (references under conditions of their own, which
// multiply) compiles to a role that grants nothing: fail closed. The
// service refuses such a role when it is written (Expansion).
func Compile(n Node, lookup Lookup) *Compiled {
	c := newCompiler(lookup, MaxExpansion)
	c.node(n, nil, nil)
	if c.over {
		out := &Compiled{}
		out.finish()
		return out
	}
	c.out.finish()
	return c.out
}

// MaxExpansion is the most nodes a role may expand to through Compose.
const MaxExpansion = 100_000

// Expansion walks n as Compile does and returns the number of nodes it
// expands to. Over budget it stops, and returns the Compose path at which
// it went over and an invalid error naming it.
func Expansion(n Node, lookup Lookup, budget int) (int, string, error) {
	c := newCompiler(lookup, budget)
	c.count = true
	c.node(n, nil, nil)
	if c.over {
		path := "details > Compose " + strings.Join(c.overPath, " > Compose ")
		return c.nodes, path, gatehouse.Errorf(gatehouse.EINVALID,
			"details: the role expands to more than %d nodes through Compose (at %s); compose fewer descriptors or nest them less", budget, path)
	}
	return c.nodes, "", nil
}

func newCompiler(lookup Lookup, budget int) *compiler {
	return &compiler{
		out:    &Compiled{},
		lookup: lookup,
		allows: map[*Allow]catalog.Set{},
		flat:   map[string]*flatSet{},
		seen:   map[string]bool{},
		budget: budget,
	}
}

// Empty reports whether the role grants nothing at all.
func (o *Compiled) Empty() bool {
	return o.uncond.Empty() && o.cond.Empty() && len(o.residual) == 0
}

type compiler struct {
	out    *Compiled
	lookup Lookup
	allows map[*Allow]catalog.Set
	// flat caches, per descriptor id, the scopes of a descriptor made only
	// of Allow, Group and such Composes (every permission set), so that the
	// thousands of rules of a console role composing the same set cost one
	// emit each.
	flat map[string]*flatSet
	// seen holds the descriptors walked, by id, guard and Compose chain:
	// a second walk under the same would emit the same grants again.
	seen map[string]bool
	// nodes counts the nodes walked, up to budget; over is set past it,
	// with the Compose chain where it happened.
	nodes, budget int
	over          bool
	overPath      []string
	// count walks without emitting (Expansion).
	count bool
}

// walkKey identifies a walk of descriptor id under guard within the
// Compose chain composing.
func walkKey(id string, guard []Expr, composing []string) string {
	var b strings.Builder
	b.WriteString(id)
	for _, g := range guard {
		fmt.Fprintf(&b, "\x00%p", g)
	}
	b.WriteString("\x01")
	b.WriteString(strings.Join(composing, "\x00"))
	return b.String()
}

type flatSet struct {
	ok     bool
	scopes catalog.Set
}

func (c *compiler) allowSet(a *Allow) catalog.Set {
	s, ok := c.allows[a]
	if !ok {
		s = scopeSet(a.Permissions)
		c.allows[a] = s
	}
	return s
}

func (c *compiler) node(n Node, guard []Expr, composing []string) {
	if c.over {
		return
	}
	if c.nodes++; c.nodes > c.budget {
		c.over, c.overPath = true, slices.Clone(composing)
		return
	}
	switch n := n.(type) {
	case *Allow:
		c.emit(guard, c.allowSet(n))
	case *Group:
		for _, e := range n.Entries {
			c.node(e, guard, composing)
		}
	case *Compose:
		for _, id := range n.Descriptors {
			if containsString(composing, id) || c.lookup == nil {
				continue
			}
			if f := c.flatten(id, composing); f.ok {
				c.emit(guard, f.scopes)
				continue
			}
			key := walkKey(id, guard, composing)
			if c.seen[key] {
				continue
			}
			c.seen[key] = true
			if d, ok := c.lookup(id); ok && d != nil {
				c.node(d.Details, guard, append(composing, id))
			}
		}
	case *Condition:
		c.node(n.SubNode, with(guard, n.Condition), composing)
	case *IfThenElse:
		c.node(n.Then, with(guard, n.Condition), composing)
		c.node(n.Else, with(guard, &Not{Node: n.Condition}), composing)
	case *Select:
		for _, o := range n.Options {
			c.node(o.Node, with(guard, &Equal{Left: n.Selector, Right: o.Value}), composing)
		}
	}
}

// with returns guard plus cond, never sharing guard's backing array.
func with(guard []Expr, cond Expr) []Expr {
	out := make([]Expr, len(guard)+1)
	copy(out, guard)
	out[len(guard)] = cond
	return out
}

// flatten returns the unconditional scopes of descriptor id, when it is
// made only of Allow, Group and Compose of such descriptors.
func (c *compiler) flatten(id string, composing []string) *flatSet {
	if f, ok := c.flat[id]; ok {
		return f
	}
	f := &flatSet{}
	c.flat[id] = f // a cycle back to id finds ok=false and walks instead
	if d, ok := c.lookup(id); ok && d != nil {
		f.ok = c.flatNode(d.Details, &f.scopes, append(composing, id))
	} else {
		f.ok = true // a dangling reference grants nothing
	}
	return f
}

func (c *compiler) flatNode(n Node, into *catalog.Set, composing []string) bool {
	switch n := n.(type) {
	case *Allow:
		s := c.allowSet(n)
		into.Union(&s)
		return true
	case *Group:
		for _, e := range n.Entries {
			if !c.flatNode(e, into, composing) {
				return false
			}
		}
		return true
	case *Compose:
		for _, id := range n.Descriptors {
			if containsString(composing, id) {
				return false
			}
			f := c.flatten(id, composing)
			if !f.ok {
				return false
			}
			into.Union(&f.scopes)
		}
		return true
	case nil:
		return true
	}
	return false
}

// emit records that scopes s are granted where every condition of guard
// holds.
func (c *compiler) emit(guard []Expr, s catalog.Set) {
	if s.Empty() || c.count {
		return
	}
	conjs := [][]Expr{nil}
	for _, g := range guard {
		conjs = product(conjs, expand(g, false))
		if conjs == nil {
			c.addResidual(s, andAll(guard))
			return
		}
	}
	for _, conj := range conjs {
		c.emitConj(conj, s)
	}
}

// expand returns the disjunctive normal form of e (negated when neg) as a
// list of conjunctions of atoms, or nil when it would exceed dnfLimit.
func expand(e Expr, neg bool) [][]Expr {
	switch x := e.(type) {
	case *Not:
		return expand(x.Node, !neg)
	case *And:
		if neg {
			return union(expand(x.Left, true), expand(x.Right, true))
		}
		return product(expand(x.Left, false), expand(x.Right, false))
	case *Or:
		if neg {
			return product(expand(x.Left, true), expand(x.Right, true))
		}
		return union(expand(x.Left, false), expand(x.Right, false))
	case *In:
		if !neg {
			if out, ok := inAsEquals(x); ok {
				return out
			}
		}
	}
	if neg {
		return [][]Expr{{&Not{Node: e}}}
	}
	return [][]Expr{{e}}
}

// inAsEquals rewrites In(target, {v1, v2, ...}) as Equal(target, v1) or ...
func inAsEquals(in *In) ([][]Expr, bool) {
	var out [][]Expr
	switch set := in.Values.(type) {
	case *StringSet:
		if len(set.Values) > dnfLimit {
			return nil, false
		}
		for _, v := range set.Values {
			out = append(out, []Expr{&Equal{Left: in.Target, Right: &String{Value: v}}})
		}
	case *EntitySet:
		if len(set.IDs) > dnfLimit {
			return nil, false
		}
		for _, id := range set.IDs {
			out = append(out, []Expr{&Equal{Left: in.Target, Right: &EntityLit{Type: set.Type, ID: id}}})
		}
	default:
		return nil, false
	}
	if out == nil {
		return [][]Expr{{&Bool{Value: false}}}, true
	}
	return out, true
}

func union(a, b [][]Expr) [][]Expr {
	if a == nil || b == nil || len(a)+len(b) > dnfLimit {
		return nil
	}
	return append(append(make([][]Expr, 0, len(a)+len(b)), a...), b...)
}

func product(a, b [][]Expr) [][]Expr {
	if a == nil || b == nil || len(a)*len(b) > dnfLimit {
		return nil
	}
	out := make([][]Expr, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			conj := make([]Expr, 0, len(x)+len(y))
			out = append(out, append(append(conj, x...), y...))
		}
	}
	return out
}

func andAll(atoms []Expr) Expr {
	if len(atoms) == 0 {
		return nil
	}
	e := atoms[0]
	for _, a := range atoms[1:] {
		e = &And{Left: e, Right: a}
	}
	return e
}

// entityFree reports whether e reads nothing of the entity, so that its
// value is the same everywhere.
func entityFree(e Expr) bool {
	switch x := e.(type) {
	case *Context, *Tag, *HasTag:
		return false
	case *And:
		return entityFree(x.Left) && entityFree(x.Right)
	case *Or:
		return entityFree(x.Left) && entityFree(x.Right)
	case *Equal:
		return entityFree(x.Left) && entityFree(x.Right)
	case *Not:
		return entityFree(x.Node)
	case *In:
		return entityFree(x.Target)
	}
	return true
}

var nowhere = &gatehouse.Entity{Type: gatehouse.EntityGlobal}

// indexKind orders index atoms by selectivity.
type indexKind int

const (
	noIndex indexKind = iota
	hasTagIndex
	tagValueIndex
	entityIndex
)

type indexAtom struct {
	kind indexKind
	t    gatehouse.EntityType
	key  string // entity id, or tag key
	val  string // tag value
}

func classify(e Expr) indexAtom {
	switch x := e.(type) {
	case *Equal:
		if a, ok := equalIndex(x.Left, x.Right); ok {
			return a
		}
		if a, ok := equalIndex(x.Right, x.Left); ok {
			return a
		}
	case *HasTag:
		if x.Context != nil {
			return indexAtom{kind: hasTagIndex, t: x.Context.Type, key: x.Key}
		}
	}
	return indexAtom{}
}

func equalIndex(l, r Expr) (indexAtom, bool) {
	switch l := l.(type) {
	case *Context:
		if lit, ok := r.(*EntityLit); ok && lit.Type == l.Type {
			return indexAtom{kind: entityIndex, t: l.Type, key: lit.ID}, true
		}
	case *Tag:
		if s, ok := r.(*String); ok && l.Context != nil {
			return indexAtom{kind: tagValueIndex, t: l.Context.Type, key: l.Key, val: s.Value}, true
		}
	}
	return indexAtom{}, false
}

func (c *compiler) emitConj(conj []Expr, s catalog.Set) {
	atoms := make([]Expr, 0, len(conj))
	for _, a := range conj {
		if entityFree(a) {
			if !evalBool(a, nowhere) {
				return // never holds: grants nothing
			}
			continue // always holds
		}
		atoms = append(atoms, a)
	}
	if len(atoms) == 0 {
		c.out.uncond.Union(&s)
		return
	}
	best, bestAt := indexAtom{}, -1
	for i, a := range atoms {
		if ia := classify(a); ia.kind > best.kind {
			best, bestAt = ia, i
		}
	}
	if bestAt < 0 {
		c.addResidual(s, andAll(atoms))
		return
	}
	s = s.Intersect(masks[best.t])
	if s.Empty() {
		return
	}
	rest := andAll(append(atoms[:bestAt:bestAt], atoms[bestAt+1:]...))
	g := c.guardedFor(best, &s)
	if rest == nil {
		g.all.Union(&s)
	} else {
		g.rest = append(g.rest, residual{scopes: s, cond: rest})
	}
	c.out.cond.Union(&s)
}

func (c *compiler) guardedFor(a indexAtom, s *catalog.Set) *guarded {
	o := c.out
	if a.kind == entityIndex {
		if o.byEntity[a.t] == nil {
			o.byEntity[a.t] = map[string]*guarded{}
		}
		g := o.byEntity[a.t][a.key]
		if g == nil {
			g = &guarded{}
			o.byEntity[a.t][a.key] = g
		}
		return g
	}
	if o.tagKeyMap[a.t] == nil {
		o.tagKeyMap[a.t] = map[string]*keyIndex{}
	}
	k := o.tagKeyMap[a.t][a.key]
	if k == nil {
		k = &keyIndex{key: a.key}
		o.tagKeyMap[a.t][a.key] = k
		o.tagKeys[a.t] = append(o.tagKeys[a.t], k)
	}
	k.any.Union(s)
	if a.kind == hasTagIndex {
		return &k.has
	}
	if k.values == nil {
		k.values = map[string]*guarded{}
	}
	g := k.values[a.val]
	if g == nil {
		g = &guarded{}
		k.values[a.val] = g
	}
	return g
}

func (c *compiler) addResidual(s catalog.Set, cond Expr) {
	c.out.residual = append(c.out.residual, residual{scopes: s, cond: cond})
	c.out.cond.Union(&s)
}

func (o *Compiled) finish() {
	for t := range o.tagKeys {
		slices.SortFunc(o.tagKeys[t], func(a, b *keyIndex) int { return strings.Compare(a.key, b.key) })
		if len(o.tagKeys[t]) <= manyKeys {
			o.tagKeyMap[t] = nil
		}
	}
}

// decideCond reports whether a conditional grant of o gives sc on e.
func (o *Compiled) decideCond(sc catalog.Scope, e *gatehouse.Entity) bool {
	t := e.Type
	if m := o.byEntity[t]; m != nil {
		if g := m[e.ID]; g != nil && g.allows(sc, e) {
			return true
		}
	}
	if m := o.tagKeyMap[t]; m != nil {
		for i := range e.Tags {
			if k := m[e.Tags[i].Key]; k != nil && k.any.Has(sc) && k.allows(sc, e, e.Tags[i].Value) {
				return true
			}
		}
	} else {
		for _, k := range o.tagKeys[t] {
			if !k.any.Has(sc) {
				continue
			}
			if v, ok := e.Tag(k.key); ok && k.allows(sc, e, v) {
				return true
			}
		}
	}
	for i := range o.residual {
		if o.residual[i].scopes.Has(sc) && evalBool(o.residual[i].cond, e) {
			return true
		}
	}
	return false
}

func (k *keyIndex) allows(sc catalog.Scope, e *gatehouse.Entity, value string) bool {
	if k.has.allows(sc, e) {
		return true
	}
	if g := k.values[value]; g != nil && g.allows(sc, e) {
		return true
	}
	return false
}

// Grants is the union of a principal's compiled roles. Build it once per
// snapshot revision with Union and reuse it for every decision.
type Grants struct {
	uncond catalog.Set
	cond   catalog.Set
	roles  []*Compiled // those with conditional grants
	owned  *Owned
}

// Owned is what a creator holds on what they created, decided without a
// rule per entity (so that creating one more costs nothing to compile):
// on each entity of type t that Owns reports, what Sets[t] grants on it,
// as a rule "the entity is this one: compose the set" would.
type Owned struct {
	Owns func(t gatehouse.EntityType, id string) bool
	// Each calls yield with every entity Owns reports, until it returns
	// false (for Subset, which compares grants entity by entity).
	Each func(yield func(t gatehouse.EntityType, id string) bool)
	Sets [numTypes]*Compiled
}

// UnionOwned is Union, with what owned grants (nil: nothing).
func UnionOwned(owned *Owned, roles ...*Compiled) *Grants {
	g := Union(roles...)
	if owned == nil {
		return g
	}
	g.owned = owned
	for t, c := range owned.Sets {
		if c != nil {
			s := c.uncond
			s.Union(&c.cond)
			s = s.Intersect(masks[t])
			g.cond.Union(&s)
		}
	}
	return g
}

// ownedDecide reports whether g's owned grants give sc on e.
func (g *Grants) ownedDecide(sc catalog.Scope, e *gatehouse.Entity) bool {
	o := g.owned
	c := o.Sets[e.Type]
	if c == nil || !c.uncond.Has(sc) && !c.cond.Has(sc) || !o.Owns(e.Type, e.ID) {
		return false
	}
	return c.uncond.Has(sc) || c.decideCond(sc, e)
}

// Union returns the union of the given compiled roles. Nil roles are
// skipped.
func Union(roles ...*Compiled) *Grants {
	g := &Grants{}
	for _, r := range roles {
		if r == nil {
			continue
		}
		g.uncond.Union(&r.uncond)
		if !r.cond.Empty() {
			g.cond.Union(&r.cond)
			g.roles = append(g.roles, r)
		}
	}
	return g
}

// Decide reports whether the grants give scope sc on entity e. A scope
// that does not apply to e's type is never granted. Decide does not
// allocate. e.Tags keys must be unique.
func (g *Grants) Decide(sc catalog.Scope, e *gatehouse.Entity) bool {
	if int(e.Type) >= numTypes || int(sc) >= catalog.MaxScopes || !masks[e.Type].Has(sc) {
		return false
	}
	if g.uncond.Has(sc) {
		return true
	}
	if !g.cond.Has(sc) {
		return false
	}
	for _, r := range g.roles {
		if r.cond.Has(sc) && r.decideCond(sc, e) {
			return true
		}
	}
	return g.owned != nil && g.ownedDecide(sc, e)
}

// Allowed returns every scope the grants give on entity e.
func (g *Grants) Allowed(e *gatehouse.Entity) catalog.Set {
	if int(e.Type) >= numTypes {
		return catalog.Set{}
	}
	out := g.uncond.Intersect(masks[e.Type])
	for _, sc := range g.cond.Intersect(masks[e.Type]).Minus(out).Scopes() {
		if g.Decide(sc, e) {
			out.Add(sc)
		}
	}
	return out
}

// Decide reports whether role o alone gives sc on e.
func (o *Compiled) Decide(sc catalog.Scope, e *gatehouse.Entity) bool {
	return Union(o).Decide(sc, e)
}
