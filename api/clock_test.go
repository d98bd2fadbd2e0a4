package api_test

import (
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/service"
)

// The api decides on the service's clock, never the wall clock: moving the
// test's clock forward expires tokens, invitations and leases in the
// responses, and stamps denials and failed authentications, at once.
func TestAPIUsesTheServiceClock(t *testing.T) {
	e := newEnv(t)
	e.must(e.admin, "POST", "/api/orgs/acme/tokens", map[string]any{"name": "soon", "description": "d",
		"expires": e.clock.Now().Add(time.Hour).Unix()}, 200, nil)
	e.newOrg("carols", "carol")
	var invite struct{ ID, Status string }
	e.must(e.admin, "POST", "/api/orgs/acme/invites", map[string]any{"userLogin": "carol"}, 201, &invite)
	e.newStack(e.admin, "app", "dev", nil)
	u := e.begin(e.admin, "app", "dev", "update")
	tokenNames := func(filter string) map[string]bool {
		var list struct{ Tokens []struct{ Name string } }
		e.must(e.admin, "GET", "/api/orgs/acme/tokens?filter="+filter, nil, 200, &list)
		names := map[string]bool{}
		for _, tk := range list.Tokens {
			names[tk.Name] = true
		}
		return names
	}
	activeUpdate := func() string {
		var st struct{ ActiveUpdate string }
		e.must(e.admin, "GET", stackPath("app", "dev"), nil, 200, &st)
		return st.ActiveUpdate
	}
	if !tokenNames("active")["soon"] || tokenNames("expired")["soon"] || activeUpdate() != u.id {
		t.Fatalf("before the clock moves: active %v, expired %v, active update %q", tokenNames("active"), tokenNames("expired"), activeUpdate())
	}

	e.clock.Advance(service.DefaultInviteLifetime + time.Hour)
	if tokenNames("active")["soon"] || !tokenNames("expired")["soon"] {
		t.Errorf("after the token's expiry: active %v, expired %v", tokenNames("active"), tokenNames("expired"))
	}
	var invites struct{ Invites []struct{ ID, Status string } }
	e.must(e.admin, "GET", "/api/orgs/acme/invites", nil, 200, &invites)
	if len(invites.Invites) != 1 || invites.Invites[0].Status != "expired" {
		t.Errorf("after the invitation's expiry: %+v, want it expired", invites.Invites)
	}
	if got := activeUpdate(); got != "" {
		t.Errorf("after the lease lapsed the stack still shows active update %q", got)
	}

	before := len(e.events(gatehouse.EventAuthFailure)) + len(e.events(gatehouse.EventAccessDenied))
	e.fails("pul-0000000000000000000000000000000000000000", "GET", "/api/orgs/acme/members", nil, 401, "unauthorized")
	e.fails(e.orgToken("plain", ""), "GET", "/api/orgs/acme/auditlogs/v2", nil, 403, "audit_logs:read")
	e.flushAudit()
	stamped := append(e.events(gatehouse.EventAuthFailure), e.events(gatehouse.EventAccessDenied)...)
	if len(stamped) != before+2 {
		t.Fatalf("%d failure and denial events, want %d", len(stamped), before+2)
	}
	for _, ev := range stamped {
		if ev.Time.Before(time.Now().Add(service.DefaultInviteLifetime)) {
			t.Errorf("%s stamped %v, on the wall clock, not the service's (%v)", ev.Type, ev.Time, e.clock.Now())
		}
	}
}
