package store

import (
	"context"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
)

const userCols = "id, login, name, email, avatar_url, created, managed_by FROM users"

func scanUser(s scanner) (*gatehouse.User, error) {
	u := &gatehouse.User{}
	var created int64
	var managedBy *string
	err := s.Scan(&u.ID, &u.Login, &u.Name, &u.Email, &u.AvatarURL, &created, &managedBy)
	u.Created, u.ManagedBy = fromUS(created), deref(managedBy)
	return u, err
}

func (t *tx) CreateUser(ctx context.Context, u *gatehouse.User) error {
	if u.ID == "" {
		u.ID = gatehouse.NewID()
	}
	u.Created = t.stamp()
	_, err := t.exec(ctx, opWrite, "INSERT INTO users (id, login, name, email, avatar_url, created, managed_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
		u.ID, u.Login, u.Name, u.Email, u.AvatarURL, us(u.Created), nullable(u.ManagedBy))
	return invalidAs(conflictAs(err, "user %q already exists", u.Login), "the user's managing organization does not exist")
}

func (t *tx) GetUser(ctx context.Context, id string) (*gatehouse.User, error) {
	return get(ctx, t, "user", scanUser, "SELECT "+userCols+" WHERE id = ?", id)
}

func (t *tx) GetUserByLogin(ctx context.Context, login string) (*gatehouse.User, error) {
	return get(ctx, t, "user", scanUser, "SELECT "+userCols+" WHERE login = ?", login)
}

func (t *tx) GetUsers(ctx context.Context, ids []string) ([]*gatehouse.User, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
	return all(ctx, t, scanUser, "SELECT "+userCols+" WHERE id IN ("+marks+") ORDER BY id", args...)
}

// The user's record is in the snapshot of every organization it is a
// member of (the identity its tokens authenticate as, the names access
// lists show): each moves to a new revision that says the member changed.
func (t *tx) UpdateUser(ctx context.Context, u *gatehouse.User) error {
	err := t.execOne(ctx, opWrite, "user", "UPDATE users SET login = ?, name = ?, email = ?, avatar_url = ?, managed_by = ? WHERE id = ?",
		u.Login, u.Name, u.Email, u.AvatarURL, nullable(u.ManagedBy), u.ID)
	if err != nil {
		return invalidAs(conflictAs(err, "user %q already exists", u.Login), "the user's managing organization does not exist")
	}
	orgs, err := all(ctx, t, scanString, "SELECT org_id FROM memberships WHERE user_id = ? ORDER BY org_id", u.ID)
	if err != nil {
		return err
	}
	for _, org := range orgs {
		if err := t.bump(ctx, org, key(gatehouse.ChangeMember, u.ID)); err != nil {
			return err
		}
	}
	return nil
}
