// Package storetest is the conformance suite every gatehouse.Store must
// pass. It is written once against the root package's interfaces and run on
// SQLite always and on PostgreSQL when GATEHOUSE_TEST_POSTGRES_DSN is set.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

// Opener returns a new, empty store for one test, keyed with AuditKey; it
// registers its own cleanup.
type Opener func(t *testing.T) gatehouse.Store

// AuditKey is the audit chain's key every store under test is opened with.
var AuditKey = []byte("storetest: the audit chain's key")

// Run runs the whole suite.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, gatehouse.Store)
	}{
		{"Organizations", testOrganizations},
		{"Users", testUsers},
		{"Descriptors", testDescriptors},
		{"DescriptorInUse", testDescriptorInUse},
		{"Members", testMembers},
		{"Teams", testTeams},
		{"Grants", testGrants},
		{"Tokens", testTokens},
		{"Issuers", testIssuers},
		{"TokenRoleAndIssuer", testTokenRoleAndIssuer},
		{"TokenBindRaces", testTokenBindRaces},
		{"Stacks", testStacks},
		{"Checkpoints", testCheckpoints},
		{"StackKeys", testStackKeys},
		{"Updates", testUpdates},
		{"StackLeases", testStackLeases},
		{"StackHeads", testStackHeads},
		{"Sessions", testSessions},
		{"UpdateEvents", testUpdateEvents},
		{"Environments", testEnvironments},
		{"Accounts", testAccounts},
		{"Audit", testAudit},
		{"AuditConcurrent", testAuditConcurrent},
		{"Snapshot", testSnapshot},
		{"RevisionBumps", testRevisionBumps},
		{"Rollback", testRollback},
		{"Pagination", testPagination},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Invites", testInvites},
		{"BoundPersonalTokens", testBoundPersonalTokens},
		{"QuotaConcurrent", testQuotaConcurrent},
		{"PruneExchangedTokens", testPruneExchangedTokens},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

var ctx = context.Background()

func write(t *testing.T, s gatehouse.Store, fn func(gatehouse.Tx) error) {
	t.Helper()
	if err := s.Write(ctx, fn); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func read(t *testing.T, s gatehouse.Store, fn func(gatehouse.Tx) error) {
	t.Helper()
	if err := s.Read(ctx, fn); err != nil {
		t.Fatalf("read: %v", err)
	}
}

// wantCode checks err's domain code.
func wantCode(t *testing.T, err error, code string, what string) {
	t.Helper()
	if got := gatehouse.ErrorCode(err); got != code {
		t.Fatalf("%s: got error %v (code %q), want code %q", what, err, got, code)
	}
}

// fixture is an organization with a role and a set, and a member.
type fixture struct {
	org  *gatehouse.Organization
	role *gatehouse.Descriptor
	set  *gatehouse.Descriptor
	user *gatehouse.User
}

var orgCounter atomic.Int64

func newFixture(t *testing.T, s gatehouse.Store) *fixture {
	t.Helper()
	n := orgCounter.Add(1)
	f := &fixture{
		org:  &gatehouse.Organization{Name: fmt.Sprintf("org-%d-%d", time.Now().UnixNano(), n), Settings: gatehouse.OrgSettings{MemberDefaults: gatehouse.DefaultMemberDefaults()}},
		user: &gatehouse.User{Login: fmt.Sprintf("user-%d-%d", time.Now().UnixNano(), n), Name: "Ada", Email: "ada@example.com"},
	}
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.CreateOrg(ctx, f.org); err != nil {
			return err
		}
		f.set = &gatehouse.Descriptor{OrgID: f.org.ID, Name: "Stack Read", Purpose: gatehouse.PurposeSet, ResourceType: gatehouse.EntityStack,
			Details: json.RawMessage(`{"__type":"PermissionDescriptorAllow","permissions":["stack:read"]}`), DefaultIdentifier: "stack-read"}
		if err := tx.CreateDescriptor(ctx, f.set); err != nil {
			return err
		}
		f.role = &gatehouse.Descriptor{OrgID: f.org.ID, Name: "Member", Purpose: gatehouse.PurposeRole, ResourceType: gatehouse.EntityGlobal,
			Details: json.RawMessage(`{"__type":"PermissionDescriptorCompose","permissionDescriptors":["` + f.set.ID + `"]}`), Refs: []string{f.set.ID}}
		if err := tx.CreateDescriptor(ctx, f.role); err != nil {
			return err
		}
		if err := tx.CreateUser(ctx, f.user); err != nil {
			return err
		}
		return tx.AddMember(ctx, &gatehouse.Membership{OrgID: f.org.ID, UserID: f.user.ID, RoleID: f.role.ID})
	})
	return f
}

func revision(t *testing.T, s gatehouse.Store, orgID string) int64 {
	t.Helper()
	var r int64
	read(t, s, func(tx gatehouse.Tx) (err error) {
		r, err = tx.Revision(ctx, orgID)
		return err
	})
	return r
}

func testOrganizations(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	var got *gatehouse.Organization
	read(t, s, func(tx gatehouse.Tx) (err error) {
		got, err = tx.GetOrgByName(ctx, f.org.Name)
		return err
	})
	if got.ID != f.org.ID || got.Settings.MemberDefaults != gatehouse.DefaultMemberDefaults() || !got.Created.Equal(f.org.Created) {
		t.Errorf("GetOrgByName = %+v, want %+v", got, f.org)
	}
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateOrg(ctx, &gatehouse.Organization{Name: f.org.Name})
	})
	wantCode(t, err, gatehouse.ECONFLICT, "duplicate organization name")
	err = s.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetOrg(ctx, gatehouse.NewID()); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "unknown organization")

	// Page through every organization until this one shows up.
	found, pages := false, 0
	for next := ""; !found; pages++ {
		var orgs []*gatehouse.Organization
		read(t, s, func(tx gatehouse.Tx) (err error) {
			orgs, next, err = tx.ListOrgs(ctx, gatehouse.ListOptions{Limit: 1, Continuation: next})
			return err
		})
		for _, o := range orgs {
			found = found || o.ID == f.org.ID
		}
		if next == "" {
			break
		}
	}
	if !found {
		t.Errorf("ListOrgs never listed the organization (%d pages)", pages)
	}

	before := revision(t, s, f.org.ID)
	got.Settings.DefaultRoleID = f.role.ID
	got.Settings.MaxTokenLifetime = 90 * 24 * time.Hour
	got.DisplayName = "Acme"
	write(t, s, func(tx gatehouse.Tx) error { return tx.UpdateOrg(ctx, got) })
	read(t, s, func(tx gatehouse.Tx) (err error) {
		got, err = tx.GetOrg(ctx, f.org.ID)
		return err
	})
	if got.Settings.DefaultRoleID != f.role.ID || got.Settings.MaxTokenLifetime != 90*24*time.Hour || got.DisplayName != "Acme" {
		t.Errorf("settings not saved: %+v", got)
	}
	if got.Revision != before+1 {
		t.Errorf("revision %d after a settings change, want %d", got.Revision, before+1)
	}
}

func testUsers(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	err := s.Write(ctx, func(tx gatehouse.Tx) error { return tx.CreateUser(ctx, &gatehouse.User{Login: f.user.Login}) })
	wantCode(t, err, gatehouse.ECONFLICT, "duplicate login")
	u := *f.user
	u.Name, u.AvatarURL = "Ada Lovelace", "https://example.com/a.png"
	write(t, s, func(tx gatehouse.Tx) error { return tx.UpdateUser(ctx, &u) })
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetUserByLogin(ctx, f.user.Login)
		if err != nil {
			return err
		}
		if got.Name != "Ada Lovelace" || got.AvatarURL != u.AvatarURL || got.Email != "ada@example.com" {
			t.Errorf("user = %+v", got)
		}
		_, err = tx.GetUser(ctx, gatehouse.NewID())
		wantCode(t, err, gatehouse.ENOTFOUND, "unknown user")
		return nil
	})
}

func testDescriptors(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	var got *gatehouse.Descriptor
	read(t, s, func(tx gatehouse.Tx) (err error) {
		got, err = tx.GetDescriptor(ctx, f.org.ID, f.role.ID)
		return err
	})
	if got.Version != 1 || got.Name != "Member" || !slices.Equal(got.Refs, []string{f.set.ID}) || string(got.Details) != string(f.role.Details) ||
		got.ResourceType != gatehouse.EntityGlobal || got.Purpose != gatehouse.PurposeRole {
		t.Errorf("GetDescriptor = %+v", got)
	}
	// The same name is fine for another purpose (a console role and its
	// policy share theirs), not for the same one.
	write(t, s, func(tx gatehouse.Tx) error {
		return tx.CreateDescriptor(ctx, &gatehouse.Descriptor{OrgID: f.org.ID, Name: "Member", Purpose: gatehouse.PurposePolicy, Details: json.RawMessage(`{}`)})
	})
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateDescriptor(ctx, &gatehouse.Descriptor{OrgID: f.org.ID, Name: "Member", Purpose: gatehouse.PurposeRole, Details: json.RawMessage(`{}`)})
	})
	wantCode(t, err, gatehouse.ECONFLICT, "duplicate role name")
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateDescriptor(ctx, &gatehouse.Descriptor{OrgID: f.org.ID, Name: "Dangling", Purpose: gatehouse.PurposeRole, Details: json.RawMessage(`{}`), Refs: []string{gatehouse.NewID()}})
	})
	wantCode(t, err, gatehouse.EINVALID, "reference to nothing")
	other := newFixture(t, s)
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateDescriptor(ctx, &gatehouse.Descriptor{OrgID: f.org.ID, Name: "Cross", Purpose: gatehouse.PurposeRole, Details: json.RawMessage(`{}`), Refs: []string{other.set.ID}})
	})
	wantCode(t, err, gatehouse.EINVALID, "reference into another organization")

	// Optimistic concurrency.
	upd := *got
	upd.Description, upd.Refs = "updated", nil
	write(t, s, func(tx gatehouse.Tx) error { return tx.UpdateDescriptor(ctx, &upd, 1) })
	if upd.Version != 2 {
		t.Errorf("version after update = %d, want 2", upd.Version)
	}
	stale := *got
	stale.Description = "stale"
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.UpdateDescriptor(ctx, &stale, 1) })
	wantCode(t, err, gatehouse.ECONFLICT, "stale version")
	read(t, s, func(tx gatehouse.Tx) (err error) {
		got, err = tx.GetDescriptor(ctx, f.org.ID, f.role.ID)
		return err
	})
	if got.Description != "updated" || got.Version != 2 || len(got.Refs) != 0 {
		t.Errorf("after update and stale update: %+v", got)
	}
	err = s.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetDescriptor(ctx, other.org.ID, f.role.ID); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "descriptor of another organization")

	read(t, s, func(tx gatehouse.Tx) error {
		sets, next, err := tx.ListDescriptors(ctx, f.org.ID, gatehouse.PurposeSet, gatehouse.ListOptions{})
		if err != nil {
			return err
		}
		if len(sets) != 1 || sets[0].ID != f.set.ID || next != "" {
			t.Errorf("ListDescriptors(set) = %d items, next %q", len(sets), next)
		}
		every, _, err := tx.ListDescriptors(ctx, f.org.ID, "", gatehouse.ListOptions{})
		if len(every) != 3 {
			t.Errorf("ListDescriptors(all) = %d items, want 3", len(every))
		}
		return err
	})
}

