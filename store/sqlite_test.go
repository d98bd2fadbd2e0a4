package store_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/store"
	"github.com/gatehouse-iam/gatehouse/store/storetest"
)

var ctx = context.Background()

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestRefuseNewerSchema: a database whose schema is newer than this build
// is refused with a clear message and left exactly as it was.
func TestRefuseNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newer.db")
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil || v < 1 {
		t.Fatalf("schema version %d, %v", v, err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, 1)"); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	before := fileHash(t, path)
	_, err = store.Open(ctx, path, store.Options{})
	if err == nil || !strings.Contains(err.Error(), "newer than this Gatehouse knows") || !strings.Contains(err.Error(), "9999") {
		t.Fatalf("Open of a newer database: %v", err)
	}
	if fileHash(t, path) != before {
		t.Errorf("the refused database file was modified")
	}
}

func TestRefuseNewerSchemaPostgres(t *testing.T) {
	dsn, schema, drop := storetest.NewPostgresSchema(t)
	defer drop()
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec("INSERT INTO " + schema + ".goose_db_version (version_id, is_applied) VALUES (9999, true)"); err != nil {
		t.Fatal(err)
	}
	_, err = store.Open(ctx, dsn, store.Options{})
	if err == nil || !strings.Contains(err.Error(), "newer than this Gatehouse knows") {
		t.Fatalf("Open of a newer database: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{"", "file:x.db?mode=ro"} {
		if _, err := store.Open(ctx, dsn, store.Options{}); err == nil {
			t.Errorf("Open(%q) succeeded", dsn)
		}
	}
	if _, err := store.Open(ctx, filepath.Join(t.TempDir(), "no", "such", "dir", "x.db"), store.Options{}); err == nil {
		t.Errorf("Open in a missing directory succeeded")
	}
}

// TestBackup copies a live database and reads the copy back.
func TestBackup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "live.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	org := &gatehouse.Organization{Name: "acme"}
	if err := db.Write(ctx, func(tx gatehouse.Tx) error {
		if err := tx.CreateOrg(ctx, org); err != nil {
			return err
		}
		return tx.CreateStack(ctx, &gatehouse.Stack{OrgID: org.ID, Project: "p", Name: "s", Tags: map[string]string{"k": "v"}})
	}); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "backup.db")
	if err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if err := db.Backup(ctx, backup); err == nil {
		t.Errorf("a backup over an existing file succeeded")
	}
	// Writes after the backup are not in it.
	if err := db.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateStack(ctx, &gatehouse.Stack{OrgID: org.ID, Project: "p", Name: "later"})
	}); err != nil {
		t.Fatal(err)
	}
	restored, err := store.Open(ctx, backup, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	err = restored.Read(ctx, func(tx gatehouse.Tx) error {
		s, err := tx.GetStack(ctx, org.ID, "p", "s")
		if err != nil || s.Tags["k"] != "v" {
			t.Errorf("stack in backup = %+v, %v", s, err)
		}
		_, err = tx.GetStack(ctx, org.ID, "p", "later")
		if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			t.Errorf("a write after the backup is in it: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The crash test: a child process writes in a loop and reports each
// acknowledged write; the parent kills it with SIGKILL at a random moment,
// reopens the database, and checks that every acknowledged write is there
// and that the file is intact.

const crashEnv = "GATEHOUSE_CRASH_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(crashEnv); spec != "" {
		crashChild(spec)
		return
	}
	code := m.Run()
	for _, fn := range processCleanups {
		fn()
	}
	os.Exit(code)
}

// processCleanups run after every test and benchmark: benchmark fixtures
// outlive the single b.Run that creates them.
var processCleanups []func()

// crashChild writes stacks "s-N" (with a checkpoint each) from N = start on,
// printing "ack N" after each commit, until it is killed.
func crashChild(spec string) {
	path, startText, _ := strings.Cut(spec, "|")
	start, _ := strconv.Atoi(startText)
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	var org *gatehouse.Organization
	err = db.Write(ctx, func(tx gatehouse.Tx) (err error) {
		org, err = tx.GetOrgByName(ctx, "crash")
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			org = &gatehouse.Organization{Name: "crash"}
			err = tx.CreateOrg(ctx, org)
		}
		return err
	})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	payload := strings.Repeat("x", 2048)
	for n := start; ; n++ {
		err := db.Write(ctx, func(tx gatehouse.Tx) error {
			s := &gatehouse.Stack{OrgID: org.ID, Project: "p", Name: fmt.Sprintf("s-%d", n), Tags: map[string]string{"n": strconv.Itoa(n)}}
			if err := tx.CreateStack(ctx, s); err != nil {
				return err
			}
			return tx.SaveCheckpoint(ctx, &gatehouse.Checkpoint{StackID: s.ID, Version: 1, Data: []byte(payload)})
		})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(3)
		}
		fmt.Printf("ack %d\n", n)
	}
}

func TestCrashDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes for several seconds")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	next := 0
	rounds := 25
	for round := 0; round < rounds; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnv+"="+path+"|"+strconv.Itoa(next))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acked := make(chan int, 1)
		go func() {
			last := -1
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				line := sc.Text()
				if n, ok := strings.CutPrefix(line, "ack "); ok {
					last, _ = strconv.Atoi(n)
				} else {
					t.Errorf("child: %s", line)
				}
			}
			io.Copy(io.Discard, out)
			acked <- last
		}()
		time.Sleep(time.Duration(50+rand.IntN(400)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		last := <-acked
		// Every acknowledged write survived, and the file is sound.
		db, err := store.Open(ctx, path, store.Options{})
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		err = db.Read(ctx, func(tx gatehouse.Tx) error {
			org, err := tx.GetOrgByName(ctx, "crash")
			if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND && last < next {
				return nil // killed before its first write: nothing was promised
			}
			if err != nil {
				return err
			}
			for n := next; n <= last; n++ {
				s, err := tx.GetStack(ctx, org.ID, "p", fmt.Sprintf("s-%d", n))
				if err != nil {
					return fmt.Errorf("acknowledged stack s-%d lost: %w", n, err)
				}
				if _, err := tx.GetCheckpoint(ctx, s.ID, 0); err != nil {
					return fmt.Errorf("acknowledged checkpoint of s-%d lost: %w", n, err)
				}
			}
			return nil
		})
		db.Close()
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		raw, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		var check string
		if err := raw.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
			t.Fatalf("round %d: integrity_check = %q, %v", round, check, err)
		}
		// The next round starts after every write that may have landed,
		// acknowledged or not.
		var count int
		raw.QueryRow("SELECT COUNT(*) FROM stacks").Scan(&count)
		raw.Close()
		if count < last+1 {
			t.Fatalf("round %d: %d stacks, fewer than the %d acknowledged", round, count, last+1)
		}
		t.Logf("round %d: killed after %d acknowledged writes; %d stacks on disk", round, last-next+1, count)
		next = count
	}
	if next < rounds {
		t.Errorf("only %d writes in %d rounds: the child barely ran", next, rounds)
	}
}

// TestGroupCommit: concurrent writers share transactions, yet each
// closure commits or rolls back on its own, and a panic reaches its
// caller.
func TestGroupCommit(t *testing.T) {
	t.Parallel()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "g.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	org := &gatehouse.Organization{Name: "g"}
	if err := db.Write(ctx, func(tx gatehouse.Tx) error { return tx.CreateOrg(ctx, org) }); err != nil {
		t.Fatal(err)
	}
	const n = 200
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			errs <- db.Write(ctx, func(tx gatehouse.Tx) error {
				if err := tx.CreateStack(ctx, &gatehouse.Stack{OrgID: org.ID, Project: "p", Name: fmt.Sprintf("s%d", i)}); err != nil {
					return err
				}
				if i%2 == 1 {
					return fmt.Errorf("odd %d", i)
				}
				return nil
			})
		}()
	}
	failed := 0
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			if !strings.HasPrefix(err.Error(), "odd ") {
				t.Fatalf("unexpected error: %v", err)
			}
			failed++
		}
	}
	if failed != n/2 {
		t.Fatalf("%d writes failed, want %d", failed, n/2)
	}
	err = db.Read(ctx, func(tx gatehouse.Tx) error {
		stacks, _, err := tx.ListStacks(ctx, org.ID, "p", gatehouse.ListOptions{Limit: 1000})
		if err != nil {
			return err
		}
		if len(stacks) != n/2 {
			t.Errorf("%d stacks committed, want %d", len(stacks), n/2)
		}
		for _, s := range stacks {
			var i int
			fmt.Sscanf(s.Name, "s%d", &i)
			if i%2 == 1 {
				t.Errorf("stack %s of a failed write was committed", s.Name)
			}
		}
		rev, err := tx.Revision(ctx, org.ID)
		if rev != 1+n/2 {
			t.Errorf("revision %d, want %d: one bump per committed write", rev, 1+n/2)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if p := recover(); p != "boom" {
			t.Errorf("recovered %v, want the closure's panic", p)
		}
		// The writer survived the panic.
		if err := db.Write(ctx, func(tx gatehouse.Tx) error {
			return tx.CreateStack(ctx, &gatehouse.Stack{OrgID: org.ID, Project: "p", Name: "after-panic"})
		}); err != nil {
			t.Errorf("write after a panic: %v", err)
		}
	}()
	db.Write(ctx, func(tx gatehouse.Tx) error { panic("boom") })
}

// TestSQLiteFilesPrivate: a new database, its -wal and -shm, and a backup
// are created 0600; a backup never overwrites a file.
func TestSQLiteFilesPrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "g.db")
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Write(ctx, func(tx gatehouse.Tx) error { return tx.CreateOrg(ctx, &gatehouse.Organization{Name: "acme"}) }); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "b.db")
	if err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm", backup} {
		info, err := os.Stat(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
		} else if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s: mode %o, want 600", filepath.Base(f), perm)
		}
	}
	if err := db.Backup(ctx, backup); err == nil {
		t.Errorf("a backup overwrote an existing file")
	}
}
