package store

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestDeadConn: what counts as a connection that died before commit, and
// so is run again; an error from COMMIT never is, whatever it says.
func TestDeadConn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"terminated backend (57P01)", fmt.Errorf("begin: %w", &pgconn.PgError{Code: "57P01"}), true},
		{"crash shutdown (57P02)", &pgconn.PgError{Code: "57P02"}, true},
		{"EOF", fmt.Errorf("read: %w", io.EOF), true},
		{"unexpected EOF", io.ErrUnexpectedEOF, true},
		{"bad connection", driver.ErrBadConn, true},
		{"EOF from COMMIT", &afterCommit{fmt.Errorf("commit: %w", io.EOF)}, false},
		{"57P01 from COMMIT", fmt.Errorf("postgres: %w", &afterCommit{&pgconn.PgError{Code: "57P01"}}), false},
		{"a unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"a serialization failure", &pgconn.PgError{Code: "40001"}, false},
		{"anything else", errors.New("boom"), false},
	}
	for _, tt := range tests {
		if got := deadConn(tt.err); got != tt.want {
			t.Errorf("%s: deadConn = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestTrouble: PostgreSQL's SQLSTATEs that say the server is unwell are
// named as such, disk full first; the rest are not the database's health.
func TestTrouble(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code, want string
	}{
		{"53100", "disk full"},
		{"57014", "statement timeout"},
		{"08006", "SQLSTATE 08006"},
		{"57P03", "SQLSTATE 57P03"},
		{"53300", "SQLSTATE 53300"},
		{"23505", ""},
		{"42P01", ""},
	}
	for _, tt := range tests {
		got := postgresDialect.trouble(fmt.Errorf("postgres: %w", &pgconn.PgError{Code: tt.code}))
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("SQLSTATE %s: %q, want %q", tt.code, got, tt.want)
		}
	}
	if got := sqliteDialect.trouble(io.EOF); got != "" {
		t.Errorf("SQLite and EOF: %q, want nothing (only PostgreSQL has connections to lose)", got)
	}
}
