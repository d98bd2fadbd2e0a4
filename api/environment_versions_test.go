package api_test

import (
	"fmt"
	"testing"
)

// Version tags and retraction as the esc CLI sends them: create, move,
// delete, the paging of tags over several pages, opening by tag, and a
// retracted version listed with its replacement, opening the replacement.
func TestEnvironmentRevisionTags(t *testing.T) {
	e := newEnv(t)
	const base = "/api/esc/environments/acme/app/tagged"
	e.must(e.admin, "POST", "/api/esc/environments/acme", map[string]string{"project": "app", "name": "tagged"}, 200, nil)
	for i := 2; i <= 4; i++ {
		e.callRaw(e.admin, "PATCH", base, fmt.Sprintf("values:\n  a: %d\n", i), nil)
	}
	e.must(e.admin, "POST", base+"/versions/tags", map[string]any{"name": "stable", "revision": 3}, 204, nil)
	e.must(e.admin, "POST", base+"/versions/tags", map[string]any{"name": "blue"}, 204, nil)
	e.fails(e.admin, "POST", base+"/versions/tags", map[string]any{"name": "stable", "revision": 2}, 409, "stable")
	e.fails(e.admin, "POST", base+"/versions/tags", map[string]any{"name": "latest", "revision": 2}, 400, "latest")
	e.fails(e.admin, "POST", base+"/versions/tags", map[string]any{"name": "x", "revision": 9}, 404, "no version 9")
	e.must(e.admin, "POST", base+"/versions/tags", map[string]any{"name": "canary", "revision": 2}, 204, nil)
	e.must(e.admin, "PATCH", base+"/versions/tags/canary", map[string]any{"revision": 3}, 204, nil)
	e.fails(e.admin, "PATCH", base+"/versions/tags/nope", map[string]any{"revision": 3}, 404, "nope")

	// One tag a page, until an empty page.
	type tag struct {
		Name        string
		Revision    int
		EditorLogin string
	}
	var got []tag
	after := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("tag paging does not end")
		}
		var page struct{ Tags []tag }
		e.must(e.admin, "GET", base+"/versions/tags?count=1&after="+after, nil, 200, &page)
		if len(page.Tags) == 0 {
			break
		}
		if len(page.Tags) != 1 {
			t.Fatalf("a page of %d tags, asked for 1", len(page.Tags))
		}
		got = append(got, page.Tags[0])
		after = page.Tags[0].Name
	}
	if fmt.Sprint(got) != "[{blue 4 admin} {canary 3 admin} {latest 4 } {stable 3 admin}]" {
		t.Errorf("tags = %v", got)
	}
	var one tag
	e.must(e.admin, "GET", base+"/versions/tags/canary", nil, 200, &one)
	if one.Revision != 3 {
		t.Errorf("canary = %+v", one)
	}

	// Opening by tag; a retracted version opens its replacement.
	openA := func(ref string) any {
		t.Helper()
		var opened struct{ ID string }
		e.must(e.admin, "POST", base+"/versions/"+ref+"/open", nil, 200, &opened)
		var values struct {
			Properties map[string]struct{ Value any }
		}
		e.must(e.admin, "GET", base+"/open/"+opened.ID, nil, 200, &values)
		return values.Properties["a"].Value
	}
	if a := openA("stable"); a != 3.0 {
		t.Errorf("open @stable: a = %v", a)
	}
	e.fails(e.admin, "POST", base+"/versions/4/retract", map[string]any{}, 400, "latest")
	e.must(e.admin, "POST", base+"/versions/stable/retract", map[string]any{"reason": "bad value"}, 204, nil)
	if a := openA("3"); a != 2.0 {
		t.Errorf("open @3 after retracting it: a = %v", a)
	}
	e.must(e.admin, "GET", base+"/versions/tags/stable", nil, 200, &one)
	if one.Revision != 2 {
		t.Errorf("stable after retracting 3 = %+v", one)
	}
	var vs []struct {
		Number    int
		Tags      []string
		Retracted *struct {
			Replacement int
			ByLogin     string
			Reason      string
		}
	}
	e.must(e.admin, "GET", base+"/versions", nil, 200, &vs)
	if len(vs) != 4 || vs[1].Retracted == nil || vs[1].Retracted.Replacement != 2 || vs[1].Retracted.Reason != "bad value" || vs[1].Retracted.ByLogin != "admin" ||
		fmt.Sprint(vs[0].Tags) != "[blue latest]" || fmt.Sprint(vs[2].Tags) != "[canary stable]" {
		t.Errorf("versions = %+v", vs)
	}

	e.must(e.admin, "DELETE", base+"/versions/tags/canary", nil, 204, nil)
	e.fails(e.admin, "DELETE", base+"/versions/tags/canary", nil, 404, "canary")
	e.fails(e.admin, "DELETE", base+"/versions/tags/latest", nil, 400, "latest")
}

