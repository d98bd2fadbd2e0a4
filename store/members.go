package store

import (
	"context"

	"github.com/gatehouse-iam/gatehouse"
)

const memberCols = "org_id, user_id, role_id, suspended, created FROM memberships"

func scanMember(s scanner) (*gatehouse.Membership, error) {
	m := &gatehouse.Membership{}
	var created int64
	err := s.Scan(&m.OrgID, &m.UserID, &m.RoleID, &m.Suspended, &created)
	m.Created = fromUS(created)
	return m, err
}

func (t *tx) AddMember(ctx context.Context, m *gatehouse.Membership) error {
	if err := t.roleInOrg(ctx, m.OrgID, m.RoleID); err != nil {
		return err
	}
	m.Created = t.stamp()
	_, err := t.exec(ctx, opWrite, "INSERT INTO memberships (org_id, user_id, role_id, suspended, created) VALUES (?, ?, ?, ?, ?)",
		m.OrgID, m.UserID, m.RoleID, m.Suspended, us(m.Created))
	if err != nil {
		err = conflictAs(err, "the user is already a member")
		return invalidAs(err, "the organization, user or role does not exist")
	}
	return t.bump(ctx, m.OrgID, key(gatehouse.ChangeMember, m.UserID))
}

func (t *tx) GetMember(ctx context.Context, orgID, userID string) (*gatehouse.Membership, error) {
	return get(ctx, t, "member", scanMember, "SELECT "+memberCols+" WHERE org_id = ? AND user_id = ?", orgID, userID)
}

// ListMembers pages by user id.
func (t *tx) ListMembers(ctx context.Context, orgID string, opts gatehouse.ListOptions) ([]*gatehouse.Membership, string, error) {
	return page[*gatehouse.Membership]{
		from: "org_id, user_id, role_id, suspended, created, user_id AS id FROM memberships", where: "org_id = ?", args: []any{orgID},
		keyCol: "user_id", scan: func(s scanner) (*gatehouse.Membership, error) {
			m := &gatehouse.Membership{}
			var created int64
			var id string
			err := s.Scan(&m.OrgID, &m.UserID, &m.RoleID, &m.Suspended, &created, &id)
			m.Created = fromUS(created)
			return m, err
		},
		key: func(m *gatehouse.Membership) cursor { return cursor{Key: m.UserID, ID: m.UserID} },
	}.run(ctx, t, opts)
}

func (t *tx) ListUserMemberships(ctx context.Context, userID string) ([]*gatehouse.Membership, error) {
	return all(ctx, t, scanMember, "SELECT "+memberCols+" WHERE user_id = ? ORDER BY org_id", userID)
}

func (t *tx) UpdateMember(ctx context.Context, m *gatehouse.Membership) error {
	if err := t.roleInOrg(ctx, m.OrgID, m.RoleID); err != nil {
		return err
	}
	err := t.execOne(ctx, opWrite, "member", "UPDATE memberships SET role_id = ?, suspended = ? WHERE org_id = ? AND user_id = ?",
		m.RoleID, m.Suspended, m.OrgID, m.UserID)
	if err != nil {
		return invalidAs(err, "role %q does not exist", m.RoleID)
	}
	return t.bump(ctx, m.OrgID, key(gatehouse.ChangeMember, m.UserID))
}

func (t *tx) RemoveMember(ctx context.Context, orgID, userID string) error {
	if err := t.execOne(ctx, opDelete, "member", "DELETE FROM memberships WHERE org_id = ? AND user_id = ?", orgID, userID); err != nil {
		return err
	}
	if _, err := t.exec(ctx, opDelete, "DELETE FROM team_members WHERE user_id = ? AND team_id IN (SELECT id FROM teams WHERE org_id = ?)", userID, orgID); err != nil {
		return err
	}
	if _, err := t.exec(ctx, opDelete, "DELETE FROM grants WHERE org_id = ? AND user_id = ?", orgID, userID); err != nil {
		return err
	}
	return t.bump(ctx, orgID, key(gatehouse.ChangeMember, userID))
}