func testDescriptorInUse(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	del := func(id string) error {
		return s.Write(ctx, func(tx gatehouse.Tx) error { return tx.DeleteDescriptor(ctx, f.org.ID, id) })
	}
	// The set is composed by the role; the role is held by the member.
	wantCode(t, del(f.set.ID), gatehouse.ECONFLICT, "delete a composed set")
	wantCode(t, del(f.role.ID), gatehouse.ECONFLICT, "delete a held role")
	read(t, s, func(tx gatehouse.Tx) error {
		u, err := tx.DescriptorUsage(ctx, f.org.ID, f.set.ID)
		if err != nil {
			return err
		}
		if !slices.Equal(u.Descriptors, []string{f.role.ID}) || len(u.Members) != 0 {
			t.Errorf("usage of the set = %+v", u)
		}
		u, err = tx.DescriptorUsage(ctx, f.org.ID, f.role.ID)
		if !slices.Equal(u.Members, []string{f.user.ID}) {
			t.Errorf("usage of the role = %+v", u)
		}
		return err
	})
	// Each kind of use blocks deletion on its own.
	uses := []struct {
		name  string
		use   func(tx gatehouse.Tx, id string) error
		unuse func(tx gatehouse.Tx, id string) error
	}{
		{"team role", func(tx gatehouse.Tx, id string) error {
			tm := &gatehouse.Team{OrgID: f.org.ID, Kind: gatehouse.TeamPulumi, Name: "t-" + id[:8]}
			if err := tx.CreateTeam(ctx, tm); err != nil {
				return err
			}
			return tx.AddTeamRole(ctx, tm.ID, id)
		}, nil},
		{"token role", func(tx gatehouse.Tx, id string) error {
			_, d := gatehouse.NewTokenValue()
			return tx.CreateToken(ctx, &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "tok-" + id[:8], RoleID: id, Digest: d})
		}, nil},
		{"org default", func(tx gatehouse.Tx, id string) error {
			o, err := tx.GetOrg(ctx, f.org.ID)
			if err != nil {
				return err
			}
			o.Settings.DefaultRoleID = id
			return tx.UpdateOrg(ctx, o)
		}, nil},
	}
	for _, u := range uses {
		r := &gatehouse.Descriptor{OrgID: f.org.ID, Name: "R " + u.name, Purpose: gatehouse.PurposeRole, Details: json.RawMessage(`{}`)}
		write(t, s, func(tx gatehouse.Tx) error {
			if err := tx.CreateDescriptor(ctx, r); err != nil {
				return err
			}
			return u.use(tx, r.ID)
		})
		wantCode(t, del(r.ID), gatehouse.ECONFLICT, "delete a role in use as "+u.name)
	}
	// A grant's set is in use too; once the grant goes, the set can go.
	st := &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: "s"}
	set2 := &gatehouse.Descriptor{OrgID: f.org.ID, Name: "Set 2", Purpose: gatehouse.PurposeSet, ResourceType: gatehouse.EntityStack, Details: json.RawMessage(`{}`)}
	g := &gatehouse.Grant{OrgID: f.org.ID, UserID: f.user.ID, Entity: gatehouse.EntityRef{Type: gatehouse.EntityStack}}
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.CreateStack(ctx, st); err != nil {
			return err
		}
		if err := tx.CreateDescriptor(ctx, set2); err != nil {
			return err
		}
		g.Entity.ID, g.SetID = st.ID, set2.ID
		return tx.PutGrant(ctx, g)
	})
	wantCode(t, del(set2.ID), gatehouse.ECONFLICT, "delete a set used by a grant")
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteGrant(ctx, f.org.ID, g.ID) })
	if err := del(set2.ID); err != nil {
		t.Fatalf("delete an unused set: %v", err)
	}
	wantCode(t, del(set2.ID), gatehouse.ENOTFOUND, "delete twice")
}

func testMembers(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.AddMember(ctx, &gatehouse.Membership{OrgID: f.org.ID, UserID: f.user.ID, RoleID: f.role.ID})
	})
	wantCode(t, err, gatehouse.ECONFLICT, "member twice")
	other := newFixture(t, s)
	u2 := &gatehouse.User{Login: f.user.Login + "-2"}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateUser(ctx, u2) })
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.AddMember(ctx, &gatehouse.Membership{OrgID: f.org.ID, UserID: u2.ID, RoleID: other.role.ID})
	})
	wantCode(t, err, gatehouse.EINVALID, "a role of another organization")
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.AddMember(ctx, &gatehouse.Membership{OrgID: f.org.ID, UserID: gatehouse.NewID(), RoleID: f.role.ID})
	})
	wantCode(t, err, gatehouse.EINVALID, "an unknown user")

	write(t, s, func(tx gatehouse.Tx) error {
		return tx.AddMember(ctx, &gatehouse.Membership{OrgID: f.org.ID, UserID: u2.ID, RoleID: f.role.ID, Suspended: true})
	})
	read(t, s, func(tx gatehouse.Tx) error {
		ms, _, err := tx.ListMembers(ctx, f.org.ID, gatehouse.ListOptions{})
		if err != nil {
			return err
		}
		if len(ms) != 2 {
			t.Errorf("ListMembers = %d, want 2", len(ms))
		}
		m, err := tx.GetMember(ctx, f.org.ID, u2.ID)
		if err != nil || !m.Suspended {
			t.Errorf("GetMember = %+v, %v", m, err)
		}
		orgs, err := tx.ListUserMemberships(ctx, f.user.ID)
		if len(orgs) != 1 || orgs[0].OrgID != f.org.ID {
			t.Errorf("ListUserMemberships = %+v", orgs)
		}
		return err
	})
	// Change the member's role; a role of another organization is refused.
	r2 := &gatehouse.Descriptor{OrgID: f.org.ID, Name: "Admin", Purpose: gatehouse.PurposeRole, Details: json.RawMessage(`{}`)}
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.CreateDescriptor(ctx, r2); err != nil {
			return err
		}
		return tx.UpdateMember(ctx, &gatehouse.Membership{OrgID: f.org.ID, UserID: u2.ID, RoleID: r2.ID, Suspended: false})
	})
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.UpdateMember(ctx, &gatehouse.Membership{OrgID: f.org.ID, UserID: u2.ID, RoleID: other.role.ID})
	})
	wantCode(t, err, gatehouse.EINVALID, "update to a role of another organization")
	read(t, s, func(tx gatehouse.Tx) error {
		m, err := tx.GetMember(ctx, f.org.ID, u2.ID)
		if err != nil || m.RoleID != r2.ID || m.Suspended {
			t.Errorf("updated member = %+v, %v", m, err)
		}
		return nil
	})
	// Removing a member takes them out of the organization's teams.
	tm := &gatehouse.Team{OrgID: f.org.ID, Kind: gatehouse.TeamPulumi, Name: "ops"}
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.CreateTeam(ctx, tm); err != nil {
			return err
		}
		return tx.PutTeamMember(ctx, &gatehouse.TeamMember{TeamID: tm.ID, UserID: u2.ID, Role: gatehouse.TeamRoleMember})
	})
	write(t, s, func(tx gatehouse.Tx) error { return tx.RemoveMember(ctx, f.org.ID, u2.ID) })
	read(t, s, func(tx gatehouse.Tx) error {
		members, err := tx.ListTeamMembers(ctx, tm.ID)
		if len(members) != 0 {
			t.Errorf("removed member still in team: %+v", members)
		}
		_, err = tx.GetMember(ctx, f.org.ID, u2.ID)
		wantCode(t, err, gatehouse.ENOTFOUND, "removed member")
		return nil
	})
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.RemoveMember(ctx, f.org.ID, u2.ID) })
	wantCode(t, err, gatehouse.ENOTFOUND, "remove twice")
}

func testTeams(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	tm := &gatehouse.Team{OrgID: f.org.ID, Kind: gatehouse.TeamPulumi, Name: "platform", DisplayName: "Platform"}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateTeam(ctx, tm) })
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateTeam(ctx, &gatehouse.Team{OrgID: f.org.ID, Kind: gatehouse.TeamPulumi, Name: "platform"})
	})
	wantCode(t, err, gatehouse.ECONFLICT, "duplicate team")
	_, digest := gatehouse.NewTokenValue()
	tok := &gatehouse.Token{Kind: gatehouse.TokenTeam, OrgID: f.org.ID, TeamID: tm.ID, Name: "ci", Digest: digest}
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.PutTeamMember(ctx, &gatehouse.TeamMember{TeamID: tm.ID, UserID: f.user.ID, Role: gatehouse.TeamRoleMember}); err != nil {
			return err
		}
		// Promote: the same call replaces the role.
		if err := tx.PutTeamMember(ctx, &gatehouse.TeamMember{TeamID: tm.ID, UserID: f.user.ID, Role: gatehouse.TeamRoleAdmin}); err != nil {
			return err
		}
		if err := tx.AddTeamRole(ctx, tm.ID, f.role.ID); err != nil {
			return err
		}
		if err := tx.AddTeamRole(ctx, tm.ID, f.role.ID); err != nil { // idempotent
			return err
		}
		return tx.CreateToken(ctx, tok)
	})
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.PutTeamMember(ctx, &gatehouse.TeamMember{TeamID: tm.ID, UserID: f.user.ID, Role: "owner"})
	})
	wantCode(t, err, gatehouse.EINVALID, "bad team role")
	read(t, s, func(tx gatehouse.Tx) error {
		ms, err := tx.ListTeamMembers(ctx, tm.ID)
		if err != nil || len(ms) != 1 || ms[0].Role != gatehouse.TeamRoleAdmin {
			t.Errorf("team members = %+v, %v", ms, err)
		}
		roles, err := tx.ListTeamRoles(ctx, tm.ID)
		if !slices.Equal(roles, []string{f.role.ID}) {
			t.Errorf("team roles = %v", roles)
		}
		byID, err := tx.GetTeamByID(ctx, tm.ID)
		if err != nil || byID.Name != "platform" || byID.DisplayName != "Platform" || byID.Kind != gatehouse.TeamPulumi {
			t.Errorf("GetTeamByID = %+v, %v", byID, err)
		}
		teams, err := tx.ListUserTeams(ctx, f.org.ID, f.user.ID)
		if len(teams) != 1 || teams[0].Name != "platform" {
			t.Errorf("user teams = %+v", teams)
		}
		return err
	})
	write(t, s, func(tx gatehouse.Tx) error { return tx.RemoveTeamMember(ctx, tm.ID, f.user.ID) })
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.RemoveTeamMember(ctx, tm.ID, f.user.ID) })
	wantCode(t, err, gatehouse.ENOTFOUND, "remove a team member twice")
	tm.DisplayName = "The Platform Team"
	write(t, s, func(tx gatehouse.Tx) error { return tx.UpdateTeam(ctx, tm) })
	write(t, s, func(tx gatehouse.Tx) error { return tx.RemoveTeamRole(ctx, tm.ID, f.role.ID) })
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteTeam(ctx, tm.ID) })
	read(t, s, func(tx gatehouse.Tx) error {
		_, err := tx.GetTeam(ctx, f.org.ID, "platform")
		wantCode(t, err, gatehouse.ENOTFOUND, "deleted team")
		got, err := tx.GetToken(ctx, tok.ID)
		if err != nil || !got.Deleted {
			t.Errorf("team token after team deletion = %+v, %v; want revoked", got, err)
		}
		return nil
	})
	// The deleted team's token name stays reserved.
	_, d2 := gatehouse.NewTokenValue()
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateToken(ctx, &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "ci", Digest: d2})
	})
	wantCode(t, err, gatehouse.ECONFLICT, "reuse of a deleted team token's name")
}