// Deletion protection through the settings the esc CLI reads and sets.
func TestEnvironmentSettings(t *testing.T) {
	e := newEnv(t)
	const base = "/api/esc/environments/acme/app/kept"
	e.must(e.admin, "POST", "/api/esc/environments/acme", map[string]string{"project": "app", "name": "kept"}, 200, nil)
	var set struct{ DeletionProtected bool }
	e.must(e.admin, "GET", base+"/settings", nil, 200, &set)
	if set.DeletionProtected {
		t.Error("a new environment is protected")
	}
	e.must(e.admin, "PATCH", base+"/settings", map[string]any{"deletionProtected": true}, 200, &set)
	if !set.DeletionProtected {
		t.Error("PATCH did not protect it")
	}
	e.fails(e.admin, "DELETE", base, nil, 409, "protected from deletion")
	e.must(e.admin, "GET", base+"/settings", nil, 200, &set)
	if !set.DeletionProtected {
		t.Error("GET after PATCH: not protected")
	}
	e.must(e.admin, "PATCH", base+"/settings", map[string]any{"deletionProtected": false}, 200, &set)
	e.must(e.admin, "DELETE", base, nil, 204, nil)
}

// Referrers: the environments whose current definitions import this one,
// by the version they import.
func TestEnvironmentReferrers(t *testing.T) {
	e := newEnv(t)
	const envs = "/api/esc/environments/acme/app/"
	for _, n := range []string{"base", "one", "two", "other"} {
		e.must(e.admin, "POST", "/api/esc/environments/acme", map[string]string{"project": "app", "name": n}, 200, nil)
	}
	e.callRaw(e.admin, "PATCH", envs+"base", "values: {a: 1}\n", nil)
	e.callRaw(e.admin, "PATCH", envs+"base", "values: {a: 2}\n", nil)
	e.callRaw(e.admin, "PATCH", envs+"one", "imports: [app/base]\n", nil)
	e.callRaw(e.admin, "PATCH", envs+"two", "imports:\n  - app/base@2: {merge: false}\n", nil)
	e.callRaw(e.admin, "PATCH", envs+"other", "imports: [app/one]\n", nil)
	type page struct {
		Referrers map[string][]struct {
			Environment *struct {
				Project, Name string
				Revision      int
			}
		}
		ContinuationToken string
	}
	var got page
	e.must(e.admin, "GET", envs+"base/referrers", nil, 200, &got)
	if len(got.Referrers) != 1 || len(got.Referrers["3"]) != 1 || got.Referrers["3"][0].Environment.Name != "one" || got.Referrers["3"][0].Environment.Revision != 2 || got.ContinuationToken != "" {
		t.Errorf("referrers of base = %+v", got)
	}
	got = page{}
	e.must(e.admin, "GET", envs+"base/referrers?allRevisions=true", nil, 200, &got)
	if len(got.Referrers) != 2 || len(got.Referrers["2"]) != 1 || got.Referrers["2"][0].Environment.Name != "two" {
		t.Errorf("referrers of base, every version = %+v", got)
	}
	got = page{}
	e.must(e.admin, "GET", envs+"other/referrers?allRevisions=true", nil, 200, &got)
	if len(got.Referrers) != 0 {
		t.Errorf("referrers of other = %+v", got)
	}
}
