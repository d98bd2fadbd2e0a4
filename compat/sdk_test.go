package compat

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pulumi/pulumi-cloud-sdk/go/apiclient"
	"github.com/pulumi/pulumi-cloud-sdk/go/apitype"

	"github.com/gatehouse-iam/gatehouse/api"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
)

// client returns the official SDK client pointed at a fresh Gatehouse,
// authenticated with the bootstrap admin's token.
func client(t *testing.T) *apiclient.CloudClient {
	t.Helper()
	te := testenv.New(t)
	server := api.New(te.Svc, te.Authz, api.Options{})
	srv := httptest.NewServer(server.Handler())
	t.Cleanup(func() { srv.Close(); server.Close() })
	return &apiclient.CloudClient{BaseURL: srv.URL, Executor: func(r *http.Request) (*http.Response, error) {
		r.Header.Set("Authorization", "token "+te.Admin)
		return http.DefaultClient.Do(r)
	}}
}

func ptr[T any](v T) *T { return &v }

// TestSDKRolesTokensTeamsMembers drives Gatehouse with the official Pulumi
// Cloud Go SDK: its generated types must round-trip through our API.
func TestSDKRolesTokensTeamsMembers(t *testing.T) {
	ctx := context.Background()
	c := client(t)

	sets, err := c.ListRolesByOrgIDAndUXPurpose(ctx, "acme", nil, apitype.PermissionDescriptorUXPurposeSet)
	if err != nil {
		t.Fatal(err)
	}
	var stackRead string
	for _, s := range sets.Roles {
		if s.DefaultIdentifier == "stack-read" {
			stackRead = s.ID
		}
	}
	if stackRead == "" {
		t.Fatalf("no stack-read set among %d", len(sets.Roles))
	}

	// A custom set, then a console role over it with createPolicyAndRole.
	set, err := c.CreateRole(ctx, "acme", nil, apitype.PermissionDescriptorBase{
		Name: "Deployers", ResourceType: "stack", UxPurpose: apitype.PermissionDescriptorUXPurposeSet,
		Details: apitype.PermissionDescriptorAllowBuilder{Permissions: apitype.RbacPermissionSlice{"stack:read", "stack:write"}}.Build(),
	})
	if err != nil {
		t.Fatal(err)
	}
	role, err := c.CreateRole(ctx, "acme", ptr(true), apitype.PermissionDescriptorBase{
		Name: "Deployer", Description: "deploys", UxPurpose: apitype.PermissionDescriptorUXPurposeRole,
		Details: apitype.PermissionDescriptorComposeBuilder{PermissionDescriptors: []string{set.ID}}.Build(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if role.Version != 1 || role.Name != "Deployer" {
		t.Errorf("created role = %+v", role)
	}
	got, err := c.GetRole(ctx, "acme", role.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Details == nil {
		t.Fatalf("the SDK could not decode the role's details")
	}
	upd, err := c.UpdateRole(ctx, "acme", role.ID, apitype.UpdateRoleRequest{Description: ptr("deploys things")})
	if err != nil || upd.Version != 2 || upd.Description != "deploys things" {
		t.Fatalf("UpdateRole = %+v, %v", upd, err)
	}

	// Tokens bound to the role.
	tok, err := c.CreateOrgToken(ctx, "acme", nil, apitype.CreateOrgAccessTokenRequest{Name: "ci", RoleID: &role.ID,
		BaseCreateAccessTokenRequest: apitype.BaseCreateAccessTokenRequest{Description: "pipeline"}})
	if err != nil || len(tok.TokenValue) != 44 {
		t.Fatalf("CreateOrgToken = %+v, %v", tok, err)
	}
	list, err := c.ListOrgTokens(ctx, "acme", nil, nil, nil, nil, nil, nil)
	if err != nil || len(list.Tokens) != 1 {
		t.Fatalf("ListOrgTokens = %+v, %v", list, err)
	}

	// Teams and their roles.
	team, err := c.CreatePulumiTeam(ctx, "acme", apitype.CreatePulumiTeamRequest{Name: "platform", DisplayName: "Platform"})
	if err != nil || team.Name != "platform" {
		t.Fatalf("CreatePulumiTeam = %+v, %v", team, err)
	}
	if err := c.UpdateTeamRoles(ctx, "acme", "platform", role.ID); err != nil {
		t.Fatal(err)
	}
	teamTok, err := c.CreateTeamToken(ctx, "acme", "platform", nil, apitype.CreateTeamAccessTokenRequest{Name: "platform-ci"})
	if err != nil || teamTok.TokenValue == "" {
		t.Fatalf("CreateTeamToken = %+v, %v", teamTok, err)
	}
	teams, err := c.ListTeams(ctx, "acme")
	if err != nil || len(teams.Teams) != 1 {
		t.Fatalf("ListTeams = %+v, %v", teams, err)
	}

	// Members.
	m, err := c.AddOrganizationMember(ctx, "acme", "bob", apitype.AddOrganizationMemberRequest{Role: apitype.OrganizationRoleMember})
	if err != nil || m.User.GitHubLogin != "bob" {
		t.Fatalf("AddOrganizationMember = %+v, %v", m, err)
	}
	if err := c.UpdateOrganizationMember(ctx, "acme", "bob", apitype.UpdateOrganizationMemberRequest{FGARoleID: &role.ID}); err != nil {
		t.Fatal(err)
	}
	members, err := c.ListOrganizationMembers(ctx, "acme", nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mm := range members.Members {
		if mm.User.GitHubLogin == "bob" {
			found = true
			if mm.FGARole.ID != role.ID {
				t.Errorf("bob fgaRole = %+v", mm.FGARole)
			}
		}
	}
	if !found {
		t.Errorf("bob not listed")
	}

	// Errors come back as the SDK expects them.
	if err := c.DeleteRole(ctx, "acme", role.ID, nil); err == nil {
		t.Errorf("deleting an assigned role succeeded")
	}
	if err := c.DeleteRole(ctx, "acme", set.ID, ptr(true)); err == nil {
		t.Errorf("deleting a composed set succeeded")
	}
	if err := c.DeleteOrgToken(ctx, "acme", list.Tokens[0].ID); err != nil {
		t.Fatal(err)
	}
	// With force, the role is taken from its member and team, and its
	// policy goes with it.
	if err := c.DeleteRole(ctx, "acme", role.ID, ptr(true)); err != nil {
		t.Fatalf("force delete: %v", err)
	}
	if _, err := c.GetRole(ctx, "acme", role.ID); err == nil {
		t.Errorf("the role survived a force delete")
	}
}
