package bench

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/policy"
	"github.com/gatehouse-iam/gatehouse/policy/workload"
)

// gatehouseEngine decides with Gatehouse's compiled grants.
type gatehouseEngine struct{ grants []*policy.Grants }

func (gatehouseEngine) Name() string { return "gatehouse" }

func (g gatehouseEngine) Decide(q *workload.Query) bool {
	return g.grants[q.Principal].Decide(q.Scope, q.Entity)
}

type setup struct {
	org     *workload.Org
	engines []Engine
}

var (
	setupsMu sync.Mutex
	setups   = map[int]*setup{}
)

func setupOf(tb testing.TB, stacks int) *setup {
	tb.Helper()
	setupsMu.Lock()
	defer setupsMu.Unlock()
	if s, ok := setups[stacks]; ok {
		return s
	}
	org := workload.Generate(workload.Sized(stacks))
	compiled := org.Compile()
	g := gatehouseEngine{}
	for p := range org.Principals {
		g.grants = append(g.grants, compiled.Grants(org, p))
	}
	ced, err := NewCedar(org)
	if err != nil {
		tb.Fatal(err)
	}
	cas, err := NewCasbin(org)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Logf("%d stacks: %d roles, cedar %d policies, casbin %d lines", stacks, len(org.Roles), ced.Policies, cas.Lines)
	s := &setup{org: org, engines: []Engine{g, ced, cas}}
	setups[stacks] = s
	return s
}

var sizes = []int{100, 1000, 10000}

// TestEnginesAgree checks, before any timing, that every engine returns the
// same decision on the workload's queries.
func TestEnginesAgree(t *testing.T) {
	for _, n := range sizes {
		s := setupOf(t, n)
		queries := 400
		if n >= 10000 {
			queries = 150 // casbin takes milliseconds per decision here
		}
		allowed := 0
		for i, q := range s.org.Queries(11, queries, true, false) {
			want := s.engines[0].Decide(&q)
			if want {
				allowed++
			}
			for _, e := range s.engines[1:] {
				if got := e.Decide(&q); got != want {
					t.Fatalf("%d stacks, query %d (principal %d, %s on %+v): gatehouse %v, %s %v",
						n, i, q.Principal, q.Scope, *q.Entity, want, e.Name(), got)
				}
			}
		}
		if allowed == 0 || allowed == queries {
			t.Errorf("%d stacks: %d of %d allowed; the comparison would be meaningless", n, allowed, queries)
		}
	}
}

// BenchmarkEngines times each engine on the same queries, per organization
// size.
func BenchmarkEngines(b *testing.B) {
	for _, n := range sizes {
		s := setupOf(b, n)
		qs := s.org.Queries(7, 1024, true, true)
		for _, e := range s.engines {
			b.Run(fmt.Sprintf("stacks=%d/engine=%s", n, e.Name()), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					e.Decide(&qs[i%len(qs)])
				}
			})
		}
	}
}

// BenchmarkRatio runs every engine on the same batch of queries each
// iteration and reports each engine's time per decision and how many times
// slower than Gatehouse Cedar and casbin are.
func BenchmarkRatio(b *testing.B) {
	for _, n := range sizes {
		s := setupOf(b, n)
		qs := s.org.Queries(7, 1024, true, true)
		b.Run(fmt.Sprintf("stacks=%d", n), func(b *testing.B) {
			const batch = 16
			spent := make([]time.Duration, len(s.engines))
			for i := 0; i < b.N; i++ {
				for k, e := range s.engines {
					start := time.Now()
					for j := 0; j < batch; j++ {
						e.Decide(&qs[(i*batch+j)%len(qs)])
					}
					spent[k] += time.Since(start)
				}
			}
			per := func(k int) float64 { return float64(spent[k].Nanoseconds()) / float64(b.N*batch) }
			for k, e := range s.engines {
				b.ReportMetric(per(k), e.Name()+"-ns/decision")
			}
			b.ReportMetric(per(1)/per(0), "cedar/gatehouse")
			b.ReportMetric(per(2)/per(0), "casbin/gatehouse")
		})
	}
}