func testGrants(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	st := &gatehouse.Stack{OrgID: f.org.ID, Project: "infra", Name: "prod"}
	tm := &gatehouse.Team{OrgID: f.org.ID, Kind: gatehouse.TeamPulumi, Name: "ops"}
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.CreateStack(ctx, st); err != nil {
			return err
		}
		return tx.CreateTeam(ctx, tm)
	})
	ref := gatehouse.EntityRef{Type: gatehouse.EntityStack, ID: st.ID}
	ug := &gatehouse.Grant{OrgID: f.org.ID, UserID: f.user.ID, Entity: ref, SetID: f.set.ID}
	tg := &gatehouse.Grant{OrgID: f.org.ID, TeamID: tm.ID, Entity: ref, SetID: f.set.ID, Legacy: "101"}
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.PutGrant(ctx, ug); err != nil {
			return err
		}
		return tx.PutGrant(ctx, tg)
	})
	// Putting again replaces, keeping the id.
	firstID := ug.ID
	again := &gatehouse.Grant{OrgID: f.org.ID, UserID: f.user.ID, Entity: ref, SetID: f.set.ID, Legacy: "102"}
	write(t, s, func(tx gatehouse.Tx) error { return tx.PutGrant(ctx, again) })
	if again.ID != firstID {
		t.Errorf("re-put grant got id %s, want %s", again.ID, firstID)
	}
	bad := []struct {
		name string
		g    gatehouse.Grant
	}{
		{"no principal", gatehouse.Grant{OrgID: f.org.ID, Entity: ref, SetID: f.set.ID}},
		{"two principals", gatehouse.Grant{OrgID: f.org.ID, UserID: f.user.ID, TeamID: tm.ID, Entity: ref, SetID: f.set.ID}},
		{"unknown entity", gatehouse.Grant{OrgID: f.org.ID, UserID: f.user.ID, Entity: gatehouse.EntityRef{Type: gatehouse.EntityStack, ID: gatehouse.NewID()}, SetID: f.set.ID}},
		{"global entity", gatehouse.Grant{OrgID: f.org.ID, UserID: f.user.ID, Entity: gatehouse.EntityRef{Type: gatehouse.EntityGlobal, ID: f.org.ID}, SetID: f.set.ID}},
		{"unknown set", gatehouse.Grant{OrgID: f.org.ID, UserID: f.user.ID, Entity: ref, SetID: gatehouse.NewID()}},
		{"unknown user", gatehouse.Grant{OrgID: f.org.ID, UserID: gatehouse.NewID(), Entity: ref, SetID: f.set.ID}},
	}
	for _, b := range bad {
		err := s.Write(ctx, func(tx gatehouse.Tx) error { g := b.g; return tx.PutGrant(ctx, &g) })
		wantCode(t, err, gatehouse.EINVALID, b.name)
	}
	read(t, s, func(tx gatehouse.Tx) error {
		gs, err := tx.ListGrants(ctx, f.org.ID, gatehouse.GrantFilter{Entity: &ref})
		if err != nil || len(gs) != 2 {
			t.Fatalf("grants on the stack = %d, %v", len(gs), err)
		}
		gs, _ = tx.ListGrants(ctx, f.org.ID, gatehouse.GrantFilter{TeamID: tm.ID})
		if len(gs) != 1 || gs[0].Legacy != "101" || gs[0].UserID != "" {
			t.Errorf("team grants = %+v", gs)
		}
		gs, _ = tx.ListGrants(ctx, f.org.ID, gatehouse.GrantFilter{UserID: f.user.ID})
		if len(gs) != 1 || gs[0].Legacy != "102" {
			t.Errorf("user grants = %+v", gs)
		}
		return nil
	})
	// Deleting the stack deletes the grants on it.
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteStack(ctx, st.ID) })
	read(t, s, func(tx gatehouse.Tx) error {
		gs, err := tx.ListGrants(ctx, f.org.ID, gatehouse.GrantFilter{})
		if len(gs) != 0 {
			t.Errorf("grants survive their stack: %+v", gs)
		}
		return err
	})
}

func testTokens(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	v1, d1 := gatehouse.NewTokenValue()
	_, d2 := gatehouse.NewTokenValue()
	personal := &gatehouse.Token{Kind: gatehouse.TokenPersonal, UserID: f.user.ID, Description: "laptop", Digest: d1,
		Expires: time.Now().Add(time.Hour).Truncate(time.Microsecond)}
	org := &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "deploy", RoleID: f.role.ID, Digest: d2, CreatedBy: f.user.ID}
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.CreateToken(ctx, personal); err != nil {
			return err
		}
		return tx.CreateToken(ctx, org)
	})
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetTokenByDigest(ctx, gatehouse.TokenDigest(v1))
		if err != nil {
			return err
		}
		if got.ID != personal.ID || got.UserID != f.user.ID || got.OrgID != "" || !got.Expires.Equal(personal.Expires) || got.Deleted {
			t.Errorf("GetTokenByDigest = %+v", got)
		}
		_, err = tx.GetTokenByDigest(ctx, gatehouse.TokenDigest("pul-nope"))
		wantCode(t, err, gatehouse.ENOTFOUND, "unknown digest")
		return nil
	})
	_, d3 := gatehouse.NewTokenValue()
	bad := []struct {
		name string
		tok  gatehouse.Token
		code string
	}{
		{"duplicate name", gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "deploy", Digest: d3}, gatehouse.ECONFLICT},
		{"duplicate digest", gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "other", Digest: d2}, gatehouse.ECONFLICT},
		{"short digest", gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "x", Digest: []byte("abc")}, gatehouse.EINVALID},
		{"unknown kind", gatehouse.Token{Kind: "bearer", OrgID: f.org.ID, Name: "y", Digest: d3}, gatehouse.EINVALID},
		{"unknown role", gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "z", RoleID: gatehouse.NewID(), Digest: d3}, gatehouse.EINVALID},
		{"team of nothing", gatehouse.Token{Kind: gatehouse.TokenTeam, OrgID: f.org.ID, TeamID: gatehouse.NewID(), Name: "w", Digest: d3}, gatehouse.EINVALID},
		{"personal without user", gatehouse.Token{Kind: gatehouse.TokenPersonal, Digest: d3}, gatehouse.EINVALID},
	}
	for _, b := range bad {
		err := s.Write(ctx, func(tx gatehouse.Tx) error { tk := b.tok; return tx.CreateToken(ctx, &tk) })
		wantCode(t, err, b.code, b.name)
	}
	used := time.Now().Truncate(time.Microsecond).UTC()
	write(t, s, func(tx gatehouse.Tx) error { return tx.TouchTokens(ctx, map[string]time.Time{org.ID: used}) })
	write(t, s, func(tx gatehouse.Tx) error {
		return tx.TouchTokens(ctx, map[string]time.Time{org.ID: used.Add(-time.Hour)})
	}) // older: ignored
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteToken(ctx, org.ID) })
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetToken(ctx, org.ID)
		if err != nil || !got.Deleted || !got.LastUsed.Equal(used) || got.RoleID != f.role.ID || got.CreatedBy != f.user.ID {
			t.Errorf("deleted token = %+v, %v", got, err)
		}
		live, _, err := tx.ListTokens(ctx, gatehouse.TokenFilter{OrgID: f.org.ID}, gatehouse.ListOptions{})
		if len(live) != 0 {
			t.Errorf("live org tokens = %d, want 0", len(live))
		}
		withDeleted, _, err := tx.ListTokens(ctx, gatehouse.TokenFilter{OrgID: f.org.ID, IncludeDeleted: true}, gatehouse.ListOptions{})
		if len(withDeleted) != 1 {
			t.Errorf("org tokens with deleted = %d, want 1", len(withDeleted))
		}
		mine, _, err := tx.ListTokens(ctx, gatehouse.TokenFilter{UserID: f.user.ID, Kind: gatehouse.TokenPersonal}, gatehouse.ListOptions{})
		if len(mine) != 1 || mine[0].ID != personal.ID {
			t.Errorf("personal tokens = %+v", mine)
		}
		_, _, err = tx.ListTokens(ctx, gatehouse.TokenFilter{}, gatehouse.ListOptions{})
		wantCode(t, err, gatehouse.EINVALID, "unfiltered token list")
		return nil
	})
	err := s.Write(ctx, func(tx gatehouse.Tx) error { return tx.DeleteToken(ctx, org.ID) })
	wantCode(t, err, gatehouse.ENOTFOUND, "delete a deleted token")
	// Names stay reserved forever, deleted tokens included.
	_, d4 := gatehouse.NewTokenValue()
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateToken(ctx, &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "deploy", Digest: d4})
	})
	wantCode(t, err, gatehouse.ECONFLICT, "reuse a deleted token's name")
	// Another organization may use the name.
	other := newFixture(t, s)
	write(t, s, func(tx gatehouse.Tx) error {
		return tx.CreateToken(ctx, &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: other.org.ID, Name: "deploy", Digest: d4})
	})
}

func testIssuers(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	iss := &gatehouse.Issuer{OrgID: f.org.ID, Name: "GitHub", URL: "https://token.actions.githubusercontent.com",
		Issuer: "https://token.actions.githubusercontent.com", Thumbprints: []string{"abc123"}, MaxExpiration: 2 * time.Hour}
	pol := &gatehouse.AuthPolicy{Policies: json.RawMessage(`[{"decision":"deny","tokenType":"organization","rules":{}}]`)}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateIssuer(ctx, iss, pol) })
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateIssuer(ctx, &gatehouse.Issuer{OrgID: f.org.ID, Name: "again", URL: iss.URL, Issuer: iss.Issuer}, &gatehouse.AuthPolicy{})
	})
	wantCode(t, err, gatehouse.ECONFLICT, "issuer registered twice")
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.FindIssuer(ctx, f.org.ID, iss.Issuer)
		if err != nil {
			return err
		}
		if got.ID != iss.ID || !slices.Equal(got.Thumbprints, []string{"abc123"}) || got.MaxExpiration != 2*time.Hour || got.JWKS != nil {
			t.Errorf("FindIssuer = %+v", got)
		}
		p, err := tx.GetIssuerPolicy(ctx, f.org.ID, iss.ID)
		if err != nil || p.Version != 1 || p.ID != pol.ID {
			t.Errorf("issuer policy = %+v, %v", p, err)
		}
		list, err := tx.ListIssuers(ctx, f.org.ID)
		if len(list) != 1 {
			t.Errorf("ListIssuers = %d", len(list))
		}
		return err
	})
	used := time.Now().Truncate(time.Microsecond).UTC()
	before := revision(t, s, f.org.ID)
	write(t, s, func(tx gatehouse.Tx) error { return tx.TouchIssuer(ctx, f.org.ID, iss.ID, used) })
	if after := revision(t, s, f.org.ID); after != before {
		t.Errorf("TouchIssuer bumped the revision")
	}
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetIssuer(ctx, f.org.ID, iss.ID)
		if err != nil || !got.LastUsed.Equal(used) {
			t.Errorf("last used = %v, %v", got.LastUsed, err)
		}
		return nil
	})
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.TouchIssuer(ctx, f.org.ID, gatehouse.NewID(), used) })
	wantCode(t, err, gatehouse.ENOTFOUND, "touch an unknown issuer")
	iss.Name, iss.JWKS = "GitHub Actions", json.RawMessage(`{"keys":[]}`)
	write(t, s, func(tx gatehouse.Tx) error { return tx.UpdateIssuer(ctx, iss) })
	upd := &gatehouse.AuthPolicy{ID: pol.ID, OrgID: f.org.ID, Policies: json.RawMessage(`[{"decision":"allow","tokenType":"organization","rules":{"sub":"repo:acme/*"}}]`)}
	write(t, s, func(tx gatehouse.Tx) error { return tx.UpdateAuthPolicy(ctx, upd, 1) })
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.UpdateAuthPolicy(ctx, upd, 1) })
	wantCode(t, err, gatehouse.ECONFLICT, "stale policy version")
	read(t, s, func(tx gatehouse.Tx) error {
		p, err := tx.GetAuthPolicy(ctx, f.org.ID, pol.ID)
		if err != nil || p.Version != 2 || string(p.Policies) != string(upd.Policies) {
			t.Errorf("policy after update = %+v, %v", p, err)
		}
		got, err := tx.GetIssuer(ctx, f.org.ID, iss.ID)
		if got.Name != "GitHub Actions" || string(got.JWKS) != `{"keys":[]}` {
			t.Errorf("issuer after update = %+v", got)
		}
		return err
	})
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteIssuer(ctx, f.org.ID, iss.ID) })
	err = s.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetAuthPolicy(ctx, f.org.ID, pol.ID); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "policy of a deleted issuer")
}

