package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse"
)

// TestUnknownSubcommands runs every command group with a subcommand it
// does not have: each is an error with exit status 2 that names the
// group, never its help with status 0.
func TestUnknownSubcommands(t *testing.T) {
	var groups [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		for _, sub := range c.Commands() {
			if !sub.HasSubCommands() || sub.Name() == "help" {
				continue
			}
			p := append(append([]string{}, path...), sub.Name())
			groups = append(groups, p)
			walk(sub, p)
		}
	}
	walk(newRootCmd(), nil)
	if len(groups) < 8 {
		t.Fatalf("found only %d command groups: %v", len(groups), groups)
	}
	for _, g := range groups {
		code, stdout, stderr := run(t, append(g, "frobnicate")...)
		want := `unknown command "frobnicate" for "gatehouse ` + strings.Join(g, " ") + `"`
		if code != exitError || !strings.Contains(stderr, want) || stdout != "" {
			t.Errorf("gatehouse %s frobnicate: exit %d\nstdout: %s\nstderr: %s\nwant %q", strings.Join(g, " "), code, stdout, stderr, want)
		}
		if code, stdout, _ := run(t, g...); code != exitOK || !strings.Contains(stdout, "Available Commands") {
			t.Errorf("gatehouse %s (no subcommand): exit %d, want its help\n%s", strings.Join(g, " "), code, stdout)
		}
	}
	if code, _, stderr := run(t, "frobnicate"); code != exitError || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Errorf("gatehouse frobnicate: exit %d %s", code, stderr)
	}
}

// TestVerbs: in every command group the verbs are the same: list (alias
// ls) and delete (alias rm), never ls, rm or remove as a command's own
// name.
func TestVerbs(t *testing.T) {
	var walk func(c *cobra.Command, path string)
	n := 0
	walk = func(c *cobra.Command, path string) {
		for _, sub := range c.Commands() {
			p := strings.TrimSpace(path + " " + sub.Name())
			switch sub.Name() {
			case "list":
				n++
				if !slices.Contains(sub.Aliases, "ls") {
					t.Errorf("gatehouse %s has no alias ls", p)
				}
			case "delete":
				n++
				if !slices.Contains(sub.Aliases, "rm") {
					t.Errorf("gatehouse %s has no alias rm", p)
				}
			case "ls", "rm", "remove", "del", "revoke":
				t.Errorf("gatehouse %s: name it list or delete, with %s as an alias", p, sub.Name())
			}
			walk(sub, p)
		}
	}
	walk(newRootCmd(), "")
	if n < 10 {
		t.Fatalf("found only %d list and delete commands", n)
	}
}

// TestServerDown: with a server that is not there, a client command says
// so (and does not ask for --org).
func TestServerDown(t *testing.T) {
	t.Setenv("GATEHOUSE_CONFIG_DIR", t.TempDir())
	t.Setenv("GATEHOUSE_ORG", "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	for _, args := range [][]string{{"role", "list"}, {"whoami"}, {"team", "ls"}, {"token", "list", "--personal"}} {
		code, _, stderr := run(t, append(args, "--url", "http://"+addr, "--token", "pul-x")...)
		if code != exitError || !strings.Contains(stderr, "the Gatehouse server at http://"+addr+" is down or unreachable") || strings.Contains(stderr, "--org") {
			t.Errorf("gatehouse %s against a stopped server: exit %d %s", strings.Join(args, " "), code, stderr)
		}
	}
}

