package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

func testAudit(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	appendAuditEvents(t, s, f, base)
	t.Run("List", func(t *testing.T) { testAuditList(t, s, f, base) })
	t.Run("Chain", func(t *testing.T) { testAuditChain(t, s, f) })
	t.Run("Prune", func(t *testing.T) { testAuditPrune(t, s, f, base) })
}

// appendAuditEvents appends 30 events a minute apart from base, of three
// types and two actors, and checks that an event without a type is refused.
func appendAuditEvents(t *testing.T, s gatehouse.Store, f *fixture, base time.Time) {
	types := []string{"stack_created", "token_created", "stack_deleted"}
	write(t, s, func(tx gatehouse.Tx) error {
		for i := 0; i < 30; i++ {
			e := &gatehouse.AuditEvent{OrgID: f.org.ID, Time: base.Add(time.Duration(i) * time.Minute), Type: types[i%3],
				ActorLogin: []string{"ada", "bob"}[i%2], SourceIP: "127.0.0.1", Data: json.RawMessage(`{"i":` + fmt.Sprint(i) + `}`)}
			if i == 7 {
				e.ClientRequestID = "client-7"
			}
			if err := tx.AppendAudit(ctx, e); err != nil {
				return err
			}
			if e.Seq == 0 {
				t.Errorf("event %d got no sequence number", i)
			}
		}
		return nil
	})
	err := s.Write(ctx, func(tx gatehouse.Tx) error { return tx.AppendAudit(ctx, &gatehouse.AuditEvent{OrgID: f.org.ID}) })
	wantCode(t, err, gatehouse.EINVALID, "event without a type")
}

// testAuditList pages through appendAuditEvents' events and filters them.
func testAuditList(t *testing.T, s gatehouse.Store, f *fixture, base time.Time) {
	read(t, s, func(tx gatehouse.Tx) error {
		var all []*gatehouse.AuditEvent
		next := ""
		for {
			page, n, err := tx.ListAudit(ctx, f.org.ID, gatehouse.AuditFilter{}, gatehouse.ListOptions{Limit: 7, Continuation: next})
			if err != nil {
				return err
			}
			all = append(all, page...)
			if next = n; next == "" {
				break
			}
		}
		if len(all) != 30 {
			t.Fatalf("paged through %d events, want 30", len(all))
		}
		for i, e := range all {
			if !e.Time.Equal(base.Add(time.Duration(i)*time.Minute)) || string(e.Data) != `{"i":`+fmt.Sprint(i)+`}` {
				t.Fatalf("event %d out of order or changed: %+v", i, e)
			}
		}
		got, _, err := tx.ListAudit(ctx, f.org.ID, gatehouse.AuditFilter{
			From: base.Add(10 * time.Minute), To: base.Add(20 * time.Minute), Types: []string{"stack_created"}, ActorLogins: []string{"ada"},
		}, gatehouse.ListOptions{})
		// Minutes 10..19, type index i%3==0, login index i%2==0: 12 and 18.
		if err != nil || len(got) != 2 || !got[0].Time.Equal(base.Add(12*time.Minute)) {
			t.Errorf("filtered audit = %d events, %v", len(got), err)
		}
		return nil
	})
}

