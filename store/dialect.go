package store

import (
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/gatehouse-iam/gatehouse"
)

//go:embed migrations
var migrations embed.FS

// dialect is everything that differs between SQLite and PostgreSQL.
type dialect struct {
	name  string
	goose goose.Dialect
	// numbered rewrites "?" placeholders as $1, $2, ...
	numbered bool
}

var (
	sqliteDialect   = &dialect{name: "sqlite", goose: goose.DialectSQLite3}
	postgresDialect = &dialect{name: "postgres", goose: goose.DialectPostgres, numbered: true}
)

func (d *dialect) migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations/"+d.name)
	if err != nil {
		panic(err)
	}
	return sub
}

// txOptions: SQLite's read-only transactions are plain BEGINs on the
// query_only reader pool.
func (d *dialect) txOptions(o *sql.TxOptions) *sql.TxOptions {
	if d == sqliteDialect {
		return nil
	}
	return o
}

// rebind turns the "?" placeholders every query is written with into the
// dialect's. Queries never hold a literal "?".
func (d *dialect) rebind(q string) string {
	if !d.numbered || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// op says what a statement was doing, which decides how a constraint
// violation reads: a dangling reference on insert is the caller's invalid
// input, a reference on delete means the row is in use.
type op int

const (
	opWrite op = iota
	opDelete
)

// errKind classifies a driver error.
type errKind int

const (
	kindOther errKind = iota
	kindUnique
	kindForeignKey
	kindCheck
)

func (d *dialect) kind(err error) errKind {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return kindUnique
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return kindForeignKey
		case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL:
			return kindCheck
		}
		return kindOther
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return kindUnique
		case "23503":
			return kindForeignKey
		case "23514", "23502":
			return kindCheck
		}
	}
	return kindOther
}

// mapErr turns constraint violations into the domain's errors and leaves
// everything else as an internal error with its cause.
func (d *dialect) mapErr(err error, o op) error {
	if err == nil {
		return nil
	}
	var ge *gatehouse.Error
	if errors.As(err, &ge) {
		return err
	}
	switch d.kind(err) {
	case kindUnique:
		return gatehouse.Errorf(gatehouse.ECONFLICT, "already exists")
	case kindForeignKey:
		if o == opDelete {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "in use")
		}
		return gatehouse.Errorf(gatehouse.EINVALID, "refers to something that does not exist")
	case kindCheck:
		return gatehouse.Errorf(gatehouse.EINVALID, "breaks a constraint of the record")
	}
	return fmt.Errorf("%s: %w", d.name, err)
}
