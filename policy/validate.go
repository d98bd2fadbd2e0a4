package policy

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

// Options says what kind of document is validated and how to resolve its
// references.
type Options struct {
	// Root is the path prefix of errors; "details" when empty.
	Root string
	// Purpose is the uxPurpose: "set" documents must be flat (Allow, Group,
	// Compose) and hold only scopes of ResourceType.
	Purpose string
	// ResourceType is the entity type of a permission set.
	ResourceType gatehouse.EntityType
	// SelfID is the document's own id when it is being updated, so that a
	// Compose reaching back to it is found as a cycle.
	SelfID string
	// Lookup resolves Compose references. With none, references are not
	// checked.
	Lookup Lookup
}

// Parse decodes and validates a document: the one call a service makes.
func Parse(data []byte, opts Options) (Node, error) {
	root := opts.Root
	if root == "" {
		root = "details"
	}
	n, err := DecodeAt(data, root)
	if err != nil {
		return nil, err
	}
	if err := Validate(n, opts); err != nil {
		return nil, err
	}
	return n, nil
}

// Validate checks the meaning of a decoded document: every scope exists
// (with the nearest valid one suggested) and can apply under its enclosing
// conditions, conditions compare like with like, references resolve and do
// not form cycles. The error is Errors, each with its path.
func Validate(n Node, opts Options) error {
	if opts.Root == "" {
		opts.Root = "details"
	}
	v := validator{opts: opts, p: &problems{}, refOK: map[string]bool{}}
	allowed := allTypes
	if opts.Purpose == "set" {
		allowed = typeBit(opts.ResourceType)
	}
	if n == nil {
		v.p.add(opts.Root, "missing")
	}
	v.node(n, opts.Root, allowed, "")
	return v.p.err()
}

// typeMask is a set of entity types, one bit each.
type typeMask uint8

const allTypes typeMask = 1<<numTypes - 1

func typeBit(t gatehouse.EntityType) typeMask { return 1 << t }

func (m typeMask) String() string {
	var names []string
	for t := 0; t < numTypes; t++ {
		if m&(1<<t) != 0 {
			names = append(names, gatehouse.EntityType(t).String())
		}
	}
	return strings.Join(names, " or ")
}

type validator struct {
	opts  Options
	p     *problems
	refOK map[string]bool // references already checked for cycles
}

// node validates n. allowed is the set of entity types its enclosing
// conditions admit; where names the innermost condition for messages.
func (v *validator) node(n Node, path string, allowed typeMask, where string) {
	if v.p.full() {
		return
	}
	switch n.(type) {
	case *Condition, *IfThenElse, *Select:
		if v.opts.Purpose == "set" {
			v.p.add(path, "a permission set grants its scopes unconditionally; put conditions in a role")
			return
		}
	}
	switch n := n.(type) {
	case *Allow:
		for i, name := range n.Permissions {
			v.scope(name, path+".permissions["+strconv.Itoa(i)+"]", allowed, where)
		}
	case *Group:
		for i, e := range n.Entries {
			v.node(e, path+".entries["+strconv.Itoa(i)+"]", allowed, where)
		}
	case *Compose:
		for i, id := range n.Descriptors {
			v.reference(id, path+".permissionDescriptors["+strconv.Itoa(i)+"]", allowed, where)
		}
	case *Condition:
		inner, w := v.condition(n.Condition, path+".condition", allowed, where)
		v.node(n.SubNode, path+".subNode", inner, w)
	case *IfThenElse:
		inner, w := v.condition(n.Condition, path+".condition", allowed, where)
		v.node(n.Then, path+".subNodeForTrue", inner, w)
		v.node(n.Else, path+".subNodeForFalse", inner, w)
	case *Select:
		inner, w := v.condition(n.Selector, path+".selector", allowed, where)
		for i, o := range n.Options {
			op := path + ".options[" + strconv.Itoa(i) + "]"
			v.expr(o.Value, op+".value")
			v.node(o.Node, op+".node", inner, w)
		}
	}
}

func (v *validator) scope(name, path string, allowed typeMask, where string) {
	sc, ok := catalog.Lookup(name)
	if !ok {
		msg := fmt.Sprintf("unknown scope %q", name)
		if s := catalog.Suggest(name); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		v.p.add(path, msg)
		return
	}
	var applies typeMask
	for _, t := range sc.Info().Types {
		applies |= typeBit(t)
	}
	if applies&allowed != 0 {
		return
	}
	if v.opts.Purpose == "set" && where == "" {
		v.p.add(path, fmt.Sprintf("scope %s applies to %s entities and cannot be in a %s permission set",
			name, applies, v.opts.ResourceType))
		return
	}
	v.p.add(path, fmt.Sprintf("scope %s applies to %s entities and can never be granted under %s",
		name, applies, where))
}

// condition validates a condition and returns the types its body may
// apply to and a description for messages.
func (v *validator) condition(e Expr, path string, allowed typeMask, where string) (typeMask, string) {
	v.expr(e, path)
	ctx := contexts(e)
	if ctx == 0 {
		return allowed, where
	}
	inner := allowed & ctx
	w := fmt.Sprintf("the condition at %s (on %s)", path, ctx)
	if inner == 0 {
		v.p.add(path, fmt.Sprintf("a condition on %s inside %s can never hold", ctx, where))
	}
	return inner, w
}

