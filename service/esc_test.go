package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
)

// Opening an environment decides every environment it imports,
// transitively, through the authorizer the caller gives; the shortest
// maxOpenDuration on the path bounds the open; the open's audit event
// names the imports; the stored definitions keep their secrets sealed.
func TestOpenDecidesEveryImport(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	by := e.Identity(t, e.Admin)
	mk := func(name, def string) *gatehouse.Environment {
		t.Helper()
		env, err := e.Svc.CreateEnvironment(ctx, e.Org.ID, by, "app", name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.UpdateDefinition(ctx, env, []byte(def), -1, by); err != nil {
			t.Fatal(err)
		}
		return env
	}
	mk("base", "values:\n  pw:\n    fn::secret: hunter2\n")
	mk("mid", "imports: [app/base]\nvalues:\n  m: ${pw}\n")
	top := mk("top", "imports: [app/mid]\nvalues:\n  t: ${m}\n")
	stored, _, err := e.Svc.Definition(ctx, top, 0, false)
	if err != nil || strings.Contains(string(stored), "hunter2") {
		t.Fatalf("stored: %s %v", stored, err)
	}

	var asked []string
	limits := map[string]time.Duration{"mid": 30 * time.Minute, "base": 10 * time.Minute}
	allow := func(refuse string) service.ImportAuthorizer {
		return func(ctx context.Context, env *gatehouse.Environment) (time.Duration, error) {
			asked = append(asked, env.Name)
			if env.Name == refuse {
				return 0, gatehouse.Errorf(gatehouse.EFORBIDDEN, "no open on %s", env.Name)
			}
			return limits[env.Name], nil
		}
	}
	_, diags, err := e.Svc.OpenEnvironment(ctx, top, 0, 0, 0, allow("base"))
	if err != nil || !diags.HasErrors() || !strings.Contains(diags.Error(), `import "app/base" refused: no open on base`) {
		t.Fatalf("a refused import two levels down: %v %v", diags, err)
	}
	if strings.Join(asked, ",") != "mid,base" {
		t.Errorf("decided %v, want mid then base", asked)
	}
	// The shortest limit on the path (base's 10m) bounds the open.
	_, _, err = e.Svc.OpenEnvironment(ctx, top, 0, time.Hour, 0, allow(""))
	if gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN || !strings.Contains(err.Error(), "10m0s") {
		t.Errorf("an hour through a 10m import: %v", err)
	}
	id, diags, err := e.Svc.OpenEnvironment(ctx, top, 0, 0, time.Hour, allow(""))
	if err != nil || diags.HasErrors() {
		t.Fatal(diags, err)
	}
	opened, err := e.Svc.OpenedValues(ctx, top, id, allow(""))
	if err != nil || opened.Properties["t"].Value != "hunter2" || !opened.Properties["t"].Secret {
		t.Fatalf("opened: %+v %v", opened, err)
	}
	// Reading the session decides the imports again.
	if _, err := e.Svc.OpenedValues(ctx, top, id, allow("mid")); err == nil {
		t.Error("a session read after the import was refused")
	}
	evs := events(t, e, gatehouse.EventEnvOpened)
	var last struct {
		Imports         []string
		MaxOpenDuration string
		Duration        string
	}
	if len(evs) != 1 || json.Unmarshal(evs[0].Data, &last) != nil {
		t.Fatalf("%d open events (one per open, none per read or refusal)", len(evs))
	}
	if strings.Join(last.Imports, ",") != "app/mid@2,app/base@2" || last.MaxOpenDuration != "10m0s" || last.Duration != "10m0s" {
		t.Errorf("open event %s", evs[0].Data)
	}
	// An import that does not exist, and an unknown provider, are
	// diagnostics naming them.
	ev, err := e.Svc.Evaluate(ctx, e.Org.ID, "yaml", []byte("imports: [app/nope]\nvalues:\n  x:\n    fn::open::vault: {}\n"), nil, allow(""), false, true)
	if err != nil || !strings.Contains(ev.Diagnostics.Error(), `"app/nope" not found`) || !strings.Contains(ev.Diagnostics.Error(), `unknown provider "vault"`) {
		t.Errorf("diagnostics: %v %v", ev.Diagnostics, err)
	}
	// An update ESC cannot parse is refused with its diagnostics.
	_, err = e.Svc.UpdateDefinition(ctx, top, []byte("values:\n  a:\n    fn::bogus: 1\n"), -1, by)
	if de := (*service.DiagnosticsError)(nil); !errors.As(err, &de) || de.Diagnostics[0].Path != "values.a" {
		t.Errorf("a bad built-in: %v", err)
	}
}

// ESC's built-ins evaluate, fn::split among them (ESC v0.26).
func TestBuiltins(t *testing.T) {
	e := testenv.New(t)
	def := "values:\n  list:\n    fn::split: [',', 'a,b']\n  joined:\n    fn::join: ['-', '${list}']\n  json:\n    fn::toJSON: {k: v}\n  b64:\n    fn::toBase64: hi\n"
	ev, err := e.Svc.Evaluate(context.Background(), e.Org.ID, "yaml", []byte(def), nil, nil, false, true)
	if err != nil || ev.Diagnostics.HasErrors() {
		t.Fatal(err, ev.Diagnostics)
	}
	got, _ := json.Marshal(map[string]any{"list": ev.Env.Properties["list"].ToJSON(false), "joined": ev.Env.Properties["joined"].ToJSON(false),
		"json": ev.Env.Properties["json"].ToJSON(false), "b64": ev.Env.Properties["b64"].ToJSON(false)})
	if string(got) != `{"b64":"aGk=","joined":"a-b","json":"{\"k\":\"v\"}","list":["a","b"]}` {
		t.Errorf("built-ins: %s", got)
	}
}

// An import refused to the caller is reported as refused before anything
// about its versions: a caller who may not open an environment does not
// learn which version tags it has.
func TestRefusedImportTellsNoVersions(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	by := e.Identity(t, e.Admin)
	if _, err := e.Svc.CreateEnvironment(ctx, e.Org.ID, by, "app", "base"); err != nil {
		t.Fatal(err)
	}
	refuse := func(context.Context, *gatehouse.Environment) (time.Duration, error) {
		return 0, gatehouse.Errorf(gatehouse.EFORBIDDEN, "no open")
	}
	allow := func(context.Context, *gatehouse.Environment) (time.Duration, error) { return 0, nil }
	def := []byte("imports: [app/base@nosuchtag]\n")
	ev, err := e.Svc.Evaluate(ctx, e.Org.ID, "yaml", def, nil, refuse, false, true)
	if err != nil || !strings.Contains(ev.Diagnostics.Error(), `import "app/base@nosuchtag" refused`) || strings.Contains(ev.Diagnostics.Error(), "no version tag") {
		t.Errorf("refused: %v %v", ev.Diagnostics, err)
	}
	if ev, _ := e.Svc.Evaluate(ctx, e.Org.ID, "yaml", def, nil, allow, false, true); !strings.Contains(ev.Diagnostics.Error(), `no version tag "nosuchtag"`) {
		t.Errorf("allowed: %v", ev.Diagnostics)
	}
}
