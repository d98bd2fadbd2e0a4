package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api"
)

// events returns the organization's audit events of a type. Call
// e.closeServer first for the events the asynchronous writer queues.
func (e *env) events(typ string) []*gatehouse.AuditEvent {
	e.t.Helper()
	es, _, err := e.svc.AuditEvents(context.Background(), e.orgID(), gatehouse.AuditFilter{Types: []string{typ}}, gatehouse.ListOptions{Limit: gatehouse.MaxListLimit})
	if err != nil {
		e.t.Fatal(err)
	}
	return es
}

// TestClientCannotWriteServerEvents: a caller holding only stack:read
// posts a "decryption it did itself" with details of its choosing. That
// must never become the server's stack_secrets_decrypted event: it is
// recorded as client-reported, its details bounded and marked as the
// client's.
func TestClientCannotWriteServerEvents(t *testing.T) {
	e := newEnv(t)
	e.newStack(e.admin, "app", "dev", nil)
	reader := e.orgToken("reader", e.customRole("read-all", map[string]any{"__type": "PermissionDescriptorCompose",
		"permissionDescriptors": []string{e.roles("set")["Stack Read"].ID}}))
	for _, route := range []string{"decrypt/log-decryption", "decrypt/log-batch-decryption"} {
		e.must(reader, "POST", stackPath("app", "dev", route), map[string]string{
			"secretName": "every secret of prod, decrypted by the security team", "commandName": strings.Repeat("x", 5000)}, 204, nil)
	}
	e.closeServer()
	if got := e.events(gatehouse.EventSecretsDecrypted); len(got) != 0 {
		t.Fatalf("a client wrote %d server events %q with details of its choosing", len(got), got[0].Type)
	}
	got := e.events(gatehouse.EventClientReportedDecryption)
	if len(got) != 2 {
		t.Fatalf("%d client-reported events, want 2", len(got))
	}
	var d struct {
		ClientReported map[string]string `json:"clientReported"`
	}
	if err := json.Unmarshal(got[0].Data, &d); err != nil || d.ClientReported == nil {
		t.Fatalf("details %s are not marked as the client's", got[0].Data)
	}
	if n := len(d.ClientReported["commandName"]); n > 256 {
		t.Errorf("a client-reported detail of %d bytes was kept whole", n)
	}
	if !strings.Contains(got[0].Description, "client") {
		t.Errorf("description %q does not say the client reported it", got[0].Description)
	}
}

// TestRequestIDIsTheServers: a client's X-Request-ID never becomes the
// request id of the response, the log or the audit event; it is kept apart
// (clientRequestID), sanitized and bounded.
func TestRequestIDIsTheServers(t *testing.T) {
	e := newEnv(t)
	tests := []struct{ sent, kept string }{
		{"ci-run-42", "ci-run-42"},
		{`evil" id=<x>`, "evil__id=_x_"},
		{strings.Repeat("a", 500), strings.Repeat("a", 64)},
	}
	for i, tt := range tests {
		body := strings.NewReader(fmt.Sprintf(`{"name":"team%d","displayName":"t"}`, i))
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/orgs/acme/teams/pulumi", body)
		req.Header.Set("Authorization", "token "+e.admin)
		req.Header.Set("X-Request-ID", tt.sent)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Fatalf("create team: %d", resp.StatusCode)
		}
		id := resp.Header.Get("X-Request-ID")
		if id == "" || id == tt.sent {
			t.Errorf("the response's request id is %q, the client's", id)
		}
		es, _, err := e.svc.AuditEvents(context.Background(), e.orgID(), gatehouse.AuditFilter{Types: []string{gatehouse.EventTeamCreated}, Descending: true}, gatehouse.ListOptions{Limit: 1})
		if err != nil || len(es) != 1 {
			t.Fatalf("team events: %v", err)
		}
		if es[0].RequestID != id || es[0].ClientRequestID != tt.kept {
			t.Errorf("event request id %q (response %q), client request id %q, want %q", es[0].RequestID, id, es[0].ClientRequestID, tt.kept)
		}
	}
	var page struct {
		AuditLogEvents []struct {
			Event, RequestID, ClientRequestID string
		}
	}
	e.must(e.admin, "GET", "/api/orgs/acme/auditlogs/v2?eventFilter=team_created&startTime=0", nil, 200, &page)
	if len(page.AuditLogEvents) == 0 || page.AuditLogEvents[len(page.AuditLogEvents)-1].ClientRequestID != "ci-run-42" {
		t.Errorf("the API does not show the client's request id apart: %+v", page.AuditLogEvents)
	}
}

// TestCheckpointsAuditedWithoutComplete: an update that writes checkpoints
// and never completes still leaves its mark in the audit log: one event
// when it first writes its new version, not one per checkpoint.
func TestCheckpointsAuditedWithoutComplete(t *testing.T) {
	e := newEnv(t)
	e.newStack(e.admin, "app", "dev", nil)
	u := e.begin(e.admin, "app", "dev", "update")
	for seq := 1; seq <= 3; seq++ {
		data, _ := json.Marshal(deployment(fmt.Sprintf("urn:r%d", seq)))
		e.must(u.auth, "PATCH", stackPath("app", "dev", "update", u.id, "checkpointverbatim"),
			map[string]any{"version": 3, "untypedDeployment": json.RawMessage(data), "sequenceNumber": seq}, 204, nil)
	}
	got := e.events(gatehouse.EventStackCheckpoint)
	if len(got) != 1 {
		t.Fatalf("%d checkpoint events for one update's version, want 1", len(got))
	}
	var d struct {
		Update  string `json:"update"`
		Version int    `json:"version"`
	}
	json.Unmarshal(got[0].Data, &d)
	if d.Update != u.id || d.Version != u.version || got[0].ActorLogin != "admin" {
		t.Errorf("event %+v %s: want update %s version %d by admin", got[0], got[0].Data, u.id, u.version)
	}
}

