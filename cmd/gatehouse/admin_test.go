package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

// TestAdminGrantAdmin: an organization left without an admin gets one back
// from the host: an existing member is made an admin, audited as the
// host's action; a second run changes nothing; a non-member is refused.
func TestAdminGrantAdmin(t *testing.T) {
	t.Setenv("GATEHOUSE_MASTER_KEY", "")
	t.Setenv("GATEHOUSE_MASTER_KEY_FILE", "")
	ctx := context.Background()
	database := filepath.Join(t.TempDir(), "gatehouse.db")
	newDatabase(t, database)
	if code, _, stderr := run(t, "admin", "org", "create", "acme", "--admin", "alice", "--database", database); code != exitOK {
		t.Fatalf("admin org create: exit %d %s", code, stderr)
	}
	// bob joins as a member, and alice loses Admin behind the service's
	// back: the organization has no admin left.
	db, svc, err := openDirect(ctx, database)
	if err != nil {
		t.Fatal(err)
	}
	org, err := orgByName(ctx, db, "acme")
	if err != nil {
		t.Fatal(err)
	}
	member, err := svc.Builtin(ctx, org.ID, catalog.RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddMember(ctx, org.ID, "bob", catalog.RoleMember); err != nil {
		t.Fatal(err)
	}
	if err := db.UnsafeExec(ctx, "UPDATE memberships SET role_id = ? WHERE org_id = ?", member.ID, org.ID); err != nil {
		t.Fatal(err)
	}
	db.Close()

	for _, c := range []struct {
		args   []string
		code   int
		output string
	}{
		{[]string{"--org", "acme"}, exitError, "--user is required"},
		{[]string{"--user", "bob"}, exitError, "--org is required"},
		{[]string{"--org", "nope", "--user", "bob"}, exitError, `organization "nope"`},
		{[]string{"--org", "acme", "--user", "carol"}, exitError, "carol is not a member of acme"},
		{[]string{"--org", "acme", "--user", "bob"}, exitOK, "bob is now an admin of acme (was Member)"},
		{[]string{"--org", "acme", "--user", "bob"}, exitOK, "bob is an admin of acme already"},
	} {
		code, stdout, stderr := run(t, append([]string{"admin", "grant-admin", "--database", database}, c.args...)...)
		if code != c.code || !strings.Contains(stdout+stderr, c.output) {
			t.Errorf("grant-admin %s: exit %d, %q %q; want exit %d with %q", strings.Join(c.args, " "), code, stdout, stderr, c.code, c.output)
		}
	}

	db, svc, err = openDirect(ctx, database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, err := svc.Member(ctx, org.ID, "bob"); err != nil || v.Role.DefaultIdentifier != catalog.RoleAdmin {
		t.Fatalf("bob after grant-admin: %+v, %v; want an admin", v, err)
	}
	events, _, err := svc.AuditEvents(ctx, org.ID, gatehouse.AuditFilter{Types: []string{gatehouse.EventMemberRoleChanged}}, gatehouse.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 {
		t.Fatalf("%d member_role_changed events, want the one grant (the second run changes nothing)", len(events))
	}
	var data struct{ Login, Before, After string }
	json.Unmarshal(events[0].Data, &data)
	if e := events[0]; e.ActorLogin != hostGrantAdmin || data.Login != "bob" || data.Before != member.ID || data.After == member.ID {
		t.Errorf("the grant's event: actor %q, data %s", e.ActorLogin, e.Data)
	}
	if v, err := svc.VerifyAudit(ctx, org.ID); err != nil || v.Broken != 0 {
		t.Errorf("the audit chain after grant-admin: %+v, %v", v, err)
	}
}
