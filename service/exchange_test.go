package service_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/service"
	"github.com/gatehouse-iam/gatehouse/store"
)

// failingReads is a store whose reads fail: the database is down.
type failingReads struct {
	gatehouse.Store
	err error
}

func (s failingReads) Read(context.Context, func(gatehouse.Tx) error) error { return s.err }

// peekOnly is an ID token verifier that names an issuer and verifies
// nothing.
type peekOnly struct{ gatehouse.IDTokenVerifier }

func (peekOnly) PeekIssuer(string) (string, error) { return "https://issuer.example", nil }
func (peekOnly) Verify(context.Context, *gatehouse.Issuer, string, []string) (map[string]any, error) {
	return nil, errors.New("not verified")
}

// TestExchangeStoreFailureIsInternal: an issuer the organization has not
// registered refuses the grant (invalid_grant), but a store that cannot
// answer the lookup is an internal error with its cause, not a refusal.
func TestExchangeStoreFailureIsInternal(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "g.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	az := authz.New(db, time.Now)
	svc := service.New(db, az, time.Now)
	if _, err := svc.Bootstrap(ctx, "acme", "admin"); err != nil {
		t.Fatal(err)
	}
	if err := az.LoadAll(ctx); err != nil {
		t.Fatal(err)
	}
	req := service.ExchangeRequest{OrgName: "acme", Audience: "urn:pulumi:org:acme", SubjectToken: "x.y.z", Kind: gatehouse.TokenOrganization}

	_, err = svc.Exchange(ctx, peekOnly{}, req)
	var oe *service.OAuthError
	if !errors.As(err, &oe) || oe.Code != "invalid_grant" {
		t.Fatalf("unregistered issuer: %v, want invalid_grant", err)
	}

	down := errors.New("database is down")
	_, err = service.New(failingReads{db, down}, az, time.Now).Exchange(ctx, peekOnly{}, req)
	if errors.As(err, &oe) || !errors.Is(err, down) || gatehouse.ErrorCode(err) != gatehouse.EINTERNAL {
		t.Fatalf("store failure: %v, want the internal error %q", err, down)
	}
}
