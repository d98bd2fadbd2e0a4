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

// Version tags name versions (latest is always the current one and cannot
// be set); opening and importing by tag open the tagged version; a
// retracted version opens its replacement, and its tags move there.
func TestRevisionTagsAndRetraction(t *testing.T) {
	eachStore(t, testRevisionTagsAndRetraction)
}

func testRevisionTagsAndRetraction(t *testing.T, e *testenv.Env) {
	ctx := context.Background()
	by := e.Identity(t, e.Admin)
	env, err := e.Svc.CreateEnvironment(ctx, e.Org.ID, by, "app", "cfg")
	if err != nil {
		t.Fatal(err)
	}
	for _, def := range []string{"values: {v: two}\n", "values: {v: three}\n", "values: {v: four}\n"} {
		if _, err := e.Svc.UpdateDefinition(ctx, env, []byte(def), -1, by); err != nil {
			t.Fatal(err)
		}
	}
	allow := func(context.Context, *gatehouse.Environment) (time.Duration, error) { return 0, nil }
	openValue := func(env *gatehouse.Environment, version int) string {
		t.Helper()
		id, diags, err := e.Svc.OpenEnvironment(ctx, env, version, 0, 0, allow)
		if err != nil || diags.HasErrors() {
			t.Fatalf("open @%d: %v %v", version, diags, err)
		}
		vals, err := e.Svc.OpenedValues(ctx, env, id, allow)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := vals.Properties["v"].Value.(string)
		return s
	}

	wantCode(t, "check 45", e.Svc.PutRevisionTag(ctx, env, "latest", 2, false, by), gatehouse.EINVALID, "")
	wantCode(t, "check 46", e.Svc.PutRevisionTag(ctx, env, "7up", 2, false, by), gatehouse.EINVALID, "")
	wantCode(t, "check 47", e.Svc.PutRevisionTag(ctx, env, "stable", 9, false, by), gatehouse.ENOTFOUND, "")
	if err := e.Svc.PutRevisionTag(ctx, env, "stable", 3, false, by); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "check 51", e.Svc.PutRevisionTag(ctx, env, "stable", 2, false, by), gatehouse.ECONFLICT, "")
	wantCode(t, "check 52", e.Svc.PutRevisionTag(ctx, env, "beta", 2, true, by), gatehouse.ENOTFOUND, "")
	if err := e.Svc.PutRevisionTag(ctx, env, "old", 2, false, by); err != nil {
		t.Fatal(err)
	}
	tags, err := e.Svc.RevisionTags(ctx, env)
	if err != nil || len(tags) != 3 || tags[0].Name != "latest" || tags[0].Version != 4 || tags[1].Name != "old" || tags[2].Version != 3 {
		t.Fatalf("tags = %+v %v", tags, err)
	}
	n, err := e.Svc.ResolveVersion(ctx, env, "stable")
	if err != nil || n != 3 {
		t.Fatalf("stable = %d %v", n, err)
	}
	if _, err := e.Svc.ResolveVersion(ctx, env, "nope"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("an unknown tag: %v", err)
	}

	// An import by tag opens the tagged version.
	top, _ := e.Svc.CreateEnvironment(ctx, e.Org.ID, by, "app", "top")
	if _, err := e.Svc.UpdateDefinition(ctx, top, []byte("imports: [app/cfg@stable]\n"), -1, by); err != nil {
		t.Fatal(err)
	}
	if got := openValue(top, 0); got != "three" {
		t.Errorf("import @stable = %q, want three", got)
	}

	// Retraction: not the latest; stable (at 3) moves to the default
	// replacement, 2; opening 3 opens 2.
	_, err = e.Svc.RetractVersion(ctx, env, 4, 0, "", by)
	wantCode(t, "check 80", err, gatehouse.EINVALID, "")
	_, err = e.Svc.RetractVersion(ctx, env, 3, 3, "", by)
	wantCode(t, "check 82", err, gatehouse.EINVALID, "")
	repl, err := e.Svc.RetractVersion(ctx, env, 3, 0, "leaked", by)
	if err != nil || repl != 2 {
		t.Fatalf("retract 3 = %d %v", repl, err)
	}
	_, err = e.Svc.RetractVersion(ctx, env, 3, 0, "", by)
	wantCode(t, "check 88", err, gatehouse.ECONFLICT, "")
	if got := openValue(env, 3); got != "two" {
		t.Errorf("open @3 (retracted) = %q, want two", got)
	}
	if n, _ := e.Svc.ResolveVersion(ctx, env, "stable"); n != 2 {
		t.Errorf("stable after retracting 3 = %d, want 2", n)
	}
	wantCode(t, "check 95", e.Svc.PutRevisionTag(ctx, env, "stable", 3, true, by), gatehouse.EINVALID, "")
	_, err = e.Svc.RetractVersion(ctx, env, 2, 3, "", by)
	wantCode(t, "check 97", err, gatehouse.EINVALID, "")
	vs, _, err := e.Svc.EnvironmentVersions(ctx, env, gatehouse.ListOptions{})
	if err != nil || len(vs) != 4 || vs[1].Retracted == nil || vs[1].Retracted.Reason != "leaked" {
		t.Errorf("versions = %+v %v", vs, err)
	}

	if err := e.Svc.DeleteRevisionTag(ctx, env, "old"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "check 106", e.Svc.DeleteRevisionTag(ctx, env, "old"), gatehouse.ENOTFOUND, "")
	wantCode(t, "check 107", e.Svc.DeleteRevisionTag(ctx, env, "latest"), gatehouse.EINVALID, "")
	evs := events(t, e, gatehouse.EventEnvUpdated)
	if last := evs[len(evs)-1]; !strings.Contains(last.Description, `deleted version tag "old"`) {
		t.Error("the tag's deletion is not audited")
	}
}

