package store

import (
	"context"

	"github.com/gatehouse-iam/gatehouse"
)

func (t *tx) SaveCheckpoint(ctx context.Context, c *gatehouse.Checkpoint) error {
	c.Created = t.stamp()
	res, err := t.exec(ctx, opWrite, "UPDATE stacks SET version = ?, modified = ? WHERE id = ? AND version = ?",
		c.Version, us(c.Created), c.StackID, c.Version-1)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		if _, err := t.GetStackByID(ctx, c.StackID); err != nil {
			return err
		}
		return gatehouse.Errorf(gatehouse.ECONFLICT, "checkpoint version %d does not follow the stack's current version", c.Version)
	}
	_, err = t.exec(ctx, opWrite, "INSERT INTO checkpoints (stack_id, version, data, created) VALUES (?, ?, ?, ?)",
		c.StackID, c.Version, c.Data, us(c.Created))
	return err
}

func (t *tx) ReplaceCheckpoint(ctx context.Context, c *gatehouse.Checkpoint) error {
	return t.execOne(ctx, opWrite, "checkpoint", "UPDATE checkpoints SET data = ? WHERE stack_id = ? AND version = ? AND version = (SELECT version FROM stacks WHERE id = ?)",
		c.Data, c.StackID, c.Version, c.StackID)
}

func (t *tx) GetCheckpoint(ctx context.Context, stackID string, version int) (*gatehouse.Checkpoint, error) {
	scan := func(s scanner) (*gatehouse.Checkpoint, error) {
		c := &gatehouse.Checkpoint{}
		var created int64
		err := s.Scan(&c.StackID, &c.Version, &c.Data, &created)
		c.Created = fromUS(created)
		return c, err
	}
	if version == 0 {
		return get(ctx, t, "checkpoint", scan, "SELECT c.stack_id, c.version, c.data, c.created FROM checkpoints c JOIN stacks s ON s.id = c.stack_id AND s.version = c.version WHERE c.stack_id = ?", stackID)
	}
	return get(ctx, t, "checkpoint", scan, "SELECT stack_id, version, data, created FROM checkpoints WHERE stack_id = ? AND version = ?", stackID, version)
}
