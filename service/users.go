package service

import (
	"context"
	"slices"

	"github.com/gatehouse-iam/gatehouse"
)

// UserLogins names users by id, in one read: the logins of the ids that
// are users (an id that is not is left out).
func (s *Service) UserLogins(ctx context.Context, ids []string) (logins map[string]string, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		logins, err = userLogins(ctx, tx, ids)
		return err
	})
	return logins, err
}

func userLogins(ctx context.Context, tx gatehouse.UserTx, ids []string) (map[string]string, error) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	users, err := tx.GetUsers(ctx, ids)
	if err != nil {
		return nil, err
	}
	logins := make(map[string]string, len(users))
	for _, u := range users {
		logins[u.ID] = u.Login
	}
	return logins, nil
}
