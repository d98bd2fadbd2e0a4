package policy

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

const consoleRole = `{"__type":"PermissionDescriptorGroup","entries":[
  {"__type":"PermissionDescriptorCompose","permissionDescriptors":["org-set","stack-set"]},
  {"__type":"PermissionDescriptorCondition",
   "condition":{"__type":"PermissionExpressionEqual",
     "left":{"__type":"PermissionExpressionStack"},
     "right":{"__type":"PermissionLiteralExpressionStack","identity":"20DEDE8F-0000-4000-8000-000000000001"}},
   "subNode":{"__type":"PermissionDescriptorCompose","permissionDescriptors":["stack-set"]}},
  {"__type":"PermissionDescriptorCondition",
   "condition":{"__type":"PermissionExpressionAnd",
     "left":{"__type":"PermissionExpressionEqual",
       "left":{"__type":"PermissionExpressionTag","context":{"__type":"PermissionExpressionStack"},"key":"Owner"},
       "right":{"__type":"PermissionLiteralExpressionString","value":"DevTeam"}},
     "right":{"__type":"PermissionExpressionHasTag","context":{"__type":"PermissionExpressionStack"},"key":"team"}},
   "subNode":{"__type":"PermissionDescriptorCompose","permissionDescriptors":["stack-set"]}}]}`

