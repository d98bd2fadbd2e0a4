package storetest

import (
	"testing"

	"github.com/gatehouse-iam/gatehouse"
)

func testUsers(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	err := s.Write(ctx, func(tx gatehouse.Tx) error { return tx.CreateUser(ctx, &gatehouse.User{Login: f.user.Login}) })
	wantCode(t, err, gatehouse.ECONFLICT, "duplicate login")
	u := *f.user
	u.Name, u.AvatarURL = "Ada Lovelace", "https://example.com/a.png"
	write(t, s, func(tx gatehouse.Tx) error { return tx.UpdateUser(ctx, &u) })
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetUserByLogin(ctx, f.user.Login)
		if err != nil {
			return err
		}
		if got.Name != "Ada Lovelace" || got.AvatarURL != u.AvatarURL || got.Email != "ada@example.com" {
			t.Errorf("user = %+v", got)
		}
		_, err = tx.GetUser(ctx, gatehouse.NewID())
		wantCode(t, err, gatehouse.ENOTFOUND, "unknown user")
		return nil
	})
}
