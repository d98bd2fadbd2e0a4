package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
)

// Opens are served from a cache of evaluations, which must never give a
// stale value or one the caller may not open: a new version of an import,
// a moved version tag, a retraction, and a deletion with a new
// environment of the same name each show at once, and an import refused
// to one caller stays refused after another opened it.
func TestOpenCacheNeverStale(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		by := e.Identity(t, e.Admin)
		set := func(env *gatehouse.Environment, def string) {
			t.Helper()
			if _, err := e.Svc.UpdateDefinition(ctx, env, []byte(def), -1, by); err != nil {
				t.Fatal(err)
			}
		}
		mk := func(name, def string) *gatehouse.Environment {
			t.Helper()
			env, err := e.Svc.CreateEnvironment(ctx, e.Org.ID, by, "app", name)
			if err != nil {
				t.Fatal(err)
			}
			set(env, def)
			return env
		}
		secret := func(v string) string { return "values:\n  pw:\n    fn::secret: " + v + "\n" }
		allow := func(refuse string) service.ImportAuthorizer {
			return func(_ context.Context, env *gatehouse.Environment) (time.Duration, error) {
				if env.Name == refuse {
					return 0, gatehouse.Errorf(gatehouse.EFORBIDDEN, "no open on %s", env.Name)
				}
				return 0, nil
			}
		}
		open := func(top *gatehouse.Environment, a service.ImportAuthorizer) (string, string) {
			t.Helper()
			ev, err := e.Svc.EvaluateStored(ctx, top, 0, a, false)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Diagnostics.HasErrors() {
				return "", ev.Diagnostics.Error()
			}
			return ev.Env.Properties["t"].Value.(string), strings.Join(ev.Imports, ",")
		}
		want := func(top *gatehouse.Environment, value, imports string) {
			t.Helper()
			for range 2 { // the first evaluates, the second is served from the cache
				if v, imp := open(top, allow("")); v != value || imp != imports {
					t.Fatalf("opened %q (imports %s), want %q (%s)", v, imp, value, imports)
				}
			}
		}

		base := mk("base", secret("one"))
		latest := mk("latest", "imports: [app/base]\nvalues:\n  t: ${pw}\n")
		want(latest, "one", "app/base@2")
		set(base, secret("two"))
		want(latest, "two", "app/base@3")

		if err := e.Svc.PutRevisionTag(ctx, base, "stable", 2, false, by); err != nil {
			t.Fatal(err)
		}
		tagged := mk("tagged", "imports: [app/base@stable]\nvalues:\n  t: ${pw}\n")
		want(tagged, "one", "app/base@2")
		if err := e.Svc.PutRevisionTag(ctx, base, "stable", 3, true, by); err != nil {
			t.Fatal(err)
		}
		want(tagged, "two", "app/base@3")

		set(base, secret("three"))
		pinned := mk("pinned", "imports: [app/base@3]\nvalues:\n  t: ${pw}\n")
		want(pinned, "two", "app/base@3")
		if _, err := e.Svc.RetractVersion(ctx, base, 3, 2, "leaked", by); err != nil {
			t.Fatal(err)
		}
		want(pinned, "one", "app/base@2")

		// Another caller, refused the import, is refused after a hit.
		if v, diags := open(latest, allow("base")); v != "" || !strings.Contains(diags, `import "app/base" refused: no open on base`) {
			t.Errorf("a refused caller after a cached open: %q %s", v, diags)
		}
		want(latest, "three", "app/base@4")

		// A deleted import, then a new one of the same name.
		if err := e.Svc.DeleteEnvironment(ctx, base); err != nil {
			t.Fatal(err)
		}
		if v, diags := open(latest, allow("")); v != "" || !strings.Contains(diags, `"app/base" not found`) {
			t.Errorf("a deleted import: %q %s", v, diags)
		}
		mk("base", secret("new"))
		want(latest, "new", "app/base@2")
	})
}
