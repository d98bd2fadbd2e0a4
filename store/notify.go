package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
)

// notifyChannel is the PostgreSQL channel on which every committed change
// that affects access announces its organization's id.
const notifyChannel = "gatehouse_revisions"

// Changes returns the ids of organizations whose revision other processes
// change, as PostgreSQL announces them, until ctx ends. SQLite has no such
// announcements: the channel is nil, and callers rely on polling. Delivery
// is best effort (a full channel drops ids): callers also poll.
func (db *DB) Changes(ctx context.Context) <-chan string {
	if db.d != postgresDialect {
		return nil
	}
	out := make(chan string, 256)
	go func() {
		defer close(out)
		backoff := 100 * time.Millisecond
		for ctx.Err() == nil {
			err := db.listen(ctx, out)
			if ctx.Err() != nil {
				return
			}
			_ = err // the connection broke: listen again after a pause
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 5*time.Second)
		}
	}()
	return out
}

func (db *DB) listen(ctx context.Context, out chan<- string) error {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		sc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return errors.New("not a pgx connection")
		}
		pc := sc.Conn()
		if _, err := pc.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
			return err
		}
		defer pc.Exec(context.Background(), "UNLISTEN "+notifyChannel)
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				return err
			}
			select {
			case out <- n.Payload:
			default:
			}
		}
	})
}
