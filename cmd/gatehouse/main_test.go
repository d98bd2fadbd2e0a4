package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Run(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

const prodStack = `{"type":"stack","id":"20DEDE8F-6a2b-4d8e-9a6e-3c1f2b7a9d10","tags":{"env":"prod"}}`

func TestPolicyEval(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"allow via tag rule", []string{"--scope", "stack:write", "--entity", prodStack}, exitOK,
			`allow: role "Ops" grants stack:write at details.entries[1].subNode.permissionDescriptors[0] -> set "Deployer" details`, ""},
		{"deny with the failed condition", []string{"--scope", "stack:write", "--entity", `{"type":"stack","id":"20dede8f-6a2b-4d8e-9a6e-3c1f2b7a9d10","tags":{"env":"dev"}}`}, exitDeny,
			`only where stack.tags["env"] == "prod", which does not hold: tag "env" is "dev"`, ""},
		{"built-in set", []string{"--scope", "stack:read", "--entity", `{"type":"stack","id":"20dede8f-6a2b-4d8e-9a6e-3c1f2b7a9d10"}`}, exitOK,
			`set "Stack Read"`, ""},
		{"org scope", []string{"--scope", "org_member:read", "--entity", `{"type":"global"}`}, exitOK, `set "Standard"`, ""},
		{"never granted", []string{"--scope", "stack:delete", "--entity", prodStack}, exitDeny, `no role grants stack:delete (roles held: "Ops")`, ""},
		{"scope of another type", []string{"--scope", "environment:open", "--entity", prodStack}, exitDeny,
			`scope environment:open applies to environment, not to stack entities`, ""},
		{"unknown scope", []string{"--scope", "stack:wrte", "--entity", prodStack}, exitError, "", `--scope: unknown scope "stack:wrte" (did you mean "stack:write"?)`},
		{"bad entity json", []string{"--scope", "stack:write", "--entity", `{"type":"stack"`}, exitError, "", `--entity: want {"type"`},
		{"bad entity type", []string{"--scope", "stack:write", "--entity", `{"type":"stacks","id":"x"}`}, exitError, "", `--entity: type: "stacks" is not one of`},
		{"missing id", []string{"--scope", "stack:write", "--entity", `{"type":"stack"}`}, exitError, "", `--entity: id: missing`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"policy", "eval", "--role", "testdata/ops-role.json", "--sets", "testdata/sets"}, tt.args...)
			code, stdout, stderr := run(t, args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tt.stdout) {
				t.Errorf("stdout %q lacks %q", stdout, tt.stdout)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr %q lacks %q", stderr, tt.stderr)
			}
		})
	}
}

func TestPolicyEvalJSON(t *testing.T) {
	t.Parallel()
	code, stdout, _ := run(t, "policy", "eval", "--role", "testdata/ops-role.json", "--sets", "testdata/sets",
		"--scope", "stack:write", "--entity", prodStack, "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var ex struct {
		Allowed bool `json:"allowed"`
		Grants  []struct{ Role, Path string }
	}
	if err := json.Unmarshal([]byte(stdout), &ex); err != nil {
		t.Fatal(err)
	}
	if !ex.Allowed || len(ex.Grants) != 1 || ex.Grants[0].Role != "Ops" {
		t.Errorf("explanation = %+v", ex)
	}
}

