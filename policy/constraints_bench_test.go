package policy_test

import (
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// BenchmarkOpenLimit measures the per-open walk of a principal's role
// trees (policy.OpenLimit) in the 10,000-stack organization: it is paid
// once per environment open, never by Decide.
func BenchmarkOpenLimit(b *testing.B) {
	o := orgOf(b, 10000)
	open := catalog.MustLookup("environment:open")
	var roles [][]*policy.Descriptor
	for p := range o.org.Principals {
		var rs []*policy.Descriptor
		for _, ri := range o.org.Principals[p] {
			if d, ok := o.compiled.Lookup(o.org.Roles[ri].ID); ok {
				rs = append(rs, d)
			}
		}
		roles = append(roles, rs)
	}
	e := &gatehouse.Entity{Type: gatehouse.EntityEnvironment, ID: "env-1", Tags: []gatehouse.Tag{{Key: "env", Value: "prod"}}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		policy.OpenLimit(roles[i%len(roles)], o.compiled.Lookup, open, e)
	}
}
