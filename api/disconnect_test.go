package api_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
)

// waitFor polls cond until it holds, failing after a generous bound (a
// guard against a hang, not a timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
	}
}

// TestClientDisconnect: a client that goes away while its request waits on
// the database is logged as a disconnect with the request id, never as an
// internal error, and counted under status 499, as nginx does.
func TestClientDisconnect(t *testing.T) {
	te := testenv.New(t) // SQLite: one writer, which the test holds
	logs := newLogFile(t)
	server := api.New(te.Svc, te.Authz, api.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	const path = "/api/orgs/acme/teams/pulumi"
	arrived := make(chan context.Context, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == path {
			arrived <- r.Context()
		}
		server.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(func() { srv.Close(); server.Close() })

	// Hold the store's writer, so that the request waits in the store
	// until the client has gone.
	held, release := make(chan struct{}), make(chan struct{})
	go te.DB.Write(context.Background(), func(gatehouse.Tx) error {
		close(held)
		<-release
		return nil
	})
	<-held
	ctx, cancel := context.WithCancel(context.Background())
	answered := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+path, strings.NewReader(`{"name":"gone","displayName":"Gone"}`))
		req.Header.Set("Authorization", "token "+te.Admin)
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		answered <- err
	}()
	reqCtx := <-arrived
	cancel()
	<-reqCtx.Done() // the server has seen the connection close
	close(release)
	if err := <-answered; !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled client got %v, want its own cancellation", err)
	}

	waitFor(t, "the request's log line", func() bool { return strings.Contains(logs.String(), "POST path="+path+" status=") })
	out := logs.String()
	if !strings.Contains(out, "POST path="+path+" status=499") {
		t.Errorf("the request was not logged with status 499:\n%s", out)
	}
	if strings.Contains(out, "internal error") || strings.Contains(out, "level=ERROR") {
		t.Errorf("a client's disconnect was logged as an error:\n%s", out)
	}
	var line string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, `msg="client disconnected"`) {
			line = l
		}
	}
	if line == "" || !strings.Contains(line, "level=INFO") || !strings.Contains(line, "request_id=") || !strings.Contains(line, "path="+path) {
		t.Errorf("no info line \"client disconnected\" with the request id and path:\n%s", out)
	}
	// The request id of the disconnect is the request log line's.
	if id := field(line, "request_id"); id == "" || !strings.Contains(out, "msg=request request_id="+id) {
		t.Errorf("the disconnect's request id %q is not a request line's:\n%s", id, out)
	}

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	metrics, _ := io.ReadAll(resp.Body)
	if want := `gatehouse_http_requests_total{route="/api/orgs/{orgName}/teams/pulumi",status="499"} 1`; !strings.Contains(string(metrics), want) {
		t.Errorf("metrics lack %s", want)
	}
	if strings.Contains(string(metrics), `route="/api/orgs/{orgName}/teams/pulumi",status="500"`) {
		t.Errorf("the disconnect was counted as a 500")
	}
	// The write the client abandoned did not happen.
	if _, err := te.Svc.Team(context.Background(), te.Org.ID, "gone"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("the abandoned team: %v, want not found", err)
	}
}

// logFile is a log sink safe for the server's goroutines (an *os.File).
type logFile struct{ *os.File }

func newLogFile(t *testing.T) logFile {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return logFile{f}
}

func (f logFile) String() string {
	b, _ := os.ReadFile(f.Name())
	return string(b)
}

// field is the value of key=value in a text log line.
func field(line, key string) string {
	i := strings.Index(line, " "+key+"=")
	if i < 0 {
		return ""
	}
	v := line[i+len(key)+2:]
	if j := strings.IndexByte(v, ' '); j >= 0 {
		v = v[:j]
	}
	return v
}

// TestDrainReadiness: once the server drains, /readyz answers 503 while
// every other route is served as before.
func TestDrainReadiness(t *testing.T) {
	te := testenv.New(t)
	server := api.New(te.Svc, te.Authz, api.Options{})
	srv := httptest.NewServer(server.Handler())
	t.Cleanup(func() { srv.Close(); server.Close() })
	get := func(path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Authorization", "token "+te.Admin)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, _ := get("/readyz"); status != 200 || server.Draining() {
		t.Fatalf("before the drain: /readyz %d, draining %v", status, server.Draining())
	}
	server.Drain()
	if status, body := get("/readyz"); status != 503 || !strings.Contains(body, "shutting down") {
		t.Errorf("draining: /readyz %d %q, want 503 shutting down", status, body)
	}
	for _, p := range []string{"/healthz", "/api/user", "/api/orgs/acme/teams"} {
		if status, body := get(p); status != 200 {
			t.Errorf("draining: %s %d %s, want it still served", p, status, body)
		}
	}
}
