package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/store"
)

// TestBackupAndRestore follows the README's procedure on a running server
// with a sealed secret: back up the database and its master key, stop the
// server cleanly (no -wal or -shm file left), restore both and start again:
// the secret still decrypts. A restore without the key is refused by serve
// rather than met with a new key.
func TestBackupAndRestore(t *testing.T) {
	t.Setenv("GATEHOUSE_MASTER_KEY", "")
	t.Setenv("GATEHOUSE_MASTER_KEY_FILE", "")
	dir := t.TempDir()
	live := filepath.Join(dir, "gatehouse.db")
	m, admin := startMain(t, live, nil)
	if code, body := httpCall(t, m, admin, "POST", "/api/stacks/acme/app", map[string]string{"stackName": "dev"}); code != 200 {
		t.Fatalf("create stack: %d %s", code, body)
	}
	code, body := httpCall(t, m, admin, "POST", "/api/stacks/acme/app/dev/encrypt", map[string][]byte{"plaintext": []byte("hunter2")})
	if code != 200 {
		t.Fatalf("encrypt: %d %s", code, body)
	}
	var sealed struct{ Ciphertext []byte }
	json.Unmarshal(body, &sealed)

	backup := filepath.Join(dir, "backup.db")
	code, stdout, stderr := run(t, "backup", "--database", live, backup)
	if code != exitOK || !strings.Contains(stdout, "and its master key to "+backup+".key") {
		t.Fatalf("backup: exit %d, %s %s", code, stdout, stderr)
	}
	liveKey, _ := os.ReadFile(live + ".key")
	backupKey, err := os.ReadFile(backup + ".key")
	if err != nil || string(backupKey) != string(liveKey) {
		t.Fatalf("the backup's key file is not the live one: %v", err)
	}
	if info, _ := os.Stat(backup + ".key"); info.Mode().Perm() != 0o600 {
		t.Errorf("the backup's key file has mode %v", info.Mode().Perm())
	}
	if code, _, stderr := run(t, "backup", "--database", live, backup); code != exitError || !strings.Contains(stderr, "already exists") {
		t.Errorf("backup over an existing file: exit %d, %s", code, stderr)
	}

	// A write after the backup, then a clean stop: nothing beside the file.
	if code, body := httpCall(t, m, admin, "POST", "/api/stacks/acme/app", map[string]string{"stackName": "after-backup"}); code != 200 {
		t.Fatalf("create stack: %d %s", code, body)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(live + suffix); !os.IsNotExist(err) {
			t.Errorf("a clean stop left %s%s: %v", live, suffix, err)
		}
	}

	// Restore the database but lose the key: serve refuses to make a new one.
	copyFile(t, backup, live)
	os.Remove(live + ".key")
	cfg := DefaultConfig()
	cfg.Listen, cfg.Database, cfg.LogLevel = "127.0.0.1:0", live, "warn"
	if err := (&Main{Config: cfg, Stderr: io.Discard}).Run(context.Background()); err == nil || !strings.Contains(err.Error(), "is missing, but the database") {
		t.Fatalf("serve without the key of a database with sealed secrets: %v", err)
	}
	if _, err := os.Stat(live + ".key"); !os.IsNotExist(err) {
		t.Fatalf("serve made a new key: %v", err)
	}

	// Restore the key too: the secret decrypts, the later write is gone.
	copyFile(t, backup+".key", live+".key")
	m2, _ := startMain(t, live, nil)
	code, body = httpCall(t, m2, admin, "POST", "/api/stacks/acme/app/dev/decrypt", map[string][]byte{"ciphertext": sealed.Ciphertext})
	if code != 200 || !strings.Contains(string(body), base64.StdEncoding.EncodeToString([]byte("hunter2"))) {
		t.Fatalf("decrypt after restore: %d %s", code, body)
	}
	if code, _ := httpCall(t, m2, admin, "GET", "/api/stacks/acme/app/after-backup", nil); code != 404 {
		t.Errorf("the restored database holds a stack made after the backup: %d", code)
	}
}

// TestBackupRefusals: a missing database is refused and not created; a
// database without a master key is backed up only with --without-key.
func TestBackupRefusals(t *testing.T) {
	t.Setenv("GATEHOUSE_MASTER_KEY", "")
	t.Setenv("GATEHOUSE_MASTER_KEY_FILE", "")
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	if code, _, stderr := run(t, "backup", "--database", missing, filepath.Join(dir, "b1.db")); code != exitError || !strings.Contains(stderr, "missing.db does not exist") {
		t.Errorf("backup of a missing database: exit %d, %s", code, stderr)
	}
	for _, f := range []string{missing, filepath.Join(dir, "b1.db")} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("backup of a missing database made %s: %v", f, err)
		}
	}
	keyless := filepath.Join(dir, "keyless.db")
	db, err := store.Open(context.Background(), keyless, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	out := filepath.Join(dir, "b2.db")
	if code, _, stderr := run(t, "backup", "--database", keyless, out); code != exitError || !strings.Contains(stderr, "--without-key") {
		t.Errorf("backup without a key: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused backup wrote %s: %v", out, err)
	}
	if code, stdout, stderr := run(t, "backup", "--database", keyless, "--without-key", out); code != exitOK || !strings.Contains(stdout, "without its master key") {
		t.Errorf("backup --without-key: exit %d, %s %s", code, stdout, stderr)
	}
	if _, err := os.Stat(out + ".key"); !os.IsNotExist(err) {
		t.Errorf("backup --without-key wrote a key file: %v", err)
	}
}

// TestHostCommandsNeedADatabase: every host command refuses a database
// that does not exist, and creates none.
func TestHostCommandsNeedADatabase(t *testing.T) {
	t.Setenv("GATEHOUSE_MASTER_KEY", "")
	t.Setenv("GATEHOUSE_MASTER_KEY_FILE", "")
	missing := filepath.Join(t.TempDir(), "gatehouse.db")
	for _, args := range [][]string{
		{"admin", "issue-token", "--org", "acme", "--user", "alice"},
		{"admin", "settings", "--org", "acme", "--max-token-lifetime", "1h"},
		{"admin", "grant-admin", "--org", "acme", "--user", "alice"},
		{"admin", "org", "create", "acme", "--admin", "alice"},
		{"admin", "org", "list"},
		{"audit", "verify", "--org", "acme"},
		{"audit", "checkpoint", "--org", "acme"},
	} {
		code, _, stderr := run(t, append(args, "--database", missing)...)
		if code != exitError || !strings.Contains(stderr, "does not exist (nothing was created)") {
			t.Errorf("%s on a missing database: exit %d %s", strings.Join(args, " "), code, stderr)
		}
		if _, err := os.Stat(missing); !os.IsNotExist(err) {
			t.Fatalf("%s created the database: %v", strings.Join(args, " "), err)
		}
	}
}

// newDatabase makes an empty, migrated SQLite database at path, as a
// server's first start does (without its bootstrap).
func newDatabase(t *testing.T, path string) {
	t.Helper()
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
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
	newDatabase(t, database)
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
