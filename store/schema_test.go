package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/store/storetest"
)

// column is what both dialects' migrations must agree on about a column:
// its table, name and nullability. Types differ by dialect (TEXT and
// VARCHAR, BLOB and BYTEA, ...), so they are not compared.
type column struct {
	Table, Name string
	Nullable    bool
}

func (c column) String() string {
	null := "NOT NULL"
	if c.Nullable {
		null = "NULL"
	}
	return fmt.Sprintf("%s.%s %s", c.Table, c.Name, null)
}

// TestMigrationsAgree migrates a fresh SQLite and a fresh PostgreSQL
// database (when GATEHOUSE_TEST_POSTGRES_DSN is set) and compares their
// tables and columns, so that a migration written for one dialect only
// fails here.
func TestMigrationsAgree(t *testing.T) {
	lite := sqliteColumns(t)
	if len(lite) < 50 {
		t.Fatalf("SQLite has %d columns; the listing is broken", len(lite))
	}
	pg := postgresColumns(t)
	for _, c := range lite {
		if !slices.Contains(pg, c) {
			t.Errorf("SQLite has %s; PostgreSQL does not", c)
		}
	}
	for _, c := range pg {
		if !slices.Contains(lite, c) {
			t.Errorf("PostgreSQL has %s; SQLite does not", c)
		}
	}
}

// skipTable reports the tables that are no part of the schema: goose's
// version table and SQLite's own.
func skipTable(name string) bool {
	return name == "goose_db_version" || strings.HasPrefix(name, "sqlite_")
}

func sqliteColumns(t *testing.T) []column {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "gatehouse.db"), Options{AuditKey: storetest.AuditKey})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A primary key is NOT NULL in PostgreSQL whether or not it says so;
	// SQLite takes it as written.
	return listColumns(t, db.read, `SELECT m.name, p.name, p."notnull" = 0 AND p.pk = 0
		FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' ORDER BY m.name, p.cid`)
}

func postgresColumns(t *testing.T) []column {
	dsn, schema, drop := storetest.NewPostgresSchema(t)
	defer drop()
	db, err := Open(context.Background(), dsn, Options{AuditKey: storetest.AuditKey})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return listColumns(t, db.read, `SELECT table_name, column_name, is_nullable = 'YES' FROM information_schema.columns
		WHERE table_schema = $1 ORDER BY table_name, ordinal_position`, schema)
}

// listColumns runs q, which lists table, column and nullability, and
// returns the columns of the schema's own tables.
func listColumns(t *testing.T, db *sql.DB, q string, args ...any) []column {
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.Table, &c.Name, &c.Nullable); err != nil {
			t.Fatal(err)
		}
		if !skipTable(c.Table) {
			cols = append(cols, c)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return cols
}
