package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// TestAccessExplorer: the explorer shows the API's answers — the holders,
// the token's decision and its scopes on the entity — and the API's refusal
// to a member without org_member_access:read.
func TestAccessExplorer(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.admin)
	if status := e.api(e.admin, "POST", "/api/stacks/acme/app", wire.CreateStackRequest{StackName: "dev"}, nil); status != 200 {
		t.Fatalf("stack: %d", status)
	}
	var tok wire.CreateTokenResponse
	e.api(e.admin, "POST", "/api/orgs/acme/tokens", wire.CreateTokenRequest{Name: "read-bot", Description: "t",
		RoleID: e.roleID(t, "role", "Reader")}, &tok)
	if tok.TokenValue == "" {
		t.Fatal("no token")
	}
	ask := url.Values{"scope": {"stack:read"}, "type": {"stack"}, "entity": {"app/dev"}, "token": {tok.TokenValue}}
	status, _, page := b.do("POST", "/console/acme/access", ask)
	if status != 200 || !strings.Contains(page, "Allowed") || !strings.Contains(page, "token <strong>read-bot</strong>") ||
		!strings.Contains(page, "user <strong>admin</strong>") {
		t.Fatalf("access explorer: %d\n%s", status, page)
	}
	i := strings.Index(page, "What the token may do on this entity")
	if i < 0 {
		t.Fatalf("no scopes of the token:\n%s", page)
	}
	can := page[i : i+strings.Index(page[i:], "</section>")]
	if !strings.Contains(can, "stack:read") || strings.Contains(can, "stack:write") || strings.Contains(can, "stack:delete") {
		t.Errorf("a Reader token's scopes on the stack: %s", can)
	}
	// A guessed token: the check's error, no scope list.
	ask.Set("token", "pul-"+strings.Repeat("0", 40))
	if _, _, page = b.do("POST", "/console/acme/access", ask); !strings.Contains(page, "Denied") || strings.Contains(page, "What the token may do") {
		t.Errorf("a guessed token:\n%s", page)
	}
	// Bad input is the API's message.
	if status, _, page = b.do("GET", "/console/acme/access?scope=stack:reed&type=stack&entity=app/dev", nil); status != 400 || !strings.Contains(page, "is not a scope") {
		t.Errorf("a bad scope: %d\n%s", status, page)
	}
	if status, _, page = b.do("GET", "/console/acme/access?scope=stack:read&type=stack&entity=app/nope", nil); status != 404 || !strings.Contains(page, "not found") {
		t.Errorf("an unknown stack: %d\n%s", status, page)
	}

	// A Reader member may not ask: the API says why.
	rb := e.browser()
	rb.signIn(e.member(t, "rita", "reader"))
	if status, _, page = rb.do("GET", "/console/acme/access?scope=stack:read&type=stack&entity=app/dev", nil); status != 403 ||
		!strings.Contains(page, "org_member_access:read") || strings.Contains(page, "<strong>admin</strong>") {
		t.Errorf("a reader asking: %d\n%s", status, page)
	}
}
