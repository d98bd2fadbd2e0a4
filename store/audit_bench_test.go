package store_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/store"
)

var auditTypes = []string{"role_created", "role_updated", "member_added", "access_token_created", "access_denied",
	"authentication_failed", "team_created", "team_member_added", "member_role_changed", "entity_assignment_changed"}

func benchEvent(orgID string, i int, at time.Time) *gatehouse.AuditEvent {
	return &gatehouse.AuditEvent{OrgID: orgID, Time: at, Type: auditTypes[i%len(auditTypes)],
		Description: fmt.Sprintf("event %d", i), ActorLogin: fmt.Sprintf("user-%d", i%200), SourceIP: "10.0.0.1",
		RequestID: fmt.Sprintf("req-%d", i), Data: []byte(`{"before":{"name":"x"},"after":{"name":"y"}}`)}
}

// BenchmarkAppendAudit appends events on SQLite: one per transaction (as a
// change and its event commit together), and in batches of 256 (as the
// asynchronous writer does for denials and authentication failures).
func BenchmarkAppendAudit(b *testing.B) {
	for _, batch := range []int{1, 256} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			db, err := store.Open(ctx, filepath.Join(b.TempDir(), "a.db"), store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			org := &gatehouse.Organization{Name: "o"}
			db.Write(ctx, func(tx gatehouse.Tx) error { return tx.CreateOrg(ctx, org) })
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				if err := db.Write(ctx, func(tx gatehouse.Tx) error {
					for j := i; j < min(i+batch, b.N); j++ {
						if err := tx.AppendAudit(ctx, benchEvent(org.ID, j, time.Now())); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

var (
	millionOnce sync.Once
	millionDB   *store.DB
	millionOrg  string
	millionBase = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

// millionEvents opens (building once, and keeping across runs in the
// temporary directory) a database holding 1,000,000 events of one
// organization, one every 10 seconds over about four months.
func millionEvents(b *testing.B) (*store.DB, string) {
	millionOnce.Do(func() {
		path := filepath.Join(os.TempDir(), "gatehouse-bench-audit-1m-v1.db")
		_, statErr := os.Stat(path)
		db, err := store.Open(ctx, path, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		org := &gatehouse.Organization{Name: "audited"}
		if statErr == nil {
			if err := db.Read(ctx, func(tx gatehouse.Tx) (err error) { org, err = tx.GetOrgByName(ctx, "audited"); return err }); err != nil {
				b.Fatal(err)
			}
		} else {
			db.Write(ctx, func(tx gatehouse.Tx) error { return tx.CreateOrg(ctx, org) })
			for start := 0; start < 1_000_000; start += 5000 {
				if err := db.Write(ctx, func(tx gatehouse.Tx) error {
					for i := start; i < start+5000; i++ {
						if err := tx.AppendAudit(ctx, benchEvent(org.ID, i, millionBase.Add(time.Duration(i)*10*time.Second))); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
		}
		millionDB, millionOrg = db, org.ID
		processCleanups = append(processCleanups, func() { db.Close() })
	})
	return millionDB, millionOrg
}

// BenchmarkAuditPage reads a page of 100 events out of 1,000,000, filtered
// by time, type and user, newest first, as the API does.
func BenchmarkAuditPage(b *testing.B) {
	db, orgID := millionEvents(b)
	filters := map[string]gatehouse.AuditFilter{
		"time":           {From: millionBase.Add(24 * time.Hour), To: millionBase.Add(48 * time.Hour), Descending: true},
		"time+type":      {From: millionBase.Add(24 * time.Hour), To: millionBase.Add(60 * 24 * time.Hour), Types: []string{"access_denied"}, Descending: true},
		"time+type+user": {From: millionBase, To: millionBase.Add(120 * 24 * time.Hour), Types: []string{"role_created"}, ActorLogins: []string{"user-10"}, Descending: true},
		"user":           {ActorLogins: []string{"user-77"}, Descending: true},
	}
	for name, f := range filters {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				var got []*gatehouse.AuditEvent
				if err := db.Read(ctx, func(tx gatehouse.Tx) (err error) {
					got, _, err = tx.ListAudit(ctx, orgID, f, gatehouse.ListOptions{Limit: 100})
					return err
				}); err != nil {
					b.Fatal(err)
				}
				if len(got) != 100 {
					b.Fatalf("%s: %d events", name, len(got))
				}
			}
		})
	}
}
