package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/store"
	"github.com/gatehouse-iam/gatehouse/store/storetest"
)

// hangGuard is how long a call may take before the test calls it a hang:
// far above every timeout under test, so that it never decides a result,
// it only turns a hang into a failure instead of the suite's timeout.
const hangGuard = 30 * time.Second

// within runs fn, failing the test when it does not return (a hang).
func within(t *testing.T, what string, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(hangGuard):
		t.Fatalf("%s: still waiting after %s", what, hangGuard)
		return nil
	}
}

// proxiedPostgres opens a store on a schema of its own through a proxy the
// test controls; application names the test's connections on the server.
func proxiedPostgres(t *testing.T, opts store.Options) (*store.DB, *storetest.Proxy, string) {
	t.Helper()
	dsn := storetest.PostgresSchema(t)
	app := fmt.Sprintf("gh_faults_%d", rand.Uint64())
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	p, proxied := storetest.NewProxy(t, u.String())
	opts.AuditKey = storetest.AuditKey
	db, err := store.Open(context.Background(), proxied, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, p, app
}

func createUser(ctx context.Context, db gatehouse.Store, name string) error {
	return db.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateUser(ctx, &gatehouse.User{ID: gatehouse.NewID(), Login: "u" + gatehouse.NewID(), Name: name, Created: time.Now()})
	})
}

func countOrgs(ctx context.Context, db gatehouse.Store) error {
	return db.Read(ctx, func(tx gatehouse.Tx) error {
		_, _, err := tx.ListOrgs(ctx, gatehouse.ListOptions{Limit: 1})
		return err
	})
}

func wantUnavailable(t *testing.T, what string, err error, msg string) {
	t.Helper()
	if gatehouse.ErrorCode(err) != gatehouse.EUNAVAILABLE || !strings.Contains(gatehouse.ErrorMessage(err), msg) {
		t.Errorf("%s: %v (%q), want %s naming %q", what, err, gatehouse.ErrorMessage(err), gatehouse.EUNAVAILABLE, msg)
	}
}

// TestPostgresFrozen: while the database does not answer, a write, a read
// and Ready fail with unavailable, naming the database, instead of
// hanging; once it answers again, all three succeed on the same store.
func TestPostgresFrozen(t *testing.T) {
	t.Parallel()
	db, p, _ := proxiedPostgres(t, store.Options{Timeout: 300 * time.Millisecond, ReadConns: 4})
	ctx := context.Background()
	if err := createUser(ctx, db, "before"); err != nil {
		t.Fatal(err)
	}
	p.Freeze()
	err := within(t, "write on a frozen database", func() error { return createUser(ctx, db, "frozen") })
	wantUnavailable(t, "write", err, "database unavailable: the postgres database did not answer within 300ms")
	err = within(t, "read on a frozen database", func() error { return countOrgs(ctx, db) })
	wantUnavailable(t, "read", err, "database unavailable")
	err = within(t, "Ready on a frozen database", func() error { return db.Ready(ctx) })
	wantUnavailable(t, "Ready", err, "database unavailable")
	p.Thaw()
	if err := within(t, "Ready after", func() error { return db.Ready(ctx) }); err != nil {
		t.Errorf("Ready after the thaw: %v", err)
	}
	if err := createUser(ctx, db, "after"); err != nil {
		t.Errorf("write after the thaw: %v", err)
	}
}

// TestPostgresStatementTimeout: the server itself cancels a statement that
// runs past the timeout (statement_timeout on every connection), and the
// store reports it as unavailable.
func TestPostgresStatementTimeout(t *testing.T) {
	t.Parallel()
	db, _, _ := proxiedPostgres(t, store.Options{Timeout: 200 * time.Millisecond})
	err := within(t, "pg_sleep", func() error {
		return db.UnsafeExec(context.Background(), "SELECT pg_sleep(5)")
	})
	if err == nil || !strings.Contains(err.Error(), "57014") {
		t.Errorf("a statement past the timeout: %v, want SQLSTATE 57014 (statement timeout)", err)
	}
}

