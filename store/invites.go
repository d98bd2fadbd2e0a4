package store

import (
	"context"

	"github.com/gatehouse-iam/gatehouse"
)

const (
	inviteFields = "id, org_id, user_id, role_id, created, created_by, expires"
	inviteCols   = inviteFields + " FROM invitations"
)

func scanInvite(s scanner) (*gatehouse.Invite, error) {
	i := &gatehouse.Invite{}
	var created, expires int64
	err := s.Scan(&i.ID, &i.OrgID, &i.UserID, &i.RoleID, &created, &i.CreatedBy, &expires)
	i.Created, i.Expires = fromUS(created), fromUS(expires)
	return i, err
}

// CreateInvite stores an invitation. An expired one for the same user and
// organization gives way; a live one is ECONFLICT (the unique index
// decides, so two concurrent invitations cannot both land).
func (t *tx) CreateInvite(ctx context.Context, i *gatehouse.Invite) error {
	if err := t.roleInOrg(ctx, i.OrgID, i.RoleID); err != nil {
		return err
	}
	if i.ID == "" {
		i.ID = gatehouse.NewID()
	}
	i.Created = t.stamp()
	if _, err := t.exec(ctx, opDelete, "DELETE FROM invitations WHERE org_id = ? AND user_id = ? AND expires <= ?",
		i.OrgID, i.UserID, us(i.Created)); err != nil {
		return err
	}
	_, err := t.exec(ctx, opWrite, "INSERT INTO invitations (id, org_id, user_id, role_id, created, created_by, expires) VALUES (?, ?, ?, ?, ?, ?, ?)",
		i.ID, i.OrgID, i.UserID, i.RoleID, us(i.Created), i.CreatedBy, us(i.Expires))
	return invalidAs(conflictAs(err, "the user has a pending invitation to the organization already"),
		"the invitation's organization, user or role does not exist")
}

func (t *tx) GetInvite(ctx context.Context, id string) (*gatehouse.Invite, error) {
	return get(ctx, t, "invitation", scanInvite, "SELECT "+inviteCols+" WHERE id = ?", id)
}

func (t *tx) ListInvites(ctx context.Context, orgID string) ([]*gatehouse.Invite, error) {
	return all(ctx, t, scanInvite, "SELECT "+inviteCols+" WHERE org_id = ? ORDER BY created, id", orgID)
}

func (t *tx) ListUserInvites(ctx context.Context, userID string) ([]*gatehouse.Invite, error) {
	return all(ctx, t, scanInvite, "SELECT "+inviteCols+" WHERE user_id = ? ORDER BY created, id", userID)
}

func (t *tx) UpdateInvite(ctx context.Context, i *gatehouse.Invite) error {
	if err := t.roleInOrg(ctx, i.OrgID, i.RoleID); err != nil {
		return err
	}
	return t.execOne(ctx, opWrite, "invitation", "UPDATE invitations SET role_id = ?, expires = ? WHERE id = ? AND org_id = ?",
		i.RoleID, us(i.Expires), i.ID, i.OrgID)
}

// TakeInvite is one DELETE ... RETURNING: on PostgreSQL at READ COMMITTED a
// second taker waits for the first's row lock and then finds no row.
func (t *tx) TakeInvite(ctx context.Context, id string) (*gatehouse.Invite, error) {
	return get(ctx, t, "invitation", scanInvite, "DELETE FROM invitations WHERE id = ? RETURNING "+inviteFields, id)
}