// TestContinuationTokensAuthenticated: a continuation token altered by one
// byte, or forged, is a 400 naming the field; a real one still pages
// across writes.
func TestContinuationTokensAuthenticated(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 4; i++ {
		e.must(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]string{"name": fmt.Sprintf("team%d", i), "displayName": "t"}, 201, nil)
	}
	type page struct {
		Teams             []struct{ Name string }
		ContinuationToken string
	}
	var first page
	e.must(e.admin, "GET", "/api/orgs/acme/teams?maxResults=1", nil, 200, &first)
	tok := first.ContinuationToken
	if tok == "" {
		t.Fatal("no continuation token")
	}
	for i := range tok {
		b := []byte(tok)
		b[i] ^= 1
		if code, body := e.call(e.admin, "GET", "/api/orgs/acme/teams?maxResults=1&continuationToken="+url.QueryEscape(string(b)), nil, nil); code != 400 || !strings.Contains(body, "continuationToken") {
			t.Fatalf("token altered at byte %d: %d %s", i, code, body)
		}
	}
	// Forged positions, in the store's own format and as a stack id.
	e.fails(e.admin, "GET", "/api/orgs/acme/teams?continuationToken=eyJpIjoieCJ9", nil, 400, "continuationToken")
	e.newStack(e.admin, "app", "dev", nil)
	e.fails(e.admin, "GET", "/api/stacks/acme?continuationToken=00000000-0000-0000-0000-000000000000", nil, 400, "continuationToken")
	// A token from one list is not one of another.
	e.fails(e.admin, "GET", "/api/orgs/acme/members?continuationToken="+url.QueryEscape(tok), nil, 400, "continuationToken")
	// The real one pages, across a write.
	e.must(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]string{"name": "team9", "displayName": "t"}, 201, nil)
	names := []string{first.Teams[0].Name}
	for tok != "" {
		var p page
		e.must(e.admin, "GET", "/api/orgs/acme/teams?maxResults=1&continuationToken="+url.QueryEscape(tok), nil, 200, &p)
		for _, t := range p.Teams {
			names = append(names, t.Name)
		}
		tok = p.ContinuationToken
	}
	if len(names) != 5 {
		t.Errorf("paged %v, want 5 teams", names)
	}
}

// TestContinuationTokensAcrossReplicas: replicas given the same key (cmd
// derives it from the master key they share) accept each other's tokens;
// a server with another key refuses them.
func TestContinuationTokensAcrossReplicas(t *testing.T) {
	key := []byte("the continuation key of replicas")
	e := newEnv(t, func(o *api.Options) { o.ContinuationKey = key })
	for i := 0; i < 3; i++ {
		e.must(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]string{"name": fmt.Sprintf("team%d", i), "displayName": "t"}, 201, nil)
	}
	var first struct{ ContinuationToken string }
	e.must(e.admin, "GET", "/api/orgs/acme/teams?maxResults=1", nil, 200, &first)
	for _, tt := range []struct {
		name string
		key  []byte
		want int
	}{{"same key", key, 200}, {"another key", []byte("another key, of another database"), 400}} {
		other := api.New(e.svc, e.az, api.Options{ContinuationKey: tt.key})
		srv := httptest.NewServer(other.Handler())
		req, _ := http.NewRequest("GET", srv.URL+"/api/orgs/acme/teams?maxResults=1&continuationToken="+url.QueryEscape(first.ContinuationToken), nil)
		req.Header.Set("Authorization", "token "+e.admin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		srv.Close()
		other.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
	}
}

// TestStackReadsAuditedOnce: the service audits secret reads and exports
// itself; over HTTP each call leaves exactly one event, none from the api
// besides, and in the call's own transaction (no writer to wait for).
func TestStackReadsAuditedOnce(t *testing.T) {
	e := newEnv(t)
	e.newStack(e.admin, "app", "dev", nil)
	u := e.begin(e.admin, "app", "dev", "update")
	e.must(u.auth, "PATCH", stackPath("app", "dev", "update", u.id, "checkpoint"), map[string]any{"version": 3, "deployment": deployment("urn:a")}, 204, nil)
	e.must(u.auth, "POST", stackPath("app", "dev", "update", u.id, "complete"), map[string]any{"status": "succeeded"}, 204, nil)
	var enc struct{ Ciphertexts [][]byte }
	e.must(e.admin, "POST", stackPath("app", "dev", "batch-encrypt"), map[string]any{"plaintexts": [][]byte{[]byte("x"), []byte("y")}}, 200, &enc)
	calls := []struct {
		event  string
		method string
		path   []string
		body   any
		status int
	}{
		{gatehouse.EventStackExported, "GET", []string{"export"}, nil, 200},
		{gatehouse.EventStackExported, "GET", []string{"export", "1"}, nil, 200},
		{gatehouse.EventSecretsDecrypted, "POST", []string{"decrypt"}, map[string]any{"ciphertext": enc.Ciphertexts[0]}, 200},
		{gatehouse.EventSecretsDecrypted, "POST", []string{"batch-decrypt"}, map[string]any{"ciphertexts": enc.Ciphertexts}, 200},
		{gatehouse.EventClientReportedDecryption, "POST", []string{"decrypt", "log-decryption"}, map[string]any{"secretName": "s"}, 204},
	}
	for _, c := range calls {
		before := len(e.events(c.event))
		e.must(e.admin, c.method, stackPath("app", "dev", c.path...), c.body, c.status, nil)
		if n := len(e.events(c.event)) - before; n != 1 {
			t.Errorf("%s %v: %d %s events, want 1", c.method, c.path, n, c.event)
		}
	}
}
