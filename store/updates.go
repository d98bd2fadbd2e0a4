package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

const updateCols = "id, stack_id, kind, status, version, lease_digest, lease_expiry, starter_digest, sequence, info, created, started, finished FROM stack_updates"

func scanUpdate(s scanner) (*gatehouse.StackUpdate, error) {
	u := &gatehouse.StackUpdate{}
	var info string
	var lease, created, started, finished int64
	err := s.Scan(&u.ID, &u.StackID, &u.Kind, &u.Status, &u.Version, &u.LeaseDigest, &lease, &u.StarterDigest, &u.Sequence, &info, &created, &started, &finished)
	u.Info = json.RawMessage(info)
	u.LeaseExpiry, u.Created, u.Started, u.Finished = fromUS(lease), fromUS(created), fromUS(started), fromUS(finished)
	return u, err
}

func (t *tx) CreateUpdate(ctx context.Context, u *gatehouse.StackUpdate) error {
	if u.ID == "" {
		u.ID = gatehouse.NewID()
	}
	if len(u.Info) == 0 {
		u.Info = json.RawMessage(`{}`)
	}
	u.Created = t.stamp()
	_, err := t.exec(ctx, opWrite, "INSERT INTO stack_updates (id, stack_id, kind, status, version, lease_digest, lease_expiry, starter_digest, sequence, info, created, started, finished) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		u.ID, u.StackID, u.Kind, u.Status, u.Version, u.LeaseDigest, us(u.LeaseExpiry), u.StarterDigest, u.Sequence, string(u.Info), us(u.Created), us(u.Started), us(u.Finished))
	return invalidAs(err, "stack %q does not exist", u.StackID)
}

func (t *tx) GetUpdate(ctx context.Context, id string) (*gatehouse.StackUpdate, error) {
	return get(ctx, t, "update", scanUpdate, "SELECT "+updateCols+" WHERE id = ?", id)
}

func (t *tx) SaveUpdate(ctx context.Context, u *gatehouse.StackUpdate) error {
	if len(u.Info) == 0 {
		u.Info = json.RawMessage(`{}`)
	}
	return t.execOne(ctx, opWrite, "update", "UPDATE stack_updates SET status = ?, version = ?, lease_digest = ?, lease_expiry = ?, starter_digest = ?, sequence = ?, info = ?, started = ?, finished = ? WHERE id = ?",
		u.Status, u.Version, u.LeaseDigest, us(u.LeaseExpiry), u.StarterDigest, u.Sequence, string(u.Info), us(u.Started), us(u.Finished), u.ID)
}

// ListUpdates lists a stack's updates, newest first.
func (t *tx) ListUpdates(ctx context.Context, stackID string, opts gatehouse.ListOptions) ([]*gatehouse.StackUpdate, string, error) {
	return page[*gatehouse.StackUpdate]{
		from: updateCols, where: "stack_id = ?", args: []any{stackID}, keyCol: "created", numeric: true, desc: true, scan: scanUpdate,
		key: func(u *gatehouse.StackUpdate) cursor { return cursor{Num: us(u.Created), ID: u.ID} },
	}.run(ctx, t, opts)
}

// LockStack implements gatehouse.Tx.
func (t *tx) LockStack(ctx context.Context, stackID string) error {
	return t.lockRow(ctx, "stacks", "stack", stackID)
}

// AcquireStackLease takes or renews the stack's lease in one conditional
// UPDATE of the stack's row: every condition is on that row, so that two
// writers racing on PostgreSQL serialize on its row lock and the second
// sees the first's lease.
func (t *tx) AcquireStackLease(ctx context.Context, stackID, updateID string, expiry, now time.Time) error {
	res, err := t.exec(ctx, opWrite, "UPDATE stacks SET lease_update = ?, lease_expiry = ? WHERE id = ? AND (lease_update = '' OR lease_update = ? OR lease_expiry <= ?)",
		updateID, us(expiry), stackID, updateID, us(now))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		if _, err := t.GetStackByID(ctx, stackID); err != nil {
			return err
		}
		return gatehouse.Errorf(gatehouse.ECONFLICT, "Another update is currently in progress.")
	}
	return nil
}

func (t *tx) ReleaseStackLease(ctx context.Context, stackID, updateID string) error {
	_, err := t.exec(ctx, opWrite, "UPDATE stacks SET lease_update = '', lease_expiry = 0 WHERE id = ? AND lease_update = ?", stackID, updateID)
	return err
}

func (t *tx) AppendUpdateEvents(ctx context.Context, updateID string, events []gatehouse.UpdateEvent) error {
	for _, e := range events {
		if _, err := t.exec(ctx, opWrite, "INSERT INTO update_events (update_id, sequence, data) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
			updateID, e.Sequence, e.Data); err != nil {
			return invalidAs(err, "update %q does not exist", updateID)
		}
	}
	return nil
}

func (t *tx) ListUpdateEvents(ctx context.Context, updateID string, after, limit int) ([]gatehouse.UpdateEvent, error) {
	if limit <= 0 || limit > gatehouse.MaxListLimit {
		limit = gatehouse.MaxListLimit
	}
	rows, err := t.query(ctx, "SELECT sequence, data FROM update_events WHERE update_id = ? AND sequence > ? ORDER BY sequence LIMIT ?", updateID, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []gatehouse.UpdateEvent
	for rows.Next() {
		var e gatehouse.UpdateEvent
		if err := rows.Scan(&e.Sequence, &e.Data); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
