package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/store"
	"github.com/gatehouse-iam/gatehouse/store/storetest"
)

// TestChangeLogPruned: the change log keeps an organization's latest
// revisions only (here 32), so it does not grow with the writes; what it
// keeps is contiguous up to the current revision. On SQLite, and on
// PostgreSQL with GATEHOUSE_TEST_POSTGRES_DSN.
func TestChangeLogPruned(t *testing.T) {
	ctx := context.Background()
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			dsn := filepath.Join(t.TempDir(), "g.db")
			if dialect == "postgres" {
				dsn = storetest.PostgresSchema(t)
			}
			db, err := store.Open(ctx, dsn, store.Options{ChangeRetention: 32})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			org := &gatehouse.Organization{Name: "acme"}
			if err := db.Write(ctx, func(tx gatehouse.Tx) error { return tx.CreateOrg(ctx, org) }); err != nil {
				t.Fatal(err)
			}
			for range 200 {
				if err := db.Write(ctx, func(tx gatehouse.Tx) error {
					return tx.CreateTeam(ctx, &gatehouse.Team{OrgID: org.ID, Kind: gatehouse.TeamPulumi, Name: gatehouse.NewID()[:8]})
				}); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Read(ctx, func(tx gatehouse.Tx) error {
				rev, err := tx.Revision(ctx, org.ID)
				if err != nil {
					return err
				}
				sets, err := tx.ChangesSince(ctx, org.ID, 0)
				if err != nil {
					return err
				}
				if len(sets) < 32 || len(sets) > 32+16 {
					t.Errorf("the log keeps %d revisions, want 32 to 48", len(sets))
				}
				for i, cs := range sets {
					if want := rev - int64(len(sets)-1-i); cs.Revision != want {
						t.Fatalf("logged revision %d at %d, want %d: the kept part has a hole", cs.Revision, i, want)
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
