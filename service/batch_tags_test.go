package service_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
)

// Concurrent batches over the same stacks lose no change: each reads the
// tags under the organization's lock and replaces them after.
func TestChangeTagsConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		by := e.Identity(t, e.Admin)
		const stacks, writers = 20, 16
		ids := make([]string, stacks)
		for i := range stacks {
			st, err := e.Svc.CreateStack(ctx, e.Org.ID, by, service.StackInput{Project: "p", Name: fmt.Sprintf("s%d", i)})
			if err != nil {
				t.Fatal(err)
			}
			ids[i] = st.ID
		}
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				changes := make([]service.TagChange, stacks)
				for i := range stacks {
					changes[i] = service.TagChange{Type: gatehouse.EntityStack, Name: fmt.Sprintf("p/s%d", i), ID: ids[i],
						Set: map[string]string{fmt.Sprintf("w%d", w): "x"}}
				}
				if _, err := e.Svc.ChangeTags(ctx, e.Org.ID, changes, service.TagOptions{DryRun: w%4 == 0}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		for i := range stacks {
			st, err := e.Svc.Stack(ctx, e.Org.ID, "p", fmt.Sprintf("s%d", i))
			if err != nil {
				t.Fatal(err)
			}
			want := writers - writers/4 // the dry runs changed nothing
			if len(st.Tags) != want {
				t.Errorf("stack s%d has %d tags %v; want %d (no batch lost)", i, len(st.Tags), st.Tags, want)
			}
			if _, ok := st.Tags["w0"]; ok {
				t.Errorf("stack s%d carries a dry run's tag", i)
			}
		}
		if n := eventCount(t, e, e.Org.ID, gatehouse.EventStackTagsChanged); n != stacks*(writers-writers/4) {
			t.Errorf("%d tag events; want %d", n, stacks*(writers-writers/4))
		}
	})
}

// A batch that fails at its last change applies none of them.
func TestChangeTagsAllOrNone(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		by := e.Identity(t, e.Admin)
		a, err := e.Svc.CreateStack(ctx, e.Org.ID, by, service.StackInput{Project: "p", Name: "a"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := e.Svc.CreateStack(ctx, e.Org.ID, by, service.StackInput{Project: "p", Name: "b"})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Svc.DeleteStack(ctx, b, false); err != nil {
			t.Fatal(err)
		}
		_, err = e.Svc.ChangeTags(ctx, e.Org.ID, []service.TagChange{
			{Type: gatehouse.EntityStack, Name: "p/a", ID: a.ID, Set: map[string]string{"env": "prod"}},
			{Type: gatehouse.EntityStack, Name: "p/b", ID: b.ID, Set: map[string]string{"env": "prod"}},
		}, service.TagOptions{})
		wantCode(t, "a batch whose stack went", err, gatehouse.ENOTFOUND, "changes[1] (stack p/b)")
		st, err := e.Svc.Stack(ctx, e.Org.ID, "p", "a")
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Tags) != 0 {
			t.Errorf("p/a tags %v after the failed batch; want none", st.Tags)
		}
	})
}

// AssignMany is all or none: a refused grant at the end leaves none of
// the grants before it; concurrent batches of grants each land whole.
func TestAssignMany(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		by := e.Identity(t, e.Admin)
		var refs []gatehouse.EntityRef
		for i := range 4 {
			st, err := e.Svc.CreateStack(ctx, e.Org.ID, by, service.StackInput{Project: "p", Name: fmt.Sprintf("s%d", i)})
			if err != nil {
				t.Fatal(err)
			}
			refs = append(refs, gatehouse.EntityRef{Type: gatehouse.EntityStack, ID: st.ID})
		}
		for _, login := range []string{"ann", "bob"} {
			if _, err := e.Svc.AddMember(ctx, e.Org.ID, login, "member"); err != nil {
				t.Fatal(err)
			}
		}
		d, err := e.Svc.Builtin(ctx, e.Org.ID, "stack-read")
		if err != nil {
			t.Fatal(err)
		}
		set := d.ID
		grants := func(login string, last string) []service.Grant {
			out := make([]service.Grant, len(refs))
			for i, r := range refs {
				out[i] = service.Grant{Entity: r, Name: fmt.Sprintf("p/s%d", i), User: login, SetID: set}
			}
			out[len(out)-1].SetID = last
			return out
		}
		_, err = e.Svc.AssignMany(ctx, e.Org.ID, grants("ann", "no-such-set"))
		wantCode(t, "a batch whose last set does not exist", err, gatehouse.EINVALID, "assignments[3] (stack p/s3): permissionSetId")
		if n := eventCount(t, e, e.Org.ID, gatehouse.EventAssignmentChanged); n != 0 {
			t.Errorf("%d assignment events after the refused batch", n)
		}
		var wg sync.WaitGroup
		for _, login := range []string{"ann", "bob"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := e.Svc.AssignMany(ctx, e.Org.ID, grants(login, set)); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if n := eventCount(t, e, e.Org.ID, gatehouse.EventAssignmentChanged); n != 2*len(refs) {
			t.Errorf("%d assignment events; want %d", n, 2*len(refs))
		}
	})
}