func TestPolicyValidate(t *testing.T) {
	t.Parallel()
	// A custom set by name (deploy-role.json, "Deployer") or by its id,
	// which is its file name without .json ("deployer").
	byID := filepath.Join(t.TempDir(), "deploy-by-id.json")
	b, err := os.ReadFile("testdata/deploy-role.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(byID, bytes.Replace(b, []byte(`["Deployer"]`), []byte(`["deployer"]`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{"testdata/deploy-role.json", byID} {
		code, stdout, stderr := run(t, "policy", "validate", "--sets", "testdata/sets", role)
		if code != exitOK || !strings.Contains(stdout, role+`: valid role "Deploy"`) {
			t.Errorf("valid role: exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	}
	// Built-ins by identifier: refused as the server refuses them, saying
	// which built-in was meant; eval (TestPolicyEval) still resolves them.
	code, _, stderr := run(t, "policy", "validate", "--sets", "testdata/sets", "testdata/ops-role.json")
	for _, want := range []string{
		`testdata/ops-role.json: details.entries[0].permissionDescriptors[0]: unknown permission descriptor "org-standard": "org-standard" is the identifier of the built-in set "Standard"`,
		`details.entries[0].permissionDescriptors[1]: unknown permission descriptor "stack-read": "stack-read" is the identifier of the built-in set "Stack Read"`,
	} {
		if code != exitDeny || !strings.Contains(stderr, want) {
			t.Errorf("built-in identifiers: exit %d, stderr %q lacks %q", code, stderr, want)
		}
	}
	// Without --sets, the role's reference to "Deployer" does not resolve.
	code, _, stderr = run(t, "policy", "validate", "testdata/deploy-role.json")
	if code != exitDeny || !strings.Contains(stderr, `testdata/deploy-role.json: details.entries[1].subNode.permissionDescriptors[0]: unknown permission descriptor "Deployer"`) {
		t.Errorf("dangling reference: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = run(t, "policy", "validate", "testdata/bad-role.json", "testdata/sets/deployer.json")
	if code != exitDeny {
		t.Errorf("bad role: exit %d", code)
	}
	for _, want := range []string{
		`testdata/bad-role.json: details.entries[1].condition: unknown __type "PermissionExpressionFoo"`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q lacks %q", stderr, want)
		}
	}
	code, _, stderr = run(t, "policy", "validate", "testdata/missing.json")
	if code != exitError || !strings.Contains(stderr, "no such file") {
		t.Errorf("missing file: exit %d, stderr %q", code, stderr)
	}
}

func TestScopes(t *testing.T) {
	t.Parallel()
	code, stdout, _ := run(t, "scopes", "--type", "environment", "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	// The API's shape (GET /roles/scopes), with the one type asked for.
	var byType map[string][]struct {
		Name   string `json:"name"`
		Scopes []struct {
			Name     string            `json:"name"`
			Metadata map[string]string `json:"metadata"`
		} `json:"scopes"`
	}
	if err := json.Unmarshal([]byte(stdout), &byType); err != nil {
		t.Fatal(err)
	}
	found, n := false, 0
	for typ, groups := range byType {
		if typ != "environment" {
			t.Errorf("scopes --type environment lists type %s", typ)
		}
		for _, g := range groups {
			for _, sc := range g.Scopes {
				n++
				found = found || sc.Name == "environment:open" && sc.Metadata["description"] != ""
			}
		}
	}
	if !found || n < 30 {
		t.Errorf("environment scopes: %d, environment:open found %v", n, found)
	}
	if code, stdout, _ := run(t, "scopes", "-o", "json"); code != exitOK || !strings.Contains(stdout, `"insights-account": [`) || !strings.Contains(stdout, `"global": [`) {
		t.Errorf("scopes -o json lacks a type: exit %d", code)
	}
	code, stdout, _ = run(t, "scopes")
	if code != exitOK || !strings.Contains(stdout, "audit_logs:read") || strings.Count(stdout, "\n") != 208 {
		t.Errorf("table: exit %d, %d lines", code, strings.Count(stdout, "\n"))
	}
	if code, _, stderr := run(t, "scopes", "--type", "team"); code != exitError || !strings.Contains(stderr, "--type") {
		t.Errorf("bad type: exit %d, stderr %q", code, stderr)
	}
}

// runOK runs the CLI, failing the test unless it exits 0, and returns its
// standard output.
func runOK(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := run(t, args...)
	if code != exitOK {
		t.Fatalf("gatehouse %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, stdout, stderr)
	}
	return stdout
}
