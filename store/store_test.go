package store_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/store"
	"github.com/gatehouse-iam/gatehouse/store/storetest"
)

func openSQLite(t *testing.T) gatehouse.Store {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "gatehouse.db"), store.Options{AuditKey: storetest.AuditKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, openSQLite)
}

// openPostgres gives each test a schema of its own, dropped afterwards.
func openPostgres(t *testing.T) gatehouse.Store {
	t.Helper()
	db, _ := openPostgresSchema(t)
	return db
}

// openPostgresSchema opens a store on a schema of its own, closed and
// dropped when t ends, and returns it with the schema's DSN.
func openPostgresSchema(t testing.TB) (*store.DB, string) {
	t.Helper()
	db, dsn, cleanup := newPostgresSchema(t)
	t.Cleanup(cleanup)
	return db, dsn
}

// newPostgresSchema is openPostgresSchema with the cleanup left to the
// caller (benchmark fixtures outlive their b.Run).
func newPostgresSchema(t testing.TB) (*store.DB, string, func()) {
	t.Helper()
	dsn, _, drop := storetest.NewPostgresSchema(t)
	db, err := store.Open(context.Background(), dsn, store.Options{AuditKey: storetest.AuditKey})
	if err != nil {
		drop()
		t.Fatal(err)
	}
	return db, dsn, func() {
		db.Close()
		drop()
	}
}

func TestPostgres(t *testing.T) {
	storetest.PostgresDSN(t)
	storetest.Run(t, openPostgres)
}

// TestPostgresChanges: a change committed through one connection pool is
// announced to another's Changes, with the organization's id.
func TestPostgresChanges(t *testing.T) {
	db, dsn := openPostgresSchema(t)
	other, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes := other.Changes(ctx)
	own := db.Changes(ctx)
	org := &gatehouse.Organization{Name: "notified"}
	if err := db.Write(ctx, func(tx gatehouse.Tx) error { return tx.CreateOrg(ctx, org) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateTeam(ctx, &gatehouse.Team{OrgID: org.ID, Kind: gatehouse.TeamPulumi, Name: "t"})
	}); err != nil {
		t.Fatal(err)
	}
	// Other tests share the database and so its channel: their
	// organizations' changes are passed over. So are this organization's
	// changes older than the one awaited (the listener may or may not
	// have been listening when the organization was created).
	org2 := &gatehouse.Organization{Name: "elsewhere"}
	ours := func(c gatehouse.Change) bool { return c.OrgID == org.ID || c.OrgID == org2.ID }
	next := func(ch <-chan gatehouse.Change, minRevision int64) gatehouse.Change {
		t.Helper()
		for {
			select {
			case c := <-ch:
				if !ours(c) || c.OrgID == org.ID && c.Revision < minRevision {
					continue
				}
				return c
			case <-time.After(2 * time.Second):
				t.Fatal("no announcement within 2 s")
				return gatehouse.Change{}
			}
		}
	}
	if c := next(changes, 0); c.OrgID != org.ID || c.Revision < 1 || len(c.Tokens) != 0 {
		t.Errorf("announced %+v, want a plain change of %q", c, org.ID)
	}
	// Creating tokens and nothing else announces them, with the revision.
	var stored *gatehouse.Organization
	toks := []*gatehouse.Token{
		{Kind: gatehouse.TokenOrganization, OrgID: org.ID, Name: "a", Digest: make([]byte, 32)},
		{Kind: gatehouse.TokenOrganization, OrgID: org.ID, Name: "b", Digest: append(make([]byte, 31), 1)},
	}
	if err := db.Write(ctx, func(tx gatehouse.Tx) (err error) {
		for _, tk := range toks {
			if err := tx.CreateToken(ctx, tk); err != nil {
				return err
			}
		}
		stored, err = tx.GetOrg(ctx, org.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if c := next(changes, stored.Revision); c.OrgID != org.ID || c.Revision != stored.Revision || !slices.Equal(c.Tokens, []string{toks[0].ID, toks[1].ID}) {
		t.Errorf("announced %+v, want tokens %s and %s at revision %d", c, toks[0].ID, toks[1].ID, stored.Revision)
	}
	// A token and another change in one transaction is a plain change.
	if err := db.Write(ctx, func(tx gatehouse.Tx) error {
		if err := tx.CreateToken(ctx, &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: org.ID, Name: "c", Digest: append(make([]byte, 31), 2)}); err != nil {
			return err
		}
		return tx.CreateTeam(ctx, &gatehouse.Team{OrgID: org.ID, Kind: gatehouse.TeamPulumi, Name: "t2"})
	}); err != nil {
		t.Fatal(err)
	}
	if c := next(changes, stored.Revision+1); c.OrgID != org.ID || len(c.Tokens) != 0 {
		t.Errorf("announced %+v, want a plain change: the transaction did more than create a token", c)
	}
	// A DB does not announce its own changes to itself: its process has
	// installed them already. A later change from elsewhere still arrives.
	if err := other.Write(ctx, func(tx gatehouse.Tx) error {
		if err := tx.CreateOrg(ctx, org2); err != nil {
			return err
		}
		return tx.CreateTeam(ctx, &gatehouse.Team{OrgID: org2.ID, Kind: gatehouse.TeamPulumi, Name: "u"})
	}); err != nil {
		t.Fatal(err)
	}
	if c := next(own, 0); c.OrgID != org2.ID {
		t.Errorf("a DB heard %+v (its own change), want %q from elsewhere", c, org2.ID)
	}
	for len(own) > 0 {
		if c := <-own; ours(c) {
			t.Errorf("a DB announced %+v more than once, or its own change", c)
		}
	}
	if sqlite := openSQLite(t).(*store.DB); sqlite.Changes(ctx) != nil {
		t.Errorf("SQLite announced changes")
	}
}
