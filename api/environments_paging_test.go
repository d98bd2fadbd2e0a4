package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
)

// The ESC lists page: environments (one organization, and all) by 50 on
// the continuation token, referrers by count; every item comes once
// across the pages and the last page has no token; a forged token is
// refused.
func TestEnvironmentListsPage(t *testing.T) {
	e := newEnv(t)
	const envs = "/api/esc/environments/acme"
	e.must(e.admin, "POST", envs, map[string]string{"project": "app", "name": "base"}, 200, nil)
	for i := range 101 {
		name := fmt.Sprintf("e%03d", i)
		e.must(e.admin, "POST", envs, map[string]string{"project": "app", "name": name}, 200, nil)
		if status, _, body := e.callRaw(e.admin, "PATCH", envs+"/app/"+name, "imports: [app/base]\n", nil); status != http.StatusOK {
			t.Fatalf("PATCH %s: %d %s", name, status, body)
		}
	}
	type page struct {
		Environments []struct{ Name string }
		NextToken    string
	}
	walk := func(path string) (names map[string]int, pages int) {
		t.Helper()
		names = map[string]int{}
		token := ""
		for pages = 1; ; pages++ {
			var p page
			q := path
			if token != "" {
				q += "?continuationToken=" + url.QueryEscape(token)
			}
			e.must(e.admin, "GET", q, nil, 200, &p)
			for _, env := range p.Environments {
				names[env.Name]++
			}
			if p.NextToken == "" || pages > 10 {
				return names, pages
			}
			token = p.NextToken
		}
	}
	for _, path := range []string{envs, "/api/esc/environments"} {
		names, pages := walk(path)
		if len(names) != 102 || pages != 3 {
			t.Errorf("%s: %d names in %d pages, want 102 in 3", path, len(names), pages)
		}
		for n, c := range names {
			if c != 1 {
				t.Errorf("%s: %s listed %d times", path, n, c)
			}
		}
	}

	type refs struct {
		Referrers         map[string][]struct{ Environment *struct{ Name string } }
		ContinuationToken string
	}
	seen := map[string]int{}
	token, pages := "", 0
	for pages = 1; pages < 10; pages++ {
		var r refs
		q := envs + "/app/base/referrers?count=60"
		if token != "" {
			q += "&continuationToken=" + url.QueryEscape(token)
		}
		e.must(e.admin, "GET", q, nil, 200, &r)
		for _, x := range r.Referrers["1"] {
			seen[x.Environment.Name]++
		}
		if token = r.ContinuationToken; token == "" {
			break
		}
	}
	if len(seen) != 101 || pages != 2 {
		t.Errorf("referrers: %d in %d pages, want 101 in 2", len(seen), pages)
	}
	e.fails(e.admin, "GET", envs+"/app/base/referrers?continuationToken=60.forged", nil, 400, "continuationToken")
}
