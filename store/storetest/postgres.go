package storetest

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// PostgresDSN returns the test server's DSN from GATEHOUSE_TEST_POSTGRES_DSN,
// or skips the test when it is not set.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("GATEHOUSE_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("GATEHOUSE_TEST_POSTGRES_DSN is not set")
	}
	return dsn
}

// NewPostgresSchema creates a schema of its own on the test server, so that
// runs never collide, and returns a DSN whose search_path is that schema,
// the schema's name, and a function that drops it. It skips the test when
// there is no test server.
func NewPostgresSchema(t testing.TB) (dsn, schema string, drop func()) {
	t.Helper()
	base := PostgresDSN(t)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	schema = fmt.Sprintf("gh_test_%d", rand.Uint64())
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema, schema, func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	}
}

// PostgresSchema is NewPostgresSchema, dropped when the test ends (after
// the cleanups registered later, such as closing stores opened on it).
func PostgresSchema(t testing.TB) string {
	t.Helper()
	dsn, _, drop := NewPostgresSchema(t)
	t.Cleanup(drop)
	return dsn
}
