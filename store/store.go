// Package store keeps Gatehouse's records in a SQL database: embedded SQLite
// (modernc.org/sqlite, the default) or PostgreSQL (pgx). There is one
// implementation of gatehouse.Store; the differences between the two
// dialects live in dialect.go. Migrations are embedded per dialect and
// applied on open with goose; a database written by a newer Gatehouse is
// refused, never modified.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

// DB is a gatehouse.Store over a SQL database.
type DB struct {
	d *dialect
	// write is where write transactions run. For SQLite it holds a single
	// connection, so writers queue in Go rather than fight over the lock.
	write *sql.DB
	// read serves read transactions; for PostgreSQL it is write.
	read *sql.DB
	now  func() time.Time
	// sqliteDSN opens a plain read-write connection, for backups.
	sqliteDSN string
	// group commits SQLite writes in groups (nil for PostgreSQL, whose
	// pool commits concurrently).
	group *groupCommitter
	// origin tells this DB's PostgreSQL announcements from other processes'.
	origin string
	// auditKey keys the audit chain (nil: unkeyed, as before 00010).
	auditKey []byte
	// retention is how many revisions of each organization the change log
	// keeps (store/changes.go).
	retention int64
	// timeout bounds every transaction (0: unbounded); see faults.go.
	timeout time.Duration
	faults  faults
}

var _ gatehouse.Store = (*DB)(nil)

// Options tune Open.
type Options struct {
	// ReadConns bounds SQLite's reader pool (default 4) or PostgreSQL's
	// pool (default 16).
	ReadConns int
	// BusyTimeout is how long SQLite waits for a lock (default 5s).
	BusyTimeout time.Duration
	// Now is the clock; tests set it.
	Now func() time.Time
	// AuditKey keys the audit chain with HMAC-SHA256. It must come from
	// outside the database (cmd derives it from the master key). The first
	// event appended with a key to a chain written without one starts the
	// chain's keyed part and seals its head. Without a key, events are
	// linked with plain SHA-256, and appending to a keyed chain fails.
	AuditKey []byte
	// Timeout bounds every transaction, waiting for a connection included,
	// and, on PostgreSQL, every statement (statement_timeout). A database
	// that does not answer in time is gatehouse.EUNAVAILABLE. Zero leaves
	// them unbounded (host commands); the server sets --database-timeout.
	Timeout time.Duration
	// ChangeRetention is how many of each organization's latest revisions
	// the change log keeps (default 1,024): a replica further behind
	// rebuilds its snapshot rather than applying the changes.
	ChangeRetention int
}

// Open opens the database named by dsn: a postgres:// or postgresql:// URL,
// or a SQLite file path (optionally file:PATH), and migrates it.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var db *DB
	var err error
	plain := dsn
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if dsn, err = withStatementTimeout(dsn, opts.Timeout); err == nil {
			db, err = openPostgres(dsn, opts)
		}
	} else {
		db, err = openSQLite(dsn, opts)
	}
	if err != nil {
		return nil, err
	}
	db.now = opts.Now
	db.origin = gatehouse.NewID()
	db.auditKey = opts.AuditKey
	db.retention = changeRetention
	if opts.ChangeRetention > 0 {
		db.retention = int64(opts.ChangeRetention)
	}
	db.timeout = opts.Timeout
	if err := db.write.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s database: %w", db.d.name, err)
	}
	if err := db.migrateUnbounded(ctx, plain); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func openSQLite(path string, opts Options) (*DB, error) {
	path = strings.TrimPrefix(path, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		return nil, fmt.Errorf("sqlite database %q: give a plain file path; Gatehouse sets the connection options", path)
	}
	if path == "" {
		return nil, errors.New("sqlite database: empty path")
	}
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("sqlite database: %w", err)
	}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = 5 * time.Second
	}
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	// FULL: an acknowledged commit survives a power cut, not only a crash.
	q.Add("_pragma", "synchronous(FULL)")
	// Savepoints' sub-journals (one per write in a group) and temporary
	// b-trees stay in memory rather than in temporary files.
	q.Add("_pragma", "temp_store(MEMORY)")
	// A page cache of up to 32 MiB a connection (SQLite's default is
	// 2 MiB): past about 10,000 stacks the indexes a write touches no
	// longer fit in 2 MiB, and every insert read its pages back through
	// the OS (BENCHMARKS.md, seeding).
	q.Add("_pragma", "cache_size(-32768)")
	base := "file:" + path + "?"
	write, err := sql.Open("sqlite", base+q.Encode()+"&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	readQ := url.Values{"_pragma": append(q["_pragma"][:len(q["_pragma"]):len(q["_pragma"])], "query_only(1)")}
	read, err := sql.Open("sqlite", base+readQ.Encode())
	if err != nil {
		write.Close()
		return nil, err
	}
	n := opts.ReadConns
	if n <= 0 {
		n = 4
	}
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	db := &DB{d: sqliteDialect, write: write, read: read, sqliteDSN: base + q.Encode()}
	db.group = newGroupCommitter(db)
	return db, nil
}

