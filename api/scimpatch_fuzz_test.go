package api

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// FuzzSCIMPatch: no PATCH body or filter panics, and every refusal is a
// SCIM problem with a status and a detail.
func FuzzSCIMPatch(f *testing.F) {
	for _, seed := range []string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"a@b"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"x\"]"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"value":"u"}]}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","value":{"name.givenName":"A","externalId":"e"}}]}`,
	} {
		f.Add(seed, `userName eq "a"`)
	}
	f.Fuzz(func(t *testing.T, body, filter string) {
		check := func(what string, err error) {
			var p *scimProblem
			if err != nil && (!errors.As(err, &p) || p.status < 400 || p.detail == "") {
				t.Fatalf("%s: %v is not a SCIM problem", what, err)
			}
		}
		_, err := parseSCIMFilter(filter, wire.SCIMSchemaUser, scimUserFilters)
		check("filter", err)
		var in wire.SCIMPatch
		if json.Unmarshal([]byte(body), &in) != nil {
			return
		}
		ops, err := scimOps(&in)
		check("operations", err)
		if err != nil {
			return
		}
		_, err = userPatch(ops)
		check("user patch", err)
		_, err = groupPatch(ops)
		check("group patch", err)
	})
}
