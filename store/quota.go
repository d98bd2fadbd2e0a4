package store

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

// LockOrg implements gatehouse.Tx.
func (t *tx) LockOrg(ctx context.Context, orgID string) error {
	return t.lockRow(ctx, "organizations", "organization", orgID)
}

var countQueries = map[string]string{
	"stacks":       "SELECT count(*) FROM stacks WHERE org_id = ?",
	"environments": "SELECT count(*) FROM environments WHERE org_id = ?",
	"descriptors":  "SELECT count(*) FROM descriptors WHERE org_id = ? AND default_identifier = ''",
	"tokens":       "SELECT count(*) FROM tokens WHERE org_id = ? AND deleted = FALSE",
}

// CountOrg implements gatehouse.Tx.
func (t *tx) CountOrg(ctx context.Context, orgID, kind string) (int, error) {
	q, ok := countQueries[kind]
	if !ok {
		return 0, fmt.Errorf("count %s: not a countable kind", kind)
	}
	var n int
	if err := t.queryRow(ctx, q, orgID).Scan(&n); err != nil {
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