// createPrivate makes a new SQLite database file readable and writable
// by its owner only (0600): SQLite then gives its -wal and -shm files the
// same mode. An existing file keeps the mode its operator gave it.
func createPrivate(path string) error {
	if path == ":memory:" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		return f.Close()
	}
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	return err
}

func openPostgres(dsn string, opts Options) (*DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	n := opts.ReadConns
	if n <= 0 {
		n = 16
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	d := &DB{d: postgresDialect, write: db, read: db}
	d.faults.idle = n
	return d, nil
}

// Dialect returns "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.d.name }

// Close closes the database.
func (db *DB) Close() error {
	if db.group != nil {
		db.group.close()
	}
	err := db.write.Close()
	if db.read != db.write {
		if e := db.read.Close(); err == nil {
			err = e
		}
	}
	return err
}

// Read runs fn in a read-only transaction that sees one consistent state
// (on PostgreSQL at REPEATABLE READ: at READ COMMITTED each statement saw
// its own, and a snapshot read at one revision held a later one's rows).
func (db *DB) Read(ctx context.Context, fn func(gatehouse.Tx) error) error {
	opts := &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}
	return db.guard(ctx, false, func(ctx context.Context) error { return db.run(ctx, db.read, opts, fn) })
}

// Write runs fn in a transaction, committing when it returns nil.
func (db *DB) Write(ctx context.Context, fn func(gatehouse.Tx) error) error {
	return db.guard(ctx, true, func(ctx context.Context) error {
		if db.group != nil {
			return db.group.write(ctx, fn)
		}
		return db.run(ctx, db.write, nil, fn)
	})
}

func (db *DB) run(ctx context.Context, pool *sql.DB, opts *sql.TxOptions, fn func(gatehouse.Tx) error) error {
	sqlTx, err := pool.BeginTx(ctx, db.d.txOptions(opts))
	if err != nil {
		return db.d.mapErr(fmt.Errorf("begin transaction: %w", err), opWrite)
	}
	t := &tx{tx: sqlTx, d: db.d, now: db.now, origin: db.origin, auditKey: db.auditKey, retention: db.retention, readOnly: opts != nil && opts.ReadOnly, ctx: ctx}
	if err := fn(t); err != nil {
		sqlTx.Rollback()
		return err
	}
	if err := t.logChanges(ctx); err != nil {
		sqlTx.Rollback()
		return err
	}
	if db.d == postgresDialect {
		if err := t.announce(ctx); err != nil {
			sqlTx.Rollback()
			return err
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return db.d.mapErr(&afterCommit{fmt.Errorf("commit: %w", err)}, opWrite)
	}
	return nil
}

// Backup writes a consistent copy of a SQLite database to path while it is
// in use (VACUUM INTO). The copy is a complete database: to restore, stop
// Gatehouse and put the copy in place of the database file (removing any
// -wal and -shm files beside it).
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.d != sqliteDialect {
		return gatehouse.Errorf(gatehouse.EINVALID, "backup: Gatehouse backs up SQLite databases; use pg_dump for PostgreSQL")
	}
	// VACUUM INTO reads in one transaction, so the copy is consistent; it
	// runs on a connection of its own so that neither readers nor writers
	// wait for it.
	// The copy holds everything the database does: it is made readable by
	// its owner only, and never over an existing file (VACUUM INTO fills
	// an empty one).
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	f.Close()
	conn, err := sql.Open("sqlite", db.sqliteDSN)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		os.Remove(path)
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return nil
}

// UnsafeExec runs a statement outside every rule of the store. It exists
// for tests that play an attacker with access to the database file.
func (db *DB) UnsafeExec(ctx context.Context, q string, args ...any) error {
	if db.group != nil {
		// The writer holds SQLite's one write connection.
		return db.group.write(ctx, func(t gatehouse.Tx) error {
			_, err := t.(*tx).tx.ExecContext(ctx, db.d.rebind(q), args...)
			return err
		})
	}
	_, err := db.write.ExecContext(ctx, db.d.rebind(q), args...)
	return err
}
