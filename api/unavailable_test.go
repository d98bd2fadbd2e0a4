package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api"
)

// TestDatabaseUnavailable: a request whose database cannot write (here a
// full SQLite disk: max_page_count at the file's size) is a 503 with
// Retry-After and the store's message, "disk full", not a 500; /readyz
// says 503 with the reason its check gives, and 200 once it passes.
func TestDatabaseUnavailable(t *testing.T) {
	t.Parallel()
	var down atomic.Pointer[error]
	e := newEnv(t, func(o *api.Options) {
		o.Ready = func(ctx context.Context) error {
			if err := down.Load(); err != nil {
				return *err
			}
			return nil
		}
	})
	if err := e.rawExec("PRAGMA max_page_count = 1"); err != nil {
		t.Fatal(err)
	}
	var status int
	var header http.Header
	var body string
	for i := range 500 {
		tags := map[string]string{}
		for k := range 8 {
			tags[fmt.Sprintf("filler%d", k)] = strings.Repeat("x", 250)
		}
		b, _ := json.Marshal(map[string]any{"stackName": fmt.Sprintf("s%d", i), "tags": tags})
		status, header, body = e.callRaw(e.admin, "POST", "/api/stacks/acme/app", string(b), nil)
		if status != 200 {
			break
		}
	}
	if status != 503 || header.Get("Retry-After") == "" || !strings.Contains(body, "disk full") {
		t.Fatalf("a write on a full disk: %d %q %s, want 503 disk full with Retry-After", status, header.Get("Retry-After"), body)
	}

	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"unavailable", gatehouse.Errorf(gatehouse.EUNAVAILABLE, "disk full: the sqlite database cannot grow"), "not ready: disk full"},
		{"any other error", fmt.Errorf("boom"), "not ready: database unavailable"},
	} {
		down.Store(&tt.err)
		status, header, body := e.callRaw("", "GET", "/readyz", "", nil)
		if status != 503 || header.Get("Retry-After") == "" || !strings.HasPrefix(body, tt.want) {
			t.Errorf("%s: readyz %d %q, want 503 %q", tt.name, status, body, tt.want)
		}
	}
	down.Store(nil)
	if status, _, body := e.callRaw("", "GET", "/readyz", "", nil); status != 200 {
		t.Errorf("readyz once ready: %d %s", status, body)
	}
}
