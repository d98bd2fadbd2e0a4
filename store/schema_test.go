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
	tables := queryStrings(t, db.read, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
	var cols []column
	for _, table := range tables {
		if skipTable(table) {
			continue
		}
		rows, err := db.read.Query("SELECT name, \"notnull\", pk FROM pragma_table_info(?)", table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var name string
			var notNull, pk int
			if err := rows.Scan(&name, &notNull, &pk); err != nil {
				t.Fatal(err)
			}
			// A primary key is NOT NULL in PostgreSQL whether or not
			// it says so; SQLite takes it as written.
			cols = append(cols, column{table, name, notNull == 0 && pk == 0})
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return cols
}

func postgresColumns(t *testing.T) []column {
	dsn, schema, drop := storetest.NewPostgresSchema(t)
	defer drop()
	db, err := Open(context.Background(), dsn, Options{AuditKey: storetest.AuditKey})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.read.Query(`SELECT table_name, column_name, is_nullable FROM information_schema.columns
		WHERE table_schema = $1 ORDER BY table_name, ordinal_position`, schema)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols []column
	for rows.Next() {
		var c column
		var nullable string
		if err := rows.Scan(&c.Table, &c.Name, &nullable); err != nil {
			t.Fatal(err)
		}
		c.Nullable = nullable == "YES"
		if !skipTable(c.Table) {
			cols = append(cols, c)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return cols
}

func queryStrings(t *testing.T, db *sql.DB, q string) []string {
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
