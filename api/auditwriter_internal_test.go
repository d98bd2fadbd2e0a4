package api

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
)

// TestAuditWriterClose: close writes every event queued before it, and an
// event added after it (by a request that outlived the shutdown timeout)
// is dropped and counted instead of panicking on the closed queue.
func TestAuditWriterClose(t *testing.T) {
	te := testenv.New(t)
	m := newMetrics(te.Authz)
	w := newAuditWriter(te.Svc.RecordAudit, slog.New(slog.DiscardHandler), 1000, m)
	ctx := context.Background()
	const queued = 300 // more than one batch
	for i := 0; i < queued; i++ {
		w.add(service.NewAuditEvent(ctx, time.Now(), te.Org.ID, gatehouse.EventAuthFailure, "authentication failed", "", nil))
	}
	w.close()
	w.add(service.NewAuditEvent(ctx, time.Now(), te.Org.ID, gatehouse.EventAuthFailure, "after close", "", nil))
	w.close() // a second close is harmless
	if got := counter(t, m, "gatehouse_audit_async_written_total"); got != queued {
		t.Errorf("written = %v, want %d", got, queued)
	}
	if got := counter(t, m, "gatehouse_audit_dropped_total"); got != 1 {
		t.Errorf("dropped = %v, want 1 (the event added after close)", got)
	}
	var n int
	err := te.DB.Read(ctx, func(tx gatehouse.Tx) error {
		events, _, err := tx.ListAudit(ctx, te.Org.ID, gatehouse.AuditFilter{Types: []string{gatehouse.EventAuthFailure}}, gatehouse.ListOptions{Limit: gatehouse.MaxListLimit})
		n = len(events)
		return err
	})
	if err != nil || n != queued {
		t.Errorf("%d authentication failures in the database (%v), want %d", n, err, queued)
	}
}

// counter reads an unlabelled counter from the metrics' exposition.
func counter(t *testing.T, m *metrics, name string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	m.handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, l := range strings.Split(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