// TestCLIConventions checks, against a running server: -o json is the
// API's own response, as curl gets it; names work where IDs do; errors
// are printed once; a missing organization names the caller's; version,
// logout and dynamic completion.
func TestCLIConventions(t *testing.T) {
	m, admin := startMain(t, filepath.Join(t.TempDir(), "g.db"), nil)
	url := "http://" + m.Addr
	cfgDir := t.TempDir()
	t.Setenv("GATEHOUSE_CONFIG_DIR", cfgDir)
	t.Setenv("GATEHOUSE_TOKEN", "")
	t.Setenv("GATEHOUSE_URL", "")
	t.Setenv("GATEHOUSE_ORG", "")
	must := func(args ...string) string { t.Helper(); return runOK(t, args...) }
	curl := func(method, path, body string) any {
		t.Helper()
		req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "token "+admin)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, b)
		}
		return v
	}
	sameJSON := func(what, got string, want any) {
		t.Helper()
		var v any
		if err := json.Unmarshal([]byte(got), &v); err != nil {
			t.Fatalf("%s -o json is not JSON: %v\n%s", what, err, got)
		}
		if !reflect.DeepEqual(v, want) {
			t.Errorf("%s -o json differs from the API's response:\n got %v\nwant %v", what, v, want)
		}
	}

	must("login", url, "--token", admin)
	must("set", "create", "Deployers", "--type", "stack", "--scopes", "stack:read,stack:write")
	roleJSON := filepath.Join(t.TempDir(), "role.json")
	os.WriteFile(roleJSON, []byte(`{"__type":"PermissionDescriptorAllow","permissions":["stack:read"]}`), 0o600)
	var role struct{ ID string }
	if err := json.Unmarshal([]byte(must("role", "create", "readers", "--details", roleJSON, "-o", "json")), &role); err != nil || role.ID == "" {
		t.Fatalf("role create -o json: %v %+v", err, role)
	}

	// -o json is what curl gets.
	sameJSON("role get", must("role", "get", "readers", "-o", "json"), curl("GET", "/api/orgs/acme/roles/"+role.ID, ""))
	sameJSON("whoami", must("whoami", "-o", "json"), curl("GET", "/api/user", ""))
	must("team", "create", "platform")
	sameJSON("team list", must("team", "list", "-o", "json"), curl("GET", "/api/orgs/acme/teams", ""))
	teams := curl("GET", "/api/orgs/acme/teams", "").(map[string]any)["teams"].([]any)
	sameJSON("team get", must("team", "get", "platform", "-o", "json"), teams[0])
	checkBody := `{"checks":[{"token":"` + admin + `","scope":"team:create","entity":{"type":"global"},"explain":true}]}`
	sameJSON("check", must("check", "--token", admin, "--scope", "team:create", "-o", "json"), curl("POST", "/api/orgs/acme/authz/check", checkBody))
	sameJSON("scopes", must("scopes", "-o", "json"), curl("GET", "/api/orgs/acme/roles/scopes", ""))
	if out := must("role", "list", "-o", "json"); !strings.Contains(out, `"roles": [`) || strings.Contains(out, `"Name"`) {
		t.Errorf("role list -o json is not the API's ListRolesResponse:\n%s", out)
	}

	// Names where IDs are taken, IDs still work; a name nobody has says so.
	must("role", "assign", "readers", "--team", "platform")
	must("role", "assign", role.ID, "--team", "platform")
	must("member", "add", "bob", "--role", "member")
	must("member", "set-role", "bob", "readers")
	if out := must("member", "ls"); !strings.Contains(out, "readers") {
		t.Errorf("bob's role by name did not take:\n%s", out)
	}
	must("token", "create", "--name", "ci", "--role", "readers")
	if code, _, stderr := run(t, "role", "get", "nobody"); code != exitError || !strings.Contains(stderr, `no role "nobody" (known: `) {
		t.Errorf("role get nobody: exit %d %s", code, stderr)
	}

	// Errors are printed once, as the server's message.
	code, _, stderr := run(t, "member", "set-role", "carol", "readers")
	if code != exitError || strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "code=") || strings.Count(stderr, "gatehouse") != 1 {
		t.Errorf("an API error is not printed once: exit %d %q", code, stderr)
	}

	// Without an organization: which ones the caller has.
	os.WriteFile(filepath.Join(cfgDir, "credentials.json"), []byte(`{"url":"`+url+`","token":"`+admin+`"}`), 0o600)
	if code, _, stderr := run(t, "role", "list"); code != exitError || !strings.Contains(stderr, "pass --org (one of acme)") {
		t.Errorf("role list without an organization: exit %d %s", code, stderr)
	}
	t.Setenv("GATEHOUSE_ORG", "acme")

	// Completion asks the server for names, the catalog for scopes.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"role", "get", ""}, "readers"},
		{[]string{"set", "delete", "Dep"}, "Deployers"},
		{[]string{"role", "assign", "readers", "--team", ""}, "platform"},
		{[]string{"team", "add-member", "platform", ""}, "bob"},
		{[]string{"check", "--token", "x", "--scope", "stack:re"}, "stack:read"},
		{[]string{"set", "create", "x", "--scopes", "stack:read,stack:wr"}, "stack:read,stack:write"},
		{[]string{"token", "delete", ""}, "ci"},
		{[]string{"role", "list", "--org", ""}, "acme"},
	} {
		out := must(append([]string{"__complete"}, c.args...)...)
		if !strings.Contains(out, c.want) {
			t.Errorf("completion of %q lacks %q:\n%s", c.args, c.want, out)
		}
	}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		if out := must("completion", shell); !strings.Contains(out, "__complete") {
			t.Errorf("completion %s does not call back for dynamic names", shell)
		}
	}

	if out := must("version"); !strings.HasPrefix(out, "gatehouse ") {
		t.Errorf("version: %q", out)
	}
	must("logout")
	if _, err := os.Stat(filepath.Join(cfgDir, "credentials.json")); !os.IsNotExist(err) {
		t.Errorf("logout left the credentials: %v", err)
	}
	t.Setenv("GATEHOUSE_ORG", "")
	if code, _, stderr := run(t, "whoami"); code != exitError || !strings.Contains(stderr, "not logged in") {
		t.Errorf("whoami after logout: exit %d %s", code, stderr)
	}
}

