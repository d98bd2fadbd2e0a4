package policy

import (
	"fmt"
	"math/rand/v2"

	"github.com/gatehouse-iam/gatehouse"
)

// gen builds random descriptor trees, descriptor libraries and entities from
// small pools, so that random conditions often hold and often do not.
type gen struct {
	r     *rand.Rand
	depth int
}

var (
	genScopes = []string{"stack:read", "stack:write", "stack:delete", "stack:create", "environment:open",
		"environment:read", "insights_account:read", "audit_logs:read", "org_member:read", "change_gate:create",
		"stack_tags:update"}
	genKeys   = []string{"env", "team", "tier", "owner.name"}
	genValues = []string{"prod", "dev", "1", "", "a"}
	genTypes  = []gatehouse.EntityType{gatehouse.EntityStack, gatehouse.EntityEnvironment, gatehouse.EntityInsightsAccount, gatehouse.EntityTeam}
	genLib    = []string{"lib-0", "lib-1", "lib-2", "lib-3", "missing"}
)

func genID(t gatehouse.EntityType, i int) string {
	return fmt.Sprintf("00000000-0000-4000-8000-%02d%010d", int(t), i)
}

func newGen(seed1, seed2 uint64) *gen { return &gen{r: rand.New(rand.NewPCG(seed1, seed2))} }

func (g *gen) pick(n int) int { return g.r.IntN(n) }

func (g *gen) entityType() gatehouse.EntityType { return genTypes[g.pick(len(genTypes))] }

func (g *gen) node() Node {
	g.depth++
	defer func() { g.depth-- }()
	k := g.pick(10)
	if g.depth > 5 {
		k = g.pick(2)
	}
	switch k {
	case 0, 1, 2:
		n := &Allow{}
		for i := g.pick(4); i >= 0; i-- {
			n.Permissions = append(n.Permissions, genScopes[g.pick(len(genScopes))])
		}
		return n
	case 3:
		n := &Compose{}
		for i := g.pick(3); i >= 0; i-- {
			n.Descriptors = append(n.Descriptors, genLib[g.pick(len(genLib))])
		}
		return n
	case 4:
		n := &Group{}
		for i := g.pick(5); i >= 0; i-- {
			n.Entries = append(n.Entries, g.node())
		}
		return n
	case 5, 6, 7:
		return &Condition{Condition: g.boolExpr(), SubNode: g.node()}
	case 8:
		return &IfThenElse{Condition: g.boolExpr(), Then: g.node(), Else: g.node()}
	default:
		n := &Select{Selector: g.valueExpr()}
		for i := g.pick(4); i >= 0; i-- {
			n.Options = append(n.Options, Option{Value: g.valueExpr(), Node: g.node()})
		}
		return n
	}
}

func (g *gen) ctx() *Context { return &Context{Type: g.entityType()} }

func (g *gen) boolExpr() Expr {
	g.depth++
	defer func() { g.depth-- }()
	k := g.pick(9)
	if g.depth > 6 {
		k = 3 + g.pick(3)
	}
	switch k {
	case 0:
		return &And{Left: g.boolExpr(), Right: g.boolExpr()}
	case 1:
		return &Or{Left: g.boolExpr(), Right: g.boolExpr()}
	case 2:
		return &Not{Node: g.boolExpr()}
	case 3, 4:
		return &Equal{Left: g.valueExpr(), Right: g.valueExpr()}
	case 5:
		return &HasTag{Context: g.ctx(), Key: genKeys[g.pick(len(genKeys))]}
	case 6:
		// The console's entity rule, so that the entity index is exercised.
		t := g.entityType()
		return &Equal{Left: &Context{Type: t}, Right: &EntityLit{Type: t, ID: genID(t, g.pick(4))}}
	case 7:
		return &Equal{Left: &Tag{Context: g.ctx(), Key: genKeys[g.pick(len(genKeys))]}, Right: &String{Value: genValues[g.pick(len(genValues))]}}
	default:
		in := &In{Target: g.valueExpr()}
		if g.pick(2) == 0 {
			s := &StringSet{}
			for i := g.pick(4); i > 0; i-- {
				s.Values = append(s.Values, genValues[g.pick(len(genValues))])
			}
			in.Values = s
		} else {
			t := g.entityType()
			s := &EntitySet{Type: t}
			for i := g.pick(4); i > 0; i-- {
				s.IDs = append(s.IDs, genID(t, g.pick(4)))
			}
			in.Values = s
		}
		return in
	}
}

func (g *gen) valueExpr() Expr {
	switch g.pick(10) {
	case 0, 1:
		return g.ctx()
	case 2, 3, 4:
		return &Tag{Context: g.ctx(), Key: genKeys[g.pick(len(genKeys))]}
	case 5, 6:
		return &String{Value: genValues[g.pick(len(genValues))]}
	case 7:
		t := g.entityType()
		return &EntityLit{Type: t, ID: genID(t, g.pick(4))}
	case 8:
		return &Number{Value: float64(g.pick(3))}
	default:
		if g.depth < 6 && g.pick(2) == 0 {
			return g.boolExpr()
		}
		return &Bool{Value: g.pick(2) == 0}
	}
}

// library returns random descriptors for the ids of genLib except
// "missing"; they may compose each other, cycles included.
func (g *gen) library() []*Descriptor {
	var out []*Descriptor
	for _, id := range genLib[:len(genLib)-1] {
		out = append(out, &Descriptor{ID: id, Name: "desc " + id, Purpose: "policy", Details: g.node()})
	}
	return out
}

func (g *gen) entity() *gatehouse.Entity {
	types := []gatehouse.EntityType{gatehouse.EntityGlobal, gatehouse.EntityStack, gatehouse.EntityEnvironment, gatehouse.EntityInsightsAccount}
	e := &gatehouse.Entity{Type: types[g.pick(len(types))]}
	e.ID = genID(e.Type, g.pick(5))
	for _, k := range genKeys {
		if g.pick(2) == 0 {
			e.Tags = append(e.Tags, gatehouse.Tag{Key: k, Value: genValues[g.pick(len(genValues))]})
		}
	}
	g.r.Shuffle(len(e.Tags), func(i, j int) { e.Tags[i], e.Tags[j] = e.Tags[j], e.Tags[i] })
	return e
}
