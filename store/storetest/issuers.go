package storetest

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

func testIssuers(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	iss := &gatehouse.Issuer{OrgID: f.org.ID, Name: "GitHub", URL: "https://token.actions.githubusercontent.com",
		Issuer: "https://token.actions.githubusercontent.com", Thumbprints: []string{"abc123"}, MaxExpiration: 2 * time.Hour}
	pol := &gatehouse.AuthPolicy{Policies: json.RawMessage(`[{"decision":"deny","tokenType":"organization","rules":{}}]`)}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateIssuer(ctx, iss, pol) })
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateIssuer(ctx, &gatehouse.Issuer{OrgID: f.org.ID, Name: "again", URL: iss.URL, Issuer: iss.Issuer}, &gatehouse.AuthPolicy{})
	})
	wantCode(t, err, gatehouse.ECONFLICT, "issuer registered twice")
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.FindIssuer(ctx, f.org.ID, iss.Issuer)
		if err != nil {
			return err
		}
		if got.ID != iss.ID || !slices.Equal(got.Thumbprints, []string{"abc123"}) || got.MaxExpiration != 2*time.Hour || got.JWKS != nil {
			t.Errorf("FindIssuer = %+v", got)
		}
		p, err := tx.GetIssuerPolicy(ctx, f.org.ID, iss.ID)
		if err != nil || p.Version != 1 || p.ID != pol.ID {
			t.Errorf("issuer policy = %+v, %v", p, err)
		}
		list, err := tx.ListIssuers(ctx, f.org.ID)
		if len(list) != 1 {
			t.Errorf("ListIssuers = %d", len(list))
		}
		return err
	})
	used := time.Now().Truncate(time.Microsecond).UTC()
	before := revision(t, s, f.org.ID)
	write(t, s, func(tx gatehouse.Tx) error { return tx.TouchIssuer(ctx, f.org.ID, iss.ID, used) })
	if after := revision(t, s, f.org.ID); after != before {
		t.Errorf("TouchIssuer bumped the revision")
	}
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetIssuer(ctx, f.org.ID, iss.ID)
		if err != nil || !got.LastUsed.Equal(used) {
			t.Errorf("last used = %v, %v", got.LastUsed, err)
		}
		return nil
	})
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.TouchIssuer(ctx, f.org.ID, gatehouse.NewID(), used) })
	wantCode(t, err, gatehouse.ENOTFOUND, "touch an unknown issuer")
	iss.Name, iss.JWKS = "GitHub Actions", json.RawMessage(`{"keys":[]}`)
	write(t, s, func(tx gatehouse.Tx) error { return tx.UpdateIssuer(ctx, iss) })
	upd := &gatehouse.AuthPolicy{ID: pol.ID, OrgID: f.org.ID, Policies: json.RawMessage(`[{"decision":"allow","tokenType":"organization","rules":{"sub":"repo:acme/*"}}]`)}
	write(t, s, func(tx gatehouse.Tx) error { return tx.UpdateAuthPolicy(ctx, upd, 1) })
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.UpdateAuthPolicy(ctx, upd, 1) })
	wantCode(t, err, gatehouse.ECONFLICT, "stale policy version")
	read(t, s, func(tx gatehouse.Tx) error {
		p, err := tx.GetAuthPolicy(ctx, f.org.ID, pol.ID)
		if err != nil || p.Version != 2 || string(p.Policies) != string(upd.Policies) {
			t.Errorf("policy after update = %+v, %v", p, err)
		}
		got, err := tx.GetIssuer(ctx, f.org.ID, iss.ID)
		if got.Name != "GitHub Actions" || string(got.JWKS) != `{"keys":[]}` {
			t.Errorf("issuer after update = %+v", got)
		}
		return err
	})
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteIssuer(ctx, f.org.ID, iss.ID) })
	err = s.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetAuthPolicy(ctx, f.org.ID, pol.ID); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "policy of a deleted issuer")
}
