package policy

import (
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
)

const (
	stackCond = `{"__type":"PermissionExpressionEqual","left":{"__type":"PermissionExpressionTag","context":{"__type":"PermissionExpressionStack"},"key":"env"},"right":{"__type":"PermissionLiteralExpressionString","value":"prod"}}`
	envCond   = `{"__type":"PermissionExpressionHasTag","context":{"__type":"PermissionExpressionEnvironment"},"key":"env"}`
)

func allow(scopes ...string) string {
	return `{"__type":"PermissionDescriptorAllow","permissions":["` + strings.Join(scopes, `","`) + `"]}`
}

func cond(c, sub string) string {
	return `{"__type":"PermissionDescriptorCondition","condition":` + c + `,"subNode":` + sub + `}`
}

func compose(ids ...string) string {
	return `{"__type":"PermissionDescriptorCompose","permissionDescriptors":["` + strings.Join(ids, `","`) + `"]}`
}

func group(entries ...string) string {
	return `{"__type":"PermissionDescriptorGroup","entries":[` + strings.Join(entries, ",") + `]}`
}

func testLibrary() Lookup {
	mustDecode := func(s string) Node {
		n, err := Decode([]byte(s))
		if err != nil {
			panic(err)
		}
		return n
	}
	return MapLookup(
		&Descriptor{ID: "set-stack-write", Name: "Stack Write", Purpose: "set", ResourceType: gatehouse.EntityStack, Details: mustDecode(allow("stack:read", "stack:write"))},
		&Descriptor{ID: "set-env-open", Name: "Environment Open", Purpose: "set", ResourceType: gatehouse.EntityEnvironment, Details: mustDecode(allow("environment:open"))},
		&Descriptor{ID: "set-org", Name: "Standard", Purpose: "set", ResourceType: gatehouse.EntityGlobal, Details: mustDecode(allow("org_member:read"))},
		&Descriptor{ID: "pol-a", Name: "A", Purpose: "policy", Details: mustDecode(compose("pol-b"))},
		&Descriptor{ID: "pol-b", Name: "B", Purpose: "policy", Details: mustDecode(group(allow("stack:read"), compose("pol-a")))},
		&Descriptor{ID: "pol-c", Name: "C", Purpose: "policy", Details: mustDecode(compose("role-self"))},
	)
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		opts Options
		want string // "" for valid
	}{
		{"console role", group(compose("set-org", "set-stack-write"), cond(stackCond, compose("set-stack-write"))), Options{}, ""},
		{"unknown scope with suggestion", allow("stack:read", "stack:reed"), Options{},
			`details.permissions[1]: unknown scope "stack:reed" (did you mean "stack:read"?)`},
		{"unknown scope without suggestion", allow("zzzzzzzzzzzzzzzzzzzzz"), Options{}, `details.permissions[0]: unknown scope "zzzzzzzzzzzzzzzzzzzzz"`},
		{"org scope under stack condition", group(allow("stack:read"), cond(stackCond, allow("stack:write", "audit_logs:read"))), Options{},
			`details.entries[1].subNode.permissions[1]: scope audit_logs:read applies to global entities and can never be granted under the condition at details.entries[1].condition (on stack)`},
		{"environment scope under stack condition", cond(stackCond, allow("environment:open")), Options{},
			`scope environment:open applies to environment entities and can never be granted under the condition at details.condition (on stack)`},
		{"conditions on two types nested", cond(stackCond, cond(envCond, allow("stack:read"))), Options{},
			`details.subNode.condition: a condition on environment inside the condition at details.condition (on stack) can never hold`},
		{"either type under Or", cond(`{"__type":"PermissionExpressionOr","left":`+stackCond+`,"right":`+envCond+`}`, allow("stack:read", "environment:open")), Options{}, ""},
		{"stack:create fits a stack condition", cond(stackCond, allow("stack:create")), Options{}, ""},
		{"env set under stack condition", cond(stackCond, compose("set-env-open")), Options{Lookup: testLibrary()},
			`details.subNode.permissionDescriptors[0]: permission set "Environment Open" is for environment entities and can never be granted under the condition at details.condition (on stack)`},
		{"unknown reference", compose("set-org", "nope"), Options{Lookup: testLibrary()},
			`details.permissionDescriptors[1]: unknown permission descriptor "nope"`},
		{"cycle among others", compose("pol-a"), Options{Lookup: testLibrary()},
			`details.permissionDescriptors[0]: reference cycle: "pol-a" -> "pol-b" -> "pol-a"`},
		{"cycle through self", compose("pol-c"), Options{Lookup: testLibrary(), SelfID: "role-self"},
			`details.permissionDescriptors[0]: reference cycle: "pol-c" -> "role-self"`},
		{"compose self", compose("role-self"), Options{SelfID: "role-self"}, `details.permissionDescriptors[0]: a descriptor cannot compose itself`},
		{"references unchecked without lookup", compose("anything"), Options{}, ""},
		{"set holds other type", allow("stack:read", "environment:open"), Options{Purpose: "set", ResourceType: gatehouse.EntityStack},
			`details.permissions[1]: scope environment:open applies to environment entities and cannot be in a stack permission set`},
		{"set with condition", cond(stackCond, allow("stack:read")), Options{Purpose: "set", ResourceType: gatehouse.EntityStack},
			`details: a permission set grants its scopes unconditionally; put conditions in a role`},
		{"set composes other type", compose("set-env-open"), Options{Purpose: "set", ResourceType: gatehouse.EntityStack, Lookup: testLibrary()},
			`permission set "Environment Open" is for environment entities and cannot be in a stack permission set`},
		{"compares stack with environment", cond(`{"__type":"PermissionExpressionEqual","left":{"__type":"PermissionExpressionStack"},"right":{"__type":"PermissionLiteralExpressionEnvironment","identity":"00000000-0000-4000-8000-000000000001"}}`, allow("stack:read")), Options{},
			`details.condition: compares a stack with an environment, which is never equal`},
		{"tag against number", cond(`{"__type":"PermissionExpressionEqual","left":{"__type":"PermissionExpressionTag","context":{"__type":"PermissionExpressionStack"},"key":"n"},"right":{"__type":"PermissionLiteralExpressionNumber","value":1}}`, allow("stack:read")), Options{},
			`details.condition: compares a string with a number, which is never equal`},
		{"team context", cond(`{"__type":"PermissionExpressionEqual","left":{"__type":"PermissionExpressionTeam"},"right":{"__type":"PermissionLiteralExpressionTeam","identity":"00000000-0000-4000-8000-000000000001"}}`, allow("stack:read")), Options{},
			`details.condition.left: team contexts are not supported`},
		{"In stack against string set", cond(`{"__type":"PermissionExpressionIn","target":{"__type":"PermissionExpressionStack"},"values":{"__type":"PermissionSetExpressionString","values":["x"]}}`, allow("stack:read")), Options{},
			`details.condition: tests a stack against a set of string values, which never matches`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.doc), tt.opts)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("valid document refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("invalid document accepted; want %s", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error:\n  %v\nwant it to contain:\n  %s", err, tt.want)
			}
			if ge := err.(Errors).Invalid(); ge.Code != gatehouse.EINVALID || !strings.Contains(ge.Message, tt.want) {
				t.Errorf("Invalid() = %+v", ge)
			}
		})
	}
}