// testTokenRoleAndIssuer: a role deleted under tokens leaves them marked
// as holding nothing (not NULL, which means the default role); an issuer's
// exchanged tokens are revoked together, and no one else's.
func testTokenRoleAndIssuer(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	custom := &gatehouse.Descriptor{OrgID: f.org.ID, Name: "Deployer", Purpose: gatehouse.PurposeRole, ResourceType: gatehouse.EntityGlobal,
		Details: json.RawMessage(`{"__type":"PermissionDescriptorAllow","permissions":["stack:read"]}`)}
	iss := &gatehouse.Issuer{OrgID: f.org.ID, Name: "ci", URL: "https://ci.example", Issuer: "https://ci.example"}
	tok := func(name, role, issuer string) *gatehouse.Token {
		_, d := gatehouse.NewTokenValue()
		return &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: name, RoleID: role, Digest: d, IssuerID: issuer, Exchanged: issuer != ""}
	}
	var bound, revoked, plain, exchanged, other *gatehouse.Token
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.CreateDescriptor(ctx, custom); err != nil {
			return err
		}
		if err := tx.CreateIssuer(ctx, iss, &gatehouse.AuthPolicy{Policies: json.RawMessage(`[]`)}); err != nil {
			return err
		}
		bound, revoked, plain = tok("bound", custom.ID, ""), tok("revoked", custom.ID, ""), tok("plain", "", "")
		exchanged, other = tok("exchanged", f.role.ID, iss.ID), tok("other", f.role.ID, gatehouse.NewID())
		for _, tk := range []*gatehouse.Token{bound, revoked, plain, exchanged, other} {
			if err := tx.CreateToken(ctx, tk); err != nil {
				return err
			}
		}
		return tx.DeleteToken(ctx, revoked.ID)
	})
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetToken(ctx, exchanged.ID)
		if err != nil || got.IssuerID != iss.ID || got.RoleDeleted {
			t.Errorf("exchanged token = %+v, %v", got, err)
		}
		return err
	})
	err := s.Write(ctx, func(tx gatehouse.Tx) error { return tx.DeleteDescriptor(ctx, f.org.ID, custom.ID) })
	wantCode(t, err, gatehouse.ECONFLICT, "delete a role tokens are bound to")
	before := revision(t, s, f.org.ID)
	write(t, s, func(tx gatehouse.Tx) error {
		lost, err := tx.UnbindRole(ctx, f.org.ID, custom.ID)
		if err != nil {
			return err
		}
		if len(lost) != 1 || lost[0].ID != bound.ID || !lost[0].RoleDeleted {
			t.Errorf("UnbindRole = %+v, want the one live token bound to the role", lost)
		}
		return tx.DeleteDescriptor(ctx, f.org.ID, custom.ID)
	})
	if revision(t, s, f.org.ID) == before {
		t.Errorf("UnbindRole did not bump the revision")
	}
	err = s.Write(ctx, func(tx gatehouse.Tx) error { _, err := tx.UnbindRole(ctx, f.org.ID, custom.ID); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "unbind a deleted role")
	read(t, s, func(tx gatehouse.Tx) error {
		for _, c := range []struct {
			tk          *gatehouse.Token
			roleDeleted bool
		}{{bound, true}, {revoked, true}, {plain, false}} {
			got, err := tx.GetToken(ctx, c.tk.ID)
			if err != nil || got.RoleID != "" || got.RoleDeleted != c.roleDeleted {
				t.Errorf("token %s after its role went = %+v, %v; want roleDeleted %v", c.tk.Name, got, err, c.roleDeleted)
			}
		}
		return nil
	})
	before = revision(t, s, f.org.ID)
	write(t, s, func(tx gatehouse.Tx) error {
		gone, err := tx.RevokeIssuerTokens(ctx, iss.ID)
		if len(gone) != 1 || gone[0].ID != exchanged.ID {
			t.Errorf("RevokeIssuerTokens = %+v, want the issuer's one token", gone)
		}
		return err
	})
	if revision(t, s, f.org.ID) == before {
		t.Errorf("RevokeIssuerTokens did not bump the revision")
	}
	read(t, s, func(tx gatehouse.Tx) error {
		for _, c := range []struct {
			tk      *gatehouse.Token
			deleted bool
		}{{exchanged, true}, {other, false}, {plain, false}} {
			got, err := tx.GetToken(ctx, c.tk.ID)
			if err != nil || got.Deleted != c.deleted {
				t.Errorf("token %s after its issuer's revocation: deleted = %v, %v; want %v", c.tk.Name, got.Deleted, err, c.deleted)
			}
		}
		return nil
	})
}

// testTokenBindRaces: a token bound to a role, or minted through an
// issuer, while another transaction deletes the role or the issuer never
// outlives it with access: the deletion sees the token (refused, or the
// token revoked), or the token's creation fails. The binding transaction
// is held open while the deletion starts, so that on PostgreSQL the
// deletion meets its locks.
func testTokenBindRaces(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	custom := &gatehouse.Descriptor{OrgID: f.org.ID, Name: "racer", Purpose: gatehouse.PurposeRole, ResourceType: gatehouse.EntityGlobal,
		Details: json.RawMessage(`{"__type":"PermissionDescriptorAllow","permissions":["stack:read"]}`)}
	iss := &gatehouse.Issuer{OrgID: f.org.ID, Name: "race", URL: "https://race.example", Issuer: "https://race.example"}
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.CreateDescriptor(ctx, custom); err != nil {
			return err
		}
		return tx.CreateIssuer(ctx, iss, &gatehouse.AuthPolicy{Policies: json.RawMessage(`[]`)})
	})
	race := func(bind func(tx gatehouse.Tx) error, del func(tx gatehouse.Tx) error) (bindErr, delErr error) {
		created, release, delDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		bindDone := make(chan error, 1)
		go func() {
			bindDone <- s.Write(ctx, func(tx gatehouse.Tx) error {
				if err := bind(tx); err != nil {
					close(created)
					return err
				}
				close(created)
				<-release
				return nil
			})
		}()
		<-created
		started := make(chan struct{})
		go func() {
			delDone <- s.Write(ctx, func(tx gatehouse.Tx) error { close(started); return del(tx) })
		}()
		select {
		case <-started:
			// Give the deletion time to reach the binding's locks, so that
			// the race is run and not only the ordered case. The check
			// below holds under every interleaving: no timing is asserted.
			time.Sleep(100 * time.Millisecond)
		case <-time.After(100 * time.Millisecond): // SQLite: one writer at a time
		}
		close(release)
		return <-bindDone, <-delDone
	}

	var tok *gatehouse.Token
	bindErr, delErr := race(func(tx gatehouse.Tx) error {
		_, d := gatehouse.NewTokenValue()
		tok = &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "bound-in-race", RoleID: custom.ID, Digest: d}
		return tx.CreateToken(ctx, tok)
	}, func(tx gatehouse.Tx) error { return tx.DeleteDescriptor(ctx, f.org.ID, custom.ID) })
	if bindErr == nil {
		wantCode(t, delErr, gatehouse.ECONFLICT, "delete a role a token was bound to meanwhile")
		read(t, s, func(tx gatehouse.Tx) error {
			got, err := tx.GetToken(ctx, tok.ID)
			if err != nil || got.RoleID != custom.ID {
				t.Errorf("token bound during a role's deletion = %+v, %v; want it still bound", got, err)
			}
			return err
		})
	} else if delErr != nil {
		t.Errorf("both the binding (%v) and the deletion (%v) failed", bindErr, delErr)
	}

	var ex *gatehouse.Token
	bindErr, delErr = race(func(tx gatehouse.Tx) error {
		_, d := gatehouse.NewTokenValue()
		ex = &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "exchanged-in-race", Digest: d, IssuerID: iss.ID, Exchanged: true}
		if err := tx.TouchIssuer(ctx, f.org.ID, iss.ID, time.Now()); err != nil {
			return err
		}
		return tx.CreateToken(ctx, ex)
	}, func(tx gatehouse.Tx) error {
		if _, err := tx.RevokeIssuerTokens(ctx, iss.ID); err != nil {
			return err
		}
		return tx.DeleteIssuer(ctx, f.org.ID, iss.ID)
	})
	if delErr != nil {
		t.Fatalf("delete an issuer during an exchange: %v", delErr)
	}
	if bindErr == nil {
		read(t, s, func(tx gatehouse.Tx) error {
			got, err := tx.GetToken(ctx, ex.ID)
			if err != nil || !got.Deleted {
				t.Errorf("token exchanged during its issuer's deletion = %+v, %v; want it revoked", got, err)
			}
			return err
		})
	}
}

func testStacks(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	st := &gatehouse.Stack{OrgID: f.org.ID, Project: "infra", Name: "dev", Tags: map[string]string{"env": "dev"}, CreatedBy: f.user.ID}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateStack(ctx, st) })
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateStack(ctx, &gatehouse.Stack{OrgID: f.org.ID, Project: "infra", Name: "dev"})
	})
	wantCode(t, err, gatehouse.ECONFLICT, "duplicate stack")
	write(t, s, func(tx gatehouse.Tx) error { // same name, other project
		return tx.CreateStack(ctx, &gatehouse.Stack{OrgID: f.org.ID, Project: "app", Name: "dev"})
	})
	st.Name, st.Tags = "development", map[string]string{"env": "dev", "team": "core"}
	write(t, s, func(tx gatehouse.Tx) error { return tx.UpdateStack(ctx, st) })
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetStack(ctx, f.org.ID, "infra", "development")
		if err != nil {
			return err
		}
		if got.ID != st.ID || got.Tags["team"] != "core" || got.CreatedBy != f.user.ID || got.Version != 0 {
			t.Errorf("GetStack = %+v", got)
		}
		_, err = tx.GetStack(ctx, f.org.ID, "infra", "dev")
		wantCode(t, err, gatehouse.ENOTFOUND, "old name after rename")
		list, _, err := tx.ListStacks(ctx, f.org.ID, "infra", gatehouse.ListOptions{})
		if len(list) != 1 {
			t.Errorf("ListStacks(infra) = %d", len(list))
		}
		list, _, err = tx.ListStacks(ctx, f.org.ID, "", gatehouse.ListOptions{})
		if len(list) != 2 {
			t.Errorf("ListStacks = %d", len(list))
		}
		return err
	})
	clash := *st
	clash.Project, clash.Name = "app", "dev"
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.UpdateStack(ctx, &clash) })
	wantCode(t, err, gatehouse.ECONFLICT, "rename onto an existing stack")
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteStack(ctx, st.ID) })
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.DeleteStack(ctx, st.ID) })
	wantCode(t, err, gatehouse.ENOTFOUND, "delete a deleted stack")
}

