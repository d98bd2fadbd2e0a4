package api_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// TestTokenListOrderAcrossPages: a token list is filtered and sorted
// before it is paged, so that pages continue one order and a search that
// matches only the last tokens made finds them on the first page.
func TestTokenListOrderAcrossPages(t *testing.T) {
	e := newEnv(t)
	// Nine tokens made in the reverse of their names' order; the last
	// three made (the third page in creation order) build nightly.
	for i := 9; i >= 1; i-- {
		desc := "ci"
		if i <= 3 {
			desc = "the Nightly build"
		}
		e.must(e.admin, "POST", "/api/orgs/acme/tokens", map[string]any{"name": fmt.Sprintf("tok-%d", i), "description": desc}, 200, nil)
	}
	byName := []string{"tok-1", "tok-2", "tok-3", "tok-4", "tok-5", "tok-6", "tok-7", "tok-8", "tok-9"}
	cases := []struct {
		query string
		want  [][]string // the pages
	}{
		{"sortBy=name", [][]string{byName[:3], byName[3:6], byName[6:]}},
		{"sortBy=name&sortDirection=desc", [][]string{{"tok-9", "tok-8", "tok-7"}, {"tok-6", "tok-5", "tok-4"}, {"tok-3", "tok-2", "tok-1"}}},
		{"", [][]string{{"tok-9", "tok-8", "tok-7"}, {"tok-6", "tok-5", "tok-4"}, {"tok-3", "tok-2", "tok-1"}}},
		{"sortDirection=descending", [][]string{{"tok-1", "tok-2", "tok-3"}, {"tok-4", "tok-5", "tok-6"}, {"tok-7", "tok-8", "tok-9"}}},
		{"search=nightly", [][]string{{"tok-3", "tok-2", "tok-1"}}},
		{"search=NIGHTLY&sortBy=name", [][]string{{"tok-1", "tok-2", "tok-3"}}},
		{"filter=expired", [][]string{{}}},
	}
	for _, c := range cases {
		if got := tokenPages(e, c.query); !slices.EqualFunc(got, c.want, slices.Equal) {
			t.Errorf("%q: pages %v, want %v", c.query, got, c.want)
		}
	}
}

// tokenPages lists the organization's tokens three at a time and returns
// the names on each page.
func tokenPages(e *env, query string) [][]string {
	e.t.Helper()
	var pages [][]string
	next := ""
	for {
		path := "/api/orgs/acme/tokens?maxResults=3&" + query
		if next != "" {
			path += "&continuationToken=" + url.QueryEscape(next)
		}
		var list wire.ListTokensResponse
		e.must(e.admin, "GET", path, nil, 200, &list)
		page := []string{}
		for _, tk := range list.Tokens {
			page = append(page, tk.Name)
		}
		pages = append(pages, page)
		if next = list.ContinuationToken; next == "" || len(pages) > 5 {
			return pages
		}
	}
}

// TestPersonalTokensByName: personal tokens have no name, so sorting them
// by name keeps them in creation order (reversed when descending), across
// pages.
func TestPersonalTokensByName(t *testing.T) {
	e := newEnv(t)
	for _, d := range []string{"p1", "p2", "p3", "p4", "p5"} {
		e.must(e.admin, "POST", "/api/user/tokens", map[string]any{"description": d}, 200, nil)
	}
	descriptions := func(query string) []string {
		var out []string
		next := ""
		for range 5 {
			path := "/api/user/tokens?maxResults=2&" + query
			if next != "" {
				path += "&continuationToken=" + url.QueryEscape(next)
			}
			var list wire.ListTokensResponse
			e.must(e.admin, "GET", path, nil, 200, &list)
			for _, tk := range list.Tokens {
				if strings.HasPrefix(tk.Description, "p") {
					out = append(out, tk.Description)
				}
			}
			if next = list.ContinuationToken; next == "" {
				break
			}
		}
		return out
	}
	if got := descriptions("sortBy=name"); !slices.Equal(got, []string{"p1", "p2", "p3", "p4", "p5"}) {
		t.Errorf("by name: %v", got)
	}
	if got := descriptions("sortBy=name&sortDirection=desc"); !slices.Equal(got, []string{"p5", "p4", "p3", "p2", "p1"}) {
		t.Errorf("by name, descending: %v", got)
	}
}
