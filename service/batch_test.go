package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
)

// eventCount counts the organization's audit events of a type.
func eventCount(t *testing.T, e *testenv.Env, orgID, typ string) int {
	t.Helper()
	es, _, err := e.Svc.AuditEvents(context.Background(), orgID, gatehouse.AuditFilter{Types: []string{typ}}, gatehouse.ListOptions{Limit: gatehouse.MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// A stack created and tagged in one Batch is both or neither: a bad tag
// leaves no stack and no event.
func TestBatchCreateStackAndTag(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		by := e.Identity(t, e.Admin)
		create := func(project string, tags service.TagUpdate) error {
			return e.Svc.Batch(ctx, e.Org.ID, func(b *service.Batch) error {
				st, err := b.CreateStack(by, service.StackInput{Project: project, Name: "dev"})
				if err != nil {
					return err
				}
				return b.ChangeStackTags(st, tags)
			})
		}
		err := create("app", service.TagUpdate{Add: &[2]string{"bad tag", "v"}})
		wantCode(t, "a stack with a bad tag", err, gatehouse.EINVALID, "bad tag")
		if _, err := e.Svc.Stack(ctx, e.Org.ID, "app", "dev"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			t.Errorf("the stack of the failed batch: %v, want not found", err)
		}
		if n := eventCount(t, e, e.Org.ID, gatehouse.EventStackCreated); n != 0 {
			t.Errorf("%d stack.created events after the failed batch, want 0", n)
		}

		if err := create("app", service.TagUpdate{Merge: map[string]string{"env": "dev"}}); err != nil {
			t.Fatal(err)
		}
		st, err := e.Svc.Stack(ctx, e.Org.ID, "app", "dev")
		if err != nil {
			t.Fatal(err)
		}
		if st.Tags["env"] != "dev" {
			t.Errorf("tags %v, want env=dev", st.Tags)
		}
		if c, g := eventCount(t, e, e.Org.ID, gatehouse.EventStackCreated), eventCount(t, e, e.Org.ID, gatehouse.EventStackTagsChanged); c != 1 || g != 1 {
			t.Errorf("%d stack.created and %d tag events, want 1 of each", c, g)
		}
		// The batch refreshed the snapshot: the new stack is an entity.
		if _, err := e.Authz.Entity(ctx, e.Org.ID, gatehouse.EntityStack, "app/dev"); err != nil {
			t.Errorf("the batch's stack in the snapshot: %v", err)
		}
	})
}

// An invitation and an invalid one in one Batch: the first is rolled
// back with the second.
func TestBatchInvitesRollBack(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		if _, err := e.Svc.CreateOrgWithAdmin(ctx, "other", "carol", false); err != nil {
			t.Fatal(err)
		}
		err := e.Svc.Batch(ctx, e.Org.ID, func(b *service.Batch) error {
			if _, err := b.Invite(service.InviteInput{Login: "carol"}); err != nil {
				return err
			}
			_, err := b.Invite(service.InviteInput{Login: "nobody"})
			return err
		})
		wantCode(t, "inviting a user who does not exist", err, gatehouse.ENOTFOUND, `"nobody" not found`)
		is, err := e.Svc.Invites(ctx, e.Org.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(is) != 0 {
			t.Errorf("%d invitations after the failed batch, want 0", len(is))
		}
		if n := eventCount(t, e, e.Org.ID, gatehouse.EventInviteCreated); n != 0 {
			t.Errorf("%d invite events after the failed batch, want 0", n)
		}
		// Alone, the first invitation is made.
		if _, err := e.Svc.Invite(ctx, e.Org.ID, service.InviteInput{Login: "carol"}); err != nil {
			t.Fatal(err)
		}
	})
}