func testCheckpoints(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	st := &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: "s"}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateStack(ctx, st) })
	save := func(v int, data string) error {
		return s.Write(ctx, func(tx gatehouse.Tx) error {
			return tx.SaveCheckpoint(ctx, &gatehouse.Checkpoint{StackID: st.ID, Version: v, Data: []byte(data)})
		})
	}
	if err := save(1, `{"v":1}`); err != nil {
		t.Fatal(err)
	}
	if err := save(2, `{"v":2}`); err != nil {
		t.Fatal(err)
	}
	wantCode(t, save(2, `{"v":"again"}`), gatehouse.ECONFLICT, "save a version twice")
	wantCode(t, save(4, `{"v":4}`), gatehouse.ECONFLICT, "skip a version")
	write(t, s, func(tx gatehouse.Tx) error {
		return tx.ReplaceCheckpoint(ctx, &gatehouse.Checkpoint{StackID: st.ID, Version: 2, Data: []byte(`{"v":"2b"}`)})
	})
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.ReplaceCheckpoint(ctx, &gatehouse.Checkpoint{StackID: st.ID, Version: 1, Data: []byte(`{}`)})
	})
	wantCode(t, err, gatehouse.ENOTFOUND, "replace a past version")
	read(t, s, func(tx gatehouse.Tx) error {
		cur, err := tx.GetCheckpoint(ctx, st.ID, 0)
		if err != nil || cur.Version != 2 || string(cur.Data) != `{"v":"2b"}` {
			t.Errorf("current checkpoint = %+v, %v", cur, err)
		}
		old, err := tx.GetCheckpoint(ctx, st.ID, 1)
		if err != nil || string(old.Data) != `{"v":1}` {
			t.Errorf("version 1 = %+v, %v", old, err)
		}
		got, _ := tx.GetStackByID(ctx, st.ID)
		if got.Version != 2 {
			t.Errorf("stack version = %d", got.Version)
		}
		return nil
	})
}

func testUpdates(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	st := &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: "s"}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateStack(ctx, st) })
	var ids []string
	for i := 0; i < 3; i++ {
		u := &gatehouse.StackUpdate{StackID: st.ID, Kind: "update", Status: "not started"}
		write(t, s, func(tx gatehouse.Tx) error { return tx.CreateUpdate(ctx, u) })
		ids = append(ids, u.ID)
		time.Sleep(2 * time.Millisecond) // distinct creation times order the history
	}
	write(t, s, func(tx gatehouse.Tx) error {
		u, err := tx.GetUpdate(ctx, ids[0])
		if err != nil {
			return err
		}
		u.Status, u.LeaseDigest, u.LeaseExpiry = "running", gatehouse.TokenDigest("lease"), time.Now().Add(time.Minute)
		u.Info = json.RawMessage(`{"message":"hi"}`)
		return tx.SaveUpdate(ctx, u)
	})
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateUpdate(ctx, &gatehouse.StackUpdate{StackID: gatehouse.NewID(), Kind: "update", Status: "x"})
	})
	wantCode(t, err, gatehouse.EINVALID, "update of no stack")
	read(t, s, func(tx gatehouse.Tx) error {
		u, err := tx.GetUpdate(ctx, ids[0])
		if err != nil || u.Status != "running" || len(u.LeaseDigest) != 32 || string(u.Info) != `{"message":"hi"}` {
			t.Errorf("saved update = %+v, %v", u, err)
		}
		list, next, err := tx.ListUpdates(ctx, st.ID, gatehouse.ListOptions{Limit: 2})
		if err != nil || len(list) != 2 || list[0].ID != ids[2] || next == "" {
			t.Fatalf("first page of updates = %v, next %q, %v", len(list), next, err)
		}
		rest, next, err := tx.ListUpdates(ctx, st.ID, gatehouse.ListOptions{Limit: 2, Continuation: next})
		if err != nil || len(rest) != 1 || rest[0].ID != ids[0] || next != "" {
			t.Errorf("second page = %d, next %q, %v", len(rest), next, err)
		}
		return nil
	})
}

func testEnvironments(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	e := &gatehouse.Environment{OrgID: f.org.ID, Project: "app", Name: "prod", Tags: map[string]string{"env": "prod"}, CreatedBy: f.user.ID}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateEnvironment(ctx, e, []byte("values: {a: 1}\n")) })
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateEnvironment(ctx, &gatehouse.Environment{OrgID: f.org.ID, Project: "app", Name: "prod"}, nil)
	})
	wantCode(t, err, gatehouse.ECONFLICT, "duplicate environment")
	var v int
	write(t, s, func(tx gatehouse.Tx) (err error) {
		v, err = tx.PutEnvironmentVersion(ctx, e.ID, 1, []byte("values: {a: 2}\n"), f.user.ID)
		return err
	})
	if v != 2 {
		t.Errorf("new version = %d, want 2", v)
	}
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		_, err := tx.PutEnvironmentVersion(ctx, e.ID, 1, []byte("stale"), f.user.ID)
		return err
	})
	wantCode(t, err, gatehouse.ECONFLICT, "stale environment version")
	e.Tags["team"] = "core"
	write(t, s, func(tx gatehouse.Tx) error { return tx.UpdateEnvironment(ctx, e) })
	read(t, s, func(tx gatehouse.Tx) error {
		cur, err := tx.GetEnvironmentVersion(ctx, e.ID, 0)
		if err != nil || cur.Version != 2 || string(cur.Definition) != "values: {a: 2}\n" {
			t.Errorf("current definition = %+v, %v", cur, err)
		}
		first, err := tx.GetEnvironmentVersion(ctx, e.ID, 1)
		if err != nil || string(first.Definition) != "values: {a: 1}\n" {
			t.Errorf("version 1 = %+v, %v", first, err)
		}
		got, err := tx.GetEnvironment(ctx, f.org.ID, "app", "prod")
		if err != nil || got.Version != 2 || got.Tags["team"] != "core" {
			t.Errorf("environment = %+v, %v", got, err)
		}
		byID, err := tx.GetEnvironmentByID(ctx, e.ID)
		if err != nil || byID.Name != "prod" || byID.CreatedBy != f.user.ID {
			t.Errorf("GetEnvironmentByID = %+v, %v", byID, err)
		}
		list, _, err := tx.ListEnvironments(ctx, f.org.ID, gatehouse.ListOptions{})
		if len(list) != 1 {
			t.Errorf("ListEnvironments = %d", len(list))
		}
		vs, next, err := tx.ListEnvironmentVersions(ctx, e.ID, gatehouse.ListOptions{Limit: 1})
		if err != nil || len(vs) != 1 || vs[0].Version != 2 || next == "" {
			t.Fatalf("first page of versions = %+v, %q, %v", vs, next, err)
		}
		vs, next, err = tx.ListEnvironmentVersions(ctx, e.ID, gatehouse.ListOptions{Limit: 1, Continuation: next})
		if err != nil || len(vs) != 1 || vs[0].Version != 1 || vs[0].CreatedBy != f.user.ID || next != "" {
			t.Errorf("second page of versions = %+v, %q, %v", vs, next, err)
		}
		return err
	})
	// Its data key: set once, gone with it.
	err = s.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetEnvironmentKey(ctx, e.ID); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "key of an environment without one")
	write(t, s, func(tx gatehouse.Tx) error { return tx.PutEnvironmentKey(ctx, e.ID, []byte{4, 5}) })
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.PutEnvironmentKey(ctx, e.ID, []byte{6}) })
	wantCode(t, err, gatehouse.ECONFLICT, "a second environment key")
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.PutEnvironmentKey(ctx, gatehouse.NewID(), []byte{6}) })
	wantCode(t, err, gatehouse.EINVALID, "a key for no environment")
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetEnvironmentKey(ctx, e.ID)
		if err == nil && !bytes.Equal(got, []byte{4, 5}) {
			t.Errorf("GetEnvironmentKey = %v", got)
		}
		return err
	})
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteEnvironment(ctx, e.ID) })
	err = s.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetEnvironmentKey(ctx, e.ID); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "key of a deleted environment")
	err = s.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetEnvironmentVersion(ctx, e.ID, 1); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "version of a deleted environment")
}

func testAccounts(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	a := &gatehouse.Account{OrgID: f.org.ID, Name: "aws-prod", Tags: map[string]string{"cloud": "aws"}}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateAccount(ctx, a) })
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateAccount(ctx, &gatehouse.Account{OrgID: f.org.ID, Name: "aws-prod"})
	})
	wantCode(t, err, gatehouse.ECONFLICT, "duplicate account")
	a.Tags["env"] = "prod"
	a.Details = json.RawMessage(`{"provider":"aws"}`)
	write(t, s, func(tx gatehouse.Tx) error { return tx.UpdateAccount(ctx, a) })
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetAccount(ctx, f.org.ID, "aws-prod")
		if err != nil || got.Tags["env"] != "prod" || got.ID != a.ID || string(got.Details) != `{"provider":"aws"}` {
			t.Errorf("account = %+v, %v", got, err)
		}
		list, _, err := tx.ListAccounts(ctx, f.org.ID, gatehouse.ListOptions{})
		if len(list) != 1 {
			t.Errorf("ListAccounts = %d", len(list))
		}
		return err
	})
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteAccount(ctx, a.ID) })
	err = s.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetAccountByID(ctx, a.ID); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "deleted account")
}

func testAudit(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	types := []string{"stack_created", "token_created", "stack_deleted"}
	write(t, s, func(tx gatehouse.Tx) error {
		for i := 0; i < 30; i++ {
			e := &gatehouse.AuditEvent{OrgID: f.org.ID, Time: base.Add(time.Duration(i) * time.Minute), Type: types[i%3],
				ActorLogin: []string{"ada", "bob"}[i%2], SourceIP: "127.0.0.1", Data: json.RawMessage(`{"i":` + fmt.Sprint(i) + `}`)}
			if i == 7 {
				e.ClientRequestID = "client-7"
			}
			if err := tx.AppendAudit(ctx, e); err != nil {
				return err
			}
			if e.Seq == 0 {
				t.Errorf("event %d got no sequence number", i)
			}
		}
		return nil
	})
	err := s.Write(ctx, func(tx gatehouse.Tx) error { return tx.AppendAudit(ctx, &gatehouse.AuditEvent{OrgID: f.org.ID}) })
	wantCode(t, err, gatehouse.EINVALID, "event without a type")
	read(t, s, func(tx gatehouse.Tx) error {
		var all []*gatehouse.AuditEvent
		next := ""
		for {
			page, n, err := tx.ListAudit(ctx, f.org.ID, gatehouse.AuditFilter{}, gatehouse.ListOptions{Limit: 7, Continuation: next})
			if err != nil {
				return err
			}
			all = append(all, page...)
			if next = n; next == "" {
				break
			}
		}
		if len(all) != 30 {
			t.Fatalf("paged through %d events, want 30", len(all))
		}
		for i, e := range all {
			if !e.Time.Equal(base.Add(time.Duration(i)*time.Minute)) || string(e.Data) != `{"i":`+fmt.Sprint(i)+`}` {
				t.Fatalf("event %d out of order or changed: %+v", i, e)
			}
		}
		got, _, err := tx.ListAudit(ctx, f.org.ID, gatehouse.AuditFilter{
			From: base.Add(10 * time.Minute), To: base.Add(20 * time.Minute), Types: []string{"stack_created"}, ActorLogins: []string{"ada"},
		}, gatehouse.ListOptions{})
		// Minutes 10..19, type index i%3==0, login index i%2==0: 12 and 18.
		if err != nil || len(got) != 2 || !got[0].Time.Equal(base.Add(12*time.Minute)) {
			t.Errorf("filtered audit = %d events, %v", len(got), err)
		}
		// The chain: each event links to the one before, and the head
		// holds the last.
		chain, err := tx.AuditChain(ctx, f.org.ID, 0, 100)
		if err != nil || len(chain) != 30 {
			t.Fatalf("AuditChain = %d events, %v", len(chain), err)
		}
		prev := []byte{}
		for i, e := range chain {
			if !bytes.Equal(e.PrevHash, prev) || !bytes.Equal(e.Hash, e.ChainMAC(AuditKey, prev)) {
				t.Fatalf("chain broken at event %d", i)
			}
			prev = e.Hash
		}
		head, err := tx.AuditHead(ctx, f.org.ID)
		if err != nil || head.LastSeq != chain[29].Seq || !bytes.Equal(head.LastHash, chain[29].Hash) || head.AnchorSeq != 0 {
			t.Errorf("AuditHead = %+v, %v", head, err)
		}
		// The chain is keyed from its first event, and the head sealed.
		if head.KeyedFrom != chain[0].Seq || !bytes.Equal(head.MAC, head.HeadMAC(AuditKey, f.org.ID)) {
			t.Errorf("head keyed from %d (want %d), MAC holds: %v", head.KeyedFrom, chain[0].Seq, bytes.Equal(head.MAC, head.HeadMAC(AuditKey, f.org.ID)))
		}
		if chain[7].ClientRequestID != "client-7" || chain[8].ClientRequestID != "" {
			t.Errorf("client request ids: %q %q", chain[7].ClientRequestID, chain[8].ClientRequestID)
		}
		if rest, _ := tx.AuditChain(ctx, f.org.ID, chain[27].Seq, 100); len(rest) != 2 {
			t.Errorf("AuditChain after the 28th = %d events", len(rest))
		}
		desc, _, err := tx.ListAudit(ctx, f.org.ID, gatehouse.AuditFilter{Descending: true}, gatehouse.ListOptions{Limit: 1})
		last, err2 := tx.LastAudit(ctx, f.org.ID)
		if err != nil || err2 != nil || len(desc) != 1 || desc[0].Seq != last.Seq || !bytes.Equal(last.Hash, desc[0].Hash) {
			t.Errorf("newest event: %+v vs %+v (%v, %v)", desc, last, err, err2)
		}
		return nil
	})
	// Pruning the first ten minutes keeps the rest verifiable from the
	// last pruned hash.
	var pruned int64
	write(t, s, func(tx gatehouse.Tx) (err error) {
		pruned, err = tx.PruneAudit(ctx, f.org.ID, base.Add(10*time.Minute))
		return err
	})
	if pruned != 10 {
		t.Fatalf("pruned %d events, want 10", pruned)
	}
	read(t, s, func(tx gatehouse.Tx) error {
		head, err := tx.AuditHead(ctx, f.org.ID)
		if err != nil {
			return err
		}
		rest, err := tx.AuditChain(ctx, f.org.ID, 0, 100)
		if err != nil || len(rest) != 20 || rest[0].Seq <= head.AnchorSeq || !bytes.Equal(rest[0].PrevHash, head.AnchorHash) {
			t.Errorf("after pruning: %d events, head %+v, %v", len(rest), head, err)
		}
		if !bytes.Equal(head.MAC, head.HeadMAC(AuditKey, f.org.ID)) {
			t.Errorf("after pruning, the head's MAC does not cover the new anchor")
		}
		return nil
	})
	write(t, s, func(tx gatehouse.Tx) (err error) {
		pruned, err = tx.PruneAudit(ctx, f.org.ID, base) // nothing that old
		return err
	})
	if pruned != 0 {
		t.Errorf("second prune removed %d", pruned)
	}
}

