package service_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
	"github.com/gatehouse-iam/gatehouse/store/storetest"
)

// Many previews of one stack created at once, each saying which
// environments it imports: every one is created (none fails on another's
// imports), and the stack's imports are one update's whole list, not a
// mix.
func TestStackImportsConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		by := e.Identity(t, e.Admin)
		st, err := e.Svc.CreateStack(ctx, e.Org.ID, by, service.StackInput{Project: "app", Name: "dev"})
		if err != nil {
			t.Fatal(err)
		}
		env, err := e.Svc.CreateEnvironment(ctx, e.Org.ID, by, "app", "base")
		if err != nil {
			t.Fatal(err)
		}
		const n = 20
		errs := storetest.Race(n, func(i int) error {
			list := fmt.Sprintf(`[{"id":"app/base"},{"id":"app/e%d"},{"id":"app/f%d"}]`, i, i)
			_, err := e.Svc.CreateUpdate(ctx, st, by, gatehouse.UpdateKindPreview, service.ProgramInput{Name: "app", Raw: []byte("{}"),
				Environment: map[string]string{"stack.environments": list}})
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("preview %d: %v", i, err)
			}
		}
		refs, err := e.Svc.StackReferrers(ctx, env)
		if err != nil || len(refs) != 1 || refs[0].Stack.ID != st.ID || refs[0].Imports != 1 {
			t.Fatalf("referrers of app/base: %+v %v", refs, err)
		}
		var winner []gatehouse.StackEnvironmentImport
		for i := range n {
			var imps []gatehouse.StackEnvironmentImport
			e.DB.Read(ctx, func(tx gatehouse.Tx) (err error) {
				imps, err = tx.ListStackEnvironmentImports(ctx, e.Org.ID, "app", fmt.Sprintf("e%d", i))
				return err
			})
			winner = append(winner, imps...)
			var f []gatehouse.StackEnvironmentImport
			e.DB.Read(ctx, func(tx gatehouse.Tx) (err error) {
				f, err = tx.ListStackEnvironmentImports(ctx, e.Org.ID, "app", fmt.Sprintf("f%d", i))
				return err
			})
			if len(imps) != len(f) {
				t.Errorf("update %d's list half recorded: e%d %d, f%d %d", i, i, len(imps), i, len(f))
			}
		}
		if len(winner) != 1 {
			t.Errorf("%d updates' lists recorded, want the last one's", len(winner))
		}
	})
}
