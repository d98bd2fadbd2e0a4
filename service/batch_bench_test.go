package service_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
)

// batchFixture makes n stacks and returns a change of all of them.
func batchFixture(b *testing.B, n int) (*testenv.Env, func(v string) []service.TagChange) {
	e := testenv.New(b)
	ctx := context.Background()
	ids := make([]string, n)
	by := e.Identity(b, e.Admin)
	err := e.Svc.Batch(ctx, e.Org.ID, func(bt *service.Batch) error {
		for i := range n {
			st, err := bt.CreateStack(by, service.StackInput{Project: "p", Name: fmt.Sprintf("s%d", i)})
			if err != nil {
				return err
			}
			ids[i] = st.ID
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return e, func(v string) []service.TagChange {
		out := make([]service.TagChange, n)
		for i := range n {
			out[i] = service.TagChange{Type: gatehouse.EntityStack, Name: fmt.Sprintf("p/s%d", i), ID: ids[i], Set: map[string]string{"env": v}}
		}
		return out
	}
}

// BenchmarkChangeTags1000 retags 1,000 stacks in one batch (one
// transaction, 1,000 events, one refresh), on SQLite.
func BenchmarkChangeTags1000(b *testing.B) {
	e, changes := batchFixture(b, 1000)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := e.Svc.ChangeTags(ctx, e.Org.ID, changes(fmt.Sprint(i)), service.TagOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N)/1000*1e6, "µs/stack")
}

// BenchmarkChangeTagsDryRun1000 is the same batch as a dry run, with 200
// organization tokens to decide access for.
func BenchmarkChangeTagsDryRun1000(b *testing.B) {
	e, changes := batchFixture(b, 1000)
	ctx := context.Background()
	for i := range 200 {
		if _, _, err := e.Svc.CreateToken(ctx, service.TokenInput{Kind: gatehouse.TokenOrganization, OrgID: e.Org.ID, Name: fmt.Sprintf("t%d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := e.Svc.ChangeTags(ctx, e.Org.ID, changes(fmt.Sprint(i)), service.TagOptions{DryRun: true, Access: true}); err != nil {
			b.Fatal(err)
		}
	}
}
