package service_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
)

// wantCode fails the test unless err has the code and its message holds
// want.
func wantCode(t *testing.T, what string, err error, code, want string) {
	t.Helper()
	if gatehouse.ErrorCode(err) != code || !strings.Contains(gatehouse.ErrorMessage(err), want) {
		t.Errorf("%s: %v, want %s with %q", what, err, code, want)
	}
}

// eachStore runs a test on SQLite and, when GATEHOUSE_TEST_POSTGRES_DSN
// names a server, on PostgreSQL.
func eachStore(t *testing.T, test func(t *testing.T, e *testenv.Env)) {
	t.Run("sqlite", func(t *testing.T) { test(t, testenv.New(t)) })
	t.Run("postgres", func(t *testing.T) { test(t, testenv.New(t, testenv.Postgres())) })
}

func ptr[T any](v T) *T { return &v }

func TestSetInUseCannotBeDeleted(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		set, err := e.Svc.CreateDescriptor(ctx, e.Org.ID, service.DescriptorInput{Name: ptr("Deployer"), Purpose: ptr(gatehouse.PurposeSet), ResourceType: ptr("stack"),
			Details: json.RawMessage(`{"__type":"PermissionDescriptorAllow","permissions":["stack:read","stack:write"]}`)}, false)
		if err != nil {
			t.Fatal(err)
		}
		role, err := e.Svc.CreateDescriptor(ctx, e.Org.ID, service.DescriptorInput{Name: ptr("Deployers"), Purpose: ptr(gatehouse.PurposeRole),
			Details: json.RawMessage(`{"__type":"PermissionDescriptorCompose","permissionDescriptors":["` + set.ID + `"]}`)}, false)
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "deleting the set a role composes", e.Svc.DeleteDescriptor(ctx, e.Org.ID, set.ID, true), gatehouse.ECONFLICT, `used by "Deployers"`)
		if err := e.Svc.DeleteDescriptor(ctx, e.Org.ID, role.ID, false); err != nil {
			t.Fatalf("deleting the unused role: %v", err)
		}
		if err := e.Svc.DeleteDescriptor(ctx, e.Org.ID, set.ID, false); err != nil {
			t.Errorf("deleting the set no longer in use: %v", err)
		}
	})
}

func TestLastAdmin(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		admin := e.Identity(t, e.Admin)
		wantCode(t, "demoting the only admin", e.Svc.UpdateMember(ctx, e.Org.ID, "admin", "member", ""), gatehouse.ECONFLICT, "last admin")
		if _, err := e.Svc.AddMember(ctx, e.Org.ID, "bob", "admin"); err != nil {
			t.Fatal(err)
		}
		for _, step := range []struct {
			what string
			err  error
			code string
			want string
		}{
			{"removing oneself", e.Svc.RemoveMember(ctx, e.Org.ID, "admin", admin), gatehouse.EINVALID, "yourself"},
			{"demoting one of two admins", e.Svc.UpdateMember(ctx, e.Org.ID, "admin", "member", ""), "", ""},
			{"demoting the last admin", e.Svc.UpdateMember(ctx, e.Org.ID, "bob", "member", ""), gatehouse.ECONFLICT, "last admin"},
			{"removing the last admin", e.Svc.RemoveMember(ctx, e.Org.ID, "bob", admin), gatehouse.ECONFLICT, "last admin"},
		} {
			wantCode(t, step.what, step.err, step.code, step.want)
		}
	})
}

// A suspended admin (SCIM's active=false) is no admin to fall back on:
// the last active admin can be neither demoted nor removed while the only
// other admin is suspended, and can once that one is active again.
func TestLastAdminIgnoresSuspended(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		carol, err := e.Svc.CreateSCIMUser(ctx, e.Org.ID, service.SCIMUserPatch{UserName: ptr("carol")})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Svc.UpdateMember(ctx, e.Org.ID, "carol", "admin", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.UpdateSCIMUser(ctx, e.Org.ID, carol.User.ID, service.SCIMUserPatch{Active: ptr(false)}); err != nil {
			t.Fatalf("suspending carol while admin is active: %v", err)
		}
		wantCode(t, "demoting the last active admin", e.Svc.UpdateMember(ctx, e.Org.ID, "admin", "member", ""), gatehouse.ECONFLICT, "last admin who is not suspended")
		wantCode(t, "removing the last active admin", e.Svc.RemoveMember(ctx, e.Org.ID, "admin", nil), gatehouse.ECONFLICT, "last admin who is not suspended")
		if _, err := e.Svc.UpdateSCIMUser(ctx, e.Org.ID, carol.User.ID, service.SCIMUserPatch{Active: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, "demoting admin once carol is active", e.Svc.UpdateMember(ctx, e.Org.ID, "admin", "member", ""), "", "")
	})
}

