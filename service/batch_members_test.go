package service_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
)

// emptyRole is the input of a role that grants nothing.
func emptyRole(name string) service.DescriptorInput {
	return service.DescriptorInput{Name: ptr(name), Purpose: ptr(gatehouse.PurposeRole),
		Details: json.RawMessage(`{"__type":"PermissionDescriptorCompose","permissionDescriptors":[]}`)}
}

// A role created and made the default in one Batch is both or neither:
// making a set the default rolls the role's creation back.
func TestBatchCreateRoleAndSetDefault(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		set, err := e.Svc.Builtin(ctx, e.Org.ID, "stack-read")
		if err != nil {
			t.Fatal(err)
		}
		before := e.Org.Settings.DefaultRoleID
		err = e.Svc.Batch(ctx, e.Org.ID, func(b *service.Batch) error {
			if _, err := b.CreateDescriptor(emptyRole("Doomed"), false); err != nil {
				return err
			}
			return b.SetDefaultRole(set.ID)
		})
		wantCode(t, "a set as the default role", err, gatehouse.EINVALID, "Invalid role type")
		ds, _, err := e.Svc.Descriptors(ctx, e.Org.ID, gatehouse.PurposeRole, gatehouse.ListOptions{Limit: gatehouse.MaxListLimit})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if d.Name == "Doomed" {
				t.Errorf("the failed batch's role %q was kept", d.ID)
			}
		}
		if n := eventCount(t, e, e.Org.ID, gatehouse.EventRoleCreated); n != 0 {
			t.Errorf("%d role events after the failed batch, want 0", n)
		}

		var role *gatehouse.Descriptor
		err = e.Svc.Batch(ctx, e.Org.ID, func(b *service.Batch) (err error) {
			if role, err = b.CreateDescriptor(emptyRole("Newcomers"), false); err != nil {
				return err
			}
			return b.SetDefaultRole(role.ID)
		})
		if err != nil {
			t.Fatal(err)
		}
		org, err := e.OrgByName(e.Org.Name)
		if err != nil {
			t.Fatal(err)
		}
		if org.Settings.DefaultRoleID != role.ID || role.ID == before {
			t.Errorf("default role %q, want the batch's new role %q (was %q)", org.Settings.DefaultRoleID, role.ID, before)
		}
		if c, d := eventCount(t, e, e.Org.ID, gatehouse.EventRoleCreated), eventCount(t, e, e.Org.ID, gatehouse.EventDefaultRoleChanged); c != 1 || d != 1 {
			t.Errorf("%d role and %d default role events, want 1 of each", c, d)
		}
		// The member added next takes the new default role.
		v, err := e.Svc.AddMember(ctx, e.Org.ID, "erin", "")
		if err != nil {
			t.Fatal(err)
		}
		if v.Membership.RoleID != role.ID {
			t.Errorf("a new member's role %q, want the new default %q", v.Membership.RoleID, role.ID)
		}
	})
}

// A member added and given a role in one Batch: a role that does not
// exist rolls the addition back.
func TestBatchAddMemberAndGiveRole(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		role, err := e.Svc.CreateDescriptor(ctx, e.Org.ID, emptyRole("Deployers"), false)
		if err != nil {
			t.Fatal(err)
		}
		added := eventCount(t, e, e.Org.ID, gatehouse.EventMemberAdded) // the admin's
		add := func(roleID string) error {
			return e.Svc.Batch(ctx, e.Org.ID, func(b *service.Batch) error {
				if _, err := b.AddMember("dave", ""); err != nil {
					return err
				}
				return b.UpdateMember("dave", "", roleID)
			})
		}
		wantCode(t, "a member given a missing role", add("no-such-role"), gatehouse.EINVALID, "fgaRoleId")
		if _, err := e.Svc.Member(ctx, e.Org.ID, "dave"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			t.Errorf("the failed batch's member: %v, want not found", err)
		}
		if n := eventCount(t, e, e.Org.ID, gatehouse.EventMemberAdded); n != added {
			t.Errorf("%d member events after the failed batch, want %d", n, added)
		}

		if err := add(role.ID); err != nil {
			t.Fatal(err)
		}
		v, err := e.Svc.Member(ctx, e.Org.ID, "dave")
		if err != nil {
			t.Fatal(err)
		}
		if v.Membership.RoleID != role.ID || v.User.ManagedBy != e.Org.ID {
			t.Errorf("member role %q managed by %q, want %q managed by %q", v.Membership.RoleID, v.User.ManagedBy, role.ID, e.Org.ID)
		}
		if a, c := eventCount(t, e, e.Org.ID, gatehouse.EventMemberAdded), eventCount(t, e, e.Org.ID, gatehouse.EventMemberRoleChanged); a != added+1 || c != 1 {
			t.Errorf("%d member added and %d role changed events, want %d and 1", a, c, added+1)
		}
		// Removing the member and then the last admin in one batch: the
		// refusal of the second keeps the member too.
		admin := e.Identity(t, e.Admin).User.Login
		err = e.Svc.Batch(ctx, e.Org.ID, func(b *service.Batch) error {
			if err := b.RemoveMember("dave", nil); err != nil {
				return err
			}
			return b.RemoveMember(admin, nil)
		})
		wantCode(t, "removing the last admin in a batch", err, gatehouse.ECONFLICT, "last admin")
		if _, err := e.Svc.Member(ctx, e.Org.ID, "dave"); err != nil {
			t.Errorf("the member the failed batch removed: %v, want kept", err)
		}
	})
}

// A stack and its first update in one Batch; an update of an unknown kind
// rolls the stack back, and a Batch cannot reach another organization's
// stack.
func TestBatchCreateStackAndUpdate(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		by := e.Identity(t, e.Admin)
		create := func(kind string) (*gatehouse.StackUpdate, error) {
			var u *gatehouse.StackUpdate
			err := e.Svc.Batch(ctx, e.Org.ID, func(b *service.Batch) error {
				st, err := b.CreateStack(by, service.StackInput{Project: "app", Name: "dev"})
				if err != nil {
					return err
				}
				u, err = b.CreateUpdate(st, by, kind, service.ProgramInput{Name: "app"})
				return err
			})
			return u, err
		}
		_, err := create("deploy")
		wantCode(t, "an update of an unknown kind", err, gatehouse.EINVALID, "update kind")
		if _, err := e.Svc.Stack(ctx, e.Org.ID, "app", "dev"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			t.Errorf("the stack of the failed batch: %v, want not found", err)
		}
		u, err := create(gatehouse.UpdateKindUpdate)
		if err != nil {
			t.Fatal(err)
		}
		st, err := e.Svc.Stack(ctx, e.Org.ID, "app", "dev")
		if err != nil {
			t.Fatal(err)
		}
		if got, err := e.Svc.Update(ctx, st, u.ID); err != nil || got.Status != gatehouse.UpdateNotStarted {
			t.Errorf("the batch's update: %v, %v, want not started", got, err)
		}

		other, err := e.Svc.CreateOrgWithAdmin(ctx, "other", "carol", false)
		if err != nil {
			t.Fatal(err)
		}
		err = e.Svc.Batch(ctx, other.Org.ID, func(b *service.Batch) error {
			_, err := b.CreateUpdate(st, by, gatehouse.UpdateKindUpdate, service.ProgramInput{Name: "app"})
			return err
		})
		wantCode(t, "another organization's stack", err, gatehouse.ENOTFOUND, "not found")
	})
}
