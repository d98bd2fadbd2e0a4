// Package storetest is the conformance suite every gatehouse.Store must
// pass. It is written once against the root package's interfaces and run on
// SQLite always and on PostgreSQL when GATEHOUSE_TEST_POSTGRES_DSN is set.
package storetest

import (
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
		{"TokenOrder", testTokenOrder},
		{"RoleHolders", testRoleHolders},
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
		{"UserSessions", testUserSessions},
		{"SCIM", testSCIM},
		{"SSO", testSSO},
		{"UpdateEvents", testUpdateEvents},
		{"Environments", testEnvironments},
		{"EnvironmentSessions", testEnvironmentSessions},
		{"Accounts", testAccounts},
		{"Audit", testAudit},
		{"AuditClass", testAuditClass},
		{"AuditConcurrent", testAuditConcurrent},
		{"Snapshot", testSnapshot},
		{"Changes", testChanges},
		{"RevisionBumps", testRevisionBumps},
		{"Rollback", testRollback},
		{"Pagination", testPagination},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Invites", testInvites},
		{"BoundPersonalTokens", testBoundPersonalTokens},
		{"QuotaConcurrent", testQuotaConcurrent},
		{"LockOrgLastHolder", testLockOrgLastHolder},
		{"LockStackVersions", testLockStackVersions},
		{"PruneExchangedTokens", testPruneExchangedTokens},
		{"PruneTokens", testPruneTokens},
		{"OrgCounts", testOrgCounts},
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
