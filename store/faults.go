package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/gatehouse-iam/gatehouse"
)

// This file is how the store behaves while its database is unwell: every
// transaction is bounded in time, a transaction that met a dead pooled
// connection before it could commit is run once more on a fresh one, and
// a database that does not answer (or, for SQLite, cannot write) is
// reported as gatehouse.EUNAVAILABLE, naming the database, rather than as
// an internal error.

// readyTimeout bounds Ready: a load balancer's probe must get its answer
// well within its own timeout, whatever the database does.
const readyTimeout = time.Second

// faults is a DB's memory of its last write failure.
type faults struct {
	mu sync.Mutex
	// write is the last write's failure that says the database cannot
	// write (disk full, read-only, I/O error); nil once a write succeeds.
	write error
	// idle is the PostgreSQL pool's number of idle connections.
	idle int
}

// guard runs one transaction: attempt, under the database timeout, once
// more when it met a dead connection before committing, with the outcome
// of a write remembered for Ready.
func (db *DB) guard(ctx context.Context, write bool, attempt func(context.Context) error) error {
	if db.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, db.timeout)
		defer cancel()
	}
	err := attempt(ctx)
	if err != nil && db.d == postgresDialect && deadConn(err) && ctx.Err() == nil {
		// The pool handed out a connection the server had already closed
		// (terminated, or restarted), and nothing was committed on it.
		// The pool's other idle connections date from the same server
		// and are as likely dead: they go, and the second attempt runs on
		// a fresh connection.
		db.dropIdle()
		err = attempt(ctx)
	}
	err = db.unavailable(err)
	if write {
		db.noteWrite(err)
	}
	return err
}

// dropIdle closes the pool's idle connections (connections in use are
// closed when they come back, if they broke).
func (db *DB) dropIdle() {
	db.faults.mu.Lock()
	defer db.faults.mu.Unlock()
	db.write.SetMaxIdleConns(-1)
	db.write.SetMaxIdleConns(db.faults.idle)
}

// bound gives a statement the transaction's deadline: closures run their
// statements with the context they captured (the caller's, of which the
// transaction's is a child), which would otherwise let a statement wait
// for a database that does not answer as long as the caller does.
func (t *tx) bound(ctx context.Context) context.Context {
	if t.ctx == nil {
		return ctx
	}
	td, ok := t.ctx.Deadline()
	if !ok {
		return ctx // unbounded: the statement keeps its own context
	}
	if d, ok := ctx.Deadline(); ok && !d.After(td) {
		return ctx
	}
	return t.ctx
}

// afterCommit marks an error from COMMIT: the transaction may have been
// committed, so it is never run again.
type afterCommit struct{ err error }

func (e *afterCommit) Error() string { return e.err.Error() }
func (e *afterCommit) Unwrap() error { return e.err }

// deadConn reports whether err says the connection was dead before the
// transaction committed: the server had terminated it (SQLSTATE 57P01
// admin_shutdown, 57P02 crash_shutdown), or it broke (EOF, a reset) while
// beginning the transaction or running one of its statements.
func deadConn(err error) bool {
	var ac *afterCommit
	if errors.As(err, &ac) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "57P01" || pe.Code == "57P02"
	}
	if pgconn.SafeToRetry(err) {
		return true
	}
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, sql.ErrConnDone) || isConnReset(err)
}

// isConnReset reports a connection that broke under the statement (reset
// by the peer, a broken pipe, closed): net errors other than a timeout.
func isConnReset(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && !ne.Timeout()
}

// unavailable turns an error that says the database does not answer, or
// cannot write, into gatehouse.EUNAVAILABLE with a message that names the
// trouble ("disk full", "database unavailable"); the error stays its cause.
// A domain error, a cancelled context (the caller went away) and anything
// else come back as they are.
func (db *DB) unavailable(err error) error {
	if err == nil {
		return nil
	}
	var ge *gatehouse.Error
	if errors.As(err, &ge) || errors.Is(err, context.Canceled) {
		return err
	}
	var msg string
	if errors.Is(err, context.DeadlineExceeded) || db.d == postgresDialect && pgconn.Timeout(err) {
		msg = fmt.Sprintf("database unavailable: the %s database did not answer within %s", db.d.name, db.timeout)
	} else {
		msg = db.d.trouble(err)
	}
	if msg == "" {
		return err
	}
	return &gatehouse.Error{Code: gatehouse.EUNAVAILABLE, Message: msg, Err: err}
}