func testSnapshot(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	other := newFixture(t, s)
	tm := &gatehouse.Team{OrgID: f.org.ID, Kind: gatehouse.TeamPulumi, Name: "ops"}
	st := &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: "s", Tags: map[string]string{"env": "prod"}}
	_, d1 := gatehouse.NewTokenValue()
	_, d2 := gatehouse.NewTokenValue()
	_, d3 := gatehouse.NewTokenValue()
	write(t, s, func(tx gatehouse.Tx) error {
		for _, err := range []error{
			tx.CreateTeam(ctx, tm),
			tx.PutTeamMember(ctx, &gatehouse.TeamMember{TeamID: tm.ID, UserID: f.user.ID, Role: gatehouse.TeamRoleMember}),
			tx.AddTeamRole(ctx, tm.ID, f.role.ID),
			tx.CreateStack(ctx, st),
			tx.CreateEnvironment(ctx, &gatehouse.Environment{OrgID: f.org.ID, Project: "p", Name: "e"}, nil),
			tx.CreateAccount(ctx, &gatehouse.Account{OrgID: f.org.ID, Name: "a"}),
			tx.CreateToken(ctx, &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "t", Digest: d1}),
			tx.CreateToken(ctx, &gatehouse.Token{Kind: gatehouse.TokenPersonal, UserID: f.user.ID, Digest: d2}),
			tx.CreateToken(ctx, &gatehouse.Token{Kind: gatehouse.TokenPersonal, UserID: other.user.ID, Digest: d3}),
		} {
			if err != nil {
				return err
			}
		}
		return tx.PutGrant(ctx, &gatehouse.Grant{OrgID: f.org.ID, TeamID: tm.ID, Entity: gatehouse.EntityRef{Type: gatehouse.EntityStack, ID: st.ID}, SetID: f.set.ID})
	})
	read(t, s, func(tx gatehouse.Tx) error {
		snap, err := tx.LoadSnapshot(ctx, f.org.ID)
		if err != nil {
			return err
		}
		if snap.Org.ID != f.org.ID || len(snap.Descriptors) != 2 || len(snap.Members) != 1 || len(snap.Users) != 1 ||
			len(snap.Teams) != 1 || len(snap.TeamMembers) != 1 || len(snap.TeamRoles[tm.ID]) != 1 || len(snap.Grants) != 1 ||
			len(snap.Stacks) != 1 || snap.Stacks[0].Tags["env"] != "prod" || len(snap.Environments) != 1 || len(snap.Accounts) != 1 {
			t.Errorf("snapshot = %+v", snap)
		}
		// The org token and the member's personal token; not another
		// organization's user's token.
		if len(snap.Tokens) != 2 {
			t.Errorf("snapshot tokens = %d, want 2", len(snap.Tokens))
		}
		return nil
	})
}

func testRevisionBumps(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	st := &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: "s"}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateStack(ctx, st) })
	_, digest := gatehouse.NewTokenValue()
	tok := &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "t", Digest: digest}
	steps := []struct {
		name  string
		fn    func(tx gatehouse.Tx) error
		bumps bool
	}{
		{"create token", func(tx gatehouse.Tx) error { return tx.CreateToken(ctx, tok) }, true},
		{"touch token", func(tx gatehouse.Tx) error { return tx.TouchTokens(ctx, map[string]time.Time{tok.ID: time.Now()}) }, false},
		{"tag stack", func(tx gatehouse.Tx) error {
			st.Tags = map[string]string{"env": "prod"}
			return tx.UpdateStack(ctx, st)
		}, true},
		{"checkpoint", func(tx gatehouse.Tx) error {
			return tx.SaveCheckpoint(ctx, &gatehouse.Checkpoint{StackID: st.ID, Version: 1, Data: []byte("{}")})
		}, false},
		{"audit", func(tx gatehouse.Tx) error {
			return tx.AppendAudit(ctx, &gatehouse.AuditEvent{OrgID: f.org.ID, Type: "x"})
		}, false},
		{"update role", func(tx gatehouse.Tx) error {
			d, err := tx.GetDescriptor(ctx, f.org.ID, f.role.ID)
			if err != nil {
				return err
			}
			d.Description = "changed"
			return tx.UpdateDescriptor(ctx, d, d.Version)
		}, true},
		{"two changes, one bump", func(tx gatehouse.Tx) error {
			if err := tx.CreateTeam(ctx, &gatehouse.Team{OrgID: f.org.ID, Kind: gatehouse.TeamPulumi, Name: "a"}); err != nil {
				return err
			}
			return tx.CreateTeam(ctx, &gatehouse.Team{OrgID: f.org.ID, Kind: gatehouse.TeamPulumi, Name: "b"})
		}, true},
		{"delete token", func(tx gatehouse.Tx) error { return tx.DeleteToken(ctx, tok.ID) }, true},
		{"delete stack", func(tx gatehouse.Tx) error { return tx.DeleteStack(ctx, st.ID) }, true},
	}
	for _, step := range steps {
		before := revision(t, s, f.org.ID)
		write(t, s, step.fn)
		after := revision(t, s, f.org.ID)
		want := before
		if step.bumps {
			want++
		}
		if after != want {
			t.Errorf("%s: revision %d -> %d, want %d", step.name, before, after, want)
		}
	}
}

func testRollback(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	before := revision(t, s, f.org.ID)
	boom := errors.New("boom")
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		if err := tx.CreateStack(ctx, &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: "rolled-back"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write returned %v, want the closure's error", err)
	}
	read(t, s, func(tx gatehouse.Tx) error {
		_, err := tx.GetStack(ctx, f.org.ID, "p", "rolled-back")
		wantCode(t, err, gatehouse.ENOTFOUND, "stack of a rolled-back transaction")
		return nil
	})
	if after := revision(t, s, f.org.ID); after != before {
		t.Errorf("revision moved from %d to %d in a rolled-back transaction", before, after)
	}
	// A failed statement inside a transaction the closure then commits
	// leaves the rest of it intact on both dialects only if the closure
	// stops: Write does not commit a transaction whose closure failed.
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateOrg(ctx, &gatehouse.Organization{Name: f.org.Name})
	})
	wantCode(t, err, gatehouse.ECONFLICT, "conflict propagates")
}

func testPagination(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	const n = 25
	write(t, s, func(tx gatehouse.Tx) error {
		for i := 0; i < n; i++ {
			if err := tx.CreateTeam(ctx, &gatehouse.Team{OrgID: f.org.ID, Kind: gatehouse.TeamPulumi, Name: fmt.Sprintf("team-%02d", n-i)}); err != nil {
				return err
			}
		}
		return nil
	})
	var names []string
	next := ""
	pages := 0
	for {
		var teams []*gatehouse.Team
		read(t, s, func(tx gatehouse.Tx) (err error) {
			teams, next, err = tx.ListTeams(ctx, f.org.ID, gatehouse.ListOptions{Limit: 10, Continuation: next})
			return err
		})
		pages++
		for _, tm := range teams {
			names = append(names, tm.Name)
		}
		// A page's token stays valid across writes: insert a team that
		// sorts before the cursor and one after.
		if pages == 1 {
			write(t, s, func(tx gatehouse.Tx) error {
				if err := tx.CreateTeam(ctx, &gatehouse.Team{OrgID: f.org.ID, Kind: gatehouse.TeamPulumi, Name: "team-00"}); err != nil {
					return err
				}
				return tx.CreateTeam(ctx, &gatehouse.Team{OrgID: f.org.ID, Kind: gatehouse.TeamPulumi, Name: "team-99"})
			})
		}
		if next == "" {
			break
		}
	}
	if pages != 3 || len(names) != n+1 || !slices.IsSorted(names) || names[len(names)-1] != "team-99" || slices.Contains(names, "team-00") {
		t.Errorf("pages %d, names %v", pages, names)
	}
	err := s.Read(ctx, func(tx gatehouse.Tx) error {
		_, _, err := tx.ListTeams(ctx, f.org.ID, gatehouse.ListOptions{Continuation: "not-a-token"})
		return err
	})
	wantCode(t, err, gatehouse.EINVALID, "malformed continuation token")
	err = s.Read(ctx, func(tx gatehouse.Tx) error {
		_, _, err := tx.ListTeams(ctx, f.org.ID, gatehouse.ListOptions{Limit: gatehouse.MaxListLimit + 1})
		return err
	})
	wantCode(t, err, gatehouse.EINVALID, "limit over the maximum")
}

