package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"html"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// TestAuditClass: the audit page shows changes by default and reads
// (stack exports here) only when its class filter asks for them; the
// filter's choice stays selected and is kept by the next page's link and
// the export, which the console downloads for the session's user.
func TestAuditClass(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.admin)
	e.must(e.admin, "POST", "/api/stacks/acme/app", wire.CreateStackRequest{StackName: "dev"}, nil)
	// More reads than a page holds (100), so that the reads have a next
	// page.
	for range 101 {
		e.must(e.admin, "GET", "/api/stacks/acme/app/dev/export", nil, nil)
	}
	const read, change = "<code>stack_exported</code>", "<code>stack_created</code>"
	selected := regexp.MustCompile(`<option value="(\w+)" selected>`)
	link := func(page, text string) string {
		t.Helper()
		m := regexp.MustCompile(`<a (?:class="button" )?href="([^"]*)">` + regexp.QuoteMeta(text)).FindStringSubmatch(page)
		if m == nil {
			return ""
		}
		return html.UnescapeString(m[1])
	}
	for _, c := range []struct {
		name, query  string
		class        string  // selected
		reads, other bool    // shown on the first page
		export, next string  // the links' URLs ("": none)
		older        [2]bool // reads, other shown on the next page
	}{
		{"default", "", "change", false, true, "/console/acme/audit/export?class=change", "", [2]bool{}},
		{"changes", "?class=change", "change", false, true, "/console/acme/audit/export?class=change", "", [2]bool{}},
		{"reads", "?class=read", "read", true, false, "/console/acme/audit/export?class=read",
			"/console/acme/audit?class=read&continuationToken=", [2]bool{true, false}},
		// Newest first: the 100 newest are exports, the creation is older.
		{"all", "?class=all", "all", true, false, "/console/acme/audit/export?class=all",
			"/console/acme/audit?class=all&continuationToken=", [2]bool{true, true}},
		{"reads of a user", "?class=read&user=admin", "read", true, false, "/console/acme/audit/export?class=read&user=admin",
			"/console/acme/audit?class=read&continuationToken=", [2]bool{true, false}},
	} {
		t.Run(c.name, func(t *testing.T) {
			page := b.get("/console/acme/audit" + c.query)
			if got := strings.Contains(page, read); got != c.reads {
				t.Errorf("stack_exported shown: %v, want %v", got, c.reads)
			}
			if got := strings.Contains(page, change); got != c.other {
				t.Errorf("stack_created shown: %v, want %v", got, c.other)
			}
			var sel []string
			for _, m := range selected.FindAllStringSubmatch(page, -1) {
				sel = append(sel, m[1])
			}
			if len(sel) != 1 || sel[0] != c.class {
				t.Errorf("selected options %v, want [%s]", sel, c.class)
			}
			if got := link(page, "Export these events"); got != c.export {
				t.Errorf("export link %q, want %q", got, c.export)
			}
			next := link(page, "Older events")
			if !strings.HasPrefix(next, c.next) || (next == "") != (c.next == "") {
				t.Fatalf("next page link %q, want %q...", next, c.next)
			}
			if next == "" {
				return
			}
			if strings.Contains(c.query, "user=admin") && !strings.Contains(next, "user=admin") {
				t.Errorf("next page link %q drops the user filter", next)
			}
			older := b.get(next)
			if got := [2]bool{strings.Contains(older, read), strings.Contains(older, change)}; got != c.older {
				t.Errorf("the next page shows reads, changes: %v, want %v", got, c.older)
			}
			if m := selected.FindStringSubmatch(older); m == nil || m[1] != c.class {
				t.Errorf("the next page's class is %v, want %s", m, c.class)
			}
		})
	}

	t.Run("export", func(t *testing.T) {
		for class, want := range map[string][2]int{"change": {0, 1}, "read": {101, 0}, "all": {101, 1}} {
			status, h, body := b.do("GET", "/console/acme/audit/export?class="+class, nil)
			if status != 200 || h.Get("Content-Type") != "application/gzip" || !strings.Contains(h.Get("Content-Disposition"), "attachment") {
				t.Fatalf("export %s: %d %v", class, status, h)
			}
			zr, err := gzip.NewReader(bytes.NewReader([]byte(body)))
			if err != nil {
				t.Fatal(err)
			}
			csv, _ := io.ReadAll(zr)
			if got := [2]int{strings.Count(string(csv), ",stack_exported,"), strings.Count(string(csv), ",stack_created,")}; got != want {
				t.Errorf("export of %s: %d exports and %d creations, want %v\n%s", class, got[0], got[1], want, csv)
			}
		}
	})

	t.Run("bad class", func(t *testing.T) {
		for _, path := range []string{"/console/acme/audit?class=reads", "/console/acme/audit/export?class=reads"} {
			if status, _, body := b.do("GET", path, nil); status != 400 || !strings.Contains(body, "class: &#34;reads&#34; is not change, read or all") {
				t.Errorf("GET %s: %d\n%s", path, status, body)
			}
		}
	})
}

// TestAuditExportRefusals: the console's export downloads what the API
// would give the session's user, and nothing more: a Reader (no
// audit_logs:export) and another organization's admin get a page that
// says no, and no log.
func TestAuditExportRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reader := e.browser()
	reader.signIn(e.member(t, "rex", "reader"))
	if _, err := e.svc.CreateOrgWithAdmin(ctx, "globex", "gus", false); err != nil {
		t.Fatal(err)
	}
	gus, err := e.svc.IssueToken(ctx, "globex", "gus", "t", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	outsider := e.browser()
	if status, _, body := outsider.do("POST", "/console/login", url.Values{"token": {gus}}); status != 303 {
		t.Fatalf("gus signs in: %d\n%s", status, body)
	}
	// The admin's download, for contrast.
	e.must(e.admin, "POST", "/api/stacks/acme/app", map[string]any{"stackName": "dev"}, nil)
	admin := e.browser()
	admin.signIn(e.admin)
	if status, h, _ := admin.do("GET", "/console/acme/audit/export?class=all", nil); status != 200 || h.Get("Content-Disposition") == "" {
		t.Fatalf("the admin's export: %d %v", status, h)
	}
	for name, c := range map[string]struct {
		b      *browser
		status int
	}{"reader": {reader, 403}, "another organization's admin": {outsider, 404}} {
		status, h, body := c.b.do("GET", "/console/acme/audit/export?class=all", nil)
		if status != c.status || h.Get("Content-Disposition") != "" || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || strings.Contains(body, ",stack_created,") || !strings.Contains(body, "<h1>") {
			t.Errorf("%s: export: %d %v\n%.400s", name, status, h, body)
		}
	}
}