// trouble names what an error says about the database's health, or ""
// when it is not about its health.
func (d *dialect) trouble(err error) string {
	down := "database unavailable: the " + d.name + " database "
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_FULL:
			return "disk full: the sqlite database cannot grow"
		case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return down + "cannot write (" + sqlite.ErrorCodeString[se.Code()] + ")"
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return down + "is locked by another process"
		}
		return ""
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "53100":
			return "disk full: the postgres server cannot write"
		case pe.Code == "57014":
			return down + "did not answer in time (statement timeout)"
		case strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "53"), strings.HasPrefix(pe.Code, "57P"), strings.HasPrefix(pe.Code, "58"):
			return down + "is unwell (SQLSTATE " + pe.Code + ")"
		}
		return ""
	}
	var ce *pgconn.ConnectError
	if d == postgresDialect && (errors.As(err, &ce) || deadConn(err) || pgconn.Timeout(err)) {
		return down + "does not answer"
	}
	return ""
}

// noteWrite remembers whether the database can write: a write that failed
// because it cannot (disk full, read-only, I/O error) makes Ready fail
// until a write succeeds again.
func (db *DB) noteWrite(err error) {
	if db.d != sqliteDialect {
		// PostgreSQL's health is its answer to Ready's query: a replica
		// that no client writes through must still come back.
		return
	}
	var ge *gatehouse.Error
	cannot := errors.As(err, &ge) && ge.Code == gatehouse.EUNAVAILABLE
	if err != nil && !cannot {
		return // a domain error says nothing of the disk
	}
	db.faults.mu.Lock()
	if cannot {
		db.faults.write = err
	} else {
		db.faults.write = nil
	}
	db.faults.mu.Unlock()
}

// Ready reports whether the database serves: it answers a query within a
// second (and within ctx), and, for SQLite, the last write did not fail
// for want of a disk that can write. Its error is gatehouse.EUNAVAILABLE.
func (db *DB) Ready(ctx context.Context) error {
	db.faults.mu.Lock()
	werr := db.faults.write
	db.faults.mu.Unlock()
	if werr != nil {
		return werr
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	var one int
	err := db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
	if err == nil {
		return nil
	}
	msg := db.d.trouble(err)
	if msg == "" {
		msg = "database unavailable: the " + db.d.name + " database did not answer in time"
	}
	return &gatehouse.Error{Code: gatehouse.EUNAVAILABLE, Message: msg, Err: err}
}

// migrateUnbounded migrates PostgreSQL on a pool of its own, without the
// statement timeout: a migration that rewrites a large table may take
// longer than a request may wait.
func (db *DB) migrateUnbounded(ctx context.Context, plainDSN string) error {
	if db.d != postgresDialect || db.timeout <= 0 {
		return migrate(ctx, db.write, db.d)
	}
	pool, err := sql.Open("pgx", plainDSN)
	if err != nil {
		return err
	}
	defer pool.Close()
	return migrate(ctx, pool, db.d)
}

// withStatementTimeout sets PostgreSQL's statement_timeout on every
// connection of the pool (a runtime parameter of the URL), unless the URL
// sets one: the server then cancels a statement that runs too long even
// when Gatehouse's side of the connection is stuck.
func withStatementTimeout(dsn string, d time.Duration) (string, error) {
	if d <= 0 {
		return dsn, nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("postgres database: %w", err)
	}
	q := u.Query()
	if q.Has("statement_timeout") {
		return dsn, nil
	}
	q.Set("statement_timeout", strconv.FormatInt(d.Milliseconds(), 10))
	u.RawQuery = q.Encode()
	return u.String(), nil
}