// A token created in a Batch whose next operation fails is not stored,
// not recorded and does not authenticate; one whose batch commits does.
func TestBatchTokenRollsBackWithAssignment(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		st, err := e.Svc.CreateStack(ctx, e.Org.ID, e.Identity(t, e.Admin), service.StackInput{Project: "app", Name: "dev"})
		if err != nil {
			t.Fatal(err)
		}
		ref := gatehouse.EntityRef{Type: gatehouse.EntityStack, ID: st.ID}
		batch := func(user string) (string, error) {
			var value string
			err := e.Svc.Batch(ctx, e.Org.ID, func(b *service.Batch) (err error) {
				if _, value, err = b.CreateToken(service.TokenInput{Kind: gatehouse.TokenOrganization, Name: "ci"}); err != nil {
					return err
				}
				_, err = b.Assign(ref, user, "")
				return err
			})
			return value, err
		}
		value, err := batch("nobody")
		wantCode(t, "assigning to a user who does not exist", err, gatehouse.EINVALID, `"nobody" not found`)
		if _, err := e.Authz.Authenticate("token " + value); err == nil {
			t.Error("the token of the failed batch authenticates")
		}
		toks, _, err := e.Svc.Tokens(ctx, service.TokenFilter{TokenFilter: gatehouse.TokenFilter{OrgID: e.Org.ID, Kind: gatehouse.TokenOrganization}})
		if err != nil {
			t.Fatal(err)
		}
		if len(toks) != 0 {
			t.Errorf("%d organization tokens after the failed batch, want 0", len(toks))
		}
		if n := eventCount(t, e, e.Org.ID, gatehouse.EventTokenCreated); n != 1 { // the bootstrap admin's
			t.Errorf("%d token events after the failed batch, want 1", n)
		}
		// The name was not taken, and a committed batch's token acts at once.
		if value, err = batch("admin"); err != nil {
			t.Fatal(err)
		}
		if id := e.Identity(t, value); id.Token.Kind != gatehouse.TokenOrganization {
			t.Errorf("the batch's token authenticates as %q", id.Token.Kind)
		}
	})
}

// A Batch creates and revokes only its own organization's tokens.
func TestBatchTokensStayInTheOrganization(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		err := e.Svc.Batch(ctx, e.Org.ID, func(b *service.Batch) error {
			_, _, err := b.CreateToken(service.TokenInput{Kind: gatehouse.TokenPersonal, UserID: e.Identity(t, e.Admin).User.ID})
			return err
		})
		wantCode(t, "a personal token in a batch", err, gatehouse.EINVALID, "personal")
		other, err := e.Svc.CreateOrgWithAdmin(ctx, "other", "carol", false)
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := e.Svc.CreateToken(ctx, service.TokenInput{Kind: gatehouse.TokenOrganization, OrgID: other.Org.ID, Name: "ci"})
		if err != nil {
			t.Fatal(err)
		}
		err = e.Svc.Batch(ctx, e.Org.ID, func(b *service.Batch) error {
			return b.RevokeToken(tok.ID, func(*gatehouse.Token) error { return nil })
		})
		wantCode(t, "revoking another organization's token", err, gatehouse.ENOTFOUND, "not found")
		if err := e.Svc.Batch(ctx, other.Org.ID, func(b *service.Batch) error {
			return b.RevokeToken(tok.ID, func(*gatehouse.Token) error { return nil })
		}); err != nil {
			t.Errorf("revoking the organization's own token: %v", err)
		}
	})
}

// An operation of a Batch sees the writes of those before it: a token
// created after the batch shortened the token lifetime is held to it, and
// its refusal rolls the settings back.
func TestBatchSettingsThenToken(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		err := e.Svc.Batch(ctx, e.Org.ID, func(b *service.Batch) error {
			if err := b.UpdateSettings(service.SettingsUpdate{MaxTokenLifetime: ptr(time.Hour)}); err != nil {
				return err
			}
			_, _, err := b.CreateToken(service.TokenInput{Kind: gatehouse.TokenOrganization, Name: "ci"})
			return err
		})
		wantCode(t, "a token that never expires after a lifetime of an hour", err, gatehouse.EINVALID, "at most 1h0m0s")
		org, err := e.Svc.Org(ctx, e.Org.ID)
		if err != nil {
			t.Fatal(err)
		}
		if org.Settings.MaxTokenLifetime != 0 {
			t.Errorf("the failed batch's lifetime %s stayed", org.Settings.MaxTokenLifetime)
		}
		if n := eventCount(t, e, e.Org.ID, gatehouse.EventSettingsChanged); n != 0 {
			t.Errorf("%d settings events after the failed batch, want 0", n)
		}
	})
}