// Deletion protection refuses the deletion until it is turned off.
func TestDeletionProtection(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		env, err := e.Svc.CreateEnvironment(ctx, e.Org.ID, e.Identity(t, e.Admin), "app", "keep")
		if err != nil {
			t.Fatal(err)
		}
		if cur, err := e.Svc.SetDeletionProtection(ctx, env, true); err != nil || !cur.DeletionProtected {
			t.Fatalf("protect: %+v %v", cur, err)
		}
		wantCode(t, "delete while protected", e.Svc.DeleteEnvironment(ctx, env), gatehouse.ECONFLICT, "protected from deletion")
		if _, err := e.Svc.Environment(ctx, e.Org.ID, "app", "keep"); err != nil {
			t.Fatalf("the protected environment is gone: %v", err)
		}
		if cur, err := e.Svc.SetDeletionProtection(ctx, env, false); err != nil || cur.DeletionProtected {
			t.Fatalf("unprotect: %+v %v", cur, err)
		}
		if err := e.Svc.DeleteEnvironment(ctx, env); err != nil {
			t.Fatal(err)
		}
	})
}

// A clone with its history holds every version, its secrets resealed
// under its own key, and the tags, written as one creation.
func TestCloneInOneTransaction(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		by := e.Identity(t, e.Admin)
		src, err := e.Svc.CreateEnvironment(ctx, e.Org.ID, by, "app", "src")
		if err != nil {
			t.Fatal(err)
		}
		for _, def := range []string{"values: {v: 2}\n", "values:\n  v: 3\n  pw:\n    fn::secret: hunter2\n"} {
			if _, err := e.Svc.UpdateDefinition(ctx, src, []byte(def), -1, by); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Svc.ChangeEnvironmentTags(ctx, src, service.TagUpdate{Replace: map[string]string{"team": "core"}}); err != nil {
			t.Fatal(err)
		}
		src, _ = e.Svc.Environment(ctx, e.Org.ID, "app", "src")
		before := len(events(t, e, gatehouse.EventEnvUpdated))
		c, err := e.Svc.CloneEnvironment(ctx, src, by, "app", "copy", service.CloneOptions{History: true, EnvironmentTags: true})
		if err != nil || c.Version != 3 {
			t.Fatalf("clone = %+v %v", c, err)
		}
		if after := len(events(t, e, gatehouse.EventEnvUpdated)); after != before {
			t.Errorf("the clone wrote %d update events, want none (one creation)", after-before)
		}
		got, _ := e.Svc.Environment(ctx, e.Org.ID, "app", "copy")
		if got.Version != 3 || got.Tags["team"] != "core" {
			t.Errorf("stored clone = %+v", got)
		}
		def, _, err := e.Svc.Definition(ctx, got, 3, true)
		if err != nil || !strings.Contains(string(def), "hunter2") {
			t.Errorf("clone's version 3 revealed: %s %v", def, err)
		}
		if sealed, _, _ := e.Svc.Definition(ctx, got, 3, false); strings.Contains(string(sealed), "hunter2") {
			t.Errorf("clone's secret stored in clear: %s", sealed)
		}
		if def, _, _ := e.Svc.Definition(ctx, got, 2, false); !strings.Contains(string(def), "v: 2") {
			t.Errorf("clone's version 2: %s", def)
		}
		// A clone onto an existing name fails whole.
		_, err = e.Svc.CloneEnvironment(ctx, src, by, "app", "copy", service.CloneOptions{History: true, EnvironmentTags: true})
		wantCode(t, "clone onto a name in use", err, gatehouse.ECONFLICT, "")
		if got, _ := e.Svc.Environment(ctx, e.Org.ID, "app", "copy"); got.ID != c.ID || got.Version != 3 {
			t.Errorf("the existing environment changed: %+v", got)
		}
	})
}

