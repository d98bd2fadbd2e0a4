package authz_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/service"
	"github.com/gatehouse-iam/gatehouse/store"
	"github.com/gatehouse-iam/gatehouse/store/storetest"
)

// size is an organization to seed: the large one is 10,000
// stacks, 500 roles, 5,000 members and 50,000 tokens.
type size struct {
	name                           string
	stacks, roles, members, tokens int
}

var (
	empty = size{name: "empty", roles: 1}
	large = size{name: "large", stacks: 10_000, roles: 500, members: 5_000, tokens: 50_000}
)

// seeded is an organization seeded through the store, with a fresh
// authorizer and service over it (the snapshot built at their start).
type seeded struct {
	db     *store.DB
	az     *authz.Authorizer
	svc    *service.Service
	org    *gatehouse.Organization
	roles  []string // custom roles, each held by members/roles members and tokens/roles tokens
	stacks []string
	users  []string
	tokens []string // token values
	set    string   // the built-in stack-write set
}

// roleDetails is a role granting stack-write on the stacks of one team.
func roleDetails(set string, team int) json.RawMessage {
	d, _ := json.Marshal(map[string]any{"__type": "PermissionDescriptorCondition",
		"condition": map[string]any{"__type": "PermissionExpressionEqual",
			"left":  map[string]any{"__type": "PermissionExpressionTag", "context": map[string]any{"__type": "PermissionExpressionStack"}, "key": "team"},
			"right": map[string]any{"__type": "PermissionLiteralExpressionString", "value": fmt.Sprintf("team-%d", team)}},
		"subNode": map[string]any{"__type": "PermissionDescriptorCompose", "permissionDescriptors": []string{set}}})
	return d
}

