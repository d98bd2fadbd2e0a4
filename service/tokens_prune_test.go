package service_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
)

// Expired and revoked tokens are deleted once the retention has passed
// (a revoked one counted from the first run that saw it), on the fake
// clock; live ones stay, and no pruned name can be taken again.
func TestPruneTokens(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			opts := []testenv.Option{testenv.Start(start)}
			if pg {
				opts = append(opts, testenv.Postgres())
			}
			testPruneTokens(t, testenv.New(t, opts...))
		})
	}
}

func testPruneTokens(t *testing.T, e *testenv.Env) {
	ctx := context.Background()
	mk := func(name string, expires time.Duration) (*gatehouse.Token, string) {
		t.Helper()
		in := service.TokenInput{Kind: gatehouse.TokenOrganization, OrgID: e.Org.ID, Name: name}
		if expires > 0 {
			in.Expires = e.Clock.Now().Add(expires).Unix()
		}
		tk, v, err := e.Svc.CreateToken(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return tk, v
	}
	live, liveValue := mk("live", 0)
	_, expiringValue := mk("expiring", time.Hour)
	revoked, _ := mk("revoked", 0)
	if err := e.Svc.RevokeToken(ctx, revoked.ID, func(*gatehouse.Token) error { return nil }); err != nil {
		t.Fatal(err)
	}
	const retention = 24 * time.Hour
	prune := func(wantExpired, wantRevoked int) {
		t.Helper()
		res, err := e.Svc.PruneTokens(ctx, retention)
		if err != nil {
			t.Fatal(err)
		}
		if res.Expired != wantExpired || res.Revoked != wantRevoked {
			t.Errorf("at %s: pruned %+v; want %d expired and %d revoked", e.Clock.Now().Format(time.RFC3339), res, wantExpired, wantRevoked)
		}
	}
	e.Clock.Advance(2 * time.Hour)
	prune(0, 0) // expired an hour ago; the revocation is seen now
	e.Clock.Advance(retention - time.Hour)
	prune(1, 0) // expired a day ago; revoked, as first seen, 23 hours ago
	e.Clock.Advance(2 * time.Hour)
	prune(0, 1)
	prune(0, 0)

	if _, err := e.Authz.Authenticate("token " + expiringValue); err == nil {
		t.Error("the pruned token still authenticates")
	}
	if _, err := e.Authz.Authenticate("token " + liveValue); err != nil {
		t.Errorf("the live token: %v", err)
	}
	if err := e.DB.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetToken(ctx, live.ID); return err }); err != nil {
		t.Errorf("the live token after the prune: %v", err)
	}
	if err := e.DB.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetToken(ctx, revoked.ID); return err }); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("the revoked token after the prune: %v, want it gone", err)
	}
	for _, name := range []string{"expiring", "revoked", "live"} {
		_, _, err := e.Svc.CreateToken(ctx, service.TokenInput{Kind: gatehouse.TokenOrganization, OrgID: e.Org.ID, Name: name})
		wantCode(t, "reusing the name "+name, err, gatehouse.ECONFLICT, "never reused")
	}
	var n int
	if err := e.DB.Read(ctx, func(tx gatehouse.Tx) (err error) { n, err = tx.CountOrg(ctx, e.Org.ID, "tokens"); return err }); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("the tokens quota counts %d after the prune; want 1 (live)", n)
	}
	wantCode(t, "a zero retention", func() error { _, err := e.Svc.PruneTokens(ctx, 0); return err }(), gatehouse.EINVALID, "retention")
}

// A pruned name stays reserved when creates of it race the prune: exactly
// one of them wins if it runs first, none after.
func TestPruneTokensRaceCreate(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		for i := range 5 {
			name := fmt.Sprintf("ci-%d", i)
			tk, _, err := e.Svc.CreateToken(ctx, service.TokenInput{Kind: gatehouse.TokenOrganization, OrgID: e.Org.ID, Name: name})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Svc.RevokeToken(ctx, tk.ID, func(*gatehouse.Token) error { return nil }); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.Svc.PruneTokens(ctx, time.Hour); err != nil { // stamps them
			t.Fatal(err)
		}
		e.Clock.Advance(2 * time.Hour)
		var wg sync.WaitGroup
		var created atomic.Int32
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i%4 == 0 {
					if _, err := e.Svc.PruneTokens(ctx, time.Hour); err != nil {
						t.Error(err)
					}
					return
				}
				_, _, err := e.Svc.CreateToken(ctx, service.TokenInput{Kind: gatehouse.TokenOrganization, OrgID: e.Org.ID, Name: fmt.Sprintf("ci-%d", i%5)})
				switch gatehouse.ErrorCode(err) {
				case "":
					created.Add(1)
				case gatehouse.ECONFLICT:
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if n := created.Load(); n != 0 {
			t.Errorf("%d tokens took a revoked or pruned token's name", n)
		}
	})
}

// Many writers race for an organization's last slots: exactly the quota
// is created, on both dialects, and the counters agree with the rows.
func TestQuotaRaceForLastSlot(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		by := e.Identity(t, e.Admin)
		const have, quota, writers = 3, 8, 32
		for i := range have {
			if _, err := e.Svc.CreateStack(ctx, e.Org.ID, by, service.StackInput{Project: "p", Name: fmt.Sprintf("pre-%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		q := gatehouse.DefaultQuotas
		q.Stacks = quota
		if err := e.Svc.UpdateSettings(ctx, e.Org.ID, service.SettingsUpdate{Quotas: &q}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var created, refused atomic.Int32
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := e.Svc.CreateStack(ctx, e.Org.ID, by, service.StackInput{Project: "p", Name: fmt.Sprintf("s-%d", i)})
				switch gatehouse.ErrorCode(err) {
				case "":
					created.Add(1)
				case gatehouse.ECONFLICT:
					refused.Add(1)
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if c, r := created.Load(), refused.Load(); c != quota-have || r != writers-(quota-have) {
			t.Errorf("%d created and %d refused; want %d and %d", c, r, quota-have, writers-(quota-have))
		}
		// Deleting one frees its slot in the counter.
		st, err := e.Svc.Stack(ctx, e.Org.ID, "p", "pre-0")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Svc.DeleteStack(ctx, st, false); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.CreateStack(ctx, e.Org.ID, by, service.StackInput{Project: "p", Name: "after-delete"}); err != nil {
			t.Errorf("a create after a delete freed a slot: %v", err)
		}
		_, err = e.Svc.CreateStack(ctx, e.Org.ID, by, service.StackInput{Project: "p", Name: "one-too-many"})
		wantCode(t, "a create past the quota", err, gatehouse.ECONFLICT, "limit of 8")
	})
}
