package store_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/store"
	"github.com/gatehouse-iam/gatehouse/store/storetest"
)

// auditDialects makes a fresh database of each dialect for the audit
// chain's tests (PostgreSQL's skips without GATEHOUSE_TEST_POSTGRES_DSN).
var auditDialects = map[string]func(t *testing.T) string{
	"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "g.db") },
	"postgres": func(t *testing.T) string { return storetest.PostgresSchema(t) },
}

// TestAuditChainBecomesKeyed: a chain written without a key (as before
// migration 00010) keeps its unkeyed links; the first event appended with
// the key starts the keyed part and seals the head; afterwards a process
// without the key may not append (it would write an unkeyed link into a
// keyed chain). On both dialects.
func TestAuditChainBecomesKeyed(t *testing.T) {
	for name, dsnOf := range auditDialects {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dsn := dsnOf(t)
			open := func(key []byte) *store.DB {
				t.Helper()
				db, err := store.Open(ctx, dsn, store.Options{AuditKey: key})
				if err != nil {
					t.Fatal(err)
				}
				return db
			}
			appendN := func(db *store.DB, orgID string, n int) error {
				return db.Write(ctx, func(tx gatehouse.Tx) error {
					for i := 0; i < n; i++ {
						if err := tx.AppendAudit(ctx, &gatehouse.AuditEvent{OrgID: orgID, Type: "member_added"}); err != nil {
							return err
						}
					}
					return nil
				})
			}
			old := open(nil)
			org := &gatehouse.Organization{Name: "legacy"}
			if err := old.Write(ctx, func(tx gatehouse.Tx) error { return tx.CreateOrg(ctx, org) }); err != nil {
				t.Fatal(err)
			}
			if err := appendN(old, org.ID, 3); err != nil {
				t.Fatal(err)
			}
			old.Close()

			keyed := open(storetest.AuditKey)
			if err := appendN(keyed, org.ID, 2); err != nil {
				t.Fatal(err)
			}
			var chain []*gatehouse.AuditEvent
			var head *gatehouse.AuditHead
			keyed.Read(ctx, func(tx gatehouse.Tx) (err error) {
				if chain, err = tx.AuditChain(ctx, org.ID, 0, 100); err != nil {
					return err
				}
				head, err = tx.AuditHead(ctx, org.ID)
				return err
			})
			if len(chain) != 5 {
				t.Fatalf("%d events", len(chain))
			}
			if head.KeyedFrom != chain[3].Seq || !bytes.Equal(head.MAC, head.HeadMAC(storetest.AuditKey, org.ID)) {
				t.Errorf("head %+v: want keyed from %d and sealed", head, chain[3].Seq)
			}
			prev := []byte{}
			for i, e := range chain {
				want := e.ChainHash(prev)
				if i >= 3 {
					want = e.ChainMAC(storetest.AuditKey, prev)
				}
				if !bytes.Equal(e.Hash, want) || !bytes.Equal(e.PrevHash, prev) {
					t.Errorf("event %d: link does not hold (keyed: %v)", i, i >= 3)
				}
				prev = e.Hash
			}
			keyed.Close()

			unkeyed := open(nil)
			defer unkeyed.Close()
			if err := appendN(unkeyed, org.ID, 1); err == nil {
				t.Errorf("a process without the key appended to a keyed chain")
			}
			// Nor does it start a new, unkeyed chain in a keyed database.
			other := &gatehouse.Organization{Name: "other"}
			if err := unkeyed.Write(ctx, func(tx gatehouse.Tx) error { return tx.CreateOrg(ctx, other) }); err != nil {
				t.Fatal(err)
			}
			if err := appendN(unkeyed, other.ID, 1); err == nil {
				t.Errorf("a process without the key started an unkeyed chain in a keyed database")
			}
		})
	}
}
