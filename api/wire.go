package api

import (
	"encoding/json"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/service"
)

// Conversions of domain values into the JSON shapes of Pulumi's API (spec
// §3), which package wire declares.

func toDescriptor(d *gatehouse.Descriptor, org *gatehouse.Organization) wire.Role {
	return wire.Role{ID: d.ID, OrgID: org.ID, Name: d.Name, Description: d.Description, ResourceType: d.ResourceType.String(),
		UXPurpose: d.Purpose, Details: d.Details, Version: d.Version, IsOrgDefault: org.Settings.DefaultRoleID == d.ID,
		DefaultIdentifier: d.DefaultIdentifier, Created: d.Created, Modified: d.Modified}
}

// present is a JSON field's raw value, nil when absent or null.
func present(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}

func toUserInfo(u *gatehouse.User) wire.UserInfo {
	if u == nil {
		return wire.UserInfo{}
	}
	return wire.UserInfo{Name: u.Name, GitHubLogin: u.Login, AvatarURL: u.AvatarURL, Email: u.Email}
}

// organizationRoles are the values of Pulumi's deprecated role projection.
var organizationRoles = map[string]bool{"member": true, "admin": true, "billing-manager": true, "reader": true, "builder": true, "maintainer": true}

func toMember(v *service.MemberView, org *gatehouse.Organization) wire.Member {
	role := "member"
	if organizationRoles[v.Role.DefaultIdentifier] {
		role = v.Role.DefaultIdentifier
	}
	return wire.Member{Role: role, User: toUserInfo(v.User), Created: v.Membership.Created, KnownToPulumi: true,
		Links: map[string]string{}, FGARole: wire.FGARole{ID: v.Role.ID, Name: v.Role.Name, ModifiedAt: v.Role.Modified},
		Suspended: v.Membership.Suspended, FollowsDefaultRole: v.Membership.RoleID == org.Settings.DefaultRoleID}
}

var stackPermissionCodes = map[string]int{"stack-read": 101, "stack-write": 102, "stack-admin": 103}
var envPermissionNames = map[string]string{"environment-read": "read", "environment-open": "open", "environment-write": "write", "environment-admin": "admin"}
var accountPermissionCodes = map[string]int{"insights-account-read": 1, "insights-account-write": 2, "insights-account-admin": 3}

func toTeam(t *gatehouse.Team) wire.Team {
	return wire.Team{Kind: t.Kind, Name: t.Name, DisplayName: t.DisplayName, Description: t.Description}
}

func toTeamView(v *service.TeamView, caller *gatehouse.Identity) wire.Team {
	out := toTeam(v.Team)
	out.RoleIDs = v.RoleIDs
	out.UserRole = "none"
	for _, m := range v.Members {
		out.Members = append(out.Members, wire.TeamMember{UserInfo: toUserInfo(m.User), Role: m.Role})
		if caller != nil && caller.User != nil && caller.User.ID == m.User.ID {
			out.UserRole = m.Role
		}
	}
	for _, g := range v.Grants {
		switch g.Grant.Entity.Type {
		case gatehouse.EntityStack:
			out.Stacks = append(out.Stacks, wire.TeamStack{ProjectName: g.Project, StackName: g.Name,
				Permission: stackPermissionCodes[g.Set.DefaultIdentifier], PermissionSetName: g.Set.Name})
		case gatehouse.EntityEnvironment:
			e := wire.TeamEnv{ProjectName: g.Project, EnvName: g.Name, Permission: envPermissionNames[g.Set.DefaultIdentifier], PermissionSetName: g.Set.Name}
			if g.Grant.MaxOpenDuration > 0 {
				e.MaxOpenDuration = g.Grant.MaxOpenDuration.String()
			}
			out.Environments = append(out.Environments, e)
		case gatehouse.EntityInsightsAccount:
			out.Accounts = append(out.Accounts, wire.TeamAccount{AccountName: g.Name, Permission: accountPermissionCodes[g.Set.DefaultIdentifier], PermissionSetName: g.Set.Name})
		}
	}
	return out
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}