func TestBuiltinsValidateAndCompile(t *testing.T) {
	t.Parallel()
	idFor := func(ident string) string { return "builtin-" + ident }
	defaults := gatehouse.DefaultMemberDefaults()
	defaults.StackPermission = "read"
	ds := Builtins(idFor, defaults)
	lookup := MapLookup(ds...)
	for _, d := range ds {
		b, err := Encode(d.Details)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(b, Options{Purpose: d.Purpose, ResourceType: d.ResourceType, Lookup: lookup, SelfID: d.ID}); err != nil {
			t.Errorf("built-in %s does not validate: %v", d.Name, err)
		}
	}
	member, _ := lookup("builtin-member")
	g := Union(Compile(member.Details, lookup))
	stack := &gatehouse.Entity{Type: gatehouse.EntityStack, ID: genID(gatehouse.EntityStack, 1)}
	org := &gatehouse.Entity{Type: gatehouse.EntityGlobal, ID: "org"}
	for _, c := range []struct {
		scope string
		e     *gatehouse.Entity
		want  bool
	}{
		{"stack:read", stack, true}, // the default stack permission
		{"stack:write", stack, false},
		{"stack:create", org, true}, // members may create stacks
		{"team:create", org, false},
		{"org_member:read", org, true}, // Standard
		{"org_member:add", org, false},
	} {
		if got := g.Decide(mustScope(c.scope), c.e); got != c.want {
			t.Errorf("member %s on %s = %v, want %v", c.scope, c.e.Type, got, c.want)
		}
	}
}
