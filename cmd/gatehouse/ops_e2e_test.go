package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/store"
)

func get(t *testing.T, url string, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMetricsListen puts /metrics on a listener of its own: it is served
// there and no longer on the main listener (which the internet may reach).
func TestMetricsListen(t *testing.T) {
	t.Parallel()
	m, _ := startMain(t, filepath.Join(t.TempDir(), "g.db"), func(c *Config) { c.MetricsListen = "127.0.0.1:0" })
	if m.MetricsAddr == "" || m.MetricsAddr == m.Addr {
		t.Fatalf("metrics address %q (main %q)", m.MetricsAddr, m.Addr)
	}
	if status, body := get(t, "http://"+m.MetricsAddr+"/metrics"); status != 200 || !strings.Contains(body, "gatehouse_snapshot_rebuilds_total") {
		t.Errorf("GET /metrics on the metrics listener: %d\n%.300s", status, body)
	}
	if status, body := get(t, "http://"+m.Addr+"/metrics"); status != 404 || strings.Contains(body, "gatehouse_") {
		t.Errorf("GET /metrics on the main listener: %d, want 404\n%.300s", status, body)
	}
	if status, _ := get(t, "http://"+m.Addr+"/healthz"); status != 200 {
		t.Errorf("healthz on the main listener: %d", status)
	}
	// Without the setting, the main listener serves /metrics.
	m2, _ := startMain(t, filepath.Join(t.TempDir(), "g.db"), nil)
	if status, body := get(t, "http://"+m2.Addr+"/metrics"); status != 200 || !strings.Contains(body, "gatehouse_snapshot_rebuilds_total") {
		t.Errorf("GET /metrics without --metrics-listen: %d", status)
	}
}

// TestTrustedProxiesConfig: the flag and the environment variable reach
// the server (a client behind the loopback proxy is audited by its
// forwarded address), and a bad prefix is refused by Validate, naming it.
func TestTrustedProxiesConfig(t *testing.T) {
	t.Setenv("GATEHOUSE_TRUSTED_PROXIES", "127.0.0.0/8, ::1")
	c := newServeCmd()
	c.ParseFlags(nil)
	cfg := DefaultConfig()
	if err := resolveConfig(c, &cfg); err != nil || cfg.TrustedProxies != "127.0.0.0/8, ::1" {
		t.Fatalf("from the environment: %q, %v", cfg.TrustedProxies, err)
	}
	bad := newServeCmd()
	bad.ParseFlags([]string{"--trusted-proxies", "10.0.0.0/8,not-a-network"})
	cfg2 := DefaultConfig()
	if err := resolveConfig(bad, &cfg2); err == nil || !strings.Contains(err.Error(), "trusted-proxies") || !strings.Contains(err.Error(), "not-a-network") {
		t.Errorf("bad trusted proxy: %v", err)
	}

	m, _ := startMain(t, filepath.Join(t.TempDir(), "g.db"), func(c *Config) { c.TrustedProxies = cfg.TrustedProxies })
	if status, _ := get(t, "http://"+m.Addr+"/api/orgs/acme/members", "Authorization", "token pul-wrong", "X-Forwarded-For", "203.0.113.50"); status != 401 {
		t.Fatalf("bad token: %d", status)
	}
	m.Close() // writes the queued audit events
	db, err := store.Open(context.Background(), m.Config.Database, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var sources []string
	db.Read(ctx, func(tx gatehouse.Tx) error {
		org, err := tx.GetOrgByName(ctx, "acme")
		if err != nil {
			return err
		}
		es, _, err := tx.ListAudit(ctx, org.ID, gatehouse.AuditFilter{Types: []string{gatehouse.EventAuthFailure}}, gatehouse.ListOptions{Limit: 10})
		for _, e := range es {
			sources = append(sources, e.SourceIP)
		}
		return err
	})
	if len(sources) != 1 || sources[0] != "203.0.113.50" {
		t.Errorf("audited sources %v, want [203.0.113.50]", sources)
	}
}

// TestDatabaseFilesPrivate: the SQLite file, its -wal and -shm, and a
// backup are created readable and writable by their owner only.
func TestDatabaseFilesPrivate(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "g.db")
	m, _ := startMain(t, live, nil)
	for _, f := range []string{live, live + "-wal", live + "-shm"} {
		info, err := os.Stat(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s: mode %o, want 600", filepath.Base(f), perm)
		}
	}
	backup := filepath.Join(dir, "backup.db")
	if code, _, stderr := run(t, "backup", "--database", live, backup); code != exitOK {
		t.Fatalf("backup: exit %d %s", code, stderr)
	}
	info, err := os.Stat(backup)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("backup: mode %o, want 600", perm)
	}
	m.Close()
}
