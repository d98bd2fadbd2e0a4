package web_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// TestTokenExpiryOnTheServiceClock: "expires in 30 days" counts from the
// service's clock, not the machine's.
func TestTokenExpiryOnTheServiceClock(t *testing.T) {
	e := newEnv(t)
	now := time.Now().Add(100 * 24 * time.Hour).Truncate(time.Second)
	e.svc.Now = func() time.Time { return now }
	b := e.browser()
	b.signIn(e.admin)
	if status, _, body := b.do("POST", "/console/acme/tokens", url.Values{"kind": {"org"}, "name": {"later-bot"}, "expires": {"30"}}); status != 200 {
		t.Fatalf("create token: %d\n%s", status, body)
	}
	var list wire.ListTokensResponse
	e.must(e.admin, "GET", "/api/orgs/acme/tokens", nil, &list)
	if len(list.Tokens) != 1 || list.Tokens[0].Name != "later-bot" {
		t.Fatalf("tokens: %+v", list.Tokens)
	}
	if got, want := list.Tokens[0].Expires, now.Add(30*24*time.Hour).Unix(); got != want {
		t.Errorf("expires %d, want %d (30 days after the service's now)", got, want)
	}
}
