package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api"
)

// TestIAMImplementations runs one scenario through both implementations of
// gatehouse.IAM: the HTTP client against the server, and the service in
// process. They must behave alike.
func TestIAMImplementations(t *testing.T) {
	for _, impl := range []string{"http", "in-process"} {
		t.Run(impl, func(t *testing.T) {
			e := newEnv(t)
			var iam gatehouse.IAM = &api.Client{BaseURL: e.srv.URL, Token: e.admin}
			if impl == "in-process" {
				id, err := e.az.Authenticate("token " + e.admin)
				if err != nil {
					t.Fatal(err)
				}
				iam = &Named{S: e.svc, Actor: id.User}
			}
			iamScenario(t, iam)
		})
	}
}

func iamScenario(t *testing.T, iam gatehouse.IAM) {
	ctx := context.Background()
	who, err := iam.WhoAmI(ctx)
	if err != nil || who.Login != "admin" || len(who.Organizations) != 1 || who.Organizations[0] != "acme" {
		t.Fatalf("WhoAmI = %+v, %v", who, err)
	}
	sets, err := iam.Roles(ctx, "acme", gatehouse.PurposeSet)
	if err != nil || len(sets) != 13 {
		t.Fatalf("Roles(set) = %d, %v", len(sets), err)
	}
	name, desc := "deployer", "deploys"
	details := json.RawMessage(`{"__type":"PermissionDescriptorAllow","permissions":["org_member:read","team:list"]}`)
	role, err := iam.CreateRole(ctx, "acme", gatehouse.RoleInput{Name: &name, Description: &desc, Details: details}, true)
	if err != nil || role.Version != 1 || role.Purpose != gatehouse.PurposeRole {
		t.Fatalf("CreateRole = %+v, %v", role, err)
	}
	if _, err := iam.CreateRole(ctx, "acme", gatehouse.RoleInput{Name: &name, Details: details}, false); gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
		t.Errorf("duplicate CreateRole: %v", err)
	}
	newName := "deployers"
	role, err = iam.UpdateRole(ctx, "acme", role.ID, gatehouse.RoleInput{Name: &newName})
	if err != nil || role.Name != "deployers" || role.Version != 2 {
		t.Fatalf("UpdateRole = %+v, %v", role, err)
	}
	got, err := iam.Role(ctx, "acme", role.ID)
	if err != nil || got.Name != "deployers" {
		t.Fatalf("Role = %+v, %v", got, err)
	}
	if _, err := iam.Role(ctx, "acme", gatehouse.NewID()); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("Role(unknown): %v", err)
	}

	tok, err := iam.CreateToken(ctx, "acme", gatehouse.TokenRequest{Name: "ci", RoleID: role.ID})
	if err != nil || !strings.HasPrefix(tok.Value, "pul-") {
		t.Fatalf("CreateToken = %+v, %v", tok, err)
	}
	res, err := iam.Check(ctx, "acme", []gatehouse.CheckRequest{
		{Token: tok.Value, Scope: "team:list", Entity: gatehouse.CheckEntity{Type: "global"}},
		{Token: tok.Value, Scope: "team:create", Entity: gatehouse.CheckEntity{Type: "global"}},
		{Token: tok.Value, Scope: "team:lsit", Entity: gatehouse.CheckEntity{Type: "global"}},
	})
	if err != nil || !res[0].Allowed || res[1].Allowed || !strings.Contains(res[1].Reason, "no role grants team:create") ||
		!strings.Contains(res[2].Error, `did you mean "team:list"`) {
		t.Fatalf("Check = %+v, %v", res, err)
	}
	tokens, err := iam.Tokens(ctx, "acme", "")
	if err != nil || len(tokens) != 1 || tokens[0].RoleID != role.ID {
		t.Fatalf("Tokens = %+v, %v", tokens, err)
	}

	if _, err := iam.CreateTeam(ctx, "acme", "platform", "Platform", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := iam.AddMember(ctx, "acme", "bob", "member"); err != nil {
		t.Fatal(err)
	}
	if err := iam.TeamMember(ctx, "acme", "platform", "bob", "add"); err != nil {
		t.Fatal(err)
	}
	if err := iam.AssignTeamRole(ctx, "acme", "platform", role.ID); err != nil {
		t.Fatal(err)
	}
	if err := iam.SetMemberRole(ctx, "acme", "bob", role.ID); err != nil {
		t.Fatal(err)
	}
	members, err := iam.Members(ctx, "acme")
	if err != nil || len(members) != 2 {
		t.Fatalf("Members = %+v, %v", members, err)
	}
	for _, m := range members {
		if m.Login == "bob" && m.RoleName != "deployers" {
			t.Errorf("bob's role = %s", m.RoleName)
		}
	}
	teamTok, err := iam.CreateToken(ctx, "acme", gatehouse.TokenRequest{Team: "platform", Name: "platform-ci"})
	if err != nil {
		t.Fatal(err)
	}
	if ts, err := iam.Tokens(ctx, "acme", "platform"); err != nil || len(ts) != 1 {
		t.Fatalf("team Tokens = %+v, %v", ts, err)
	}
	if err := iam.RevokeToken(ctx, "acme", "platform", teamTok.ID); err != nil {
		t.Fatal(err)
	}
	if err := iam.DeleteRole(ctx, "acme", role.ID, false); gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
		t.Errorf("DeleteRole of a role in use: %v", err)
	}
	if err := iam.RevokeToken(ctx, "acme", "", tok.ID); err != nil {
		t.Fatal(err)
	}
	if err := iam.UnassignTeamRole(ctx, "acme", "platform", role.ID); err != nil {
		t.Fatal(err)
	}
	if err := iam.DeleteRole(ctx, "acme", role.ID, true); err != nil {
		t.Fatalf("DeleteRole with force: %v", err)
	}
	if err := iam.RemoveMember(ctx, "acme", "bob"); err != nil {
		t.Fatal(err)
	}
	if err := iam.DeleteTeam(ctx, "acme", "platform"); err != nil {
		t.Fatal(err)
	}
	if teams, err := iam.Teams(ctx, "acme"); err != nil || len(teams) != 0 {
		t.Errorf("Teams after delete = %+v, %v", teams, err)
	}
	personal, err := iam.CreateToken(ctx, "", gatehouse.TokenRequest{Description: "laptop"})
	if err != nil {
		t.Fatal(err)
	}
	if ts, err := iam.Tokens(ctx, "", ""); err != nil || len(ts) != 2 {
		t.Errorf("personal Tokens = %d, %v", len(ts), err)
	}
	if err := iam.RevokeToken(ctx, "", "", personal.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := iam.Roles(ctx, "nope", gatehouse.PurposeRole); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("Roles of an unknown organization: %v", err)
	}
}
