package service_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
)

// TestTokenViews: a token list carries each token's creator and role (its
// own, the organization's default, or none once deleted with force) and
// is filtered by expiry on the service's clock.
func TestTokenViews(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		adminID := e.Identity(t, e.Admin).User.ID
		admin, err := e.Svc.Builtin(ctx, e.Org.ID, "admin")
		if err != nil {
			t.Fatal(err)
		}
		doomed, err := e.Svc.CreateDescriptor(ctx, e.Org.ID, service.DescriptorInput{Name: ptr("Doomed"), Purpose: ptr(gatehouse.PurposeRole),
			Details: json.RawMessage(`{"__type":"PermissionDescriptorCompose","permissionDescriptors":[]}`)}, false)
		if err != nil {
			t.Fatal(err)
		}
		soon := e.Clock.Now().Add(time.Hour).Unix()
		for _, in := range []service.TokenInput{
			{Name: "a-default", CreatedBy: adminID},
			{Name: "b-admin", RoleID: admin.ID},
			{Name: "c-soon", Expires: soon, CreatedBy: adminID},
			{Name: "d-doomed", RoleID: doomed.ID},
		} {
			in.Kind, in.OrgID = gatehouse.TokenOrganization, e.Org.ID
			if _, _, err := e.Svc.CreateToken(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Svc.DeleteDescriptor(ctx, e.Org.ID, doomed.ID, true); err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(2 * time.Hour)
		list := func(expiry string) []service.TokenView {
			t.Helper()
			vs, next, err := e.Svc.Tokens(ctx, service.TokenFilter{TokenFilter: gatehouse.TokenFilter{OrgID: e.Org.ID,
				Kind: gatehouse.TokenOrganization, Expiry: expiry, SortBy: gatehouse.TokenSortName}})
			if err != nil || next != "" {
				t.Fatalf("tokens: %v, next %q", err, next)
			}
			return vs
		}
		live := list(gatehouse.TokenLive)
		if got := tokenNames(live); !slices.Equal(got, []string{"a-default", "b-admin", "d-doomed"}) {
			t.Fatalf("live tokens %v", got)
		}
		def, err := e.Svc.Descriptor(ctx, e.Org.ID, e.Org.Settings.DefaultRoleID)
		if err != nil {
			t.Fatal(err)
		}
		if v := live[0]; v.CreatedByLogin != "admin" || v.Role == nil || v.Role.ID != def.ID {
			t.Errorf("a token of the default role: login %q, role %+v; want admin, %s", v.CreatedByLogin, v.Role, def.Name)
		}
		if v := live[1]; v.CreatedByLogin != "" || v.Role == nil || v.Role.DefaultIdentifier != "admin" {
			t.Errorf("an admin token of no creator: login %q, role %+v", v.CreatedByLogin, v.Role)
		}
		if v := live[2]; v.Role != nil {
			t.Errorf("a token whose role was deleted with force holds %+v", v.Role)
		}
		if got := tokenNames(list(gatehouse.TokenExpired)); !slices.Equal(got, []string{"c-soon"}) {
			t.Errorf("expired tokens %v", got)
		}
		if got := tokenNames(list("")); len(got) != 4 {
			t.Errorf("live and expired tokens %v", got)
		}
	})
}

func tokenNames(vs []service.TokenView) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Name)
	}
	return out
}

// TestRoleHolders: the members holding a role and the teams holding it,
// in one call; an unknown role is not found.
func TestRoleHolders(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		bob, err := e.Svc.AddMember(ctx, e.Org.ID, "bob", "admin")
		if err != nil {
			t.Fatal(err)
		}
		admin, err := e.Svc.Builtin(ctx, e.Org.ID, "admin")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.CreateTeam(ctx, e.Org.ID, "ops", "Ops", ""); err != nil {
			t.Fatal(err)
		}
		if err := e.Svc.AddTeamRole(ctx, e.Org.ID, "ops", admin.ID); err != nil {
			t.Fatal(err)
		}
		users, teams, err := e.Svc.RoleHolders(ctx, e.Org.ID, admin.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"admin", bob.User.Login}
		var got []string
		for _, u := range users {
			got = append(got, u.Login)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) || len(teams) != 1 || teams[0].Name != "ops" {
			t.Errorf("holders of admin: %v and %d teams; want %v and ops", got, len(teams), want)
		}
		_, _, err = e.Svc.RoleHolders(ctx, e.Org.ID, gatehouse.NewID())
		wantCode(t, "holders of no role", err, gatehouse.ENOTFOUND, "")
	})
}

