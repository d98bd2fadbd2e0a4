package policy

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

// Explanation says why a decision came out as it did.
type Explanation struct {
	Allowed bool `json:"allowed"`
	// Reason is one sentence for people: what granted the scope, or why
	// nothing did.
	Reason string `json:"reason"`
	// Grants lists every place that grants the scope on the entity.
	Grants []Match `json:"grants,omitempty"`
	// Unmet lists the places that grant the scope under a condition that
	// does not hold for this entity.
	Unmet []Match `json:"unmet,omitempty"`
}

// Match is one Allow node that names the scope.
type Match struct {
	RoleID string `json:"roleId,omitempty"`
	Role   string `json:"role"`
	// Path is the node path from the role's details to the Allow, through
	// Compose references ("details.entries[1].subNode -> set \"Stack Write\" details").
	Path string `json:"path"`
	// Condition is the condition that did not hold and Because what the
	// entity has instead (Unmet only).
	Condition string `json:"condition,omitempty"`
	Because   string `json:"because,omitempty"`
	// Holds are the conditions on the path that hold for the entity (the
	// tag or entity rule that grants; Grants only).
	Holds []string `json:"holds,omitempty"`
}

// Explain decides like Grants.Decide, by walking the roles' trees directly,
// and reports which role and node granted the scope or why none did.
func Explain(roles []*Descriptor, lookup Lookup, sc catalog.Scope, e *gatehouse.Entity) Explanation {
	x := explainer{lookup: lookup, scope: sc.Name(), ent: e}
	if int(e.Type) >= numTypes || !masks[e.Type].Has(sc) {
		types := make([]string, 0, 2)
		for _, t := range sc.Info().Types {
			types = append(types, t.String())
		}
		return Explanation{Reason: fmt.Sprintf("scope %s applies to %s, not to %s entities",
			sc.Name(), strings.Join(types, " and "), e.Type)}
	}
	for _, r := range roles {
		if r == nil {
			continue
		}
		x.role = r
		x.node(r.Details, "details", nil, []string{r.ID})
	}
	ex := Explanation{Allowed: len(x.grants) > 0, Grants: x.grants, Unmet: x.unmet}
	switch {
	case ex.Allowed:
		g := ex.Grants[0]
		ex.Reason = fmt.Sprintf("role %q grants %s at %s", g.Role, sc.Name(), g.Path)
	case len(ex.Unmet) > 0:
		u := ex.Unmet[0]
		ex.Reason = fmt.Sprintf("role %q grants %s at %s only where %s, which does not hold: %s",
			u.Role, sc.Name(), u.Path, u.Condition, u.Because)
	case len(roles) == 0:
		ex.Reason = "the principal holds no role"
	default:
		names := make([]string, 0, len(roles))
		for _, r := range roles {
			if r != nil {
				names = append(names, strconv.Quote(r.Name))
			}
		}
		ex.Reason = fmt.Sprintf("no role grants %s (roles held: %s)", sc.Name(), strings.Join(names, ", "))
	}
	return ex
}

type explainer struct {
	lookup Lookup
	scope  string
	ent    *gatehouse.Entity
	role   *Descriptor
	grants []Match
	unmet  []Match
}

// guardAt is an enclosing condition: expr must evaluate to want.
type guardAt struct {
	expr Expr
	want bool
}

func (x *explainer) node(n Node, path string, guards []guardAt, composing []string) {
	switch n := n.(type) {
	case *Allow:
		if !containsString(n.Permissions, x.scope) {
			return
		}
		m := Match{RoleID: x.role.ID, Role: x.role.Name, Path: path}
		for _, g := range guards {
			cond := Render(g.expr)
			if !g.want {
				cond = "not " + cond
			}
			if evalBool(g.expr, x.ent) != g.want {
				m.Condition, m.Because, m.Holds = cond, facts(g.expr, x.ent), nil
				x.unmet = append(x.unmet, m)
				return
			}
			m.Holds = append(m.Holds, cond)
		}
		x.grants = append(x.grants, m)
	case *Group:
		for i, e := range n.Entries {
			x.node(e, path+".entries["+strconv.Itoa(i)+"]", guards, composing)
		}
	case *Compose:
		for i, id := range n.Descriptors {
			if containsString(composing, id) || x.lookup == nil {
				continue
			}
			d, ok := x.lookup(id)
			if !ok || d == nil {
				continue
			}
			p := fmt.Sprintf("%s.permissionDescriptors[%d] -> %s %q details", path, i, purposeWord(d.Purpose), d.Name)
			x.node(d.Details, p, guards, append(composing, id))
		}
	case *Condition:
		x.node(n.SubNode, path+".subNode", withGuard(guards, n.Condition, true), composing)
	case *IfThenElse:
		x.node(n.Then, path+".subNodeForTrue", withGuard(guards, n.Condition, true), composing)
		x.node(n.Else, path+".subNodeForFalse", withGuard(guards, n.Condition, false), composing)
	case *Select:
		for i, o := range n.Options {
			x.node(o.Node, path+".options["+strconv.Itoa(i)+"].node",
				withGuard(guards, &Equal{Left: n.Selector, Right: o.Value}, true), composing)
		}
	}
}

