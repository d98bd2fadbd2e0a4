package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/api"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
)

// TestUnmatchedRoutes: a request for a route Gatehouse lacks gets Pulumi's
// JSON error (404, or 405 with Allow), is logged with its method and path,
// and is counted under route="unmatched"; matched routes are not.
func TestUnmatchedRoutes(t *testing.T) {
	te := testenv.New(t)
	var logs bytes.Buffer
	server := api.New(te.Svc, te.Authz, api.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	srv := httptest.NewServer(server.Handler())
	t.Cleanup(func() { srv.Close(); server.Close() })

	call := func(method, path string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		req.Header.Set("Authorization", "token "+te.Admin)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for _, c := range []struct {
		method, path string
		status       int
		message      string
		allow        string
	}{
		{"GET", "/api/orgs/acme/no-such-thing", 404, "no such route: GET /api/orgs/acme/no-such-thing", ""},
		{"GET", "/api/preview/nothing/here", 404, "no such route: GET /api/preview/nothing/here", ""},
		{"DELETE", "/api/orgs/acme/authz/check", 405, "method DELETE is not allowed on /api/orgs/acme/authz/check (allowed: POST)", "POST"},
	} {
		resp, body := call(c.method, c.path)
		var e struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != "application/json" || json.Unmarshal([]byte(body), &e) != nil ||
			e.Code != c.status || e.Message != c.message || resp.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d %q %v\n%s", c.method, c.path, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header, body)
		}
		if !strings.Contains(logs.String(), `msg="unmatched route" method=`+c.method+" path="+c.path+" status="+resp.Status[:3]) {
			t.Errorf("%s %s was not logged:\n%s", c.method, c.path, logs.String())
		}
	}
	if resp, body := call("GET", "/api/orgs/acme/teams"); resp.StatusCode != 200 {
		t.Fatalf("a matched route: %d %s", resp.StatusCode, body)
	}
	_, metrics := call("GET", "/metrics")
	for _, want := range []string{
		`gatehouse_http_requests_total{route="unmatched",status="404"} 2`,
		`gatehouse_http_requests_total{route="unmatched",status="405"} 1`,
		`gatehouse_http_requests_total{route="/api/orgs/{orgName}/teams",status="200"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(logs.String(), `msg="unmatched route" method=GET path=/api/orgs/acme/teams `) {
		t.Errorf("a matched route was logged as unmatched")
	}
}
