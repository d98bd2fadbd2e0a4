package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestClientCommands drives the gatehouse CLI's client commands against a
// running server, from login to cleanup.
func TestClientCommands(t *testing.T) {
	m, admin := startMain(t, filepath.Join(t.TempDir(), "g.db"), nil)
	url := "http://" + m.Addr
	cfgDir := t.TempDir()
	t.Setenv("GATEHOUSE_CONFIG_DIR", cfgDir)
	t.Setenv("GATEHOUSE_TOKEN", "")
	t.Setenv("GATEHOUSE_URL", "")
	t.Setenv("GATEHOUSE_ORG", "")

	must := func(want string, args ...string) string {
		t.Helper()
		code, stdout, stderr := run(t, args...)
		if code != exitOK || !strings.Contains(stdout, want) {
			t.Fatalf("gatehouse %s: exit %d\nstdout: %s\nstderr: %s\nwant %q", strings.Join(args, " "), code, stdout, stderr, want)
		}
		return stdout
	}
	if code, _, stderr := run(t, "role", "list"); code != exitError || !strings.Contains(stderr, "not logged in") {
		t.Fatalf("role list before login: exit %d %s", code, stderr)
	}
	must("Logged in to "+url+" as admin (organization acme)", "login", url, "--token", admin)
	info, err := os.Stat(filepath.Join(cfgDir, "credentials.json"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v", info, err)
	}
	if code, _, stderr := run(t, "login", url, "--token", "pul-wrong"); code != exitError || !strings.Contains(stderr, "login to "+url+": unauthorized: ") || strings.Contains(stderr, "code=") {
		t.Errorf("login with a bad token: exit %d %s", code, stderr)
	}
	must("acme", "whoami")

	out := must(`"name": "Deployers"`, "set", "create", "Deployers", "--type", "stack", "--scopes", "stack:read,stack:write", "-o", "json")
	var set struct{ ID string }
	json.Unmarshal([]byte(out), &set)
	details := filepath.Join(t.TempDir(), "role.json")
	os.WriteFile(details, []byte(`{"__type":"PermissionDescriptorGroup","entries":[
		{"__type":"PermissionDescriptorAllow","permissions":["org_member:read"]},
		{"__type":"PermissionDescriptorCondition","condition":{"__type":"PermissionExpressionHasTag","context":{"__type":"PermissionExpressionStack"},"key":"team"},
		 "subNode":{"__type":"PermissionDescriptorCompose","permissionDescriptors":["`+set.ID+`"]}}]}`), 0o600)
	out = must(`"name": "tagged"`, "role", "create", "tagged", "--details", details, "--description", "by tag", "-o", "json")
	var role struct{ ID string }
	json.Unmarshal([]byte(out), &role)
	must("tagged", "role", "list")
	must("PermissionDescriptorCompose", "role", "get", role.ID)
	must("PermissionDescriptorCompose", "role", "get", "tagged") // by name
	must("tagged-role", "role", "edit", role.ID, "--name", "tagged-role")
	must(`"description": "by tag, again"`, "role", "update", "tagged-role", "--description", "by tag, again", "-o", "json")
	if code, _, stderr := run(t, "role", "edit", role.ID); code != exitError || !strings.Contains(stderr, "nothing to change") {
		t.Errorf("edit with nothing: exit %d %s", code, stderr)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"__type":"PermissionDescriptorAllow","permissions":["stack:reed"]}`), 0o600)
	if code, _, stderr := run(t, "role", "create", "bad", "--details", bad); code != exitError || !strings.Contains(stderr, `did you mean "stack:read"`) {
		t.Errorf("create with a bad scope: exit %d %s", code, stderr)
	}

	value := strings.TrimSpace(must("pul-", "token", "create", "--name", "ci", "--role", "tagged-role", "--expires", "24h"))
	must("ci", "token", "list")
	must("allow: role", "check", "--token", value, "--scope", "org_member:read")
	code, stdout, _ := run(t, "check", "--token", value, "--scope", "team:create")
	if code != exitDeny || !strings.Contains(stdout, "deny: no role grants team:create") {
		t.Errorf("check deny: exit %d %s", code, stdout)
	}
	if code, _, stderr := run(t, "check", "--token", value, "--scope", "stack:read", "--entity", "stack:nope"); code != exitError || !strings.Contains(stderr, "PROJECT/NAME") {
		t.Errorf("check with a bad entity: exit %d %s", code, stderr)
	}

	must("platform", "team", "create", "platform", "--display-name", "Platform")
	must("bob", "member", "add", "bob", "--role", "member")
	must("", "team", "add-member", "platform", "bob")
	must("assigned", "role", "assign", "tagged-role", "--team", "platform")
	must("assigned", "role", "assign", role.ID, "--member", "bob")
	out = must("bob", "member", "list")
	if !strings.Contains(out, "tagged-role") {
		t.Errorf("member list lacks bob's role:\n%s", out)
	}
	teamTok := strings.TrimSpace(must("pul-", "token", "create", "--team", "platform", "--name", "platform-ci"))
	must("allow", "check", "--token", teamTok, "--scope", "org_member:read")
	personal := strings.TrimSpace(must("pul-", "token", "create", "--personal", "--description", "laptop"))
	_ = personal
	must(`"description": "laptop"`, "token", "list", "--personal", "-o", "json")
	must("revoked token laptop", "token", "revoke", "laptop", "--personal") // by description, the name a personal token lacks
	if code, _, stderr := run(t, "role", "delete", role.ID); code != exitError || !strings.Contains(stderr, `gatehouse: "tagged-role" is assigned to`) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("delete a role in use: exit %d %s", code, stderr)
	}
	must("removed bob", "member", "remove", "bob")
	must("deleted team platform", "team", "delete", "platform")
	out = must("", "token", "list", "-o", "json")
	var toks struct{ Tokens []struct{ ID, Name string } }
	if err := json.Unmarshal([]byte(out), &toks); err != nil || len(toks.Tokens) == 0 {
		t.Fatalf("token list -o json: %v\n%s", err, out)
	}
	for _, tk := range toks.Tokens {
		must("revoked", "token", "rm", tk.Name)
	}
	must("deleted", "role", "delete", role.ID)
	must("deleted", "set", "rm", "Deployers")
	must("bash", "completion", "bash")

	// The audit log: list, export, and verify from the host.
	must("role_deleted", "audit", "list", "--event", "role_deleted,role_created")
	out = must("member_removed", "audit", "list", "--user", "admin", "-o", "json")
	if strings.Contains(out, "pul-") {
		t.Errorf("audit list shows a token value")
	}
	must("Timestamp,Name,Login", "audit", "export")
	must("CEF:0|", "audit", "export", "--format", "cef")
	must("intact:", "audit", "verify", "--database", m.Config.Database, "--org", "acme")
	if code, _, stderr := run(t, "audit", "list", "--from", "yesterday"); code != exitError || !strings.Contains(stderr, "--from") {
		t.Errorf("audit list --from yesterday: exit %d %s", code, stderr)
	}
}
