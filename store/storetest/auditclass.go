package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

// testAuditClass: the read class (exports, decryptions, environments
// opened) and the change class (everything else) split the events, with
// the other filters and across pages; no class, or all, keeps every event.
func testAuditClass(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	base := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	types := []string{gatehouse.EventStackExported, gatehouse.EventRoleUpdated, gatehouse.EventSecretsDecrypted, gatehouse.EventEnvOpened, gatehouse.EventAccessDenied}
	write(t, s, func(tx gatehouse.Tx) error {
		for i := 0; i < 20; i++ {
			e := &gatehouse.AuditEvent{OrgID: f.org.ID, Time: base.Add(time.Duration(i) * time.Minute), Type: types[i%len(types)], ActorLogin: "ada"}
			if err := tx.AppendAudit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	list := func(filter gatehouse.AuditFilter) []*gatehouse.AuditEvent {
		t.Helper()
		var out []*gatehouse.AuditEvent
		read(t, s, func(tx gatehouse.Tx) error {
			next := ""
			for {
				page, n, err := tx.ListAudit(ctx, f.org.ID, filter, gatehouse.ListOptions{Limit: 3, Continuation: next})
				if err != nil {
					return err
				}
				out = append(out, page...)
				if next = n; next == "" {
					return nil
				}
			}
		})
		return out
	}
	for _, c := range []struct {
		filter gatehouse.AuditFilter
		want   int
		class  string // the class every event must have, "" for any
	}{
		{gatehouse.AuditFilter{}, 20, ""},
		{gatehouse.AuditFilter{Class: gatehouse.AuditClassAll}, 20, ""},
		{gatehouse.AuditFilter{Class: gatehouse.AuditClassChange}, 8, gatehouse.AuditClassChange},
		{gatehouse.AuditFilter{Class: gatehouse.AuditClassRead}, 12, gatehouse.AuditClassRead},
		{gatehouse.AuditFilter{Class: gatehouse.AuditClassRead, Descending: true, Types: []string{gatehouse.EventEnvOpened}}, 4, gatehouse.AuditClassRead},
		{gatehouse.AuditFilter{Class: gatehouse.AuditClassChange, Types: []string{gatehouse.EventEnvOpened}}, 0, ""},
	} {
		got := list(c.filter)
		if len(got) != c.want {
			t.Errorf("%+v: %d events, want %d", c.filter, len(got), c.want)
		}
		for _, e := range got {
			if c.class != "" && gatehouse.AuditClassOf(e.Type) != c.class {
				t.Errorf("%+v: listed a %s event (%s)", c.filter, gatehouse.AuditClassOf(e.Type), e.Type)
			}
		}
	}
}
