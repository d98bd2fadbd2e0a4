package service_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
	"github.com/gatehouse-iam/gatehouse/state"
	"github.com/gatehouse-iam/gatehouse/store"
)

// An anonymous open session (yaml/open, what stacks use) opened on one
// replica is read on another; only by the token that opened it, in its
// organization, until it expires; stored by digest with its values
// sealed; pruned by a later open once expired.
func TestYAMLSessionsAcrossReplicas(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		by := e.Identity(t, e.Admin)
		db, err := store.Open(ctx, e.DSN, store.Options{Now: e.Clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		other := service.New(db, authz.New(db, e.Clock.Now), e.Clock.Now)
		if other.Keys, err = state.NewKeyring(bytes.Repeat([]byte{7}, 32)); err != nil {
			t.Fatal(err)
		}
		allow := service.ImportAuthorizer(func(context.Context, *gatehouse.Environment) (time.Duration, error) { return 0, nil })
		def := []byte("values:\n  pw:\n    fn::secret: hunter2\n  region: us-west-2\n")
		id, diags, err := e.Svc.OpenYAML(ctx, e.Org.ID, by, def, time.Hour, allow)
		if err != nil || diags.HasErrors() {
			t.Fatal(err, diags)
		}
		env, err := other.OpenedYAML(ctx, e.Org.ID, by, id)
		if err != nil || env.Properties["pw"].Value != "hunter2" || !env.Properties["pw"].Secret || env.Properties["region"].Value != "us-west-2" {
			t.Fatalf("read on the other replica: %+v %v", env, err)
		}
		var stored *gatehouse.EnvironmentSession
		e.DB.Read(ctx, func(tx gatehouse.Tx) (err error) {
			stored, err = tx.GetEnvironmentSession(ctx, gatehouse.TokenDigest(id))
			return err
		})
		if stored == nil || bytes.Contains(stored.Sealed, []byte("hunter2")) || bytes.Contains(stored.Sealed, []byte("us-west-2")) || bytes.Contains(stored.Digest, []byte(id)) {
			t.Fatalf("stored session in the clear: %+v", stored)
		}
		stranger := *by
		tok := *by.Token
		tok.ID = "another-token"
		stranger.Token = &tok
		notFound := func(what string, err error) {
			t.Helper()
			if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND || !strings.Contains(err.Error(), "open session") {
				t.Errorf("%s: %v", what, err)
			}
		}
		_, err = other.OpenedYAML(ctx, e.Org.ID, &stranger, id)
		notFound("another token", err)
		_, err = other.OpenedYAML(ctx, "another-org", by, id)
		notFound("another organization", err)
		_, err = other.OpenedYAML(ctx, e.Org.ID, by, id+"x")
		notFound("a wrong id", err)

		e.Clock.Advance(time.Hour + time.Second)
		_, err = other.OpenedYAML(ctx, e.Org.ID, by, id)
		notFound("an expired session", err)
		if _, _, err := other.OpenYAML(ctx, e.Org.ID, by, def, 0, allow); err != nil {
			t.Fatal(err)
		}
		err = e.DB.Read(ctx, func(tx gatehouse.Tx) error {
			_, err := tx.GetEnvironmentSession(ctx, gatehouse.TokenDigest(id))
			return err
		})
		if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			t.Errorf("the expired session was not pruned by the next open: %v", err)
		}
	})
}
