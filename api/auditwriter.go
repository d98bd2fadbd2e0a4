package api

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-iam/gatehouse"
)

// auditWriter records denials and authentication failures off the request
// path: a bounded queue drained in batches by one goroutine. It never
// blocks a request and never grows past its bound; what it cannot take it
// drops, counts and logs.
type auditWriter struct {
	record  func(context.Context, []*gatehouse.AuditEvent) error
	log     *slog.Logger
	queue   chan *gatehouse.AuditEvent
	dropped prometheus.Counter
	written prometheus.Counter
	done    chan struct{}
	// state guards closed: add holds it shared around its send, close
	// holds it alone to close the queue, so that no send meets a closed
	// channel.
	state   sync.RWMutex
	closed  bool
	mu      sync.Mutex // guards lastLog
	lastLog time.Time
	// queued counts the events taken, settled those written or dropped
	// since; flush waits for settled to reach queued.
	count           sync.Mutex
	settledCond     *sync.Cond
	queued, settled int64
}

func newAuditWriter(record func(context.Context, []*gatehouse.AuditEvent) error, log *slog.Logger, size int, m *metrics) *auditWriter {
	w := &auditWriter{record: record, log: log, queue: make(chan *gatehouse.AuditEvent, size), done: make(chan struct{}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "gatehouse_audit_dropped_total",
			Help: "Denial and authentication-failure audit events dropped because the writer's queue was full."}),
		written: prometheus.NewCounter(prometheus.CounterOpts{Name: "gatehouse_audit_async_written_total",
			Help: "Denial and authentication-failure audit events written."})}
	w.settledCond = sync.NewCond(&w.count)
	m.reg.MustRegister(w.dropped, w.written)
	go w.run()
	return w
}

// add queues an event, or drops it when the queue is full or the writer
// is closed (a request that outlived the server's shutdown).
func (w *auditWriter) add(e *gatehouse.AuditEvent) {
	w.state.RLock()
	queued := false
	if !w.closed {
		select {
		case w.queue <- e:
			queued = true
			w.count.Lock()
			w.queued++
			w.count.Unlock()
		default:
		}
	}
	closed := w.closed
	w.state.RUnlock()
	if queued {
		return
	}
	w.dropped.Inc()
	w.mu.Lock()
	defer w.mu.Unlock()
	if time.Since(w.lastLog) > 10*time.Second {
		w.lastLog = time.Now() // log throttling: the wall clock
		if closed {
			w.log.Warn("audit writer closed: dropping denial and authentication-failure events of requests still running")
		} else {
			w.log.Warn("audit queue full: dropping denial and authentication-failure events", "queue", cap(w.queue))
		}
	}
}

const auditBatch = 256

func (w *auditWriter) run() {
	defer close(w.done)
	batch := make([]*gatehouse.AuditEvent, 0, auditBatch)
	for e := range w.queue {
		batch = append(batch[:0], e)
	fill:
		for len(batch) < auditBatch {
			select {
			case e, ok := <-w.queue:
				if !ok {
					break fill
				}
				batch = append(batch, e)
			default:
				break fill
			}
		}
		w.write(batch)
		w.count.Lock()
		w.settled += int64(len(batch))
		w.settledCond.Broadcast()
		w.count.Unlock()
	}
}

// flush waits until every event queued before it is written or dropped.
func (w *auditWriter) flush() {
	w.count.Lock()
	defer w.count.Unlock()
	for target := w.queued; w.settled < target; {
		w.settledCond.Wait()
	}
}

func (w *auditWriter) write(batch []*gatehouse.AuditEvent) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := w.record(ctx, batch)
	if err != nil {
		w.dropped.Add(float64(len(batch)))
		w.log.Error("write audit events", "events", len(batch), "err", err)
		return
	}
	w.written.Add(float64(len(batch)))
}

// close writes what is queued and stops; it may be called more than once.
func (w *auditWriter) close() {
	w.state.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
	w.state.Unlock()
	<-w.done
}