func testConcurrentWriters(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	before := revision(t, s, f.org.ID)
	const workers, each = 8, 10
	var wg sync.WaitGroup
	var updated, conflicts atomic.Int64
	errs := make(chan error, workers*each*2)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				// Everyone creates stacks of their own...
				errs <- s.Write(ctx, func(tx gatehouse.Tx) error {
					return tx.CreateStack(ctx, &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: fmt.Sprintf("w%d-%d", w, i)})
				})
				// ...and races to update the same role from what it read.
				var d *gatehouse.Descriptor
				err := s.Read(ctx, func(tx gatehouse.Tx) (err error) {
					d, err = tx.GetDescriptor(ctx, f.org.ID, f.role.ID)
					return err
				})
				if err == nil {
					d.Description = fmt.Sprintf("by %d/%d", w, i)
					err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.UpdateDescriptor(ctx, d, d.Version) })
				}
				switch gatehouse.ErrorCode(err) {
				case "":
					updated.Add(1)
				case gatehouse.ECONFLICT:
					conflicts.Add(1)
				default:
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent write: %v", err)
		}
	}
	if updated.Load()+conflicts.Load() != workers*each || updated.Load() == 0 {
		t.Fatalf("updates %d + conflicts %d != %d", updated.Load(), conflicts.Load(), workers*each)
	}
	read(t, s, func(tx gatehouse.Tx) error {
		d, err := tx.GetDescriptor(ctx, f.org.ID, f.role.ID)
		if err != nil {
			return err
		}
		// No update was lost: the version counts exactly the successes.
		if int64(d.Version) != 1+updated.Load() {
			t.Errorf("role version %d, want %d", d.Version, 1+updated.Load())
		}
		stacks, _, err := tx.ListStacks(ctx, f.org.ID, "p", gatehouse.ListOptions{Limit: 1000})
		if len(stacks) != workers*each {
			t.Errorf("%d stacks, want %d", len(stacks), workers*each)
		}
		return err
	})
	if got, want := revision(t, s, f.org.ID), before+workers*each+updated.Load(); got != want {
		t.Errorf("revision %d, want %d (one per committed access change)", got, want)
	}
}

// testAuditConcurrent appends from many writers at once: the chain must
// not fork.
func testAuditConcurrent(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	var wg sync.WaitGroup
	errs := make(chan error, 8*20)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				errs <- s.Write(ctx, func(tx gatehouse.Tx) error {
					return tx.AppendAudit(ctx, &gatehouse.AuditEvent{OrgID: f.org.ID, Type: "x", Description: fmt.Sprintf("%d/%d", w, i)})
				})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	read(t, s, func(tx gatehouse.Tx) error {
		chain, err := tx.AuditChain(ctx, f.org.ID, 0, 1000)
		if err != nil || len(chain) != 160 {
			t.Fatalf("%d events, %v", len(chain), err)
		}
		prev := []byte{}
		for i, e := range chain {
			if !bytes.Equal(e.PrevHash, prev) || !bytes.Equal(e.Hash, e.ChainMAC(AuditKey, prev)) {
				t.Fatalf("the chain forked at event %d", i)
			}
			prev = e.Hash
		}
		return nil
	})
}

// testStackLeases: one update holds a stack's lease at a time; the holder
// renews it; it frees it; an expired lease can be taken over; many writers
// racing for one lease get exactly one winner.
// testSessions: console sessions are found by digest, deleted, pruned
// when expired, and go with their user.
func testSessions(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	now := time.Now()
	live := &gatehouse.Session{Digest: gatehouse.TokenDigest("live"), TokenDigest: gatehouse.TokenDigest("tok"), UserID: f.user.ID, CSRF: "c1", Expires: now.Add(time.Hour)}
	old := &gatehouse.Session{Digest: gatehouse.TokenDigest("old"), TokenDigest: gatehouse.TokenDigest("tok"), UserID: f.user.ID, CSRF: "c2", Expires: now.Add(-time.Hour)}
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.CreateSession(ctx, live); err != nil {
			return err
		}
		return tx.CreateSession(ctx, old)
	})
	err := s.Write(ctx, func(tx gatehouse.Tx) error { return tx.CreateSession(ctx, live) })
	wantCode(t, err, gatehouse.ECONFLICT, "a second session with one digest")
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateSession(ctx, &gatehouse.Session{Digest: gatehouse.TokenDigest("x"), TokenDigest: gatehouse.TokenDigest("t"), UserID: gatehouse.NewID(), Expires: now})
	})
	wantCode(t, err, gatehouse.EINVALID, "a session of no user")
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetSession(ctx, live.Digest)
		if err == nil && (got.UserID != f.user.ID || got.CSRF != "c1" || !bytes.Equal(got.TokenDigest, live.TokenDigest) || got.Expires.Unix() != live.Expires.Unix()) {
			t.Errorf("session = %+v", got)
		}
		return err
	})
	var n int64
	write(t, s, func(tx gatehouse.Tx) (err error) { n, err = tx.PruneSessions(ctx, now); return err })
	if n != 1 {
		t.Errorf("pruned %d sessions, want 1", n)
	}
	err = s.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetSession(ctx, old.Digest); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "a pruned session")
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteSession(ctx, live.Digest) })
	err = s.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetSession(ctx, live.Digest); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "a deleted session")
}

// testStackHeads: the versions of named stacks, by id; other
// organizations' and unknown ids are absent.
func testStackHeads(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	a := &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: "a"}
	b := &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: "b"}
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.CreateStack(ctx, a); err != nil {
			return err
		}
		if err := tx.CreateStack(ctx, b); err != nil {
			return err
		}
		return tx.SaveCheckpoint(ctx, &gatehouse.Checkpoint{StackID: b.ID, Version: 1, Data: []byte(`{}`)})
	})
	other := newFixture(t, s)
	read(t, s, func(tx gatehouse.Tx) error {
		heads, err := tx.StackHeads(ctx, f.org.ID, []string{a.ID, b.ID, gatehouse.NewID()})
		if err != nil || len(heads) != 2 || heads[a.ID].Version != 0 || heads[b.ID].Version != 1 || heads[b.ID].Modified.IsZero() {
			t.Errorf("StackHeads = %+v, %v", heads, err)
		}
		if heads, err := tx.StackHeads(ctx, other.org.ID, []string{a.ID}); err != nil || len(heads) != 0 {
			t.Errorf("another organization's heads = %+v, %v", heads, err)
		}
		if heads, err := tx.StackHeads(ctx, f.org.ID, nil); err != nil || len(heads) != 0 {
			t.Errorf("no ids = %+v, %v", heads, err)
		}
		return nil
	})
}

func testStackLeases(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	st := &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: "leased"}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateStack(ctx, st) })
	now := time.Now()
	write(t, s, func(tx gatehouse.Tx) error { return tx.AcquireStackLease(ctx, st.ID, "u1", now.Add(time.Minute), now) })
	err := s.Write(ctx, func(tx gatehouse.Tx) error { return tx.AcquireStackLease(ctx, st.ID, "u2", now.Add(time.Minute), now) })
	wantCode(t, err, gatehouse.ECONFLICT, "a second update's lease")
	write(t, s, func(tx gatehouse.Tx) error {
		return tx.AcquireStackLease(ctx, st.ID, "u1", now.Add(2*time.Minute), now)
	})
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetStackByID(ctx, st.ID)
		if err == nil && (got.ActiveUpdate != "u1" || !got.LeaseExpiry.Equal(now.Add(2*time.Minute).Truncate(time.Microsecond))) {
			t.Errorf("renewed lease = %q until %v", got.ActiveUpdate, got.LeaseExpiry)
		}
		return err
	})
	// Only the holder frees it.
	write(t, s, func(tx gatehouse.Tx) error { return tx.ReleaseStackLease(ctx, st.ID, "u2") })
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.AcquireStackLease(ctx, st.ID, "u2", now.Add(time.Minute), now) })
	wantCode(t, err, gatehouse.ECONFLICT, "a lease another update failed to free")
	write(t, s, func(tx gatehouse.Tx) error { return tx.ReleaseStackLease(ctx, st.ID, "u1") })
	write(t, s, func(tx gatehouse.Tx) error { return tx.AcquireStackLease(ctx, st.ID, "u2", now.Add(time.Minute), now) })
	// Expired: another update takes over.
	later := now.Add(time.Hour)
	write(t, s, func(tx gatehouse.Tx) error {
		return tx.AcquireStackLease(ctx, st.ID, "u3", later.Add(time.Minute), later)
	})
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.AcquireStackLease(ctx, gatehouse.NewID(), "u", later, now) })
	wantCode(t, err, gatehouse.ENOTFOUND, "the lease of no stack")

	race := &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: "raced"}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateStack(ctx, race) })
	var wg sync.WaitGroup
	var won atomic.Int32
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Write(ctx, func(tx gatehouse.Tx) error {
				return tx.AcquireStackLease(ctx, race.ID, fmt.Sprint("racer", i), now.Add(time.Minute), now)
			})
			if err == nil {
				won.Add(1)
			} else if gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
				t.Errorf("racer %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Errorf("%d racers took the lease, want exactly 1", won.Load())
	}
}

// testUpdateEvents: events are stored once per sequence number, listed in
// order after a sequence, and go with their update's stack.
func testUpdateEvents(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	st := &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: "evented"}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateStack(ctx, st) })
	u := &gatehouse.StackUpdate{StackID: st.ID, Kind: gatehouse.UpdateKindUpdate, Status: gatehouse.UpdateRunning,
		StarterDigest: gatehouse.TokenDigest("starter"), Sequence: 3}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateUpdate(ctx, u) })
	events := []gatehouse.UpdateEvent{{Sequence: 2, Data: []byte(`{"b":1}`)}, {Sequence: 1, Data: []byte(`{"a":1}`)}, {Sequence: 3, Data: []byte(`{"c":1}`)}}
	write(t, s, func(tx gatehouse.Tx) error { return tx.AppendUpdateEvents(ctx, u.ID, events) })
	// A retry of the same batch changes nothing.
	write(t, s, func(tx gatehouse.Tx) error {
		return tx.AppendUpdateEvents(ctx, u.ID, []gatehouse.UpdateEvent{{Sequence: 2, Data: []byte(`{"changed":1}`)}})
	})
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetUpdate(ctx, u.ID)
		if err == nil && (got.Sequence != 3 || !bytes.Equal(got.StarterDigest, u.StarterDigest)) {
			t.Errorf("update = sequence %d, starter %x", got.Sequence, got.StarterDigest)
		}
		all, err := tx.ListUpdateEvents(ctx, u.ID, 0, 0)
		if err != nil || len(all) != 3 || all[0].Sequence != 1 || string(all[1].Data) != `{"b":1}` {
			t.Errorf("events = %+v, %v", all, err)
		}
		after, err := tx.ListUpdateEvents(ctx, u.ID, 1, 1)
		if err != nil || len(after) != 1 || after[0].Sequence != 2 {
			t.Errorf("one event after 1 = %+v, %v", after, err)
		}
		return nil
	})
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.AppendUpdateEvents(ctx, gatehouse.NewID(), []gatehouse.UpdateEvent{{Sequence: 1, Data: []byte(`{}`)}})
	})
	wantCode(t, err, gatehouse.EINVALID, "events of no update")
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteStack(ctx, st.ID) })
	read(t, s, func(tx gatehouse.Tx) error {
		all, err := tx.ListUpdateEvents(ctx, u.ID, 0, 0)
		if err != nil || len(all) != 0 {
			t.Errorf("events of a deleted stack = %d, %v", len(all), err)
		}
		return nil
	})
}

func testStackKeys(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	st := &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: "keyed"}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateStack(ctx, st) })
	err := s.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetStackKey(ctx, st.ID); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "key of a stack without one")
	wrapped := []byte{1, 2, 3, 0, 255}
	write(t, s, func(tx gatehouse.Tx) error { return tx.PutStackKey(ctx, st.ID, wrapped) })
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetStackKey(ctx, st.ID)
		if err == nil && !bytes.Equal(got, wrapped) {
			t.Errorf("GetStackKey = %v, want %v", got, wrapped)
		}
		return err
	})
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.PutStackKey(ctx, st.ID, []byte{9}) })
	wantCode(t, err, gatehouse.ECONFLICT, "a second key for a stack")
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.PutStackKey(ctx, gatehouse.NewID(), []byte{9}) })
	wantCode(t, err, gatehouse.EINVALID, "a key for no stack")
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.PutStackKey(ctx, st.ID, nil) })
	wantCode(t, err, gatehouse.EINVALID, "an empty key")
	// The key goes with its stack.
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteStack(ctx, st.ID) })
	err = s.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetStackKey(ctx, st.ID); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "key of a deleted stack")
}