func withGuard(gs []guardAt, e Expr, want bool) []guardAt {
	out := make([]guardAt, len(gs)+1)
	copy(out, gs)
	out[len(gs)] = guardAt{e, want}
	return out
}

func purposeWord(p string) string {
	switch p {
	case "set":
		return "set"
	case "policy":
		return "policy"
	case "":
		return "descriptor"
	}
	return "role"
}

// facts describes what the entity has for each thing expression e reads.
func facts(e Expr, ent *gatehouse.Entity) string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	var walk func(Expr)
	ctxFact := func(c *Context) bool {
		if c == nil {
			return false
		}
		if c.Type != ent.Type {
			add(fmt.Sprintf("the entity is %s %s, not %s", article(ent.Type), ent.Type, c.Type))
			return false
		}
		return true
	}
	walk = func(e Expr) {
		switch x := e.(type) {
		case *And:
			walk(x.Left)
			walk(x.Right)
		case *Or:
			walk(x.Left)
			walk(x.Right)
		case *Not:
			walk(x.Node)
		case *Equal:
			walk(x.Left)
			walk(x.Right)
		case *In:
			walk(x.Target)
		case *Context:
			if ctxFact(x) {
				add(fmt.Sprintf("%s is %s", x.Type, ent.ID))
			}
		case *Tag:
			if ctxFact(x.Context) {
				tagFact(x.Key, ent, add)
			}
		case *HasTag:
			if ctxFact(x.Context) {
				tagFact(x.Key, ent, add)
			}
		}
	}
	walk(e)
	if len(out) == 0 {
		return "the condition is false for every entity"
	}
	return strings.Join(out, "; ")
}

func tagFact(key string, ent *gatehouse.Entity, add func(string)) {
	if v, ok := ent.Tag(key); ok {
		add(fmt.Sprintf("tag %s is %q", strconv.Quote(key), v))
	} else {
		add(fmt.Sprintf("%s has no tag %s", ent.Type, strconv.Quote(key)))
	}
}

func article(t gatehouse.EntityType) string {
	switch t {
	case gatehouse.EntityEnvironment, gatehouse.EntityInsightsAccount:
		return "an"
	}
	return "a"
}

// Render writes an expression in a compact, readable syntax, for
// explanations and error messages:
// stack.tags["env"] == "prod" && has(stack.tags["team"]).
func Render(e Expr) string {
	var b strings.Builder
	render(&b, e, 0)
	return b.String()
}

// Operator precedence for parentheses: or < and < not/compare.
func render(b *strings.Builder, e Expr, outer int) {
	paren := func(prec int, f func()) {
		if prec < outer {
			b.WriteByte('(')
			f()
			b.WriteByte(')')
		} else {
			f()
		}
	}
	switch x := e.(type) {
	case nil:
		b.WriteString("<missing>")
	case *Or:
		paren(1, func() { render(b, x.Left, 1); b.WriteString(" || "); render(b, x.Right, 1) })
	case *And:
		paren(2, func() { render(b, x.Left, 2); b.WriteString(" && "); render(b, x.Right, 2) })
	case *Not:
		if eq, ok := x.Node.(*Equal); ok {
			paren(3, func() { render(b, eq.Left, 4); b.WriteString(" != "); render(b, eq.Right, 4) })
			return
		}
		b.WriteByte('!')
		render(b, x.Node, 4)
	case *Equal:
		paren(3, func() { render(b, x.Left, 4); b.WriteString(" == "); render(b, x.Right, 4) })
	case *In:
		paren(3, func() { render(b, x.Target, 4); b.WriteString(" in "); render(b, x.Values, 4) })
	case *HasTag:
		b.WriteString("has(")
		renderCtx(b, x.Context)
		fmt.Fprintf(b, ".tags[%s])", strconv.Quote(x.Key))
	case *Tag:
		renderCtx(b, x.Context)
		fmt.Fprintf(b, ".tags[%s]", strconv.Quote(x.Key))
	case *Context:
		renderCtx(b, x)
	case *String:
		b.WriteString(strconv.Quote(x.Value))
	case *Number:
		b.WriteString(strconv.FormatFloat(x.Value, 'g', -1, 64))
	case *Bool:
		b.WriteString(strconv.FormatBool(x.Value))
	case *EntityLit:
		fmt.Fprintf(b, "%s(%s)", x.Type, strconv.Quote(x.ID))
	case *StringSet:
		quoted := make([]string, len(x.Values))
		for i, v := range x.Values {
			quoted[i] = strconv.Quote(v)
		}
		b.WriteString("[" + strings.Join(quoted, ", ") + "]")
	case *EntitySet:
		quoted := make([]string, len(x.IDs))
		for i, v := range x.IDs {
			quoted[i] = fmt.Sprintf("%s(%s)", x.Type, strconv.Quote(v))
		}
		b.WriteString("[" + strings.Join(quoted, ", ") + "]")
	}
}

func renderCtx(b *strings.Builder, c *Context) {
	if c == nil {
		b.WriteString("<missing>")
		return
	}
	b.WriteString(c.Type.String())
}
