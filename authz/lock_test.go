package authz_test

import (
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/authz"
)

// TestCompilesDoNotWaitOnOtherOrganizations: while one organization's
// snapshot is being compiled (held here in the middle of its build), another
// organization's rebuild, a token's authentication and a decision in it go
// ahead: compiling takes no process-wide lock.
func TestCompilesDoNotWaitOnOtherOrganizations(t *testing.T) {
	f := newFixture(t)
	var other *gatehouse.Organization
	if err := f.db.Write(ctx, func(tx gatehouse.Tx) (err error) {
		other, _, err = f.svc.CreateOrg(ctx, tx, "other", "Other")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	authz.SetBuildHook(f.az, func(orgID string) {
		if orgID == f.org.ID {
			close(entered)
			<-release
		}
	})
	// A change made elsewhere, so that the refresh has one to compile.
	if err := f.db.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateTeam(ctx, &gatehouse.Team{OrgID: f.org.ID, Kind: gatehouse.TeamPulumi, Name: "elsewhere"})
	}); err != nil {
		t.Fatal(err)
	}
	slow := make(chan error, 1)
	go func() { slow <- f.az.Refresh(ctx, f.org.ID) }()
	<-entered
	done := make(chan error, 1)
	go func() {
		err := f.az.Refresh(ctx, other.ID)
		if err == nil {
			_, err = f.az.Authenticate("token " + f.admin)
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second): // liveness, not speed: before the fix this never returns
		close(release)
		t.Fatal("another organization's rebuild waited for this organization's compile")
	}
	close(release)
	if err := <-slow; err != nil {
		t.Fatal(err)
	}
	if f.az.Revision(f.org.ID) < 0 || f.az.Revision(other.ID) < 0 {
		t.Fatal("a snapshot was not installed")
	}
}