// hammer runs n transactions, alternately writes and reads, on c
// goroutines and returns the failures.
func hammer(db *store.DB, n, c int) []error {
	ctx := context.Background()
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for g := range c {
		wg.Go(func() {
			for i := g; i < n; i += c {
				var err error
				if i%2 == 0 {
					err = createUser(ctx, db, "after the kill")
				} else {
					err = countOrgs(ctx, db)
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return errs
}

// TestPostgresDeadConnections: after every pooled connection died (the
// proxy dropped them, or the server terminated this test's backends), the
// next 100 transactions all succeed: each that meets a dead connection
// before committing runs again on a fresh one.
func TestPostgresDeadConnections(t *testing.T) {
	t.Parallel()
	kills := []struct {
		name string
		kill func(t *testing.T, p *storetest.Proxy, app string)
	}{
		{"proxy drops the connections", func(t *testing.T, p *storetest.Proxy, _ string) { p.Kill() }},
		{"pg_terminate_backend", terminateBackends},
	}
	for _, k := range kills {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			db, p, app := proxiedPostgres(t, store.Options{Timeout: 5 * time.Second, ReadConns: 8})
			for round := range 3 {
				if errs := hammer(db, 64, 8); len(errs) > 0 {
					t.Fatalf("before the kill: %v", errs[0])
				}
				k.kill(t, p, app)
				if errs := hammer(db, 100, 8); len(errs) > 0 {
					t.Fatalf("round %d: %d of 100 transactions failed after the kill, the first: %v", round, len(errs), errs[0])
				}
			}
		})
	}
}

// terminateBackends ends this test's own backends on the server (those of
// its application name), as an operator or a failover would.
func terminateBackends(t *testing.T, _ *storetest.Proxy, app string) {
	t.Helper()
	admin, err := sql.Open("pgx", storetest.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var n int
	if err := admin.QueryRow("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no backend to terminate")
	}
}

// TestSQLiteDiskFull: a write that finds the disk full fails as "disk
// full" (unavailable), and Ready fails from then until a write succeeds
// again. The full disk is SQLite's max_page_count set to the database's
// current size: the next write that needs a page gets SQLITE_FULL.
func TestSQLiteDiskFull(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "gatehouse.db"), store.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ready(ctx); err != nil {
		t.Fatalf("Ready at first: %v", err)
	}
	if err := db.UnsafeExec(ctx, "PRAGMA max_page_count = 1"); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 64<<10)
	err = createUser(ctx, db, big)
	wantUnavailable(t, "a write on a full disk", err, "disk full")
	wantUnavailable(t, "Ready with the disk full", db.Ready(ctx), "disk full")
	// A failure that is not the disk's leaves Ready as it is.
	if err := db.Write(ctx, func(tx gatehouse.Tx) error { return gatehouse.Errorf(gatehouse.ECONFLICT, "no") }); gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
		t.Fatalf("a conflict: %v", err)
	}
	wantUnavailable(t, "Ready after a conflict", db.Ready(ctx), "disk full")
	if err := db.UnsafeExec(ctx, "PRAGMA max_page_count = 1073741823"); err != nil {
		t.Fatal(err)
	}
	if err := createUser(ctx, db, big); err != nil {
		t.Fatalf("a write once the disk has room: %v", err)
	}
	if err := db.Ready(ctx); err != nil {
		t.Errorf("Ready after a write succeeded: %v", err)
	}
}

// TestUnavailableKeepsDomainErrors: only the database's trouble becomes
// unavailable; a closure's own error and a cancelled caller stay as they
// are.
func TestUnavailableKeepsDomainErrors(t *testing.T) {
	t.Parallel()
	db := openSQLite(t).(*store.DB)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := countOrgs(ctx, db); !errors.Is(err, context.Canceled) || gatehouse.ErrorCode(err) == gatehouse.EUNAVAILABLE {
		t.Errorf("a cancelled read: %v, want context.Canceled", err)
	}
	plain := io.ErrClosedPipe
	if err := db.Read(context.Background(), func(gatehouse.Tx) error { return plain }); !errors.Is(err, plain) || gatehouse.ErrorCode(err) != gatehouse.EINTERNAL {
		t.Errorf("a closure's own error: %v", err)
	}
}