func TestTokenNamesStayReserved(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		in := service.TokenInput{Kind: gatehouse.TokenOrganization, OrgID: e.Org.ID, Name: "ci"}
		tok, _, err := e.Svc.CreateToken(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = e.Svc.CreateToken(ctx, in)
		wantCode(t, "a live token's name", err, gatehouse.ECONFLICT, "")
		if err := e.Svc.RevokeToken(ctx, tok.ID, func(*gatehouse.Token) error { return nil }); err != nil {
			t.Fatal(err)
		}
		_, _, err = e.Svc.CreateToken(ctx, in)
		wantCode(t, "a revoked token's name", err, gatehouse.ECONFLICT, "never reused")
		in.Name = "ci-2"
		if _, _, err := e.Svc.CreateToken(ctx, in); err != nil {
			t.Errorf("another name: %v", err)
		}
	})
}

// One update holds a stack's lease at a time; a lapsed lease is taken
// over and the update that held it fails.
func TestUpdateLease(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		by := e.Identity(t, e.Admin)
		st, err := e.Svc.CreateStack(ctx, e.Org.ID, by, service.StackInput{Project: "app", Name: "dev"})
		if err != nil {
			t.Fatal(err)
		}
		start := func() (*gatehouse.StackUpdate, error) {
			u, err := e.Svc.CreateUpdate(ctx, st, by, gatehouse.UpdateKindUpdate, service.ProgramInput{Name: "app"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.Svc.StartUpdate(ctx, st, u.ID, by, nil, false)
			return u, err
		}
		first, err := start()
		if err != nil {
			t.Fatal(err)
		}
		_, err = start()
		wantCode(t, "a second update while one runs", err, gatehouse.ECONFLICT, "")
		e.Clock.Advance(service.LeaseDuration + 1)
		second, err := start()
		if err != nil {
			t.Fatalf("after the lease lapsed: %v", err)
		}
		if u, err := e.Svc.Update(ctx, st, first.ID); err != nil || u.Status != gatehouse.UpdateFailed {
			t.Errorf("the first update after the takeover: %+v, %v; want failed", u, err)
		}
		if u, err := e.Svc.Update(ctx, st, second.ID); err != nil || u.Status != gatehouse.UpdateRunning {
			t.Errorf("the second update: %+v, %v; want running", u, err)
		}
		// Tags an update brings are merged in its start's transaction.
		u, err := e.Svc.CreateUpdate(ctx, st, by, gatehouse.UpdateKindPreview, service.ProgramInput{Name: "app"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.StartUpdate(ctx, st, u.ID, by, map[string]string{"owner": "ops"}, true); err != nil {
			t.Fatal(err)
		}
		if got, err := e.Svc.Stack(ctx, e.Org.ID, "app", "dev"); err != nil || got.Tags["owner"] != "ops" {
			t.Errorf("tags after the start: %+v, %v", got, err)
		}
	})
}

func TestTeamNames(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		if _, err := e.Svc.CreateTeam(ctx, e.Org.ID, "platform", "Platform", ""); err != nil {
			t.Fatal(err)
		}
		_, err := e.Svc.CreateTeam(ctx, e.Org.ID, "platform", "Other", "")
		wantCode(t, "a second team of the name", err, gatehouse.ECONFLICT, "platform")
		wantCode(t, "renaming a missing team", e.Svc.RenameTeam(ctx, e.Org.ID, "nope", ptr("x"), nil), gatehouse.ENOTFOUND, `team "nope" not found`)
		wantCode(t, "a display name too long", e.Svc.RenameTeam(ctx, e.Org.ID, "platform", ptr(strings.Repeat("x", 101)), nil), gatehouse.EINVALID, "newDisplayName")
		// A Batch is one transaction: a failing step undoes the ones before.
		err = e.Svc.Batch(ctx, e.Org.ID, func(b *service.Batch) error {
			if err := b.RenameTeam("platform", ptr("Renamed"), nil); err != nil {
				return err
			}
			return b.SetTeamMember("platform", "add", "nobody")
		})
		wantCode(t, "a batch adding a non-member", err, gatehouse.EINVALID, "nobody")
		if v, err := e.Svc.Team(ctx, e.Org.ID, "platform"); err != nil || v.Team.DisplayName != "Platform" {
			t.Errorf("after the failed batch: %+v, %v; want the display name unchanged", v, err)
		}
	})
}
