package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// pulumiProgram is the test program: YAML, outputs only, one secret
// config value. It runs offline.
const pulumiProgram = `name: app
runtime: yaml
config:
  greeting:
    type: string
outputs:
  hello: ${greeting}
  plain: world
`

// TestPulumiStacks drives the real pulumi CLI through every stack command,
// then checks that roles decide what it may do, stack by stack and tag by
// tag, and that two updates of one stack cannot run at once.
func TestPulumiStacks(t *testing.T) {
	pulumi := pulumiCLI(t)
	m, admin := startMain(t, filepath.Join(t.TempDir(), "g.db"), nil)
	// In front of the server, a proxy that holds back the completion of
	// updates of the stack "race", so that its lease is held long enough
	// for a second CLI to meet it.
	target, _ := url.Parse("http://" + m.Addr)
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/app/race/") && strings.HasSuffix(r.URL.Path, "/complete") {
			time.Sleep(3 * time.Second)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	backend := front.URL

	project := t.TempDir()
	os.WriteFile(filepath.Join(project, "Pulumi.yaml"), []byte(pulumiProgram), 0o600)
	// Each identity has a PULUMI_HOME of its own.
	run := func(who, tok string, args ...string) (string, error) {
		cmd := exec.Command(pulumi, args...)
		cmd.Dir = project
		cmd.Env = append(os.Environ(), "PULUMI_HOME="+filepath.Join(project, ".home-"+who), "PULUMI_ACCESS_TOKEN="+tok,
			"PULUMI_SKIP_UPDATE_CHECK=true", "PULUMI_BACKEND_URL="+backend, "NO_COLOR=1", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	must := func(who, tok, want string, args ...string) string {
		t.Helper()
		out, err := run(who, tok, args...)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("%s: pulumi %s: %v\n%s\nwant %q", who, strings.Join(args, " "), err, out, want)
		}
		return out
	}
	refused := func(who, tok, want string, args ...string) {
		t.Helper()
		out, err := run(who, tok, args...)
		if err == nil || !strings.Contains(out, want) {
			t.Errorf("%s: pulumi %s: want a failure naming %q, got %v\n%s", who, strings.Join(args, " "), want, err, out)
		}
	}

	// An admin: every stack command.
	must("admin", admin, "Logged in", "login", backend)
	must("admin", admin, "Created stack 'dev'", "stack", "init", "acme/dev")
	must("admin", admin, "", "config", "set", "--secret", "greeting", "hi", "-s", "acme/dev")
	if cfg, _ := os.ReadFile(filepath.Join(project, "Pulumi.dev.yaml")); strings.Contains(string(cfg), "hi\n") || !strings.Contains(string(cfg), "secure:") {
		t.Errorf("the secret is not encrypted in the stack's config:\n%s", cfg)
	}
	must("admin", admin, "+ 1 created", "up", "--yes", "-s", "acme/dev")
	out := must("admin", admin, "hello", "stack", "output", "--show-secrets", "-s", "acme/dev")
	if !strings.Contains(out, "hi") {
		t.Errorf("stack output --show-secrets:\n%s", out)
	}
	must("admin", admin, "", "stack", "tag", "set", "env", "dev", "-s", "acme/dev")
	must("admin", admin, "env", "stack", "tag", "ls", "-s", "acme/dev")
	exported := filepath.Join(project, "dev.json")
	must("admin", admin, "", "stack", "export", "--file", exported, "-s", "acme/dev")
	if data, _ := os.ReadFile(exported); !strings.Contains(string(data), "pulumi:pulumi:Stack") {
		t.Fatalf("export holds no stack resource:\n%s", data)
	}
	must("admin", admin, "Import complete", "stack", "import", "--file", exported, "-s", "acme/dev")
	out = must("admin", admin, "UpdateKind: import", "stack", "history", "-s", "acme/dev")
	if !strings.Contains(out, "UpdateKind: update") || !strings.Contains(out, "Version: 2") {
		t.Errorf("stack history:\n%s", out)
	}
	// A throwaway stack: rename, destroy, remove.
	must("admin", admin, "Created stack 'tmp'", "stack", "init", "acme/tmp")
	must("admin", admin, "", "config", "set", "greeting", "x", "-s", "acme/tmp")
	must("admin", admin, "+ 1 created", "up", "--yes", "-s", "acme/tmp")
	must("admin", admin, "Renamed", "stack", "rename", "acme/app/gone", "-s", "acme/tmp")
	refused("admin", admin, "still has resources", "stack", "rm", "--yes", "-s", "acme/gone")
	must("admin", admin, "- 1 deleted", "destroy", "--yes", "-s", "acme/gone")
	must("admin", admin, "has been removed", "stack", "rm", "--yes", "-s", "acme/gone")
	refused("admin", admin, "no stack named", "stack", "select", "acme/gone")
	// A second stack, tagged prod.
	must("admin", admin, "Created stack 'prod'", "stack", "init", "acme/prod")
	must("admin", admin, "", "config", "set", "--secret", "greeting", "hey", "-s", "acme/prod")
	must("admin", admin, "+ 1 created", "up", "--yes", "-s", "acme/prod")
	must("admin", admin, "", "stack", "tag", "set", "env", "prod", "-s", "acme/prod")

	// Roles and tokens, through the API.
	var sets struct{ Roles []struct{ ID, Name string } }
	if status, body := httpCall(t, m, admin, "GET", "/api/orgs/acme/roles?uxPurpose=set", nil); status != 200 || json.Unmarshal(body, &sets) != nil {
		t.Fatalf("sets: %d %s", status, body)
	}
	setID := map[string]string{}
	for _, r := range sets.Roles {
		setID[r.Name] = r.ID
	}
	var dev struct{ ID string }
	_, body := httpCall(t, m, admin, "GET", "/api/stacks/acme/app/dev", nil)
	json.Unmarshal(body, &dev)
	token := func(name string, condition map[string]any, set string) string {
		t.Helper()
		var role struct{ ID string }
		status, body := httpCall(t, m, admin, "POST", "/api/orgs/acme/roles", map[string]any{"name": name, "uxPurpose": "role",
			"details": map[string]any{"__type": "PermissionDescriptorCondition", "condition": condition,
				"subNode": map[string]any{"__type": "PermissionDescriptorCompose", "permissionDescriptors": []string{setID[set]}}}})
		if status != 200 || json.Unmarshal(body, &role) != nil {
			t.Fatalf("role %s: %d %s", name, status, body)
		}
		var tok struct{ TokenValue string }
		status, body = httpCall(t, m, admin, "POST", "/api/orgs/acme/tokens", map[string]any{"name": name, "roleID": role.ID})
		if status != 200 || json.Unmarshal(body, &tok) != nil {
			t.Fatalf("token %s: %d %s", name, status, body)
		}
		return tok.TokenValue
	}

	// Stack Read on the stack dev alone.
	reader := token("dev-reader", map[string]any{"__type": "PermissionExpressionEqual",
		"left":  map[string]any{"__type": "PermissionExpressionStack"},
		"right": map[string]any{"__type": "PermissionLiteralExpressionStack", "identity": dev.ID}}, "Stack Read")
	must("reader", reader, "Logged in", "login", backend)
	must("reader", reader, "1 unchanged", "preview", "-s", "acme/dev")
	refused("reader", reader, "stack:write", "up", "--yes", "-s", "acme/dev")
	out = must("reader", reader, "dev", "stack", "ls", "-a")
	if strings.Contains(out, "prod") {
		t.Errorf("the reader lists prod:\n%s", out)
	}
	refused("reader", reader, "no stack named", "stack", "select", "acme/prod")

	// Stack Write on stacks tagged env=dev.
	writer := token("dev-writer", map[string]any{"__type": "PermissionExpressionEqual",
		"left":  map[string]any{"__type": "PermissionExpressionTag", "context": map[string]any{"__type": "PermissionExpressionStack"}, "key": "env"},
		"right": map[string]any{"__type": "PermissionLiteralExpressionString", "value": "dev"}}, "Stack Write")
	must("writer", writer, "Logged in", "login", backend)
	must("writer", writer, "1 unchanged", "up", "--yes", "-s", "acme/dev")
	refused("writer", writer, "no stack named", "up", "--yes", "-s", "acme/prod")
	// An admin retags prod env=dev: the writer may update it at once.
	must("admin", admin, "", "stack", "tag", "set", "env", "dev", "-s", "acme/prod")
	must("writer", writer, "1 unchanged", "up", "--yes", "-s", "acme/prod")

	// Two updates of one stack at once: one wins, the other is told.
	must("admin", admin, "Created stack 'race'", "stack", "init", "acme/race")
	must("admin", admin, "", "config", "set", "greeting", "r", "-s", "acme/race")
	var first string
	var firstErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		first, firstErr = run("admin", admin, "up", "--yes", "--skip-preview", "-s", "acme/race")
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var st struct{ ActiveUpdate string }
		_, body := httpCall(t, m, admin, "GET", "/api/stacks/acme/app/race", nil)
		json.Unmarshal(body, &st)
		if st.ActiveUpdate != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first update never took the stack's lease")
		}
		time.Sleep(20 * time.Millisecond)
	}
	refused("admin2", admin, "Another update is currently in progress", "up", "--yes", "--skip-preview", "-s", "acme/race")
	wg.Wait()
	if firstErr != nil || !strings.Contains(first, "+ 1 created") {
		t.Errorf("the first update: %v\n%s", firstErr, first)
	}
}
