package main

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestInviteCommands: an admin invites another organization's user,
// changes and lists the invitation; the user sees it pending and
// accepts; a second invitation is declined, a third revoked. Then the
// admin makes a SCIM token that the SCIM endpoint takes.
func TestInviteCommands(t *testing.T) {
	m, admin := startMain(t, filepath.Join(t.TempDir(), "g.db"), nil)
	url := "http://" + m.Addr
	t.Setenv("GATEHOUSE_CONFIG_DIR", t.TempDir())
	t.Setenv("GATEHOUSE_URL", url)
	t.Setenv("GATEHOUSE_ORG", "")
	ctx := context.Background()
	globex, err := m.Service.CreateOrgWithAdmin(ctx, "globex", "hank", false)
	if err != nil {
		t.Fatal(err)
	}
	initech, err := m.Service.CreateOrgWithAdmin(ctx, "initech", "bill", false)
	if err != nil {
		t.Fatal(err)
	}
	cli := func(token string, wantCode int, want string, args ...string) string {
		t.Helper()
		t.Setenv("GATEHOUSE_TOKEN", token)
		code, stdout, stderr := run(t, args...)
		if code != wantCode || !strings.Contains(stdout+stderr, want) {
			t.Fatalf("gatehouse %s: exit %d\nstdout: %s\nstderr: %s\nwant %q", strings.Join(args, " "), code, stdout, stderr, want)
		}
		return stdout
	}
	out := cli(admin, exitOK, `"status": "pending"`, "invite", "create", "hank", "--org", "acme", "--role", "member", "--expires-in", "48h", "-o", "json")
	var inv struct{ ID string }
	json.Unmarshal([]byte(out), &inv)
	cli(admin, exitOK, "Admin", "invite", "update", inv.ID, "--org", "acme", "--role", "admin")
	cli(admin, exitError, "nothing to change", "invite", "update", inv.ID, "--org", "acme")
	cli(admin, exitOK, "hank", "invite", "list", "--org", "acme")
	cli(admin, exitError, "--expires-in", "invite", "create", "bill", "--org", "acme", "--expires-in", "-1h")
	cli(globex.Token, exitOK, "acme", "invite", "pending")
	cli(globex.Token, exitOK, "Joined acme as Admin.", "invite", "accept", inv.ID)
	if out := cli(globex.Token, exitOK, "ID", "invite", "pending"); strings.Contains(out, inv.ID) {
		t.Errorf("accepted, still pending: %s", out)
	}
	orgs, err := m.Service.Orgs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	acmeID := ""
	for _, o := range orgs {
		if o.Name == "acme" {
			acmeID = o.ID
		}
	}
	if v, err := m.Service.Member(ctx, acmeID, "hank"); err != nil || v.Role.Name != "Admin" {
		t.Fatalf("hank in acme: %+v %v", v, err)
	}

	out = cli(admin, exitOK, "bill", "invite", "create", "bill", "--org", "acme", "-o", "json")
	json.Unmarshal([]byte(out), &inv)
	cli(initech.Token, exitOK, "", "invite", "decline", inv.ID)
	cli(initech.Token, exitError, "not found", "invite", "accept", inv.ID)
	out = cli(admin, exitOK, "bill", "invite", "create", "bill", "--org", "acme", "-o", "json")
	json.Unmarshal([]byte(out), &inv)
	cli(admin, exitOK, "", "invite", "delete", inv.ID, "--org", "acme")
	if out := cli(admin, exitOK, "ID", "invite", "list", "--org", "acme"); strings.Contains(out, "bill") {
		t.Errorf("revoked, still listed: %s", out)
	}
	cli(initech.Token, exitError, "not found", "invite", "list", "--org", "acme")

	out = cli(admin, exitOK, "Token (shown once): scim-", "scim", "token", "--org", "acme")
	token := strings.TrimSpace(out[strings.Index(out, "scim-"):])
	if st := scimStatus(t, m, token); st != 200 {
		t.Errorf("the SCIM token the CLI made: %d", st)
	}
}

func scimStatus(t *testing.T, m *Main, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+m.Addr+"/scim/v2/acme/Users", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
