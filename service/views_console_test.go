package service_test

import (
	"context"
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
)

// TestStackOutputNames: the names of the root resource's outputs of the
// current deployment, sorted; none before the first deployment; a
// deployment that does not parse is an error, not an empty list.
func TestStackOutputNames(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		admin := e.Identity(t, e.Admin)
		st, err := e.Svc.CreateStack(ctx, e.Org.ID, admin, service.StackInput{Project: "app", Name: "dev"})
		if err != nil {
			t.Fatal(err)
		}
		if names, err := e.Svc.StackOutputNames(ctx, st); err != nil || names == nil || len(names) != 0 {
			t.Errorf("before a deployment: %v, %v", names, err)
		}
		dep := `{"version":3,"deployment":{"resources":[` +
			`{"urn":"urn:pulumi:dev::app::aws:s3:Bucket::b","type":"aws:s3:Bucket","outputs":{"arn":"arn:x"}},` +
			`{"urn":"urn:pulumi:dev::app::pulumi:pulumi:Stack::app-dev","type":"pulumi:pulumi:Stack","outputs":{"zeta":1,"alpha":"a"}}]}}`
		if _, err := e.Svc.Import(ctx, st, admin, []byte(dep)); err != nil {
			t.Fatal(err)
		}
		if names, err := e.Svc.StackOutputNames(ctx, st); err != nil || !slices.Equal(names, []string{"alpha", "zeta"}) {
			t.Errorf("after an import: %v, %v", names, err)
		}
		if _, err := e.Svc.Import(ctx, st, admin, []byte(`{"version":3,"deployment":{"resources":"nope"}}`)); err != nil {
			t.Fatal(err)
		}
		if names, err := e.Svc.StackOutputNames(ctx, st); err == nil {
			t.Errorf("a deployment that does not parse: %v", names)
		}
	})
}
