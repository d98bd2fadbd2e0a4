package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestBootstrapTokenFileExisting: the first admin's token went into an
// existing --bootstrap-token-file with that file's mode (os.WriteFile
// keeps it), say 0644, readable by every local user, while the server
// said "mode 0600". The file holds the token only at mode 0600.
func TestBootstrapTokenFileExisting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, token := startMain(t, filepath.Join(t.TempDir(), "g.db"), func(c *Config) { c.BootstrapTokenFile = path })
	if token == "" || token == "old" {
		t.Fatalf("token file holds %q", token)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("bootstrap token file mode %v, want 0600", mode)
	}
}
