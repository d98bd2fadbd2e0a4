package store_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/store"
	"github.com/gatehouse-iam/gatehouse/store/storetest"
)

// The large organization of the storage benchmarks.
const (
	benchStacks = 10000
	benchRoles  = 500
	benchUsers  = 5000
	benchTeams  = 200
	benchTokens = 50000
)

type seeded struct {
	db      *store.DB
	org     *gatehouse.Organization
	digests [][]byte
}

var (
	seedMu sync.Mutex
	seeds  = map[string]*seeded{}
)

// seedOnce returns the organization the benchmarks of this process named
// name on dialect, seeding a database of its own with fill the first
// time (it lives until the process ends).
func seedOnce(b *testing.B, name, dialect string, fill func(db *store.DB) *seeded) *seeded {
	seedMu.Lock()
	defer seedMu.Unlock()
	if s, ok := seeds[name+"/"+dialect]; ok {
		return s
	}
	var db *store.DB
	if dialect == "postgres" {
		var cleanup func()
		db, _, cleanup = newPostgresSchema(b)
		processCleanups = append(processCleanups, cleanup)
	} else {
		dir, err := os.MkdirTemp("", "gatehouse-bench-")
		if err != nil {
			b.Fatal(err)
		}
		db, err = store.Open(ctx, filepath.Join(dir, "bench.db"), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		processCleanups = append(processCleanups, func() { db.Close(); os.RemoveAll(dir) })
	}
	s := fill(db)
	seeds[name+"/"+dialect] = s
	return s
}

// inBatches calls fn for 0..n-1, 1,000 calls per transaction.
func inBatches(b *testing.B, db *store.DB, n int, fn func(tx gatehouse.Tx, i int) error) {
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

// seedLarge fills a database with the large organization, once per dialect
// per process, in batches of 1,000 rows per transaction.
func seedLarge(b *testing.B, dialect string) *seeded {
	return seedOnce(b, "large", dialect, func(db *store.DB) *seeded { return fillLarge(b, db) })
}

func fillLarge(b *testing.B, db *store.DB) *seeded {
	s := &seeded{db: db, org: &gatehouse.Organization{Name: "large"}}
	r := rand.New(rand.NewPCG(1, 2))
	var roles []string
	batch := func(n int, fn func(tx gatehouse.Tx, i int) error) { inBatches(b, db, n, fn) }
	batch(1, func(tx gatehouse.Tx, _ int) error { return tx.CreateOrg(ctx, s.org) })
	batch(benchRoles, func(tx gatehouse.Tx, i int) error {
		d := &gatehouse.Descriptor{OrgID: s.org.ID, Name: fmt.Sprintf("role-%d", i), Purpose: gatehouse.PurposeRole,
			Details: []byte(`{"__type":"PermissionDescriptorAllow","permissions":["stack:read","stack:write"]}`)}
		roles = append(roles, d.ID)
		err := tx.CreateDescriptor(ctx, d)
		roles[len(roles)-1] = d.ID
		return err
	})
	var users []string
	batch(benchUsers, func(tx gatehouse.Tx, i int) error {
		u := &gatehouse.User{Login: fmt.Sprintf("user-%d", i)}
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		users = append(users, u.ID)
		return tx.AddMember(ctx, &gatehouse.Membership{OrgID: s.org.ID, UserID: u.ID, RoleID: roles[r.IntN(len(roles))]})
	})
	batch(benchTeams, func(tx gatehouse.Tx, i int) error {
		tm := &gatehouse.Team{OrgID: s.org.ID, Kind: gatehouse.TeamPulumi, Name: fmt.Sprintf("team-%d", i)}
		if err := tx.CreateTeam(ctx, tm); err != nil {
			return err
		}
		for j := 0; j < 10; j++ {
			if err := tx.PutTeamMember(ctx, &gatehouse.TeamMember{TeamID: tm.ID, UserID: users[r.IntN(len(users))], Role: gatehouse.TeamRoleMember}); err != nil {
				return err
			}
		}
		return tx.AddTeamRole(ctx, tm.ID, roles[r.IntN(len(roles))])
	})
	batch(benchStacks, func(tx gatehouse.Tx, i int) error {
		return tx.CreateStack(ctx, &gatehouse.Stack{OrgID: s.org.ID, Project: fmt.Sprintf("proj-%d", i%50), Name: fmt.Sprintf("stack-%d", i), Tags: benchTags(r)})
	})
	batch(benchTokens, func(tx gatehouse.Tx, i int) error {
		_, d := gatehouse.NewTokenValue()
		s.digests = append(s.digests, d)
		tk := &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: s.org.ID, Name: fmt.Sprintf("token-%d", i), Digest: d, RoleID: roles[r.IntN(len(roles))]}
		if i%2 == 0 {
			tk.Kind, tk.OrgID, tk.Name, tk.RoleID = gatehouse.TokenPersonal, "", "", ""
			tk.UserID = users[r.IntN(len(users))]
		}
		return tx.CreateToken(ctx, tk)
	})
	return s
}

func benchTags(r *rand.Rand) map[string]string {
	keys := []string{"env", "team", "region", "tier", "owner", "cost-center", "service", "compliance"}
	tags := map[string]string{}
	for _, k := range keys {
		if r.IntN(2) == 0 {
			tags[k] = fmt.Sprintf("%s-%d", k, r.IntN(20))
		}
	}
	return tags
}

func dialects(b *testing.B, fn func(b *testing.B, dialect string)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, "sqlite") })
	b.Run("postgres", func(b *testing.B) {
		storetest.PostgresDSN(b)
		fn(b, "postgres")
	})
}

