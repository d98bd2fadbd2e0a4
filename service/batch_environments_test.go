package service_test

import (
	"context"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
)

// An environment's writes compose in one Batch: a definition, a tag and
// its deletion protection together, or, when a later step fails, none of
// them; another organization's environment is not the batch's.
func TestBatchEnvironmentWrites(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		by := e.Identity(t, e.Admin)
		env, err := e.Svc.CreateEnvironment(ctx, e.Org.ID, by, "app", "dev")
		if err != nil {
			t.Fatal(err)
		}
		write := func(last func(b *service.Batch) error) error {
			return e.Svc.Batch(ctx, e.Org.ID, func(b *service.Batch) error {
				if _, err := b.UpdateDefinition(env, []byte("values:\n  region: us-west-2\n"), -1, by); err != nil {
					return err
				}
				if err := b.ChangeEnvironmentTags(env, service.TagUpdate{Add: &[2]string{"team", "core"}}); err != nil {
					return err
				}
				if _, err := b.SetDeletionProtection(env, true); err != nil {
					return err
				}
				return last(b)
			})
		}
		// The last step deletes the environment just protected: refused,
		// and the definition, the tag and the protection go with it.
		err = write(func(b *service.Batch) error { return b.DeleteEnvironment(env) })
		wantCode(t, "deleting what the batch protected", err, gatehouse.ECONFLICT, "protected from deletion")
		cur, err := e.Svc.Environment(ctx, e.Org.ID, "app", "dev")
		if err != nil {
			t.Fatal(err)
		}
		if cur.Version != 1 || cur.Tags["team"] != "" || cur.DeletionProtected {
			t.Errorf("after the failed batch: version %d, tags %v, protected %v; want version 1, no tags, unprotected", cur.Version, cur.Tags, cur.DeletionProtected)
		}
		if n := eventCount(t, e, e.Org.ID, gatehouse.EventEnvUpdated); n != 0 {
			t.Errorf("%d environment updated events after the failed batch, want 0", n)
		}

		if err := write(func(b *service.Batch) error { return b.PutRevisionTag(env, "stable", 0, false, by) }); err != nil {
			t.Fatal(err)
		}
		cur, err = e.Svc.Environment(ctx, e.Org.ID, "app", "dev")
		if err != nil {
			t.Fatal(err)
		}
		if cur.Version != 2 || cur.Tags["team"] != "core" || !cur.DeletionProtected {
			t.Errorf("after the batch: version %d, tags %v, protected %v; want version 2, team=core, protected", cur.Version, cur.Tags, cur.DeletionProtected)
		}
		if tag, err := e.Svc.RevisionTag(ctx, cur, "stable"); err != nil || tag.Version != 2 {
			t.Errorf("the batch's version tag: %+v, %v; want version 2", tag, err)
		}

		// A batch of another organization does not reach this environment.
		other, err := e.Svc.CreateOrgWithAdmin(ctx, "other", "dora", false)
		if err != nil {
			t.Fatal(err)
		}
		err = e.Svc.Batch(ctx, other.Org.ID, func(b *service.Batch) error { return b.DeleteEnvironment(cur) })
		wantCode(t, "another organization's batch", err, gatehouse.ENOTFOUND, "not found")
	})
}