// everyType uses every node and expression type of the grammar once.
const everyType = `{"__type":"PermissionDescriptorGroup","entries":[
 {"__type":"PermissionDescriptorAllow","permissions":["environment:open"],"constraints":{"MaxOpenDuration":3600}},
 {"__type":"PermissionDescriptorIfThenElse",
  "condition":{"__type":"PermissionExpressionOr",
    "left":{"__type":"PermissionExpressionNot","node":{"__type":"PermissionExpressionHasTag","context":{"__type":"PermissionExpressionEnvironment"},"key":"k"}},
    "right":{"__type":"PermissionExpressionIn","target":{"__type":"PermissionExpressionTag","context":{"__type":"PermissionExpressionEnvironment"},"key":"k"},
             "values":{"__type":"PermissionSetExpressionString","values":["a","b"]}}},
  "subNodeForTrue":{"__type":"PermissionDescriptorAllow","permissions":["environment:read"]},
  "subNodeForFalse":{"__type":"PermissionDescriptorCompose","permissionDescriptors":["x"]}},
 {"__type":"PermissionDescriptorSelect","selector":{"__type":"PermissionExpressionTag","context":{"__type":"PermissionExpressionStack"},"key":"tier"},
  "options":[{"value":{"__type":"PermissionLiteralExpressionString","value":"1"},"node":{"__type":"PermissionDescriptorAllow","permissions":["stack:read"]}},
             {"value":{"__type":"PermissionLiteralExpressionNumber","value":2.5},"node":{"__type":"PermissionDescriptorAllow","permissions":["stack:write"]}},
             {"value":{"__type":"PermissionLiteralExpressionBool","value":true},"node":{"__type":"PermissionDescriptorAllow","permissions":["stack:delete"]}}]},
 {"__type":"PermissionDescriptorCondition","condition":{"__type":"PermissionExpressionIn","target":{"__type":"PermissionExpressionInsightsAccount"},
    "values":{"__type":"PermissionSetExpressionInsightsAccount","identities":["00000000-0000-4000-8000-000000000002"]}},
  "subNode":{"__type":"PermissionDescriptorAllow","permissions":["insights_account:read"]}},
 {"__type":"PermissionDescriptorCondition","condition":{"__type":"PermissionExpressionEqual","left":{"__type":"PermissionExpressionTeam"},
    "right":{"__type":"PermissionLiteralExpressionTeam","identity":"00000000-0000-4000-8000-000000000003"}},
  "subNode":{"__type":"PermissionDescriptorAllow","permissions":[]}},
 {"__type":"PermissionDescriptorCondition","condition":{"__type":"PermissionExpressionIn","target":{"__type":"PermissionExpressionEnvironment"},
    "values":{"__type":"PermissionSetExpressionEnvironment","identities":["00000000-0000-4000-8000-000000000004"]}},
  "subNode":{"__type":"PermissionDescriptorAllow","permissions":["environment:write"]}},
 {"__type":"PermissionDescriptorCondition","condition":{"__type":"PermissionExpressionIn","target":{"__type":"PermissionExpressionStack"},
    "values":{"__type":"PermissionSetExpressionStack","identities":["00000000-0000-4000-8000-000000000005"]}},
  "subNode":{"__type":"PermissionDescriptorAllow","permissions":["stack:read"]}},
 {"__type":"PermissionDescriptorCondition","condition":{"__type":"PermissionExpressionIn","target":{"__type":"PermissionExpressionTeam"},
    "values":{"__type":"PermissionSetExpressionTeam","identities":["00000000-0000-4000-8000-000000000006"]}},
  "subNode":{"__type":"PermissionDescriptorAllow","permissions":[]}},
 {"__type":"PermissionDescriptorCondition","condition":{"__type":"PermissionExpressionEqual","left":{"__type":"PermissionExpressionEnvironment"},
    "right":{"__type":"PermissionLiteralExpressionEnvironment","identity":"00000000-0000-4000-8000-000000000007"}},
  "subNode":{"__type":"PermissionDescriptorAllow","permissions":["environment:read"]}},
 {"__type":"PermissionDescriptorCondition","condition":{"__type":"PermissionExpressionEqual","left":{"__type":"PermissionExpressionInsightsAccount"},
    "right":{"__type":"PermissionLiteralExpressionInsightsAccount","identity":"00000000-0000-4000-8000-000000000008"}},
  "subNode":{"__type":"PermissionDescriptorAllow","permissions":["insights_account:read"]}}
]}`

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for name, doc := range map[string]string{"console": consoleRole, "everyType": everyType} {
		t.Run(name, func(t *testing.T) {
			n, err := Decode([]byte(doc))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			enc, err := Encode(n)
			if err != nil {
				t.Fatal(err)
			}
			n2, err := Decode(enc)
			if err != nil {
				t.Fatalf("Decode(Encode): %v", err)
			}
			if !reflect.DeepEqual(n, n2) {
				t.Errorf("decode(encode(x)) differs from x")
			}
			// The encoding is equivalent JSON to the input, up to the
			// canonical lower-case UUIDs.
			var a, b any
			json.Unmarshal([]byte(strings.ToLower(doc)), &a)
			json.Unmarshal([]byte(strings.ToLower(string(enc))), &b)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("encoding is not equivalent JSON:\n%s", enc)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{"not JSON", `{"__type":`, `details: invalid JSON`},
		{"trailing data", `{"__type":"PermissionDescriptorAllow"} {}`, `details: invalid JSON: unexpected data after the document`},
		{"not an object", `[]`, `details: want a permission descriptor (an object with __type), got array`},
		{"missing type", `{"permissions":[]}`, `details: missing __type`},
		{"type not string", `{"__type":7}`, `details.__type: want a string, got number`},
		{"unknown type deep", `{"__type":"PermissionDescriptorGroup","entries":[{"__type":"PermissionDescriptorAllow"},{"__type":"PermissionDescriptorAllow"},{"__type":"PermissionDescriptorAllow"},
			{"__type":"PermissionDescriptorCondition","condition":{"__type":"PermissionExpressionEqual","left":{"__type":"PermissionExpressionFoo"},"right":{"__type":"PermissionLiteralExpressionString","value":"x"}},"subNode":{"__type":"PermissionDescriptorAllow"}}]}`,
			`details.entries[3].condition.left: unknown __type "PermissionExpressionFoo"`},
		{"expression as node", `{"__type":"PermissionExpressionAnd"}`, `details: PermissionExpressionAnd is an expression; want a permission descriptor`},
		{"node as expression", `{"__type":"PermissionDescriptorCondition","condition":{"__type":"PermissionDescriptorAllow"},"subNode":{"__type":"PermissionDescriptorAllow"}}`,
			`details.condition: PermissionDescriptorAllow is a permission descriptor; want a condition`},
		{"permissions wrong type", `{"__type":"PermissionDescriptorAllow","permissions":"stack:read"}`, `details.permissions: want an array of strings, got string`},
		{"permission not string", `{"__type":"PermissionDescriptorAllow","permissions":["stack:read",3]}`, `details.permissions[1]: want a string, got number`},
		{"unknown field", `{"__type":"PermissionDescriptorCondition","condition":{"__type":"PermissionExpressionHasTag","context":{"__type":"PermissionExpressionStack"},"key":"k"},"subnode":{}}`,
			`details: unknown field "subnode" in PermissionDescriptorCondition`},
		{"missing subNode", `{"__type":"PermissionDescriptorCondition","condition":{"__type":"PermissionExpressionHasTag","context":{"__type":"PermissionExpressionStack"},"key":"k"}}`,
			`details.subNode: missing a permission descriptor`},
		{"literal as condition", `{"__type":"PermissionDescriptorCondition","condition":{"__type":"PermissionLiteralExpressionBool","value":true},"subNode":{"__type":"PermissionDescriptorAllow"}}`,
			`details.condition: PermissionLiteralExpressionBool is not a condition`},
		{"bad uuid", `{"__type":"PermissionDescriptorCondition","condition":{"__type":"PermissionExpressionEqual","left":{"__type":"PermissionExpressionStack"},"right":{"__type":"PermissionLiteralExpressionStack","identity":"prod"}},"subNode":{"__type":"PermissionDescriptorAllow"}}`,
			`details.condition.right.identity: "prod" is not a UUID`},
		{"context not context", `{"__type":"PermissionDescriptorCondition","condition":{"__type":"PermissionExpressionHasTag","context":{"__type":"PermissionLiteralExpressionString","value":"x"},"key":"k"},"subNode":{"__type":"PermissionDescriptorAllow"}}`,
			`details.condition.context: PermissionLiteralExpressionString is not a context`},
		{"empty tag key", `{"__type":"PermissionDescriptorCondition","condition":{"__type":"PermissionExpressionHasTag","context":{"__type":"PermissionExpressionStack"},"key":""},"subNode":{"__type":"PermissionDescriptorAllow"}}`,
			`details.condition.key: must not be empty`},
		{"set outside In", `{"__type":"PermissionDescriptorCondition","condition":{"__type":"PermissionExpressionEqual","left":{"__type":"PermissionSetExpressionString","values":[]},"right":{"__type":"PermissionLiteralExpressionString","value":"x"}},"subNode":{"__type":"PermissionDescriptorAllow"}}`,
			`details.condition.left: PermissionSetExpressionString is a set`},
		{"In without set", `{"__type":"PermissionDescriptorCondition","condition":{"__type":"PermissionExpressionIn","target":{"__type":"PermissionExpressionStack"},"values":{"__type":"PermissionLiteralExpressionString","value":"x"}},"subNode":{"__type":"PermissionDescriptorAllow"}}`,
			`details.condition.values: PermissionLiteralExpressionString is not a set`},
		{"negative duration", `{"__type":"PermissionDescriptorAllow","constraints":{"MaxOpenDuration":-1}}`, `details.constraints.MaxOpenDuration: want a whole, non-negative number of seconds, got -1`},
		{"too many entries", `{"__type":"PermissionDescriptorGroup","entries":[` + strings.Repeat(`{"__type":"PermissionDescriptorAllow"},`, MaxGroupEntries) + `{"__type":"PermissionDescriptorAllow"}]}`,
			`details.entries: 2001 entries, over the limit of 2000`},
		{"too deep", strings.Repeat(`{"__type":"PermissionDescriptorGroup","entries":[`, MaxDepth+2) + strings.Repeat(`]}`, MaxDepth+2),
			`nested deeper than 32 levels`},
		{"too big", `{"__type":"PermissionDescriptorAllow","permissions":["` + strings.Repeat("x", MaxDocumentBytes) + `"]}`,
			`details: document is 1048633 bytes, over the limit of 1048576`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, err := Decode([]byte(tt.doc))
			if err == nil {
				t.Fatalf("Decode succeeded with %T", n)
			}
			if n != nil {
				t.Errorf("Decode returned a node with an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error:\n  %v\nwant it to contain:\n  %s", err, tt.want)
			}
			var es Errors
			if !asErrors(err, &es) || len(es) == 0 {
				t.Fatalf("error is %T, want Errors", err)
			}
			for _, e := range es {
				if !strings.HasPrefix(e.Path, "details") || e.Message == "" {
					t.Errorf("malformed error %q", e)
				}
			}
		})
	}
}

func asErrors(err error, es *Errors) bool {
	e, ok := err.(Errors)
	*es = e
	return ok
}