// BenchmarkLoadSnapshot loads the whole large organization: 10,000 tagged
// stacks, 500 roles, 5,000 members, 200 teams, 50,000 tokens.
func BenchmarkLoadSnapshot(b *testing.B) {
	dialects(b, func(b *testing.B, dialect string) {
		s := seedLarge(b, dialect)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			var snap *gatehouse.Snapshot
			if err := s.db.Read(ctx, func(tx gatehouse.Tx) (err error) {
				snap, err = tx.LoadSnapshot(ctx, s.org.ID)
				return err
			}); err != nil {
				b.Fatal(err)
			}
			if len(snap.Stacks) != benchStacks || len(snap.Tokens) != benchTokens || len(snap.Members) != benchUsers {
				b.Fatalf("snapshot: %d stacks, %d tokens, %d members", len(snap.Stacks), len(snap.Tokens), len(snap.Members))
			}
		}
	})
}

// BenchmarkTokenByDigest looks tokens up by digest with nothing cached
// above the database: one read transaction per lookup, as an uncached
// authentication would.
func BenchmarkTokenByDigest(b *testing.B) {
	dialects(b, func(b *testing.B, dialect string) {
		s := seedLarge(b, dialect)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			d := s.digests[(i*7919)%len(s.digests)]
			if err := s.db.Read(ctx, func(tx gatehouse.Tx) error {
				_, err := tx.GetTokenByDigest(ctx, d)
				return err
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCreateStacks creates tagged stacks in transactions of 1,000;
// run with -benchtime 100x for 100,000 stacks.
func BenchmarkCreateStacks(b *testing.B) {
	dialects(b, func(b *testing.B, dialect string) {
		var db *store.DB
		if dialect == "postgres" {
			db, _ = openPostgresSchema(b)
		} else {
			var err error
			db, err = store.Open(ctx, filepath.Join(b.TempDir(), "create.db"), store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
		}
		org := &gatehouse.Organization{Name: "bulk"}
		if err := db.Write(ctx, func(tx gatehouse.Tx) error { return tx.CreateOrg(ctx, org) }); err != nil {
			b.Fatal(err)
		}
		r := rand.New(rand.NewPCG(3, 4))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := db.Write(ctx, func(tx gatehouse.Tx) error {
				for j := 0; j < 1000; j++ {
					if err := tx.CreateStack(ctx, &gatehouse.Stack{OrgID: org.ID, Project: "p", Name: fmt.Sprintf("s-%d-%d", i, j), Tags: benchTags(r)}); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "stacks/s")
	})
}
