package api_test

import (
	"bytes"
	"compress/gzip"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	_ "modernc.org/sqlite"
)

// bombSize is how far the gzip bomb inflates: beyond every route's limit.
const bombSize = 80 << 20

var (
	bombOnce sync.Once
	bomb     []byte
)

// gzipBomb is a small gzip body that inflates to bombSize bytes of valid
// JSON, acceptable to every stack route that takes a body: without a limit
// on the decompressed size, createStack would create the stack "bomb", an
// import or a checkpoint would store 80 MiB.
func gzipBomb(t testing.TB) []byte {
	bombOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		head := `{"stackName":"bomb","version":3,"sequenceNumber":1,"untypedDeployment":{"version":3},"deployment":{"manifest":{}},"pad":"`
		zw.Write([]byte(head))
		chunk := bytes.Repeat([]byte("A"), 1<<20)
		for n := len(head); n < bombSize-2; n += len(chunk) {
			zw.Write(chunk)
		}
		zw.Write([]byte(`"}`))
		zw.Close()
		bomb = buf.Bytes()
	})
	if len(bomb) > 1<<20 {
		t.Fatalf("the bomb is %d bytes compressed", len(bomb))
	}
	return bomb
}

// fingerprint counts the rows of every table and sums the checkpoints'
// sizes and the stacks' versions: any write changes it.
func (e *env) rowCounts() string {
	e.t.Helper()
	db, err := sql.Open("sqlite", "file:"+e.dbPath+"?mode=ro")
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
	if err != nil {
		e.t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	var b strings.Builder
	for _, tb := range tables {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM "` + tb + `"`).Scan(&n); err != nil {
			e.t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s=%d ", tb, n)
	}
	var size, versions sql.NullInt64
	db.QueryRow("SELECT sum(length(data)) FROM checkpoints").Scan(&size)
	db.QueryRow("SELECT sum(version) FROM stacks").Scan(&versions)
	fmt.Fprintf(&b, "checkpoint bytes=%d versions=%d", size.Int64, versions.Int64)
	return b.String()
}

// TestGzipBombRefused: a gzip bomb on every stack route that takes a body
// is refused with 413 naming the limit, and writes nothing.
func TestGzipBombRefused(t *testing.T) {
	e := newEnv(t)
	e.newStack(e.admin, "app", "dev", nil)
	u := e.begin(e.admin, "app", "dev", "update")
	body := gzipBomb(t)
	// Routes that take no body refuse any (400) before reading it.
	noBody := map[string]bool{"POST " + stackPath("app", "dev", "update", u.id, "cancel"): true}
	before := e.rowCounts()
	n := 0
	for _, rt := range e.routes() {
		method, pattern, _ := strings.Cut(rt, " ")
		if (method != "POST" && method != "PATCH" && method != "PUT") || !strings.HasPrefix(pattern, "/api/stacks/") {
			continue
		}
		path := strings.NewReplacer("{orgName}", "acme", "{projectName}", "app", "{stackName}", "dev",
			"{updateKind}", "update", "{updateID}", u.id, "{tagName}", "x").Replace(pattern)
		auth := "token " + e.admin
		if strings.HasSuffix(pattern, "/checkpoint") || strings.Contains(pattern, "/checkpoint") || strings.HasSuffix(pattern, "/events") ||
			strings.HasSuffix(pattern, "/events/batch") || strings.HasSuffix(pattern, "/renew_lease") || strings.HasSuffix(pattern, "/complete") {
			if strings.Contains(pattern, "{updateID}") {
				auth = u.auth
			}
		}
		t.Run(method+" "+pattern, func(t *testing.T) {
			req, _ := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
			req.Header.Set("Authorization", auth)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Content-Encoding", "gzip")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want, says := http.StatusRequestEntityTooLarge, "limit of"
			if noBody[method+" "+path] {
				want, says = http.StatusBadRequest, "takes none"
			}
			if resp.StatusCode != want || !strings.Contains(string(data), says) {
				t.Errorf("status %d %s; want %d naming the limit", resp.StatusCode, data, want)
			}
		})
		n++
	}
	if n < 20 {
		t.Fatalf("only %d stack routes take a body", n)
	}
	if after := e.rowCounts(); after != before {
		t.Errorf("the bombs wrote:\nbefore %s\nafter  %s", before, after)
	}
}

// TestBodyLimits: each route's limit on the decompressed size holds at
// its edge, compressed or not, and a Content-Length over it is refused
// before the body is read.
func TestBodyLimits(t *testing.T) {
	e := newEnv(t)
	e.newStack(e.admin, "app", "dev", nil)
	gz := func(data []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(data)
		zw.Close()
		return buf.Bytes()
	}
	// A stack create within 16 MiB with its state passes; over it, 413.
	state := func(size int) []byte {
		head := `{"stackName":"s%d","state":{"version":3,"deployment":{"manifest":{}},"pad":"`
		h := fmt.Sprintf(head, size)
		return []byte(h + strings.Repeat("x", size-len(h)-3) + `"}}`)
	}
	for _, tc := range []struct {
		name   string
		body   []byte
		gzip   bool
		status int
	}{
		{"16 MiB plain", state(16 << 20), false, 200},
		{"16 MiB + 1 plain", state(16<<20 + 1), false, 413},
		{"16 MiB gzip", state(16<<20 - 10), true, 200},
		{"16 MiB + 1 gzip", state(16<<20 + 1), true, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			if tc.gzip {
				body = gz(body)
			}
			req, _ := http.NewRequest("POST", e.srv.URL+"/api/stacks/acme/app", bytes.NewReader(body))
			req.Header.Set("Authorization", "token "+e.admin)
			if tc.gzip {
				req.Header.Set("Content-Encoding", "gzip")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, data, tc.status)
			}
			if tc.status == 413 && !strings.Contains(string(data), "16 MiB") {
				t.Errorf("the refusal does not name the limit: %s", data)
			}
		})
	}
	// An IAM route over its limit is 413 too.
	e.fails(e.admin, "POST", "/api/orgs/acme/teams/pulumi", `{"name":"`+strings.Repeat("a", 70<<10)+`"}`, 413, "64 KiB")
}

// TestCheckpointLimitConfigured: the service's checkpoint limit
// (--max-checkpoint-mib) bounds imports and checkpoints with a 413 naming
// it, whatever the route let through.
func TestCheckpointLimitConfigured(t *testing.T) {
	e := newEnv(t)
	e.svc.MaxCheckpoint = 1 << 20
	e.newStack(e.admin, "app", "dev", nil)
	big := `{"version":3,"deployment":{"manifest":{}},"pad":"` + strings.Repeat("x", 1<<20) + `"}`
	e.fails(e.admin, "POST", stackPath("app", "dev", "import"), big, 413, "over the checkpoint limit of 1048576")
	u := e.begin(e.admin, "app", "dev", "update")
	e.fails(u.auth, "PATCH", stackPath("app", "dev", "update", u.id, "checkpointverbatim"),
		`{"version":3,"sequenceNumber":1,"untypedDeployment":`+big+`}`, 413, "over the checkpoint limit")
	small := `{"version":3,"deployment":{"manifest":{}}}`
	e.must(e.admin, "POST", stackPath("app", "dev", "import"), small, 409, "") // the update holds the lease; the size passed
}