// A clone with preserveRevisionTags keeps the version tags on the same
// numbers, and with its history the retractions (a retracted version
// opens its replacement in the clone too); version tags without history
// are refused, naming the option.
func TestClonePreservesRevisionTags(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		by := e.Identity(t, e.Admin)
		src, err := e.Svc.CreateEnvironment(ctx, e.Org.ID, by, "app", "src")
		if err != nil {
			t.Fatal(err)
		}
		for _, def := range []string{"values: {v: 2}\n", "values: {v: 3}\n", "values: {v: 4}\n"} {
			if _, err := e.Svc.UpdateDefinition(ctx, src, []byte(def), -1, by); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Svc.PutRevisionTag(ctx, src, "stable", 3, false, by); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.RetractVersion(ctx, src, 2, 0, "bad", by); err != nil {
			t.Fatal(err)
		}
		_, err = e.Svc.CloneEnvironment(ctx, src, by, "app", "nohist", service.CloneOptions{RevisionTags: true})
		wantCode(t, "version tags without history", err, gatehouse.EINVALID, "preserveRevisionTags")

		c, err := e.Svc.CloneEnvironment(ctx, src, by, "app", "copy", service.CloneOptions{History: true, RevisionTags: true})
		if err != nil {
			t.Fatal(err)
		}
		tags, err := e.Svc.RevisionTags(ctx, c)
		if err != nil || len(tags) != 2 || tags[0].Name != "latest" || tags[0].Version != 4 || tags[1].Name != "stable" || tags[1].Version != 3 {
			t.Fatalf("the clone's tags: %+v %v", tags, err)
		}
		n, err := e.Svc.ResolveVersion(ctx, c, "stable")
		if err != nil || n != 3 {
			t.Errorf("stable in the clone = %d %v", n, err)
		}
		vs, _, err := e.Svc.EnvironmentVersions(ctx, c, gatehouse.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			if (v.Retracted != nil) != (v.Version == 2) {
				t.Errorf("the clone's version %d retracted: %+v", v.Version, v.Retracted)
			}
			if v.Version == 2 && (v.Retracted.Reason != "bad" || v.Retracted.Replacement != 1) {
				t.Errorf("the clone's retraction: %+v", v.Retracted)
			}
		}
		// Without the option, no tags but latest.
		plain, err := e.Svc.CloneEnvironment(ctx, src, by, "app", "plain", service.CloneOptions{History: true})
		if err != nil {
			t.Fatal(err)
		}
		if tags, _ := e.Svc.RevisionTags(ctx, plain); len(tags) != 1 {
			t.Errorf("a clone without preserveRevisionTags has %+v", tags)
		}
	})
}
