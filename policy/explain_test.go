package policy

import (
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
)

// TestExplainHolds: a grant names the conditions on its path that held
// for the entity (an IfThenElse's else branch as the negated condition),
// an unmet one names none.
func TestExplainHolds(t *testing.T) {
	stack := &Context{Type: gatehouse.EntityStack}
	isDev := &Equal{Left: &Tag{Context: stack, Key: "env"}, Right: &String{Value: "dev"}}
	hasTeam := &HasTag{Context: stack, Key: "team"}
	role := &Descriptor{ID: "r", Name: "rules", Purpose: "role", Details: &Group{Entries: []Node{
		&Condition{Condition: isDev, SubNode: &Condition{Condition: hasTeam, SubNode: &Allow{Permissions: []string{"stack:read"}}}},
		&IfThenElse{Condition: isDev, Then: &Allow{Permissions: []string{"stack:write"}}, Else: &Allow{Permissions: []string{"stack:delete"}}},
	}}}
	dev := &gatehouse.Entity{Type: gatehouse.EntityStack, ID: "s1", Tags: []gatehouse.Tag{{Key: "env", Value: "dev"}, {Key: "team", Value: "web"}}}
	prod := &gatehouse.Entity{Type: gatehouse.EntityStack, ID: "s2", Tags: []gatehouse.Tag{{Key: "env", Value: "prod"}}}
	for _, c := range []struct {
		scope string
		e     *gatehouse.Entity
		holds []string // nil: denied
	}{
		{"stack:read", dev, []string{Render(isDev), Render(hasTeam)}},
		{"stack:write", dev, []string{Render(isDev)}},
		{"stack:delete", prod, []string{"not " + Render(isDev)}},
		{"stack:read", prod, nil},
	} {
		ex := Explain([]*Descriptor{role}, nil, mustScope(c.scope), c.e)
		if c.holds == nil {
			if ex.Allowed || len(ex.Unmet) == 0 || ex.Unmet[0].Holds != nil {
				t.Errorf("%s on %s: %+v, want a denial with an unmet condition and no holds", c.scope, c.e.ID, ex)
			}
			continue
		}
		if !ex.Allowed || len(ex.Grants) != 1 || !slices.Equal(ex.Grants[0].Holds, c.holds) {
			t.Errorf("%s on %s: %+v, want holds %q", c.scope, c.e.ID, ex.Grants, c.holds)
		}
	}
}
