package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// roleID is the id of the descriptor of that purpose and name.
func (e *env) roleID(t *testing.T, purpose, name string) string {
	t.Helper()
	var out wire.ListRolesResponse
	e.api(e.admin, "GET", "/api/orgs/acme/roles?uxPurpose="+purpose, nil, &out)
	for _, r := range out.Roles {
		if r.Name == name {
			return r.ID
		}
	}
	t.Fatalf("no %s named %q", purpose, name)
	return ""
}

// member adds login to acme with role and returns a personal token of it.
func (e *env) member(t *testing.T, login, role string) string {
	t.Helper()
	ctx := context.Background()
	if _, err := e.svc.AddMember(ctx, orgID(t, e), login, role); err != nil {
		t.Fatal(err)
	}
	tok, err := e.svc.IssueToken(ctx, "acme", login, "t", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
