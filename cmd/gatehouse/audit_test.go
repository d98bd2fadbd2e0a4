package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the attacker's PostgreSQL driver

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/service"
	"github.com/gatehouse-iam/gatehouse/state"
	"github.com/gatehouse-iam/gatehouse/store"
	"github.com/gatehouse-iam/gatehouse/store/storetest"
)

// target is a database under attack: its DSN, its master key file, and
// whether it is PostgreSQL.
type target struct {
	dsn, keyFile string
	pg           bool
}

// dialects are the databases the attacks run on: SQLite always,
// PostgreSQL when GATEHOUSE_TEST_POSTGRES_DSN is set.
var dialects = []string{"sqlite", "postgres"}

// auditDB serves a fresh database (SQLite: its master key file made next to
// it, as on a first start; PostgreSQL: a schema of its own and a key file
// made beforehand), records a few events through the API, stops the server
// and returns the target. Host commands find the key through
// GATEHOUSE_MASTER_KEY_FILE.
func auditDB(t *testing.T, dialect string, teams int) target {
	t.Helper()
	x := target{dsn: filepath.Join(t.TempDir(), "g.db")}
	x.keyFile = x.dsn + ".key"
	if dialect == "postgres" {
		x.dsn, x.pg = storetest.PostgresSchema(t), true
		x.keyFile = filepath.Join(t.TempDir(), "master.key")
		if _, _, err := state.LoadMasterKey(x.keyFile); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("GATEHOUSE_MASTER_KEY_FILE", x.keyFile)
	m, token := startMain(t, x.dsn, func(c *Config) { c.MasterKeyFile = x.keyFile })
	for i := 0; i < teams; i++ {
		if code, body := httpCall(t, m, token, "POST", "/api/orgs/acme/teams/pulumi", map[string]string{"name": fmt.Sprintf("team%d", i), "displayName": "t"}); code != 201 {
			t.Fatalf("create team: %d %s", code, body)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	return x
}

// rawDB is the database opened as an attacker would, with plain SQL.
type rawDB struct {
	*sql.DB
	pg bool
}

func (x target) raw(t *testing.T) *rawDB {
	t.Helper()
	driver := "sqlite"
	if x.pg {
		driver = "pgx"
	}
	db, err := sql.Open(driver, x.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &rawDB{db, x.pg}
}

// sql rewrites ? placeholders for PostgreSQL.
func (db *rawDB) sql(q string) string {
	if !db.pg {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// chainRow is one audit event as an attacker with the database reads it.
type chainRow struct {
	ev   gatehouse.AuditEvent
	prev []byte
}

// rawChain reads the organization's events straight from the database,
// in chain order, as an attacker with write access to the file would.
func rawChain(t *testing.T, db *rawDB) []chainRow {
	t.Helper()
	rows, err := db.Query("SELECT seq, org_id, time, type, description, actor_user_id, actor_login, token_id, token_name, source_ip, user_agent, request_id, entity, req_org_admin, req_stack_admin, auth_failure, data, prev_hash, hash FROM audit_events ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []chainRow
	for rows.Next() {
		var r chainRow
		e := &r.ev
		var tm int64
		var data string
		if err := rows.Scan(&e.Seq, &e.OrgID, &tm, &e.Type, &e.Description, &e.ActorUserID, &e.ActorLogin, &e.TokenID, &e.TokenName,
			&e.SourceIP, &e.UserAgent, &e.RequestID, &e.Entity, &e.ReqOrgAdmin, &e.ReqStackAdmin, &e.AuthFailure, &data, &r.prev, &e.Hash); err != nil {
			t.Fatal(err)
		}
		e.Time = time.UnixMicro(tm)
		if data != "" {
			e.Data = []byte(data)
		}
		out = append(out, r)
	}
	return out
}

func rawExec(t *testing.T, db *rawDB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(db.sql(q), args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// rehash recomputes, with the public unkeyed ChainHash, the links of
// every event from index i on, and points the head at the last one.
func rehash(t *testing.T, db *rawDB, chain []chainRow, i int) {
	t.Helper()
	prev := []byte{}
	if i > 0 {
		prev = chain[i-1].ev.Hash
	}
	for ; i < len(chain); i++ {
		e := &chain[i].ev
		e.Hash = e.ChainHash(prev)
		rawExec(t, db, "UPDATE audit_events SET prev_hash = ?, hash = ? WHERE seq = ?", prev, e.Hash, e.Seq)
		prev = e.Hash
	}
	last := chain[len(chain)-1].ev
	rawExec(t, db, "UPDATE audit_heads SET last_seq = ?, last_hash = ?", last.Seq, last.Hash)
}

// cutTail deletes the newest three events and points the head at the
// last one kept, as someone who can write the database (not the key) would.
func cutTail(t *testing.T, db *rawDB, chain []chainRow) {
	keep := chain[len(chain)-4].ev
	rawExec(t, db, "DELETE FROM audit_events WHERE seq > ?", keep.Seq)
	rawExec(t, db, "UPDATE audit_heads SET last_seq = ?, last_hash = ?", keep.Seq, keep.Hash)
}

// cutOldest deletes the oldest three events and moves the anchor to the
// last one deleted.
func cutOldest(t *testing.T, db *rawDB, chain []chainRow) {
	cut := chain[2].ev
	rawExec(t, db, "DELETE FROM audit_events WHERE seq <= ?", cut.Seq)
	rawExec(t, db, "UPDATE audit_heads SET anchor_seq = ?, anchor_hash = ?", cut.Seq, cut.Hash)
}

// TestAuditChainAttacks edits the database as an attacker with write
// access to it would, covering their tracks with the public ChainHash and
// the head row: every attack must be found by `audit verify`.
func TestAuditChainAttacks(t *testing.T) {
	attacks := []struct {
		name   string
		attack func(t *testing.T, db *rawDB, chain []chainRow)
	}{
		{"rewrite an event and rehash the rest", func(t *testing.T, db *rawDB, chain []chainRow) {
			k := len(chain) / 2
			chain[k].ev.Description = "nothing happened"
			rawExec(t, db, "UPDATE audit_events SET description = ? WHERE seq = ?", chain[k].ev.Description, chain[k].ev.Seq)
			rehash(t, db, chain, k)
		}},
		{"rewrite the last event", func(t *testing.T, db *rawDB, chain []chainRow) {
			k := len(chain) - 1
			chain[k].ev.Data = []byte(`{"name":"innocent"}`)
			rawExec(t, db, "UPDATE audit_events SET data = ? WHERE seq = ?", string(chain[k].ev.Data), chain[k].ev.Seq)
			rehash(t, db, chain, k)
		}},
		{"cut the tail and fix the head", cutTail},
		{"cut the oldest events and fix the anchor", cutOldest},
	}
	for _, d := range dialects {
		for _, a := range attacks {
			t.Run(d+"/"+a.name, func(t *testing.T) {
				x := auditDB(t, d, 6)
				if code, out := verifyOut(t, x); code != exitOK || !strings.Contains(out, "intact") {
					t.Fatalf("before the attack: exit %d %s", code, out)
				}
				db := x.raw(t)
				chain := rawChain(t, db)
				if len(chain) < 8 {
					t.Fatalf("only %d events", len(chain))
				}
				a.attack(t, db, chain)
				code, out := verifyOut(t, x)
				if code != exitDeny || !strings.Contains(out, "broken") {
					t.Errorf("after the attack: exit %d, %q; want broken", code, out)
				}
				t.Log(out)
			})
		}
	}
}

// hostEvents appends n events from the host (settings changes), through
// the same keyed store the server uses.
func hostEvents(t *testing.T, x target, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if code, _, stderr := run(t, "admin", "settings", "--database", x.dsn, "--org", "acme", "--max-token-lifetime", fmt.Sprintf("%dh", 100+i)); code != exitOK {
			t.Fatalf("admin settings: %d %s", code, stderr)
		}
	}
}

func verifyOut(t *testing.T, x target, args ...string) (int, string) {
	t.Helper()
	code, out, stderr := run(t, append([]string{"audit", "verify", "--database", x.dsn, "--master-key-file", x.keyFile, "--org", "acme"}, args...)...)
	return code, out + stderr
}

// TestAuditCheckpoint: a signed checkpoint kept outside the database finds
// what the database alone cannot show: the chain cut back to an older,
// validly sealed head (an attacker replaying the head row of a backup),
// or downgraded to unkeyed links and rehashed. A checkpoint that was
// altered, or is of another organization, is refused.
func TestAuditCheckpoint(t *testing.T) {
	ctx := context.Background()
	type headRow struct {
		lastSeq, anchorSeq, keyedFrom int64
		lastHash, anchorHash, mac     []byte
	}
	saveHead := func(t *testing.T, db *rawDB) headRow {
		var h headRow
		if err := db.QueryRowContext(ctx, "SELECT last_seq, last_hash, anchor_seq, anchor_hash, keyed_from, mac FROM audit_heads").
			Scan(&h.lastSeq, &h.lastHash, &h.anchorSeq, &h.anchorHash, &h.keyedFrom, &h.mac); err != nil {
			t.Fatal(err)
		}
		for _, b := range []*[]byte{&h.lastHash, &h.anchorHash, &h.mac} {
			if *b == nil {
				*b = []byte{} // NOT NULL columns; the driver reads empty blobs as nil
			}
		}
		return h
	}
	tests := []struct {
		name string
		// before runs before the checkpoint is taken (it may save what an
		// attacker would keep), attack after it and more events.
		before, attack func(t *testing.T, db *rawDB, saved *headRow)
		// plain is whether verify without the checkpoint still says intact.
		plain bool
		want  string
	}{
		{"replay an older sealed head and cut back to it", func(t *testing.T, db *rawDB, saved *headRow) {
			*saved = saveHead(t, db)
		}, func(t *testing.T, db *rawDB, saved *headRow) {
			rawExec(t, db, "DELETE FROM audit_events WHERE seq > ?", saved.lastSeq)
			rawExec(t, db, "UPDATE audit_heads SET last_seq = ?, last_hash = ?, anchor_seq = ?, anchor_hash = ?, keyed_from = ?, mac = ?",
				saved.lastSeq, saved.lastHash, saved.anchorSeq, saved.anchorHash, saved.keyedFrom, saved.mac)
		}, true, "before the checkpoint's event"},
		{"downgrade the whole chain to unkeyed links", nil, func(t *testing.T, db *rawDB, _ *headRow) {
			chain := rawChain(t, db)
			chain[1].ev.Description = "nothing happened"
			rawExec(t, db, "UPDATE audit_events SET description = ? WHERE seq = ?", chain[1].ev.Description, chain[1].ev.Seq)
			rehash(t, db, chain, 0)
			rawExec(t, db, "UPDATE audit_heads SET keyed_from = 0, mac = ?", []byte{})
		}, true, "another hash"},
		{"cut the events after the checkpoint", nil, func(t *testing.T, db *rawDB, _ *headRow) {
			chain := rawChain(t, db)
			keep := chain[len(chain)-3].ev
			rawExec(t, db, "DELETE FROM audit_events WHERE seq > ?", keep.Seq)
			rawExec(t, db, "UPDATE audit_heads SET last_seq = ?, last_hash = ?", keep.Seq, keep.Hash)
		}, false, "does not match its MAC"},
	}
	for _, d := range dialects {
		for _, tt := range tests {
			t.Run(d+"/"+tt.name, func(t *testing.T) {
				x := auditDB(t, d, 2)
				db := x.raw(t)
				var saved headRow
				if tt.before != nil {
					tt.before(t, db, &saved)
				}
				hostEvents(t, x, 2)
				cp := filepath.Join(t.TempDir(), "cp.json")
				if code, _, stderr := run(t, "audit", "checkpoint", "--database", x.dsn, "--master-key-file", x.keyFile, "--org", "acme", "--out", cp); code != exitOK {
					t.Fatalf("checkpoint: %d %s", code, stderr)
				}
				hostEvents(t, x, 2)
				if code, out := verifyOut(t, x, "--checkpoint", cp); code != exitOK || !strings.Contains(out, "checkpoint: the chain holds") {
					t.Fatalf("before the attack: %d %s", code, out)
				}
				tt.attack(t, db, &saved)
				code, out := verifyOut(t, x)
				if intact := code == exitOK; intact != tt.plain {
					t.Errorf("without the checkpoint: %d %s", code, out)
				}
				t.Logf("without the checkpoint: %s", out)
				code, out = verifyOut(t, x, "--checkpoint", cp)
				if code != exitDeny || !strings.Contains(out, tt.want) {
					t.Errorf("with the checkpoint: exit %d %q, want broken: %s", code, out, tt.want)
				}
				t.Logf("with the checkpoint: %s", out)
			})
		}
	}
	t.Run("an altered checkpoint", func(t *testing.T) {
		x := auditDB(t, "sqlite", 1)
		cp := filepath.Join(t.TempDir(), "cp.json")
		if code, _, stderr := run(t, "audit", "checkpoint", "--database", x.dsn, "--org", "acme", "--out", cp); code != exitOK {
			t.Fatalf("checkpoint: %d %s", code, stderr)
		}
		data, _ := os.ReadFile(cp)
		altered := strings.Replace(string(data), `"count": `, `"count": 1`, 1)
		os.WriteFile(cp, []byte(altered), 0o600)
		if code, out := verifyOut(t, x, "--checkpoint", cp); code == exitOK || !strings.Contains(out, "signature does not hold") {
			t.Errorf("altered checkpoint: %d %s", code, out)
		}
	})
}

// TestContinuationKeyFromMasterKey: the continuation tokens' key is derived
// from the master key, not made per process, so that a token one replica
// gave pages on another (here: the same database served again).
func TestContinuationKeyFromMasterKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.db")
	m, token := startMain(t, path, nil)
	for i := 0; i < 3; i++ {
		if code, body := httpCall(t, m, token, "POST", "/api/orgs/acme/teams/pulumi", map[string]string{"name": fmt.Sprintf("team%d", i), "displayName": "t"}); code != 201 {
			t.Fatalf("create team: %d %s", code, body)
		}
	}
	code, body := httpCall(t, m, token, "GET", "/api/orgs/acme/teams?maxResults=1", nil)
	var page struct{ ContinuationToken string }
	if err := json.Unmarshal(body, &page); code != 200 || err != nil || page.ContinuationToken == "" {
		t.Fatalf("first page: %d %s", code, body)
	}
	m.Close()
	again, _ := startMain(t, path, nil)
	if code, body := httpCall(t, again, token, "GET", "/api/orgs/acme/teams?maxResults=1&continuationToken="+url.QueryEscape(page.ContinuationToken), nil); code != 200 {
		t.Errorf("the token of the previous process: %d %s", code, body)
	}
}

// TestAuditVerifyLegacyChain: a database whose chain was written before it
// was keyed (no key, as before migration 00010) verifies: the old part with
// plain SHA-256, the part written since with the key, and verify says which
// is which.
func TestAuditVerifyLegacyChain(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "g.db")
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc := service.New(db, authz.New(db, nil), nil)
	if _, err := svc.Bootstrap(ctx, "acme", "admin"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	x := target{dsn: path, keyFile: path + ".key"}
	if _, _, err := state.LoadMasterKey(x.keyFile); err != nil {
		t.Fatal(err)
	}
	if code, out := verifyOut(t, x); code != exitOK || !strings.Contains(out, "all unkeyed") {
		t.Errorf("the unkeyed chain: %d %s", code, out)
	}
	t.Setenv("GATEHOUSE_MASTER_KEY_FILE", x.keyFile)
	hostEvents(t, x, 2)
	code, out := verifyOut(t, x)
	if code != exitOK || !strings.Contains(out, "3 unkeyed (before event 4") || !strings.Contains(out, "2 keyed") {
		t.Errorf("the chain keyed since: %d %s", code, out)
	}
	// Its unkeyed part is still checked: editing an old event breaks it.
	raw := x.raw(t)
	rawExec(t, raw, "UPDATE audit_events SET description = 'x' WHERE seq = 2")
	if code, out := verifyOut(t, x); code != exitDeny || !strings.Contains(out, "event 2") {
		t.Errorf("an edited unkeyed event: %d %s", code, out)
	}
}
