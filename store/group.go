package store

import (
	"context"
	"database/sql"
	"errors"
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
	// stopped closes when run has returned and released the connection.
	stopped chan struct{}
	once    sync.Once
	// conn is the writer's connection, taken on the first commit (after
	// migrations) and only ever used by run.
	conn *stmtConn
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

var errClosed = errors.New("store closed")

func newGroupCommitter(db *DB) *groupCommitter {
	g := &groupCommitter{db: db, queue: make(chan *writeReq, maxGroup), done: make(chan struct{}), stopped: make(chan struct{})}
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
		return errClosed
	}
	var r writeResult
	select {
	case r = <-req.result:
	case <-g.stopped:
		// run has returned: either it answered this request on its way
		// out or it never took it.
		select {
		case r = <-req.result:
		default:
			return errClosed
		}
	}
	if r.panic != nil {
		panic(r.panic)
	}
	return r.err
}

// close stops run after the group in progress and waits for it.
func (g *groupCommitter) close() {
	g.once.Do(func() { close(g.done) })
	<-g.stopped
}

func (g *groupCommitter) run() {
	defer close(g.stopped)
	defer func() {
		if g.conn != nil {
			g.conn.close()
		}
	}()
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
	defer func() {
		for i, r := range group {
			r.result <- results[i]
		}
	}()
	failAll := func(err error) {
		for i := range results {
			if results[i].err == nil && results[i].panic == nil {
				results[i].err = err
			}
		}
	}
	ctx := context.Background()
	if g.conn == nil {
		conn, err := g.db.write.Conn(ctx)
		if err != nil {
			failAll(g.db.d.mapErr(fmt.Errorf("connect: %w", err), opWrite))
			return
		}
		g.conn = &stmtConn{conn: conn, stmts: map[string]*sql.Stmt{}}
	}
	c := g.conn
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		failAll(g.db.d.mapErr(fmt.Errorf("begin transaction: %w", err), opWrite))
		return
	}
	for i, r := range group {
		if err := r.ctx.Err(); err != nil {
			results[i].err = err
			continue
		}
		t := &tx{tx: c, d: g.db.d, now: g.db.now, auditKey: g.db.auditKey, retention: g.db.retention}
		if _, err := c.ExecContext(ctx, "SAVEPOINT w"); err != nil {
			results[i].err = err
			continue
		}
		results[i] = runClosure(r.fn, t)
		if results[i].err == nil && results[i].panic == nil {
			results[i].err = t.logChanges(ctx)
		}
		if results[i].err != nil || results[i].panic != nil {
			if _, err := c.ExecContext(ctx, "ROLLBACK TO w"); err != nil {
				// The transaction is unusable: fail the whole group.
				c.ExecContext(ctx, "ROLLBACK")
				failAll(fmt.Errorf("roll back a failed write: %w", err))
				return
			}
		}
		if _, err := c.ExecContext(ctx, "RELEASE w"); err != nil {
			c.ExecContext(ctx, "ROLLBACK")
			failAll(fmt.Errorf("release a write: %w", err))
			return
		}
	}
	if _, err := c.ExecContext(ctx, "COMMIT"); err != nil {
		// A failed COMMIT can leave the transaction open (SQLITE_BUSY).
		c.ExecContext(ctx, "ROLLBACK")
		failAll(g.db.d.mapErr(fmt.Errorf("commit: %w", err), opWrite))
	}
}

// stmtConn is the SQLite writer's connection. It runs the transaction
// with plain BEGIN/COMMIT statements rather than through database/sql's
// Tx, so that statements prepared once on it stay prepared: parsing SQL
// was a sixth of a token exchange's CPU time. Only run uses it.
type stmtConn struct {
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
}

// maxStmts bounds the cache; statements built at run time (filters with
// varying lists) beyond it run unprepared.
const maxStmts = 512

func (c *stmtConn) stmt(ctx context.Context, q string) *sql.Stmt {
	if s, ok := c.stmts[q]; ok {
		return s
	}
	if len(c.stmts) >= maxStmts {
		return nil
	}
	s, err := c.conn.PrepareContext(ctx, q)
	if err != nil {
		return nil // run unprepared, which reports the error
	}
	c.stmts[q] = s
	return s
}

func (c *stmtConn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if s := c.stmt(ctx, q); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return c.conn.ExecContext(ctx, q, args...)
}

// QueryRowContext's rows close at Scan, before any other statement runs,
// so a cached statement is never run twice at once.
func (c *stmtConn) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if s := c.stmt(ctx, q); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return c.conn.QueryRowContext(ctx, q, args...)
}

// QueryContext is not cached: a closure may run the same query again
// while iterating the first one's rows.
func (c *stmtConn) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return c.conn.QueryContext(ctx, q, args...)
}

func (c *stmtConn) close() {
	for _, s := range c.stmts {
		s.Close()
	}
	c.conn.Close()
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
