package store_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/store"
	"github.com/gatehouse-iam/gatehouse/store/storetest"
)

// TestTamperedHeadNeverResealed: someone with write access to the
// database (not the key) cuts the newest events and points the head at
// the last one kept. The next append must not seal that head again (it
// used to, covering the cut), and a retention prune must neither delete
// events nor reseal it. On both dialects.
func TestTamperedHeadNeverResealed(t *testing.T) {
	for name, dsnOf := range auditDialects {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, dsnOf(t), store.Options{AuditKey: storetest.AuditKey})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			org := &gatehouse.Organization{Name: "acme"}
			base := time.Now().Add(-time.Hour)
			err = db.Write(ctx, func(tx gatehouse.Tx) error {
				if err := tx.CreateOrg(ctx, org); err != nil {
					return err
				}
				for i := 0; i < 6; i++ {
					if err := tx.AppendAudit(ctx, &gatehouse.AuditEvent{OrgID: org.ID, Type: "member_added", Time: base.Add(time.Duration(i) * time.Minute)}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var chain []*gatehouse.AuditEvent
			db.Read(ctx, func(tx gatehouse.Tx) (err error) { chain, err = tx.AuditChain(ctx, org.ID, 0, 100); return err })
			keep := chain[2]
			if err := db.UnsafeExec(ctx, "DELETE FROM audit_events WHERE seq > ?", keep.Seq); err != nil {
				t.Fatal(err)
			}
			if err := db.UnsafeExec(ctx, "UPDATE audit_heads SET last_seq = ?, last_hash = ? WHERE org_id = ?", keep.Seq, keep.Hash, org.ID); err != nil {
				t.Fatal(err)
			}
			holds := func() bool {
				var h *gatehouse.AuditHead
				db.Read(ctx, func(tx gatehouse.Tx) (err error) { h, err = tx.AuditHead(ctx, org.ID); return err })
				return bytes.Equal(h.MAC, h.HeadMAC(storetest.AuditKey, org.ID))
			}
			if holds() {
				t.Fatal("the tampered head's MAC holds before anything happened")
			}
			if err := db.Write(ctx, func(tx gatehouse.Tx) error {
				return tx.AppendAudit(ctx, &gatehouse.AuditEvent{OrgID: org.ID, Type: "member_added"})
			}); err != nil {
				t.Fatal(err)
			}
			if holds() {
				t.Error("the next append sealed the tampered head again: the cut is covered")
			}
			var pruned int64
			err = db.Write(ctx, func(tx gatehouse.Tx) (err error) {
				pruned, err = tx.PruneAudit(ctx, org.ID, base.Add(90*time.Second))
				return err
			})
			if err == nil || pruned != 0 {
				t.Errorf("PruneAudit of a tampered chain: %d pruned, %v; want refused", pruned, err)
			}
			if holds() {
				t.Error("the prune sealed the tampered head again")
			}
		})
	}
}
