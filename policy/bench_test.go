package policy_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/policy"
	"github.com/gatehouse-iam/gatehouse/policy/workload"
)

// compiledOrg caches a generated and compiled organization per size: the
// benchmarks measure deciding, not generating.
type compiledOrg struct {
	org      *workload.Org
	compiled *workload.Compiled
	grants   []*policy.Grants
}

var (
	orgsMu sync.Mutex
	orgs   = map[int]*compiledOrg{}
)

func orgOf(tb testing.TB, stacks int) *compiledOrg {
	tb.Helper()
	orgsMu.Lock()
	defer orgsMu.Unlock()
	if o, ok := orgs[stacks]; ok {
		return o
	}
	o := &compiledOrg{org: workload.Generate(workload.Sized(stacks))}
	o.compiled = o.org.Compile()
	for p := range o.org.Principals {
		o.grants = append(o.grants, o.compiled.Grants(o.org, p))
	}
	orgs[stacks] = o
	return o
}

// TestWorkloadAgreesWithReference checks the compiled engine against the
// reference evaluator on the large workload's decisions.
func TestWorkloadAgreesWithReference(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a 10,000-stack organization")
	}
	o := orgOf(t, 10000)
	allowed := 0
	for _, q := range o.org.Queries(3, 3000, false, false) {
		var want catalog.Set
		for _, ri := range o.org.Principals[q.Principal] {
			role, _ := o.compiled.Lookup(o.org.Roles[ri].ID)
			s := policy.Evaluate(role.Details, o.compiled.Lookup, q.Entity)
			want.Union(&s)
		}
		got := o.grants[q.Principal].Decide(q.Scope, q.Entity)
		if got != want.Has(q.Scope) {
			t.Fatalf("principal %d %s on %+v: compiled %v, reference %v", q.Principal, q.Scope, *q.Entity, got, want.Has(q.Scope))
		}
		if got {
			allowed++
		}
	}
	// A workload where everything (or nothing) is allowed measures nothing.
	if allowed < 300 || allowed > 2700 {
		t.Errorf("%d of 3000 decisions allowed; the workload is lopsided", allowed)
	}
}

// BenchmarkDecide is the fast path of ARCHITECTURE §5: a principal holding
// five roles, an entity carrying eight tags, in a 10,000-stack organization.
func BenchmarkDecide(b *testing.B) {
	benchDecide(b, 10000)
}

// BenchmarkDecideScale shows that deciding stays flat as the organization
// grows.
func BenchmarkDecideScale(b *testing.B) {
	for _, n := range []int{100, 1000, 10000, 100000} {
		b.Run(fmt.Sprintf("stacks=%d", n), func(b *testing.B) { benchDecide(b, n) })
	}
}

func benchDecide(b *testing.B, stacks int) {
	o := orgOf(b, stacks)
	qs := o.org.Queries(7, 1<<12, true, true)
	b.ReportAllocs()
	b.ResetTimer()
	allowed := 0
	for i := 0; i < b.N; i++ {
		q := &qs[i&(len(qs)-1)]
		if o.grants[q.Principal].Decide(q.Scope, q.Entity) {
			allowed++
		}
	}
	b.ReportMetric(float64(allowed)/float64(b.N), "allowed/op")
}

// BenchmarkReference decides the same questions with the reference
// evaluator, to show what compiling buys.
func BenchmarkReference(b *testing.B) {
	o := orgOf(b, 10000)
	qs := o.org.Queries(7, 1<<12, true, true)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := &qs[i&(len(qs)-1)]
		for _, ri := range o.org.Principals[q.Principal] {
			role, _ := o.compiled.Lookup(o.org.Roles[ri].ID)
			s := policy.Evaluate(role.Details, o.compiled.Lookup, q.Entity)
			if s.Has(q.Scope) {
				break
			}
		}
	}
}

// BenchmarkCompile2000 compiles a console-shaped role with 2,000 entity
// rules.
func BenchmarkCompile2000(b *testing.B) {
	o := orgOf(b, 10000)
	var role *workload.Role
	for _, r := range o.org.Roles {
		if r.Shape == "console" && len(r.Rules) >= 2000 {
			role = r
			break
		}
	}
	if role == nil {
		b.Fatal("the workload has no 2,000-rule role")
	}
	desc, _ := o.org.Descriptor(role)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		policy.Compile(desc.Details, o.compiled.Lookup)
	}
}

// BenchmarkUnion5 builds a principal's grants from five compiled roles.
func BenchmarkUnion5(b *testing.B) {
	o := orgOf(b, 10000)
	roles := make([]*policy.Compiled, 5)
	for i := range roles {
		roles[i] = o.compiled.Roles[i*7]
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		policy.Union(roles...)
	}
}

// BenchmarkSubset compares each principal's grants with another's in a
// 10,000-stack organization: the cost of one escalation check.
func BenchmarkSubset(b *testing.B) {
	o := orgOf(b, 10000)
	n := len(o.grants)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = policy.Subset(o.grants[i%n], o.grants[(i+1)%n], nil)
	}
}

// BenchmarkSubsetSelf compares each principal's grants with themselves:
// covered, so every rule is walked.
func BenchmarkSubsetSelf(b *testing.B) {
	o := orgOf(b, 10000)
	n := len(o.grants)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if x := policy.Subset(o.grants[i%n], o.grants[i%n], nil); x != nil {
			b.Fatalf("grants not within themselves: %s", x)
		}
	}
}
