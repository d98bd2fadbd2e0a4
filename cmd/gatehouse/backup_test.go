package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/store"
)

// TestBackupAndRestore follows the README's procedure: back up a live
// database, then restore by putting the copy in place of the database file.
func TestBackupAndRestore(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "gatehouse.db")
	ctx := context.Background()
	db, err := store.Open(ctx, live, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	org := &gatehouse.Organization{Name: "acme"}
	if err := db.Write(ctx, func(tx gatehouse.Tx) error { return tx.CreateOrg(ctx, org) }); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "backup.db")
	code, stdout, stderr := run(t, "backup", "--database", live, backup)
	if code != exitOK || !strings.Contains(stdout, "backed up") {
		t.Fatalf("backup: exit %d, %s %s", code, stdout, stderr)
	}
	if code, _, stderr := run(t, "backup", "--database", live, backup); code != exitError || !strings.Contains(stderr, "already exists") {
		t.Errorf("backup over an existing file: exit %d, %s", code, stderr)
	}
	if code, _, stderr := run(t, "backup", "--database", filepath.Join(dir, "missing.db"), filepath.Join(dir, "b2.db")); code != exitError || !strings.Contains(stderr, "missing.db") {
		t.Errorf("backup of a missing database: exit %d, %s", code, stderr)
	}
	// Lose the organization, then restore.
	if err := db.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateOrg(ctx, &gatehouse.Organization{Name: "after-backup"})
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(live + suffix)
	}
	b, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(live, b, 0o600); err != nil {
		t.Fatal(err)
	}
	restored, err := store.Open(ctx, live, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	err = restored.Read(ctx, func(tx gatehouse.Tx) error {
		if _, err := tx.GetOrgByName(ctx, "acme"); err != nil {
			return err
		}
		if _, err := tx.GetOrgByName(ctx, "after-backup"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			t.Errorf("restored database holds a write made after the backup: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDirectOrgCommands: the host commands on one organization (admin
// settings, audit verify, audit checkpoint) require --org, name an
// organization that is not in the database, and audit verify reads its
// --checkpoint before it opens the database.
func TestDirectOrgCommands(t *testing.T) {
	t.Setenv("GATEHOUSE_MASTER_KEY", "")
	t.Setenv("GATEHOUSE_MASTER_KEY_FILE", "")
	dir := t.TempDir()
	database := filepath.Join(dir, "gatehouse.db")
	if code, _, stderr := run(t, "admin", "org", "create", "acme", "--admin", "alice", "--database", database); code != exitOK {
		t.Fatalf("admin org create: exit %d %s", code, stderr)
	}
	for _, args := range [][]string{
		{"admin", "settings", "--max-token-lifetime", "1h"},
		{"audit", "verify"},
		{"audit", "checkpoint"},
	} {
		name := strings.Join(args, " ")
		if code, _, stderr := run(t, append(args, "--database", database)...); code != exitError || !strings.Contains(stderr, "--org is required") {
			t.Errorf("%s without --org: exit %d %q", name, code, stderr)
		}
		if code, _, stderr := run(t, append(args, "--database", database, "--org", "nope")...); code != exitError || !strings.Contains(stderr, `organization "nope"`) {
			t.Errorf("%s --org nope: exit %d %q", name, code, stderr)
		}
	}
	if code, stdout, stderr := run(t, "admin", "settings", "--database", database, "--org", "acme", "--max-token-lifetime", "1h"); code != exitOK || !strings.Contains(stdout, "updated the settings of acme") {
		t.Errorf("admin settings --org acme: exit %d %q %q", code, stdout, stderr)
	}
	missing := filepath.Join(dir, "missing.db")
	code, _, stderr := run(t, "audit", "verify", "--database", missing, "--org", "acme", "--checkpoint", filepath.Join(dir, "no-such-checkpoint"))
	if code != exitError || !strings.Contains(stderr, "--checkpoint") {
		t.Errorf("audit verify with a missing checkpoint: exit %d %q", code, stderr)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("audit verify with a missing checkpoint opened the database: %v", err)
	}
}