func testInvites(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	other := newFixture(t, s)
	// A user records the organization that manages it.
	guest := &gatehouse.User{Login: fmt.Sprintf("guest-%d", time.Now().UnixNano()), ManagedBy: other.org.ID}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateUser(ctx, guest) })
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetUser(ctx, guest.ID)
		if err != nil || got.ManagedBy != other.org.ID {
			t.Errorf("managed by = %+v, %v", got, err)
		}
		return nil
	})
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateUser(ctx, &gatehouse.User{Login: "nobody-" + gatehouse.NewID(), ManagedBy: gatehouse.NewID()})
	})
	wantCode(t, err, gatehouse.EINVALID, "user managed by an unknown organization")

	now := time.Now()
	inv := &gatehouse.Invite{OrgID: f.org.ID, UserID: guest.ID, RoleID: f.role.ID, CreatedBy: f.user.ID, Expires: now.Add(time.Hour)}
	rev := revision(t, s, f.org.ID)
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateInvite(ctx, inv) })
	if revision(t, s, f.org.ID) != rev {
		t.Errorf("an invitation changed the revision: it grants nothing until accepted")
	}
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateInvite(ctx, &gatehouse.Invite{OrgID: f.org.ID, UserID: guest.ID, RoleID: f.role.ID, Expires: now.Add(time.Hour)})
	})
	wantCode(t, err, gatehouse.ECONFLICT, "second live invitation")
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateInvite(ctx, &gatehouse.Invite{OrgID: f.org.ID, UserID: other.user.ID, RoleID: other.role.ID, Expires: now.Add(time.Hour)})
	})
	wantCode(t, err, gatehouse.EINVALID, "another organization's role")
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetInvite(ctx, inv.ID)
		if err != nil || got.UserID != guest.ID || got.RoleID != f.role.ID || got.CreatedBy != f.user.ID || got.Expires.Unix() != inv.Expires.Unix() {
			t.Errorf("invite = %+v, %v", got, err)
		}
		if l, err := tx.ListInvites(ctx, f.org.ID); err != nil || len(l) != 1 {
			t.Errorf("org invites = %v, %v", l, err)
		}
		if l, err := tx.ListUserInvites(ctx, guest.ID); err != nil || len(l) != 1 || l[0].ID != inv.ID {
			t.Errorf("user invites = %v, %v", l, err)
		}
		return nil
	})
	inv.Expires = now.Add(2 * time.Hour)
	write(t, s, func(tx gatehouse.Tx) error { return tx.UpdateInvite(ctx, inv) })
	// Taken once: the second taker finds nothing.
	var taken *gatehouse.Invite
	write(t, s, func(tx gatehouse.Tx) (err error) {
		taken, err = tx.TakeInvite(ctx, inv.ID)
		return err
	})
	if taken.Expires.Unix() != inv.Expires.Unix() {
		t.Errorf("taken = %+v", taken)
	}
	err = s.Write(ctx, func(tx gatehouse.Tx) error { _, err := tx.TakeInvite(ctx, inv.ID); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "second take")
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.UpdateInvite(ctx, inv) })
	wantCode(t, err, gatehouse.ENOTFOUND, "update of a taken invitation")
	// An expired invitation gives way to a new one.
	write(t, s, func(tx gatehouse.Tx) error {
		return tx.CreateInvite(ctx, &gatehouse.Invite{OrgID: f.org.ID, UserID: guest.ID, RoleID: f.role.ID, Expires: now.Add(-time.Second)})
	})
	write(t, s, func(tx gatehouse.Tx) error {
		return tx.CreateInvite(ctx, &gatehouse.Invite{OrgID: f.org.ID, UserID: guest.ID, RoleID: f.role.ID, Expires: now.Add(time.Hour)})
	})

	// Concurrent takes: exactly one wins.
	race := &gatehouse.Invite{OrgID: other.org.ID, UserID: f.user.ID, RoleID: other.role.ID, Expires: now.Add(time.Hour)}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateInvite(ctx, race) })
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s.Write(ctx, func(tx gatehouse.Tx) error { _, err := tx.TakeInvite(ctx, race.ID); return err }) == nil {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d concurrent takes of one invitation succeeded, want 1", wins.Load())
	}
}

// testBoundPersonalTokens: a personal token bound to an organization (an
// OIDC exchange's) belongs to that organization's snapshot only, and its
// creation bumps only that organization.
func testBoundPersonalTokens(t *testing.T, s gatehouse.Store) {
	a := newFixture(t, s)
	b := newFixture(t, s)
	write(t, s, func(tx gatehouse.Tx) error {
		return tx.AddMember(ctx, &gatehouse.Membership{OrgID: b.org.ID, UserID: a.user.ID, RoleID: b.role.ID})
	})
	revA := revision(t, s, a.org.ID)
	_, d := gatehouse.NewTokenValue()
	bound := &gatehouse.Token{Kind: gatehouse.TokenPersonal, OrgID: b.org.ID, UserID: a.user.ID, Digest: d, Exchanged: true, Expires: time.Now().Add(time.Hour)}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateToken(ctx, bound) })
	if revision(t, s, a.org.ID) != revA {
		t.Errorf("a token bound to b bumped a")
	}
	_, d2 := gatehouse.NewTokenValue()
	own := &gatehouse.Token{Kind: gatehouse.TokenPersonal, UserID: a.user.ID, Digest: d2}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateToken(ctx, own) })
	has := func(snap *gatehouse.Snapshot, id string) bool {
		for _, tk := range snap.Tokens {
			if tk.ID == id {
				return true
			}
		}
		return false
	}
	read(t, s, func(tx gatehouse.Tx) error {
		sa, err := tx.LoadSnapshot(ctx, a.org.ID)
		if err != nil {
			return err
		}
		sb, err := tx.LoadSnapshot(ctx, b.org.ID)
		if err != nil {
			return err
		}
		if has(sa, bound.ID) || !has(sb, bound.ID) {
			t.Errorf("the bound token is in a's snapshot (%v) or not in b's (%v)", has(sa, bound.ID), has(sb, bound.ID))
		}
		if !has(sa, own.ID) || !has(sb, own.ID) {
			t.Errorf("the user's own token is missing from a snapshot")
		}
		got, err := tx.GetToken(ctx, bound.ID)
		if err != nil || got.OrgID != b.org.ID || got.Kind != gatehouse.TokenPersonal {
			t.Errorf("bound token = %+v, %v", got, err)
		}
		return nil
	})
}

// testQuotaConcurrent: writers that each lock the organization, count its
// stacks and create one only below a limit never exceed the limit
// together, at READ COMMITTED on PostgreSQL as on SQLite.
func testQuotaConcurrent(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	const limit, writers = 5, 24
	var wg sync.WaitGroup
	var mu sync.Mutex
	refused := 0
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Write(ctx, func(tx gatehouse.Tx) error {
				if err := tx.LockOrg(ctx, f.org.ID); err != nil {
					return err
				}
				n, err := tx.CountOrg(ctx, f.org.ID, "stacks")
				if err != nil {
					return err
				}
				if n >= limit {
					return gatehouse.Errorf(gatehouse.ECONFLICT, "quota")
				}
				return tx.CreateStack(ctx, &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: fmt.Sprintf("s%d", i)})
			})
			if gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
				mu.Lock()
				refused++
				mu.Unlock()
			} else if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	read(t, s, func(tx gatehouse.Tx) error {
		n, err := tx.CountOrg(ctx, f.org.ID, "stacks")
		if err != nil {
			return err
		}
		if n != limit || refused != writers-limit {
			t.Errorf("%d stacks, %d refused; want %d and %d", n, refused, limit, writers-limit)
		}
		for _, kind := range []string{"environments", "descriptors", "tokens"} {
			if _, err := tx.CountOrg(ctx, f.org.ID, kind); err != nil {
				t.Errorf("count %s: %v", kind, err)
			}
		}
		return nil
	})
	wantCode(t, s.Write(ctx, func(tx gatehouse.Tx) error { return tx.LockOrg(ctx, "nope") }), gatehouse.ENOTFOUND, "lock a missing organization")
}

// testPruneExchangedTokens: only the organization's exchanged tokens that
// have expired are revoked (and counted no more); tokens without an expiry,
// tokens still alive, tokens not from an exchange and other organizations'
// tokens stay.
func testPruneExchangedTokens(t *testing.T, s gatehouse.Store) {
	f, other := newFixture(t, s), newFixture(t, s)
	now := time.Now()
	iss := &gatehouse.Issuer{OrgID: f.org.ID, Name: "prune", URL: "https://prune.example", Issuer: "https://prune.example"}
	write(t, s, func(tx gatehouse.Tx) error {
		return tx.CreateIssuer(ctx, iss, &gatehouse.AuthPolicy{Policies: json.RawMessage(`[]`)})
	})
	mk := func(org, name string, exchanged bool, expires time.Time) *gatehouse.Token {
		_, d := gatehouse.NewTokenValue()
		tk := &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: org, Name: name, Digest: d, Exchanged: exchanged, Expires: expires}
		if exchanged && org == f.org.ID {
			tk.IssuerID = iss.ID
		}
		write(t, s, func(tx gatehouse.Tx) error { return tx.CreateToken(ctx, tk) })
		return tk
	}
	expired := mk(f.org.ID, "expired", true, now.Add(-time.Minute))
	keep := []*gatehouse.Token{
		mk(f.org.ID, "alive", true, now.Add(time.Hour)),
		mk(f.org.ID, "created-expired", false, now.Add(-time.Minute)),
		mk(f.org.ID, "forever", false, time.Time{}),
		mk(other.org.ID, "other-expired", true, now.Add(-time.Minute)),
	}
	var before, after int64
	read(t, s, func(tx gatehouse.Tx) (err error) { before, err = tx.Revision(ctx, f.org.ID); return err })
	write(t, s, func(tx gatehouse.Tx) error {
		n, err := tx.PruneExchangedTokens(ctx, f.org.ID, now)
		if err == nil && n != 1 {
			t.Errorf("pruned %d tokens; want 1", n)
		}
		return err
	})
	read(t, s, func(tx gatehouse.Tx) (err error) {
		after, err = tx.Revision(ctx, f.org.ID)
		if err != nil {
			return err
		}
		if tk, err := tx.GetToken(ctx, expired.ID); err != nil || !tk.Deleted {
			t.Errorf("the expired exchanged token: %+v, %v; want it deleted", tk, err)
		}
		for _, k := range keep {
			if tk, err := tx.GetToken(ctx, k.ID); err != nil || tk.Deleted {
				t.Errorf("token %s: %+v, %v; want it kept", k.Name, tk, err)
			}
		}
		if n, err := tx.CountOrg(ctx, f.org.ID, "tokens"); err != nil || n != 3 {
			t.Errorf("count after the prune: %d, %v; want 3", n, err)
		}
		return nil
	})
	if after <= before {
		t.Errorf("revision %d -> %d: a prune must bump it (snapshots drop the tokens)", before, after)
	}
	write(t, s, func(tx gatehouse.Tx) error {
		n, err := tx.PruneExchangedTokens(ctx, f.org.ID, now)
		if err == nil && n != 0 {
			t.Errorf("a second prune revoked %d tokens", n)
		}
		return err
	})
}