// contexts returns the entity types e refers to.
func contexts(e Expr) typeMask {
	switch x := e.(type) {
	case *And:
		return contexts(x.Left) | contexts(x.Right)
	case *Or:
		return contexts(x.Left) | contexts(x.Right)
	case *Not:
		return contexts(x.Node)
	case *Equal:
		return contexts(x.Left) | contexts(x.Right)
	case *In:
		return contexts(x.Target)
	case *Context:
		return typeBit(x.Type)
	case *Tag:
		if x.Context != nil {
			return typeBit(x.Context.Type)
		}
	case *HasTag:
		if x.Context != nil {
			return typeBit(x.Context.Type)
		}
	}
	return 0
}

// expr checks comparisons that can never hold and unsupported contexts.
func (v *validator) expr(e Expr, path string) {
	switch x := e.(type) {
	case *And:
		v.expr(x.Left, path+".left")
		v.expr(x.Right, path+".right")
	case *Or:
		v.expr(x.Left, path+".left")
		v.expr(x.Right, path+".right")
	case *Not:
		v.expr(x.Node, path+".node")
	case *Equal:
		v.expr(x.Left, path+".left")
		v.expr(x.Right, path+".right")
		if a, b := staticKind(x.Left), staticKind(x.Right); a != "" && b != "" && a != b {
			v.p.add(path, fmt.Sprintf("compares %s with %s, which is never equal", a, b))
		}
	case *In:
		v.expr(x.Target, path+".target")
		var setKind string
		switch s := x.Values.(type) {
		case *StringSet:
			setKind = "a string"
		case *EntitySet:
			setKind = article(s.Type) + " " + s.Type.String()
		}
		if k := staticKind(x.Target); k != "" && setKind != "" && k != setKind {
			v.p.add(path, fmt.Sprintf("tests %s against a set of %s values, which never matches", k, strings.TrimPrefix(strings.TrimPrefix(setKind, "an "), "a ")))
		}
	case *Context:
		if x.Type == gatehouse.EntityTeam {
			v.p.add(path, "team contexts are not supported: no scope applies to a team, so the condition could never grant anything")
		}
	case *Tag:
		v.expr(x.Context, path+".context")
	case *HasTag:
		v.expr(x.Context, path+".context")
	}
}

// staticKind names the kind of value e always has, or "" when unknown.
func staticKind(e Expr) string {
	switch x := e.(type) {
	case *Context:
		return article(x.Type) + " " + x.Type.String()
	case *EntityLit:
		return article(x.Type) + " " + x.Type.String()
	case *Tag, *String:
		return "a string"
	case *Number:
		return "a number"
	case *Bool, *And, *Or, *Not, *Equal, *HasTag, *In:
		return "a boolean"
	}
	return ""
}

// reference checks one Compose reference: it resolves, fits the enclosing
// conditions, and leads to no cycle.
func (v *validator) reference(id, path string, allowed typeMask, where string) {
	if v.opts.SelfID != "" && id == v.opts.SelfID {
		v.p.add(path, "a descriptor cannot compose itself")
		return
	}
	if v.opts.Lookup == nil {
		return
	}
	d, ok := v.opts.Lookup(id)
	if !ok || d == nil {
		v.p.add(path, fmt.Sprintf("unknown permission descriptor %q", id))
		return
	}
	if d.Purpose == "set" && allowed != allTypes && typeBit(d.ResourceType)&allowed == 0 {
		v.p.add(path, fmt.Sprintf("permission set %q is for %s entities and can never be granted under %s",
			d.Name, d.ResourceType, where))
	}
	if v.opts.Purpose == "set" && d.Purpose == "set" && d.ResourceType != v.opts.ResourceType {
		v.p.add(path, fmt.Sprintf("permission set %q is for %s entities and cannot be in a %s permission set",
			d.Name, d.ResourceType, v.opts.ResourceType))
	}
	if cycle := v.cycle(id, []string{id}); cycle != nil {
		names := make([]string, len(cycle))
		for i, c := range cycle {
			names[i] = strconv.Quote(c)
		}
		v.p.add(path, "reference cycle: "+strings.Join(names, " -> "))
	}
}

// cycle returns a reference chain from chain's last id back onto itself or
// onto the document, or nil.
func (v *validator) cycle(id string, chain []string) []string {
	if v.refOK[id] {
		return nil
	}
	d, ok := v.opts.Lookup(id)
	if !ok || d == nil {
		return nil
	}
	var found []string
	walkComposes(d.Details, func(ref string) bool {
		if (v.opts.SelfID != "" && ref == v.opts.SelfID) || containsString(chain, ref) {
			found = append(append([]string(nil), chain...), ref)
			return false
		}
		if c := v.cycle(ref, append(chain, ref)); c != nil {
			found = c
			return false
		}
		return true
	})
	if found == nil {
		v.refOK[id] = true
	}
	return found
}

// walkComposes calls f for every Compose reference in n until f returns
// false.
func walkComposes(n Node, f func(id string) bool) bool {
	switch n := n.(type) {
	case *Compose:
		for _, id := range n.Descriptors {
			if !f(id) {
				return false
			}
		}
	case *Group:
		for _, e := range n.Entries {
			if !walkComposes(e, f) {
				return false
			}
		}
	case *Condition:
		return walkComposes(n.SubNode, f)
	case *IfThenElse:
		return walkComposes(n.Then, f) && walkComposes(n.Else, f)
	case *Select:
		for _, o := range n.Options {
			if !walkComposes(o.Node, f) {
				return false
			}
		}
	}
	return true
}

// References returns every descriptor id n composes directly, in order,
// without duplicates: what a store records so that a descriptor in use
// cannot be deleted.
func References(n Node) []string {
	var out []string
	walkComposes(n, func(id string) bool {
		if !containsString(out, id) {
			out = append(out, id)
		}
		return true
	})
	return out
}
