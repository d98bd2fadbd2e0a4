package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

// auditDB serves a fresh SQLite database (its master key file made next to
// it, as on a first start), records a few events through the API, stops
// the server and returns the database's path.
func auditDB(t *testing.T, teams int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "g.db")
	m, token := startMain(t, path, nil)
	for i := 0; i < teams; i++ {
		if code, body := httpCall(t, m, token, "POST", "/api/orgs/acme/teams/pulumi", map[string]string{"name": fmt.Sprintf("team%d", i), "displayName": "t"}); code != 201 {
			t.Fatalf("create team: %d %s", code, body)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// chainRow is one audit event as an attacker with the database reads it.
type chainRow struct {
	ev   gatehouse.AuditEvent
	prev []byte
}

// rawChain reads the organization's events straight from the database,
// in chain order, as an attacker with write access to the file would.
func rawChain(t *testing.T, db *sql.DB) []chainRow {
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

func rawExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// rehash recomputes, with the public unkeyed ChainHash, the links of
// every event from index i on, and points the head at the last one.
func rehash(t *testing.T, db *sql.DB, chain []chainRow, i int) {
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

// TestAuditChainAttacks edits the database as an attacker with write
// access to it would, covering their tracks with the public ChainHash and
// the head row: every attack must be found by `audit verify`.
func TestAuditChainAttacks(t *testing.T) {
	attacks := []struct {
		name   string
		attack func(t *testing.T, db *sql.DB, chain []chainRow)
	}{
		{"rewrite an event and rehash the rest", func(t *testing.T, db *sql.DB, chain []chainRow) {
			k := len(chain) / 2
			chain[k].ev.Description = "nothing happened"
			rawExec(t, db, "UPDATE audit_events SET description = ? WHERE seq = ?", chain[k].ev.Description, chain[k].ev.Seq)
			rehash(t, db, chain, k)
		}},
		{"rewrite the last event", func(t *testing.T, db *sql.DB, chain []chainRow) {
			k := len(chain) - 1
			chain[k].ev.Data = []byte(`{"name":"innocent"}`)
			rawExec(t, db, "UPDATE audit_events SET data = ? WHERE seq = ?", string(chain[k].ev.Data), chain[k].ev.Seq)
			rehash(t, db, chain, k)
		}},
		{"cut the tail and fix the head", func(t *testing.T, db *sql.DB, chain []chainRow) {
			keep := chain[len(chain)-4].ev
			rawExec(t, db, "DELETE FROM audit_events WHERE seq > ?", keep.Seq)
			rawExec(t, db, "UPDATE audit_heads SET last_seq = ?, last_hash = ?", keep.Seq, keep.Hash)
		}},
		{"cut the oldest events and fix the anchor", func(t *testing.T, db *sql.DB, chain []chainRow) {
			cut := chain[2].ev
			rawExec(t, db, "DELETE FROM audit_events WHERE seq <= ?", cut.Seq)
			rawExec(t, db, "UPDATE audit_heads SET anchor_seq = ?, anchor_hash = ?", cut.Seq, cut.Hash)
		}},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			path := auditDB(t, 6)
			if code, out, stderr := run(t, "audit", "verify", "--database", path, "--org", "acme"); code != exitOK || !strings.Contains(out, "intact") {
				t.Fatalf("before the attack: exit %d %s %s", code, out, stderr)
			}
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			chain := rawChain(t, db)
			if len(chain) < 8 {
				t.Fatalf("only %d events", len(chain))
			}
			a.attack(t, db, chain)
			db.Close()
			code, out, stderr := run(t, "audit", "verify", "--database", path, "--org", "acme")
			if code != exitDeny || !strings.Contains(out, "broken") {
				t.Errorf("after the attack: exit %d, %q %q; want broken", code, out, stderr)
			}
		})
	}
}

var _ = context.Background