// TestUserLoginsAndLookups: logins by id in one call (an unknown id left
// out), an organization by id, and a team by id only in its organization.
func TestUserLoginsAndLookups(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		adminID := e.Identity(t, e.Admin).User.ID
		logins, err := e.Svc.UserLogins(ctx, []string{adminID, "nobody", adminID})
		if err != nil || len(logins) != 1 || logins[adminID] != "admin" {
			t.Errorf("UserLogins = %v, %v", logins, err)
		}
		if o, err := e.Svc.Org(ctx, e.Org.ID); err != nil || o.Name != "acme" {
			t.Errorf("Org = %+v, %v", o, err)
		}
		team, err := e.Svc.CreateTeam(ctx, e.Org.ID, "ops", "Ops", "")
		if err != nil {
			t.Fatal(err)
		}
		if got, err := e.Svc.TeamByID(ctx, e.Org.ID, team.ID); err != nil || got.Name != "ops" {
			t.Errorf("TeamByID = %+v, %v", got, err)
		}
		other, err := e.Svc.CreateOrgWithAdmin(ctx, "other", "olga", false)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.Svc.TeamByID(ctx, other.Org.ID, team.ID)
		wantCode(t, "a team of another organization", err, gatehouse.ENOTFOUND, "")
	})
}

// TestSessions: a console session lives for its lifetime on the service's
// clock, ends when ended (twice is fine), and opening one prunes the
// expired ones.
func TestSessions(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		id := e.Identity(t, e.Admin)
		ss := e.Svc.Sessions()
		value, rec, err := ss.Open(ctx, id.User.ID, id.Token.Digest, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := ss.Get(ctx, value); err != nil || got.UserID != id.User.ID || got.CSRF != rec.CSRF || len(got.CSRF) != 64 {
			t.Fatalf("Get = %+v, %v", got, err)
		}
		_, err = ss.Get(ctx, value+"0")
		wantCode(t, "an unknown session", err, gatehouse.ENOTFOUND, "")
		e.Clock.Advance(time.Hour + time.Second)
		_, err = ss.Get(ctx, value)
		wantCode(t, "an expired session", err, gatehouse.ENOTFOUND, "")
		second, _, err := ss.Open(ctx, id.User.ID, id.Token.Digest, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(-time.Minute) // the first would be live again had it not been pruned
		_, err = ss.Get(ctx, value)
		wantCode(t, "a pruned session", err, gatehouse.ENOTFOUND, "")
		if err := ss.End(ctx, second); err != nil {
			t.Fatal(err)
		}
		_, err = ss.Get(ctx, second)
		wantCode(t, "an ended session", err, gatehouse.ENOTFOUND, "")
		if err := ss.End(ctx, second); err != nil {
			t.Errorf("ending an ended session: %v", err)
		}
	})
}

// TestRecordAudit: events recorded outside a change are listed with the
// organization's others.
func TestRecordAudit(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		now := e.Clock.Now()
		events := []*gatehouse.AuditEvent{
			service.NewAuditEvent(ctx, now, e.Org.ID, gatehouse.EventAuthFailure, "first", "", nil),
			service.NewAuditEvent(ctx, now, e.Org.ID, gatehouse.EventAuthFailure, "second", "", nil),
		}
		if err := e.Svc.RecordAudit(ctx, events); err != nil {
			t.Fatal(err)
		}
		es, _, err := e.Svc.AuditEvents(ctx, e.Org.ID, gatehouse.AuditFilter{Types: []string{gatehouse.EventAuthFailure}}, gatehouse.ListOptions{})
		if err != nil || len(es) != 2 || es[0].Description != "first" || es[1].Description != "second" {
			t.Errorf("audit events %+v, %v", es, err)
		}
	})
}
