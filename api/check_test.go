package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api"
	"github.com/gatehouse-iam/gatehouse/service"
)

// otherOrg makes a second organization with an organization token and a
// member's personal token, neither of which belongs to acme.
func (e *env) otherOrg() (orgToken *gatehouse.Token, orgValue, personal string) {
	e.t.Helper()
	ctx := context.Background()
	var other *gatehouse.Organization
	if err := e.db.Write(ctx, func(tx gatehouse.Tx) (err error) {
		other, _, err = e.svc.CreateOrg(ctx, tx, "other", "Other")
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	if err := e.az.Refresh(ctx, other.ID); err != nil {
		e.t.Fatal(err)
	}
	tok, value, err := e.svc.CreateToken(ctx, service.TokenInput{Kind: gatehouse.TokenOrganization, OrgID: other.ID, Name: "ci"})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.svc.AddMember(ctx, other.ID, "olga", ""); err != nil {
		e.t.Fatal(err)
	}
	if personal, err = e.svc.IssueToken(ctx, "other", "olga", "test", time.Time{}); err != nil {
		e.t.Fatal(err)
	}
	return tok, value, personal
}

// TestCheckOtherOrganizationsToken asks acme's authz/check about tokens of
// another organization: each answer is "not a valid token" (the same as
// for an unknown one, so that the check reveals nothing about other
// organizations' tokens), it counts as a failed authentication of the
// caller's address (audited in acme, limited), and it never touches the
// token's lastUsed.
func TestCheckOtherOrganizationsToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *api.Options) { o.AuthFailuresPerMinute = 2 })
	tok, orgValue, personal := e.otherOrg()
	e.az.TakeUsed() // forget the uses so far
	check := func(token string) (int, []checkResult) {
		var out struct{ Results []checkResult }
		status, _ := e.call(e.admin, "POST", "/api/orgs/acme/authz/check", map[string]any{"checks": []any{
			map[string]any{"token": token, "scope": "org_member:read", "entity": map[string]string{"type": "global"}}}}, &out)
		return status, out.Results
	}
	for name, value := range map[string]string{"organization token": orgValue, "personal token": personal} {
		status, res := check(value)
		if status != 200 || len(res) != 1 || res[0].Allowed || res[0].Error != "checks[0].token: not a valid token" {
			t.Errorf("%s of another organization: %d %+v; want the answer an unknown token gets", name, status, res)
		}
	}
	if used := e.az.TakeUsed(); used[tok.ID] != (time.Time{}) {
		t.Errorf("checking another organization's token recorded its use: %v", used)
	}
	// Both failures were charged: the next one is over the limit, while
	// a check of a valid acme token is still answered.
	if status, _ := check("pul-unknown"); status != 429 {
		t.Errorf("third failed check with a limit of 2: status %d, want 429", status)
	}
	if status, res := check(e.admin); status != 200 || len(res) != 1 || !res[0].Allowed {
		t.Errorf("check of a valid token after the failures: %d %+v", status, res)
	}
	e.closeServer()
	if n := len(e.authFailureSources()); n != 2 {
		t.Errorf("%d authentication failures audited in acme, want 2", n)
	}
}

// TestCheckExplainsDenialsAndWhenAsked: an allowed check is decided from
// the compiled grants and says only that it is allowed, unless it asks
// for the explanation; a denial is always explained.
func TestCheckExplainsDenialsAndWhenAsked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	global := map[string]string{"type": "global"}
	var out struct{ Results []checkResult }
	e.must(e.admin, "POST", "/api/orgs/acme/authz/check", map[string]any{"checks": []any{
		map[string]any{"token": e.admin, "scope": "audit_logs:read", "entity": global},
		map[string]any{"token": e.admin, "scope": "audit_logs:read", "entity": global, "explain": true},
		map[string]any{"token": e.admin, "scope": "stack:read", "entity": global},
	}}, 200, &out)
	if r := out.Results[0]; !r.Allowed || r.Reason != `allowed (ask with "explain": true for the role that grants it)` {
		t.Errorf("an allowed check without explain = %+v", r)
	}
	if r := out.Results[1]; !r.Allowed || !strings.Contains(r.Reason, "grants audit_logs:read at") {
		t.Errorf("an allowed check with explain = %+v, want the role that grants it", r)
	}
	if r := out.Results[2]; r.Allowed || r.Error != "" || !strings.Contains(r.Reason, "applies to stack") {
		t.Errorf("a denied check = %+v, want its explanation", r)
	}
}
