package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

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
