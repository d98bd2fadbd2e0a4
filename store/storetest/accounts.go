package storetest

import (
	"encoding/json"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
)

func testAccounts(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	a := &gatehouse.Account{OrgID: f.org.ID, Name: "aws-prod", Tags: map[string]string{"cloud": "aws"}}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateAccount(ctx, a) })
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateAccount(ctx, &gatehouse.Account{OrgID: f.org.ID, Name: "aws-prod"})
	})
	wantCode(t, err, gatehouse.ECONFLICT, "duplicate account")
	a.Tags["env"] = "prod"
	a.Details = json.RawMessage(`{"provider":"aws"}`)
	write(t, s, func(tx gatehouse.Tx) error { return tx.UpdateAccount(ctx, a) })
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetAccount(ctx, f.org.ID, "aws-prod")
		if err != nil || got.Tags["env"] != "prod" || got.ID != a.ID || string(got.Details) != `{"provider":"aws"}` {
			t.Errorf("account = %+v, %v", got, err)
		}
		list, _, err := tx.ListAccounts(ctx, f.org.ID, gatehouse.ListOptions{})
		if len(list) != 1 {
			t.Errorf("ListAccounts = %d", len(list))
		}
		return err
	})
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteAccount(ctx, a.ID) })
	err = s.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetAccountByID(ctx, a.ID); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "deleted account")
}
