package store

import (
	"context"
	"fmt"
	"sync"

	"github.com/gatehouse-iam/gatehouse"
)

// groupCommitter runs SQLite write transactions in groups: writers that
// arrive while a commit is on its way to disk wait, and then share one
// transaction and one durable commit, each closure in a savepoint of its
// own. A closure that fails rolls back to its savepoint only; every closure
// still sees the others of its group as committed before it, as with one
// writer at a time. Throughput under concurrent writers then follows the
// disk's commit rate times the group size, not the commit rate alone.
type groupCommitter struct {
	db    *DB
	queue chan *writeReq
	done  chan struct{}
	once  sync.Once
}

type writeReq struct {
	ctx    context.Context
	fn     func(gatehouse.Tx) error
	result chan writeResult
}

type writeResult struct {
	err   error
	panic any
}

// maxGroup bounds one group.
const maxGroup = 64

func newGroupCommitter(db *DB) *groupCommitter {
	g := &groupCommitter{db: db, queue: make(chan *writeReq, maxGroup), done: make(chan struct{})}
	go g.run()
	return g
}

func (g *groupCommitter) write(ctx context.Context, fn func(gatehouse.Tx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, result: make(chan writeResult, 1)}
	select {
	case g.queue <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-g.done:
		return fmt.Errorf("store closed")
	}
	r := <-req.result
	if r.panic != nil {
		panic(r.panic)
	}
	return r.err
}

func (g *groupCommitter) close() {
	g.once.Do(func() { close(g.done) })
}

func (g *groupCommitter) run() {
	for {
		var first *writeReq
		select {
		case first = <-g.queue:
		case <-g.done:
			return
		}
		group := []*writeReq{first}
	fill:
		for len(group) < maxGroup {
			select {
			case r := <-g.queue:
				group = append(group, r)
			default:
				break fill
			}
		}
		g.commit(group)
	}
}

// commit runs a group in one transaction.
func (g *groupCommitter) commit(group []*writeReq) {
	results := make([]writeResult, len(group))
	finish := func() {
		for i, r := range group {
			r.result <- results[i]
		}
	}
	defer finish()
	ctx := context.Background()
	sqlTx, err := g.db.write.BeginTx(ctx, nil)
	if err != nil {
		err = g.db.d.mapErr(fmt.Errorf("begin transaction: %w", err), opWrite)
		for i := range results {
			results[i].err = err
		}
		return
	}

	for i, r := range group {
		if err := r.ctx.Err(); err != nil {
			results[i].err = err
			continue
		}
		t := &tx{tx: sqlTx, d: g.db.d, now: g.db.now}
		if _, err := sqlTx.ExecContext(ctx, "SAVEPOINT w"); err != nil {
			results[i].err = err
			continue
		}
		results[i] = runClosure(r.fn, t)
		if results[i].err != nil || results[i].panic != nil {
			if _, err := sqlTx.ExecContext(ctx, "ROLLBACK TO w"); err != nil {
				// The transaction is unusable: fail the whole group.
				sqlTx.Rollback()
				for j := range results {
					if results[j].err == nil && results[j].panic == nil {
						results[j].err = fmt.Errorf("roll back a failed write: %w", err)
					}
				}
				return
			}
		}
		sqlTx.ExecContext(ctx, "RELEASE w")

	}
	if err := sqlTx.Commit(); err != nil {
		err = g.db.d.mapErr(fmt.Errorf("commit: %w", err), opWrite)
		for i := range results {
			if results[i].err == nil && results[i].panic == nil {
				results[i].err = err
			}
		}
	}
}

// runClosure runs fn, turning a panic into a result the caller re-panics.
func runClosure(fn func(gatehouse.Tx) error, t *tx) (res writeResult) {
	defer func() {
		if p := recover(); p != nil {
			res.panic = p
		}
	}()
	res.err = fn(t)
	return res
}