// TestResolve: an ID first, then an exact name, then one name that
// differs in case or a built-in's identifier; ambiguity and absence are
// refused, naming what there is; an ID passes when the list is refused.
func TestResolve(t *testing.T) {
	cands := []named{
		{"11111111-1111-1111-1111-111111111111", []string{"Admin", "admin"}},
		{"22222222-2222-2222-2222-222222222222", []string{"deployer", ""}},
		{"33333333-3333-3333-3333-333333333333", []string{"Deployer", ""}},
		{"44444444-4444-4444-4444-444444444444", []string{"ops", ""}},
		{"55555555-5555-5555-5555-555555555555", []string{"ops", ""}},
	}
	for _, c := range []struct{ arg, id, err string }{
		{"22222222-2222-2222-2222-222222222222", "22222222-2222-2222-2222-222222222222", ""},
		{"Admin", "11111111-1111-1111-1111-111111111111", ""},
		{"ADMIN", "11111111-1111-1111-1111-111111111111", ""},
		{"admin", "11111111-1111-1111-1111-111111111111", ""},
		{"deployer", "22222222-2222-2222-2222-222222222222", ""},
		{"Deployer", "33333333-3333-3333-3333-333333333333", ""},
		{"DEPLOYER", "", `role "DEPLOYER" is ambiguous: give one of the IDs 22222222`},
		{"ops", "", `role "ops" is ambiguous`},
		{"nobody", "", `no role "nobody" (known: Admin, deployer, Deployer, ops, ops)`},
	} {
		id, err := resolve("role", c.arg, cands)
		if id != c.id || (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("resolve(%q) = %q, %v; want %q, %q", c.arg, id, err, c.id, c.err)
		}
	}
	refused := &gatehouse.Error{Code: gatehouse.EFORBIDDEN, Message: "forbidden"}
	if id, err := passID("22222222-2222-2222-2222-222222222222", refused); err != nil || id != "22222222-2222-2222-2222-222222222222" {
		t.Errorf("an ID with the list refused: %q %v", id, err)
	}
	if _, err := passID("deployer", refused); err != refused {
		t.Errorf("a name with the list refused: %v", err)
	}
}
