package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// notifyChannel is the PostgreSQL channel on which every committed change
// that affects access announces its organization's id.
const notifyChannel = "gatehouse_revisions"

// Changes returns the changes other processes (other DBs) commit, as
// PostgreSQL announces them, until ctx ends. A change with an empty OrgID
// means "announcements may have been missed (the connection was
// re-established): check everything". SQLite has no announcements: the channel is nil, and
// callers rely on polling. The first LISTEN is in place when Changes
// returns, so that nothing committed afterwards is missed.
func (db *DB) Changes(ctx context.Context) <-chan gatehouse.Change {
	if db.d != postgresDialect {
		return nil
	}
	out := make(chan gatehouse.Change, 256)
	first, err := db.listenConn(ctx)
	go func() {
		defer close(out)
		backoff := 100 * time.Millisecond
		for ctx.Err() == nil {
			if err == nil {
				err = db.wait(ctx, first, out)
				first.Close()
				first = nil
			}
			if ctx.Err() != nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 5*time.Second)
			if first, err = db.listenConn(ctx); err == nil {
				backoff = 100 * time.Millisecond
				select {
				case out <- gatehouse.Change{}: // resynchronize: announcements may have been missed
				default:
				}
			}
		}
	}()
	return out
}

// listenConn takes a connection out of the pool and LISTENs on it.
func (db *DB) listenConn(ctx context.Context) (*sql.Conn, error) {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if err := withPgConn(conn, func(pc *pgx.Conn) error {
		_, err := pc.Exec(ctx, "LISTEN "+notifyChannel)
		return err
	}); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// wait relays notifications until the connection breaks or ctx ends.
func (db *DB) wait(ctx context.Context, conn *sql.Conn, out chan<- gatehouse.Change) error {
	return withPgConn(conn, func(pc *pgx.Conn) error {
		defer pc.Exec(context.Background(), "UNLISTEN "+notifyChannel)
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				return err
			}
			c, origin := parseAnnouncement(n.Payload)
			if origin == db.origin {
				continue // this DB's own change: its process installed it
			}
			select {
			case out <- c:
			default: // full: the caller's polling catches up
			}
		}
	})
}

func withPgConn(conn *sql.Conn, fn func(*pgx.Conn) error) error {
	return conn.Raw(func(driverConn any) error {
		sc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return errors.New("not a pgx connection")
		}
		return fn(sc.Conn())
	})
}

// parseAnnouncement reads "ORG ORIGIN REVISION[ CHANGES]" (tx.announce):
// the change set when announced, and the tokens when creating them was all
// the change did. Anything it cannot read stays a plain change of the
// organization (whose listener reads the change log).
func parseAnnouncement(payload string) (gatehouse.Change, string) {
	f := strings.Fields(payload)
	if len(f) == 0 {
		return gatehouse.Change{}, ""
	}
	c := gatehouse.Change{OrgID: f[0]}
	origin := ""
	if len(f) > 1 {
		origin = f[1]
	}
	if len(f) < 3 {
		return c, origin
	}
	rev, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil || rev <= 0 {
		return c, origin
	}
	c.Revision = rev
	if len(f) == 3 {
		return c, origin
	}
	all, keys, ok := gatehouse.DecodeChanges(strings.Join(f[3:], " "))
	if !ok {
		return c, origin
	}
	c.Changes = &gatehouse.ChangeSet{Revision: rev, All: all, Keys: keys}
	tokensOnly := !all && len(keys) > 0
	for _, k := range keys {
		tokensOnly = tokensOnly && k.Kind == gatehouse.ChangeToken
	}
	if tokensOnly {
		for _, k := range keys {
			c.Tokens = append(c.Tokens, k.ID)
		}
	}
	return c, origin
}
