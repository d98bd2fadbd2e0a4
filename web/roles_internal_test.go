package web

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/policy"
)

const (
	stackID = "0b6b9f0c-6a53-4c1e-9f55-0d6c1c9c2a01"
	setA    = "1b6b9f0c-6a53-4c1e-9f55-0d6c1c9c2a02"
	setB    = "2b6b9f0c-6a53-4c1e-9f55-0d6c1c9c2a03"
	setC    = "3b6b9f0c-6a53-4c1e-9f55-0d6c1c9c2a04"
)

// editorTree is a role tree in the console's shape: a Group of a Compose of
// organization-wide sets, an entity rule and a two-condition tag rule.
func editorTree() *policy.Group {
	stack := &policy.Context{Type: gatehouse.EntityStack}
	env := &policy.Context{Type: gatehouse.EntityEnvironment}
	return &policy.Group{Entries: []policy.Node{
		&policy.Compose{Descriptors: []string{setA, setB}},
		&policy.Condition{
			Condition: &policy.Equal{Left: stack, Right: &policy.EntityLit{Type: gatehouse.EntityStack, ID: stackID}},
			SubNode:   &policy.Compose{Descriptors: []string{setB}},
		},
		&policy.Condition{
			Condition: &policy.And{
				Left:  &policy.HasTag{Context: env, Key: "team"},
				Right: &policy.Not{Node: &policy.Equal{Left: &policy.Tag{Context: env, Key: "env"}, Right: &policy.String{Value: "prod"}}},
			},
			SubNode: &policy.Compose{Descriptors: []string{setC}},
		},
	}}
}

func TestRoleTreeRoundTrip(t *testing.T) {
	want, err := policy.Encode(editorTree())
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{stackID: "web/prod"}
	orgSets, rules, ok := shape(want, names)
	if !ok {
		t.Fatalf("shape rejected the console's own tree %s", want)
	}
	if !reflect.DeepEqual(orgSets, []string{setA, setB}) {
		t.Errorf("org sets = %v", orgSets)
	}
	wantRules := []rule{
		{Kind: "entity", EntityType: "stack", Entity: "web/prod", SetID: setB},
		{Kind: "tag", EntityType: "environment", Conds: [2]tagCond{{Key: "team", Op: "has"}, {Key: "env", Op: "ne", Value: "prod"}}, SetID: setC},
	}
	if !reflect.DeepEqual(rules, wantRules) {
		t.Errorf("rules = %+v\nwant    %+v", rules, wantRules)
	}
	resolve := func(r rule) (string, error) {
		for id, n := range names {
			if n == r.Entity {
				return id, nil
			}
		}
		return "", errors.New("no such entity")
	}
	g, err := buildTree(orgSets, rules, resolve)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, editorTree()) {
		t.Errorf("form -> tree differs from the original")
	}
	got, err := policy.Encode(g)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("tree -> form -> tree:\n got %s\nwant %s", got, want)
	}
}

func TestShapeRejectsOtherTrees(t *testing.T) {
	stack := &policy.Context{Type: gatehouse.EntityStack}
	team := &policy.Context{Type: gatehouse.EntityTeam}
	cases := map[string]policy.Node{
		"not a group":          &policy.Compose{Descriptors: []string{setA}},
		"allow entry":          &policy.Group{Entries: []policy.Node{&policy.Allow{Permissions: []string{"stack:read"}}}},
		"compose not first":    &policy.Group{Entries: []policy.Node{&policy.Condition{Condition: &policy.HasTag{Context: stack, Key: "a"}, SubNode: &policy.Compose{Descriptors: []string{setA}}}, &policy.Compose{Descriptors: []string{setB}}}},
		"two sets in a rule":   &policy.Group{Entries: []policy.Node{&policy.Condition{Condition: &policy.HasTag{Context: stack, Key: "a"}, SubNode: &policy.Compose{Descriptors: []string{setA, setB}}}}},
		"negated has":          &policy.Group{Entries: []policy.Node{&policy.Condition{Condition: &policy.Not{Node: &policy.HasTag{Context: stack, Key: "a"}}, SubNode: &policy.Compose{Descriptors: []string{setA}}}}},
		"team context":         &policy.Group{Entries: []policy.Node{&policy.Condition{Condition: &policy.HasTag{Context: team, Key: "a"}, SubNode: &policy.Compose{Descriptors: []string{setA}}}}},
		"or":                   &policy.Group{Entries: []policy.Node{&policy.Condition{Condition: &policy.Or{Left: &policy.HasTag{Context: stack, Key: "a"}, Right: &policy.HasTag{Context: stack, Key: "b"}}, SubNode: &policy.Compose{Descriptors: []string{setA}}}}},
		"mixed entity types":   &policy.Group{Entries: []policy.Node{&policy.Condition{Condition: &policy.And{Left: &policy.HasTag{Context: stack, Key: "a"}, Right: &policy.HasTag{Context: &policy.Context{Type: gatehouse.EntityEnvironment}, Key: "b"}}, SubNode: &policy.Compose{Descriptors: []string{setA}}}}},
		"tag equals a number":  &policy.Group{Entries: []policy.Node{&policy.Condition{Condition: &policy.Equal{Left: &policy.Tag{Context: stack, Key: "a"}, Right: &policy.Number{Value: 1}}, SubNode: &policy.Compose{Descriptors: []string{setA}}}}},
		"literal without type": &policy.Group{Entries: []policy.Node{&policy.Condition{Condition: &policy.Equal{Left: &policy.String{Value: "x"}, Right: &policy.EntityLit{Type: gatehouse.EntityStack, ID: stackID}}, SubNode: &policy.Compose{Descriptors: []string{setA}}}}},
	}
	for name, n := range cases {
		t.Run(name, func(t *testing.T) {
			b, err := policy.Encode(n)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, ok := shape(b, nil); ok {
				t.Errorf("shape accepted %s", b)
			}
		})
	}
	if _, _, ok := shape([]byte(`{"__type":"PermissionDescriptorGroup","entries":[{"__type":"Nope"}]}`), nil); ok {
		t.Error("shape accepted an undecodable tree")
	}
}

func TestBuildTreeErrors(t *testing.T) {
	none := func(rule) (string, error) { return "", errors.New("none") }
	cases := []struct {
		name string
		r    rule
		want string
	}{
		{"no set", rule{Kind: "tag", EntityType: "stack", Conds: [2]tagCond{{Key: "a", Op: "has"}}}, "rule 1: choose the permission set it grants"},
		{"bad type", rule{Kind: "tag", EntityType: "team", SetID: setA}, `rule 1: "team" is not stack, environment or insights-account`},
		{"bad kind", rule{Kind: "other", EntityType: "stack", SetID: setA}, `rule 1: "other" is not an entity or a tag rule`},
		{"unknown entity", rule{Kind: "entity", EntityType: "stack", Entity: "a/b", SetID: setA}, `rule 1: stack "a/b" not found`},
		{"no tag name", rule{Kind: "tag", EntityType: "stack", SetID: setA}, "rule 1: a tag rule needs a tag name"},
		{"bad op", rule{Kind: "tag", EntityType: "stack", SetID: setA, Conds: [2]tagCond{{Key: "a", Op: "lt"}}}, `rule 1: "lt" is not equals, not equals or has`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := buildTree(nil, []rule{c.r}, none)
			if err == nil || err.Error() != c.want {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}
