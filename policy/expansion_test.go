package policy

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
)

// nestedCompose builds the attack: level k is a policy composing
// level k-1 width times (in one Compose and in a Group of Composes), under
// a condition, for levels levels; it returns the lookup and the top id.
func nestedCompose(width, levels int, distinctGuards bool) (Lookup, string) {
	ds := map[string]*Descriptor{
		"p0": {ID: "p0", Purpose: "policy", Details: &Condition{
			Condition: &Equal{Left: &Tag{Context: &Context{Type: gatehouse.EntityStack}, Key: "env"}, Right: &String{Value: "prod"}},
			SubNode:   &Allow{Permissions: []string{"stack:read"}}}},
	}
	for k := 1; k <= levels; k++ {
		prev := fmt.Sprintf("p%d", k-1)
		ids := make([]string, width)
		entries := make([]Node, width)
		for i := range ids {
			ids[i] = prev
			var sub Node = &Compose{Descriptors: []string{prev}}
			if distinctGuards {
				sub = &Condition{Condition: &Equal{Left: &Tag{Context: &Context{Type: gatehouse.EntityStack}, Key: "k"}, Right: &String{Value: fmt.Sprint(i)}}, SubNode: sub}
			}
			entries[i] = sub
		}
		id := fmt.Sprintf("p%d", k)
		ds[id] = &Descriptor{ID: id, Purpose: "policy", Details: &Group{Entries: append(entries, &Compose{Descriptors: ids})}}
	}
	return func(id string) (*Descriptor, bool) { d, ok := ds[id]; return d, ok }, fmt.Sprintf("p%d", levels)
}

// TestNestedComposeLinear: composing the same descriptor many times at
// many levels compiles in time linear in the descriptors' size: the
// expansion walks each descriptor once per guard, not once per path.
func TestNestedComposeLinear(t *testing.T) {
	lookup, top := nestedCompose(100, 3, false)
	root := &Compose{Descriptors: []string{top}}
	n, _, err := Expansion(root, lookup, MaxExpansion)
	if err != nil {
		t.Fatalf("Expansion: %v", err)
	}
	if n > 1000 {
		t.Errorf("expansion walked %d nodes for three levels of 201 references each", n)
	}
	c := Compile(root, lookup)
	if c.Empty() {
		t.Fatal("the compiled policy grants nothing")
	}
}

// TestExpansionBudget: a role whose expansion is genuinely exponential
// (each reference under a guard of its own) is refused, naming the path.
func TestExpansionBudget(t *testing.T) {
	lookup, top := nestedCompose(100, 3, true)
	root := &Compose{Descriptors: []string{top}}
	_, path, err := Expansion(root, lookup, MaxExpansion)
	if err == nil {
		t.Fatal("a role expanding to a million nodes was accepted")
	}
	if !strings.Contains(err.Error(), "p3") || !strings.Contains(path, "p3") {
		t.Errorf("the refusal does not name the path: %v (%s)", err, path)
	}
	// Compiling it anyway (a snapshot of stored descriptors) stops at the
	// budget and fails closed.
	if c := Compile(root, lookup); !c.Empty() {
		t.Error("a role over the budget compiled to grants")
	}
}

// BenchmarkNestedCompose is the attack: three levels of policies
// composing the previous one 100 times.
func BenchmarkNestedCompose(b *testing.B) {
	lookup, top := nestedCompose(100, 3, false)
	root := &Compose{Descriptors: []string{top}}
	b.ReportAllocs()
	for b.Loop() {
		Compile(root, lookup)
	}
}
