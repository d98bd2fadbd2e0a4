package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

// LockOrg implements gatehouse.Tx. A transaction that holds the lock
// already (a batch's, then a quota check's) does not ask again.
func (t *tx) LockOrg(ctx context.Context, orgID string) error {
	if t.locked[orgID] {
		return nil
	}
	if err := t.lockRow(ctx, "organizations", "organization", orgID); err != nil {
		return err
	}
	if t.locked == nil {
		t.locked = map[string]bool{}
	}
	t.locked[orgID] = true
	return nil
}

// countColumns are the org_counts columns CountOrg reads: counters that
// triggers keep in the transaction of every insert, delete and revocation
// (migration 00014), so that a quota check costs one row, not a scan.
var countColumns = map[string]string{
	"stacks":       "stacks",
	"environments": "environments",
	"descriptors":  "descriptors",
	"tokens":       "tokens",
}

// CountOrg implements gatehouse.Tx. The caller holds the organization's
// lock (Tx.LockOrg), so that the count and the insert it allows are one
// step for every writer; the counter row is the organization's own.
func (t *tx) CountOrg(ctx context.Context, orgID, kind string) (int, error) {
	col, ok := countColumns[kind]
	if !ok {
		return 0, fmt.Errorf("count %s: not a countable kind", kind)
	}
	var n int
	err := t.queryRow(ctx, "SELECT "+col+" FROM org_counts WHERE org_id = ?", orgID).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, t.d.mapErr(err, opWrite)
	}
	return n, nil
}

// PruneExchangedTokens implements gatehouse.Tx.
func (t *tx) PruneExchangedTokens(ctx context.Context, orgID string, before time.Time) (int, error) {
	ids, err := all(ctx, t, scanString, "UPDATE tokens SET deleted = ? WHERE org_id = ? AND exchanged = ? AND deleted = ? AND expires > 0 AND expires <= ? RETURNING id",
		true, orgID, true, false, us(before))
	if err != nil {
		return 0, err
	}
	if len(ids) > 0 {
		keys := make([]gatehouse.ChangeKey, len(ids))
		for i, id := range ids {
			keys[i] = key(gatehouse.ChangeToken, id)
		}
		if err := t.bump(ctx, orgID, keys...); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}
