package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
)

const stackCols = "id, org_id, project, name, tags, created_by, version, lease_update, lease_expiry, created, modified FROM stacks"

func scanStack(s scanner) (*gatehouse.Stack, error) {
	st := &gatehouse.Stack{}
	var tags string
	var lease, created, modified int64
	if err := s.Scan(&st.ID, &st.OrgID, &st.Project, &st.Name, &tags, &st.CreatedBy, &st.Version, &st.ActiveUpdate, &lease, &created, &modified); err != nil {
		return nil, err
	}
	var err error
	st.Tags, err = parseTags(tags)
	st.LeaseExpiry, st.Created, st.Modified = fromUS(lease), fromUS(created), fromUS(modified)
	return st, err
}

func (t *tx) CreateStack(ctx context.Context, s *gatehouse.Stack) error {
	if s.ID == "" {
		s.ID = gatehouse.NewID()
	}
	tags, err := tagsText(s.Tags)
	if err != nil {
		return err
	}
	s.Created, s.Version = t.stamp(), 0
	s.Modified = s.Created
	_, err = t.exec(ctx, opWrite, "INSERT INTO stacks (id, org_id, project, name, tags, created_by, version, created, modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		s.ID, s.OrgID, s.Project, s.Name, tags, s.CreatedBy, s.Version, us(s.Created), us(s.Modified))
	if err != nil {
		return invalidAs(conflictAs(err, "stack %s/%s already exists", s.Project, s.Name), "organization %q does not exist", s.OrgID)
	}
	return t.bump(ctx, s.OrgID, key(gatehouse.ChangeStack, s.ID))
}

func (t *tx) GetStack(ctx context.Context, orgID, project, name string) (*gatehouse.Stack, error) {
	return get(ctx, t, "stack", scanStack, "SELECT "+stackCols+" WHERE org_id = ? AND project = ? AND name = ?", orgID, project, name)
}

func (t *tx) GetStackByID(ctx context.Context, id string) (*gatehouse.Stack, error) {
	return get(ctx, t, "stack", scanStack, "SELECT "+stackCols+" WHERE id = ?", id)
}

// ListStacks lists an organization's stacks (of one project, if given)
// by id, the order that stays stable under renames.
func (t *tx) ListStacks(ctx context.Context, orgID, project string, opts gatehouse.ListOptions) ([]*gatehouse.Stack, string, error) {
	where, args := "org_id = ?", []any{orgID}
	if project != "" {
		where += " AND project = ?"
		args = append(args, project)
	}
	return page[*gatehouse.Stack]{
		from: stackCols, where: where, args: args, keyCol: "org_id", scan: scanStack,
		key: func(s *gatehouse.Stack) cursor { return cursor{Key: s.OrgID, ID: s.ID} },
	}.run(ctx, t, opts)
}

func (t *tx) StackHeads(ctx context.Context, orgID string, ids []string) (map[string]gatehouse.StackHead, error) {
	out := make(map[string]gatehouse.StackHead, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	if len(ids) > gatehouse.MaxListLimit {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "%d stacks, over the limit of %d", len(ids), gatehouse.MaxListLimit)
	}
	args := make([]any, 0, len(ids)+1)
	args = append(args, orgID)
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := t.query(ctx, "SELECT id, version, modified FROM stacks WHERE org_id = ? AND id IN (?"+strings.Repeat(", ?", len(ids)-1)+")", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var h gatehouse.StackHead
		var modified int64
		if err := rows.Scan(&id, &h.Version, &modified); err != nil {
			return nil, err
		}
		h.Modified = fromUS(modified)
		out[id] = h
	}
	return out, rows.Err()
}

func (t *tx) UpdateStack(ctx context.Context, s *gatehouse.Stack) error {
	tags, err := tagsText(s.Tags)
	if err != nil {
		return err
	}
	s.Modified = t.stamp()
	err = t.execOne(ctx, opWrite, "stack", "UPDATE stacks SET project = ?, name = ?, tags = ?, modified = ? WHERE org_id = ? AND id = ?",
		s.Project, s.Name, tags, us(s.Modified), s.OrgID, s.ID)
	if err != nil {
		return conflictAs(err, "stack %s/%s already exists", s.Project, s.Name)
	}
	return t.bump(ctx, s.OrgID, key(gatehouse.ChangeStack, s.ID))
}

// DeleteStack deletes a stack with its history and the grants on it.
func (t *tx) DeleteStack(ctx context.Context, id string) error {
	return t.deleteEntity(ctx, "stack", "stacks", id)
}

func (t *tx) PutStackKey(ctx context.Context, stackID string, wrapped []byte) error {
	if len(wrapped) == 0 {
		return gatehouse.Errorf(gatehouse.EINVALID, "a stack key must not be empty")
	}
	_, err := t.exec(ctx, opWrite, "INSERT INTO stack_keys (stack_id, wrapped, created) VALUES (?, ?, ?)", stackID, wrapped, us(t.stamp()))
	return invalidAs(conflictAs(err, "the stack has a data key already"), "the stack does not exist")
}

func (t *tx) GetStackKey(ctx context.Context, stackID string) ([]byte, error) {
	var wrapped []byte
	err := t.queryRow(ctx, "SELECT wrapped FROM stack_keys WHERE stack_id = ?", stackID).Scan(&wrapped)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("stack key")
	}
	if err != nil {
		return nil, t.d.mapErr(err, opWrite)
	}
	return wrapped, nil
}
