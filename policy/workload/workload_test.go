package workload

import (
	"reflect"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/policy"
)

func small() Config {
	return Config{Seed: 5, Stacks: 300, Environments: 60, Accounts: 10, Roles: 40, Principals: 50, MaxEntityRules: 100}
}

func TestGenerateIsDeterministic(t *testing.T) {
	t.Parallel()
	a, b := Generate(small()), Generate(small())
	if !reflect.DeepEqual(a.Stacks, b.Stacks) || !reflect.DeepEqual(a.Roles, b.Roles) || !reflect.DeepEqual(a.Principals, b.Principals) {
		t.Fatal("the same seed generated different organizations")
	}
	c := small()
	c.Seed = 6
	if reflect.DeepEqual(Generate(c).Roles, a.Roles) {
		t.Fatal("a different seed generated the same roles")
	}
}

func TestGenerateShapes(t *testing.T) {
	t.Parallel()
	o := Generate(small())
	if len(o.Stacks) != 300 || len(o.Environments) != 60 || len(o.Accounts) != 10 || len(o.Roles) != 40 {
		t.Fatalf("sizes: %d stacks, %d envs, %d accounts, %d roles", len(o.Stacks), len(o.Environments), len(o.Accounts), len(o.Roles))
	}
	for _, e := range o.Stacks {
		if len(e.Tags) > len(TagKeys) {
			t.Fatalf("stack with %d tags", len(e.Tags))
		}
	}
	for _, p := range o.Principals {
		if len(p) < 1 || len(p) > 5 {
			t.Fatalf("principal with %d roles", len(p))
		}
	}
	// Every rendered role validates against the built-in sets.
	c := o.Compile()
	for _, ro := range o.Roles {
		role, pol := o.Descriptor(ro)
		for _, d := range []*policy.Descriptor{role, pol} {
			if err := policy.Validate(d.Details, policy.Options{Lookup: c.Lookup, SelfID: d.ID}); err != nil {
				t.Errorf("%s (%s): %v", d.ID, ro.Shape, err)
			}
		}
	}
	for _, q := range o.Queries(1, 200, true, true) {
		if len(o.Principals[q.Principal]) != 5 {
			t.Fatalf("fiveRoles query for a principal with %d roles", len(o.Principals[q.Principal]))
		}
		if q.Entity.Type != gatehouse.EntityGlobal && len(q.Entity.Tags) != len(TagKeys) {
			t.Fatalf("eightTags query entity with %d tags", len(q.Entity.Tags))
		}
		if !q.Scope.Info().AppliesTo(q.Entity.Type) {
			t.Fatalf("query scope %s does not apply to %s", q.Scope, q.Entity.Type)
		}
	}
}