func seed(b testing.TB, dsn string, sz size) *seeded {
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	s := &seeded{db: db}
	boot := service.New(db, authz.New(db, nil), nil)
	if _, err := boot.Bootstrap(ctx, "acme", "admin"); err != nil {
		b.Fatal(err)
	}
	err = db.Write(ctx, func(tx gatehouse.Tx) (err error) {
		if s.org, err = tx.GetOrgByName(ctx, "acme"); err != nil {
			return err
		}
		s.org.Settings.Quotas.Tokens = 10_000_000 // the benchmark measures writes, not the quota
		if err := tx.UpdateOrg(ctx, s.org); err != nil {
			return err
		}
		ds, _, err := tx.ListDescriptors(ctx, s.org.ID, gatehouse.PurposeSet, gatehouse.ListOptions{Limit: 1000})
		for _, d := range ds {
			if d.DefaultIdentifier == "stack-write" {
				s.set = d.ID
			}
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	batch := func(n int, fn func(tx gatehouse.Tx, i int) error) {
		for start := 0; start < n; start += 1000 {
			if err := db.Write(ctx, func(tx gatehouse.Tx) error {
				for i := start; i < min(start+1000, n); i++ {
					if err := fn(tx, i); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
	}
	batch(sz.roles, func(tx gatehouse.Tx, i int) error {
		d := &gatehouse.Descriptor{OrgID: s.org.ID, Name: fmt.Sprintf("team role %d", i), Purpose: gatehouse.PurposeRole,
			Details: roleDetails(s.set, i%50), Refs: []string{s.set}}
		err := tx.CreateDescriptor(ctx, d)
		s.roles = append(s.roles, d.ID)
		return err
	})
	batch(sz.stacks, func(tx gatehouse.Tx, i int) error {
		st := &gatehouse.Stack{OrgID: s.org.ID, Project: "p", Name: fmt.Sprintf("s%d", i),
			Tags: map[string]string{"team": fmt.Sprintf("team-%d", i%50), "env": "prod", "region": "eu", "tier": "1"}}
		err := tx.CreateStack(ctx, st)
		s.stacks = append(s.stacks, st.ID)
		return err
	})
	batch(sz.members, func(tx gatehouse.Tx, i int) error {
		u := &gatehouse.User{Login: fmt.Sprintf("user%d", i)}
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		s.users = append(s.users, u.ID)
		return tx.AddMember(ctx, &gatehouse.Membership{OrgID: s.org.ID, UserID: u.ID, RoleID: s.roles[i%len(s.roles)]})
	})
	batch(sz.tokens, func(tx gatehouse.Tx, i int) error {
		v, d := gatehouse.NewTokenValue()
		s.tokens = append(s.tokens, v)
		return tx.CreateToken(ctx, &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: s.org.ID, Name: fmt.Sprintf("t%d", i),
			Digest: d, RoleID: s.roles[i%len(s.roles)]})
	})
	s.az = authz.New(db, nil)
	if err := s.az.LoadAll(ctx); err != nil {
		b.Fatal(err)
	}
	s.svc = service.New(db, s.az, nil)
	return s
}

// latencies runs op b.N times and reports its p50 and p99.
func latencies(b *testing.B, op func(i int)) {
	b.Helper()
	timed(b, func(i int) time.Duration {
		start := time.Now()
		op(i)
		return time.Since(start)
	})
}

// timed runs op b.N times and reports the p50 and p99 of the durations it
// returns.
func timed(b *testing.B, op func(i int) time.Duration) {
	b.Helper()
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ds = append(ds, op(i))
	}
	b.StopTimer()
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkWrites: what a write costs, commit and snapshot delta, on an
// empty organization and on the large one (10,000 stacks, 500 roles,
// 5,000 members, 50,000 tokens), on SQLite: a role update (its holders
// recompiled), a token created, and a role change that grants a member a
// stack, timed until a check sees it.
func BenchmarkWrites(b *testing.B) {
	for _, sz := range []size{empty, large} {
		s := seed(b, filepath.Join(b.TempDir(), "g.db"), sz)
		role := s.roles[7%len(s.roles)]
		b.Run("RoleUpdate/"+sz.name, func(b *testing.B) {
			latencies(b, func(i int) {
				if _, err := s.svc.UpdateDescriptor(ctx, s.org.ID, role, service.DescriptorInput{Details: roleDetails(s.set, i%50)}); err != nil {
					b.Fatal(err)
				}
			})
			b.ReportMetric(float64(s.az.Rebuilds()), "rebuilds")
		})
		// The snapshot's share of a role update: the write made, then the
		// refresh (read the change log and the role, recompile the role
		// and its holders, install) timed alone.
		b.Run("RoleDelta/"+sz.name, func(b *testing.B) {
			timed(b, func(i int) time.Duration {
				if err := s.db.Write(ctx, func(tx gatehouse.Tx) error {
					d, err := tx.GetDescriptor(ctx, s.org.ID, role)
					if err != nil {
						return err
					}
					d.Details = roleDetails(s.set, i%50)
					return tx.UpdateDescriptor(ctx, d, d.Version)
				}); err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				if err := s.az.Refresh(ctx, s.org.ID); err != nil {
					b.Fatal(err)
				}
				return time.Since(start)
			})
		})
		b.Run("TokenCreate/"+sz.name, func(b *testing.B) {
			latencies(b, func(i int) {
				if _, _, err := s.svc.CreateToken(ctx, service.TokenInput{Kind: gatehouse.TokenOrganization, OrgID: s.org.ID,
					Name: fmt.Sprintf("bench%d-%d", b.N, i), RoleID: role}); err != nil {
					b.Fatal(err)
				}
			})
		})
		// The same create without the service's quota count (a count(*)
		// over the organization's tokens, not the snapshot's cost): the
		// store's insert and the token's installation.
		b.Run("TokenCreateNoQuota/"+sz.name, func(b *testing.B) {
			latencies(b, func(i int) {
				_, d := gatehouse.NewTokenValue()
				t := &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: s.org.ID, Name: fmt.Sprintf("raw%d-%d", b.N, i), RoleID: role, Digest: d}
				if err := s.db.Write(ctx, func(tx gatehouse.Tx) error { return tx.CreateToken(ctx, t) }); err != nil {
					b.Fatal(err)
				}
				s.az.AddToken(t)
			})
		})
		b.Run("GrantVisible/"+sz.name, func(b *testing.B) {
			grantVisible(b, s, sz)
		})
	}
}

// grantVisible changes a token's role so that it gains stack:write on a
// stack, and times from the write's start until a check allows it.
func grantVisible(b *testing.B, s *seeded, sz size) {
	v, d := gatehouse.NewTokenValue()
	name := gatehouse.NewID()[:8]
	tok := &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: s.org.ID, Name: name, Digest: d, RoleID: s.roles[0]}
	st := &gatehouse.Stack{OrgID: s.org.ID, Project: "p", Name: name, Tags: map[string]string{"team": "team-0"}}
	if err := s.db.Write(ctx, func(tx gatehouse.Tx) error {
		if err := tx.CreateStack(ctx, st); err != nil {
			return err
		}
		return tx.CreateToken(ctx, tok)
	}); err != nil {
		b.Fatal(err)
	}
	if err := s.az.Refresh(ctx, s.org.ID); err != nil {
		b.Fatal(err)
	}
	id, err := s.az.Authenticate("token " + v)
	if err != nil {
		b.Fatal(err)
	}
	e, err := s.az.EntityByID(ctx, s.org.ID, st.ID)
	if err != nil {
		b.Fatal(err)
	}
	sc := catalog.MustLookup("stack:write")
	latencies(b, func(i int) {
		team := 0
		if i%2 == 0 {
			team = 1 // the role no longer grants the stack, then again
		}
		if _, err := s.svc.UpdateDescriptor(ctx, s.org.ID, s.roles[0], service.DescriptorInput{Details: roleDetails(s.set, team)}); err != nil {
			b.Fatal(err)
		}
		if ok, err := s.az.Decide(ctx, id, s.org.ID, sc, e); err != nil || ok != (team == 0) {
			b.Fatalf("after the write, a check says %v, %v", ok, err)
		}
	})
}

// BenchmarkStartup: building a large organization's snapshot at start
// (LoadAll), and the heap it holds, per 10,000 stacks. The size comes
// from GATEHOUSE_BENCH_STACKS (default 100,000) with 50,000 tokens.
func BenchmarkStartup(b *testing.B) {
	n := 100_000
	if v := os.Getenv("GATEHOUSE_BENCH_STACKS"); v != "" {
		fmt.Sscan(v, &n)
	}
	s := seed(b, filepath.Join(b.TempDir(), "g.db"), size{name: "startup", stacks: n, roles: 50, members: 100, tokens: 50_000})
	var heap float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		az := authz.New(s.db, nil)
		if err := az.LoadAll(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap = float64(after.HeapAlloc-before.HeapAlloc) / float64(n/10_000) / (1 << 20)
		runtime.KeepAlive(az)
		b.StartTimer()
	}
	b.ReportMetric(heap, "heap-MiB/10k-stacks")
}

// BenchmarkReplicaRevocation: on PostgreSQL, a token revoked through one
// replica, timed until another replica (listening for announcements)
// refuses it; the large organization. Needs GATEHOUSE_TEST_POSTGRES_DSN.
func BenchmarkReplicaRevocation(b *testing.B) {
	for _, sz := range []size{empty, large} {
		b.Run(sz.name, func(b *testing.B) {
			dsn := storetest.PostgresSchema(b)
			if sz.tokens < b.N {
				sz.tokens = b.N
			}
			s := seed(b, dsn, sz)
			db2, err := store.Open(ctx, dsn, store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db2.Close()
			az2 := authz.New(db2, nil)
			if err := az2.LoadAll(ctx); err != nil {
				b.Fatal(err)
			}
			wctx, cancel := context.WithCancel(ctx)
			defer cancel()
			go az2.Watch(wctx, time.Hour, db2.Changes(wctx), nil)
			rebuilds := az2.Rebuilds()
			latencies(b, func(i int) {
				id, err := az2.Authenticate("token " + s.tokens[i])
				if err != nil {
					b.Fatal(err)
				}
				if err := s.svc.RevokeToken(ctx, id.Token.ID, func(*gatehouse.Token) error { return nil }); err != nil {
					b.Fatal(err)
				}
				for deadline := time.Now().Add(10 * time.Second); ; {
					if _, err := az2.Authenticate("token " + s.tokens[i]); err != nil {
						break
					}
					if time.Now().After(deadline) {
						b.Fatal("replica 2 never saw the revocation")
					}
					time.Sleep(50 * time.Microsecond)
				}
			})
			b.ReportMetric(float64(az2.Rebuilds()-rebuilds), "rebuilds")
		})
	}
}
