package api_test

import "testing"

// TestNestedNullEnvTag: null (or a missing object) inside a body where an
// object is required must be a 400 that changes nothing. PATCH
// .../tags/{tagName} with "newTag": null used to set the tag's value to ""
// (and with tag rules, change who may do what on the environment).
func TestNestedNullEnvTag(t *testing.T) {
	e := newEnv(t)
	e.must(e.admin, "POST", "/api/esc/environments/acme", map[string]string{"project": "app", "name": "cfg"}, 200, nil)
	base := "/api/esc/environments/acme/app/cfg"
	e.must(e.admin, "POST", base+"/tags", map[string]string{"name": "env", "value": "prod"}, 200, nil)
	for _, body := range []string{
		`{"currentTag": {"value": "prod"}, "newTag": null}`,
		`{"currentTag": {"value": "prod"}}`,
		`{"currentTag": null, "newTag": {"value": "dev"}}`,
	} {
		e.failsAny(e.admin, "PATCH", base+"/tags/env", body, 400, "Tag", body)
	}
	var tag struct{ Name, Value string }
	e.must(e.admin, "GET", base+"/tags/env", nil, 200, &tag)
	if tag.Value != "prod" {
		t.Errorf("tag env after PATCH with a null newTag: %q, want prod", tag.Value)
	}
}
