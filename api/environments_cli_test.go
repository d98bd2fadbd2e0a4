package api_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestEnvironmentCLIProtocol: what the esc CLI reads and sends. Revision
// headers on get and update, the ETag sent back as an ETag header, the
// paging of versions and tags ending, decrypt, open at a version, latest
// as a version tag, and the list across organizations.
func TestEnvironmentCLIProtocol(t *testing.T) {
	e := newEnv(t)
	const base = "/api/esc/environments/acme/app/cli"
	e.must(e.admin, "POST", "/api/esc/environments/acme", map[string]string{"project": "app", "name": "cli"}, 200, nil)
	status, h, body := e.callRaw(e.admin, "GET", base, "", nil)
	if status != 200 || h.Get("Pulumi-ESC-Revision") != "1" || h.Get("ETag") != "1" {
		t.Fatalf("GET: %d %s, headers %v", status, body, h)
	}
	// The CLI sends the ETag it read back as an ETag header.
	status, h, body = e.callRaw(e.admin, "PATCH", base, "values:\n  a: 1\n  s:\n    fn::secret: shh\n", map[string]string{"ETag": "1"})
	if status != 200 || h.Get("Pulumi-ESC-Revision") != "2" {
		t.Fatalf("PATCH: %d %s, headers %v", status, body, h)
	}
	if status, _, body = e.callRaw(e.admin, "PATCH", base, "values: {a: 2}", map[string]string{"ETag": "1"}); status != 409 {
		t.Errorf("stale ETag: %d %s", status, body)
	}
	for i := 3; i <= 7; i++ {
		e.callRaw(e.admin, "PATCH", base, fmt.Sprintf("values:\n  a: %d\n", i), nil)
	}
	// Versions page below before, count at a time, until an empty page.
	var got []int
	before := 0
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("version paging does not end")
		}
		var page []struct {
			Number int
			Tags   []string
		}
		e.must(e.admin, "GET", fmt.Sprintf("%s/versions?before=%d&count=3", base, before), nil, 200, &page)
		if len(page) == 0 {
			break
		}
		if len(page) > 3 {
			t.Fatalf("a page of %d versions, asked for 3", len(page))
		}
		if before == 0 && (len(page[0].Tags) != 1 || page[0].Tags[0] != "latest") {
			t.Errorf("the newest version's tags = %v", page[0].Tags)
		}
		for _, v := range page {
			got = append(got, v.Number)
		}
		before = page[len(page)-1].Number
	}
	if fmt.Sprint(got) != "[7 6 5 4 3 2 1]" {
		t.Errorf("versions = %v", got)
	}
	e.fails(e.admin, "GET", base+"/versions?count=0", nil, 400, "count")

	// latest is a version tag; the definition reads by number or tag.
	var tags struct {
		Tags []struct {
			Name     string
			Revision int
		}
	}
	e.must(e.admin, "GET", base+"/versions/tags?count=500", nil, 200, &tags)
	if len(tags.Tags) != 1 || tags.Tags[0].Name != "latest" || tags.Tags[0].Revision != 7 {
		t.Errorf("version tags = %+v", tags)
	}
	e.must(e.admin, "GET", base+"/versions/tags?after=latest", nil, 200, &tags)
	if len(tags.Tags) != 0 {
		t.Errorf("version tags after latest = %+v", tags)
	}
	e.fails(e.admin, "GET", base+"/versions/tags/stable", nil, 404, "stable")
	if status, h, body = e.callRaw(e.admin, "GET", base+"/versions/2", "", nil); status != 200 || h.Get("Pulumi-ESC-Revision") != "2" || !strings.Contains(body, "ciphertext") {
		t.Errorf("version 2: %d %v %s", status, h, body)
	}
	if status, h, _ = e.callRaw(e.admin, "GET", base+"/versions/latest", "", nil); status != 200 || h.Get("Pulumi-ESC-Revision") != "7" {
		t.Errorf("latest: %d %v", status, h)
	}
	e.fails(e.admin, "GET", base+"/versions/8", nil, 404, "no version 8")
	if _, _, body = e.callRaw(e.admin, "GET", base+"/versions/2/decrypt", "", nil); !strings.Contains(body, "fn::secret: shh") {
		t.Errorf("decrypt version 2: %s", body)
	}
	if _, _, body = e.callRaw(e.admin, "GET", base+"/decrypt", "", nil); strings.Contains(body, "shh") || !strings.Contains(body, "a: 7") {
		t.Errorf("decrypt: %s", body)
	}
	e.fails(e.admin, "GET", base+"/versions/2/other", nil, 404, "no such route")

	// Open at a version reads that version's values.
	var opened struct{ ID string }
	e.must(e.admin, "POST", base+"/versions/2/open", nil, 200, &opened)
	var values struct {
		Properties map[string]struct{ Value any }
	}
	e.must(e.admin, "GET", base+"/open/"+opened.ID, nil, 200, &values)
	if values.Properties["s"].Value != "shh" || values.Properties["a"].Value != 1.0 {
		t.Errorf("opened version 2 = %+v", values.Properties)
	}
	e.fails(e.admin, "POST", base+"/versions/9/open", nil, 404, "no version 9")

	// Environment tags page with after and count, ending with "0".
	for _, n := range []string{"a", "b", "c"} {
		e.must(e.admin, "POST", base+"/tags", map[string]string{"name": n, "value": "v" + n}, 200, nil)
	}
	var names []string
	after := ""
	for pages := 0; after != "0"; pages++ {
		if pages > 5 {
			t.Fatal("tag paging does not end")
		}
		var page struct {
			Tags      map[string]struct{ Value string }
			NextToken string
		}
		e.must(e.admin, "GET", base+"/tags?count=2&after="+after, nil, 200, &page)
		for n := range page.Tags {
			names = append(names, n)
		}
		after = page.NextToken
	}
	if len(names) != 3 {
		t.Errorf("tags over pages = %v", names)
	}

	// The list across organizations names each one.
	var all struct {
		Environments []struct{ Organization, Project, Name string }
	}
	e.must(e.admin, "GET", "/api/esc/environments", nil, 200, &all)
	if len(all.Environments) != 1 || all.Environments[0].Organization != "acme" || all.Environments[0].Name != "cli" {
		t.Errorf("all environments = %+v", all)
	}
}