// testAuditChain checks the links, the head and its MAC of
// appendAuditEvents' events.
func testAuditChain(t *testing.T, s gatehouse.Store, f *fixture) {
	read(t, s, func(tx gatehouse.Tx) error {
		// The chain: each event links to the one before, and the head
		// holds the last.
		chain, err := tx.AuditChain(ctx, f.org.ID, 0, 100)
		if err != nil || len(chain) != 30 {
			t.Fatalf("AuditChain = %d events, %v", len(chain), err)
		}
		prev := []byte{}
		for i, e := range chain {
			if !bytes.Equal(e.PrevHash, prev) || !bytes.Equal(e.Hash, e.ChainMAC(AuditKey, prev)) {
				t.Fatalf("chain broken at event %d", i)
			}
			prev = e.Hash
		}
		head, err := tx.AuditHead(ctx, f.org.ID)
		if err != nil || head.LastSeq != chain[29].Seq || !bytes.Equal(head.LastHash, chain[29].Hash) || head.AnchorSeq != 0 {
			t.Errorf("AuditHead = %+v, %v", head, err)
		}
		// The chain is keyed from its first event, and the head sealed.
		if head.KeyedFrom != chain[0].Seq || !bytes.Equal(head.MAC, head.HeadMAC(AuditKey, f.org.ID)) {
			t.Errorf("head keyed from %d (want %d), MAC holds: %v", head.KeyedFrom, chain[0].Seq, bytes.Equal(head.MAC, head.HeadMAC(AuditKey, f.org.ID)))
		}
		if chain[7].ClientRequestID != "client-7" || chain[8].ClientRequestID != "" {
			t.Errorf("client request ids: %q %q", chain[7].ClientRequestID, chain[8].ClientRequestID)
		}
		if rest, _ := tx.AuditChain(ctx, f.org.ID, chain[27].Seq, 100); len(rest) != 2 {
			t.Errorf("AuditChain after the 28th = %d events", len(rest))
		}
		desc, _, err := tx.ListAudit(ctx, f.org.ID, gatehouse.AuditFilter{Descending: true}, gatehouse.ListOptions{Limit: 1})
		last, err2 := tx.LastAudit(ctx, f.org.ID)
		if err != nil || err2 != nil || len(desc) != 1 || desc[0].Seq != last.Seq || !bytes.Equal(last.Hash, desc[0].Hash) {
			t.Errorf("newest event: %+v vs %+v (%v, %v)", desc, last, err, err2)
		}
		return nil
	})
}

// testAuditPrune prunes the first ten minutes of appendAuditEvents'
// events: the rest stays verifiable from the last pruned hash.
func testAuditPrune(t *testing.T, s gatehouse.Store, f *fixture, base time.Time) {
	var pruned int64
	write(t, s, func(tx gatehouse.Tx) (err error) {
		pruned, err = tx.PruneAudit(ctx, f.org.ID, base.Add(10*time.Minute))
		return err
	})
	if pruned != 10 {
		t.Fatalf("pruned %d events, want 10", pruned)
	}
	read(t, s, func(tx gatehouse.Tx) error {
		head, err := tx.AuditHead(ctx, f.org.ID)
		if err != nil {
			return err
		}
		rest, err := tx.AuditChain(ctx, f.org.ID, 0, 100)
		if err != nil || len(rest) != 20 || rest[0].Seq <= head.AnchorSeq || !bytes.Equal(rest[0].PrevHash, head.AnchorHash) {
			t.Errorf("after pruning: %d events, head %+v, %v", len(rest), head, err)
		}
		if !bytes.Equal(head.MAC, head.HeadMAC(AuditKey, f.org.ID)) {
			t.Errorf("after pruning, the head's MAC does not cover the new anchor")
		}
		return nil
	})
	write(t, s, func(tx gatehouse.Tx) (err error) {
		pruned, err = tx.PruneAudit(ctx, f.org.ID, base) // nothing that old
		return err
	})
	if pruned != 0 {
		t.Errorf("second prune removed %d", pruned)
	}
}

// testAuditConcurrent appends from many writers at once: the chain must
// not fork.
func testAuditConcurrent(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	var wg sync.WaitGroup
	errs := make(chan error, 8*20)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				errs <- s.Write(ctx, func(tx gatehouse.Tx) error {
					return tx.AppendAudit(ctx, &gatehouse.AuditEvent{OrgID: f.org.ID, Type: "x", Description: fmt.Sprintf("%d/%d", w, i)})
				})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	read(t, s, func(tx gatehouse.Tx) error {
		chain, err := tx.AuditChain(ctx, f.org.ID, 0, 1000)
		if err != nil || len(chain) != 160 {
			t.Fatalf("%d events, %v", len(chain), err)
		}
		prev := []byte{}
		for i, e := range chain {
			if !bytes.Equal(e.PrevHash, prev) || !bytes.Equal(e.Hash, e.ChainMAC(AuditKey, prev)) {
				t.Fatalf("the chain forked at event %d", i)
			}
			prev = e.Hash
		}
		return nil
	})
}
