package api

import (
	"encoding/json"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/service"
)

// The JSON shapes of Pulumi's API (spec §3).

type descriptorJSON struct {
	ID                string          `json:"id"`
	OrgID             string          `json:"orgId"`
	Name              string          `json:"name,omitempty"`
	Description       string          `json:"description,omitempty"`
	ResourceType      string          `json:"resourceType,omitempty"`
	UXPurpose         string          `json:"uxPurpose,omitempty"`
	Details           json.RawMessage `json:"details,omitempty"`
	Version           int             `json:"version"`
	IsOrgDefault      bool            `json:"isOrgDefault"`
	DefaultIdentifier string          `json:"defaultIdentifier,omitempty"`
	Created           time.Time       `json:"created"`
	Modified          time.Time       `json:"modified"`
}

func toDescriptor(d *gatehouse.Descriptor, org *gatehouse.Organization) descriptorJSON {
	return descriptorJSON{ID: d.ID, OrgID: org.ID, Name: d.Name, Description: d.Description, ResourceType: d.ResourceType.String(),
		UXPurpose: d.Purpose, Details: d.Details, Version: d.Version, IsOrgDefault: org.Settings.DefaultRoleID == d.ID,
		DefaultIdentifier: d.DefaultIdentifier, Created: d.Created, Modified: d.Modified}
}

// descriptorBase is the body of POST /roles; every field optional on the
// wire, checked by the service.
type descriptorBase struct {
	Name         *string         `json:"name,omitempty"`
	Description  *string         `json:"description,omitempty"`
	ResourceType *string         `json:"resourceType,omitempty"`
	UXPurpose    *string         `json:"uxPurpose,omitempty"`
	Details      json.RawMessage `json:"details,omitempty"`
}

type updateRoleRequest struct {
	Name        *string         `json:"name,omitempty"`
	Description *string         `json:"description,omitempty"`
	Details     json.RawMessage `json:"details,omitempty"`
}

// present is a JSON field's raw value, nil when absent or null.
func present(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}

type userInfo struct {
	Name        string `json:"name"`
	GitHubLogin string `json:"githubLogin"`
	AvatarURL   string `json:"avatarUrl"`
	Email       string `json:"email,omitempty"`
}

func toUserInfo(u *gatehouse.User) userInfo {
	if u == nil {
		return userInfo{}
	}
	return userInfo{Name: u.Name, GitHubLogin: u.Login, AvatarURL: u.AvatarURL, Email: u.Email}
}

type fgaRole struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	ModifiedAt time.Time `json:"modifiedAt"`
}

type organizationMember struct {
	Role               string            `json:"role"`
	User               userInfo          `json:"user"`
	Created            time.Time         `json:"created"`
	KnownToPulumi      bool              `json:"knownToPulumi"`
	VirtualAdmin       bool              `json:"virtualAdmin"`
	Links              map[string]string `json:"links"`
	FGARole            fgaRole           `json:"fgaRole"`
	Suspended          bool              `json:"suspended,omitempty"`
	FollowsDefaultRole bool              `json:"followsDefaultRole,omitempty"`
}

// organizationRoles are the values of Pulumi's deprecated role projection.
var organizationRoles = map[string]bool{"member": true, "admin": true, "billing-manager": true, "reader": true, "builder": true, "maintainer": true}

func toMember(v *service.MemberView, org *gatehouse.Organization) organizationMember {
	role := "member"
	if organizationRoles[v.Role.DefaultIdentifier] {
		role = v.Role.DefaultIdentifier
	}
	return organizationMember{Role: role, User: toUserInfo(v.User), Created: v.Membership.Created, KnownToPulumi: true,
		Links: map[string]string{}, FGARole: fgaRole{ID: v.Role.ID, Name: v.Role.Name, ModifiedAt: v.Role.Modified},
		Suspended: v.Membership.Suspended, FollowsDefaultRole: v.Membership.RoleID == org.Settings.DefaultRoleID}
}

type teamMemberJSON struct {
	userInfo
	Role string `json:"role"`
}

type teamStackJSON struct {
	ProjectName       string `json:"projectName"`
	StackName         string `json:"stackName"`
	Permission        int    `json:"permission"`
	PermissionSetName string `json:"permissionSetName,omitempty"`
}

type teamEnvJSON struct {
	ProjectName       string `json:"projectName"`
	EnvName           string `json:"envName"`
	Permission        string `json:"permission"`
	MaxOpenDuration   string `json:"maxOpenDuration,omitempty"`
	PermissionSetName string `json:"permissionSetName,omitempty"`
}

type teamAccountJSON struct {
	AccountName       string `json:"accountName"`
	Permission        int    `json:"permission"`
	PermissionSetName string `json:"permissionSetName,omitempty"`
}

type teamJSON struct {
	Kind         string            `json:"kind"`
	Name         string            `json:"name"`
	DisplayName  string            `json:"displayName"`
	Description  string            `json:"description"`
	Members      []teamMemberJSON  `json:"members,omitempty"`
	Stacks       []teamStackJSON   `json:"stacks,omitempty"`
	Environments []teamEnvJSON     `json:"environments,omitempty"`
	Accounts     []teamAccountJSON `json:"accounts,omitempty"`
	UserRole     string            `json:"userRole,omitempty"`
	RoleIDs      []string          `json:"roleIds,omitempty"`
}

var stackPermissionCodes = map[string]int{"stack-read": 101, "stack-write": 102, "stack-admin": 103}
var envPermissionNames = map[string]string{"environment-read": "read", "environment-open": "open", "environment-write": "write", "environment-admin": "admin"}
var accountPermissionCodes = map[string]int{"insights-account-read": 1, "insights-account-write": 2, "insights-account-admin": 3}

func toTeam(t *gatehouse.Team) teamJSON {
	return teamJSON{Kind: t.Kind, Name: t.Name, DisplayName: t.DisplayName, Description: t.Description}
}

func toTeamView(v *service.TeamView, caller *gatehouse.Identity) teamJSON {
	out := toTeam(v.Team)
	out.RoleIDs = v.RoleIDs
	out.UserRole = "none"
	for _, m := range v.Members {
		out.Members = append(out.Members, teamMemberJSON{userInfo: toUserInfo(m.User), Role: m.Role})
		if caller != nil && caller.User != nil && caller.User.ID == m.User.ID {
			out.UserRole = m.Role
		}
	}
	for _, g := range v.Grants {
		switch g.Grant.Entity.Type {
		case gatehouse.EntityStack:
			out.Stacks = append(out.Stacks, teamStackJSON{ProjectName: g.Project, StackName: g.Name,
				Permission: stackPermissionCodes[g.Set.DefaultIdentifier], PermissionSetName: g.Set.Name})
		case gatehouse.EntityEnvironment:
			e := teamEnvJSON{ProjectName: g.Project, EnvName: g.Name, Permission: envPermissionNames[g.Set.DefaultIdentifier], PermissionSetName: g.Set.Name}
			if g.Grant.MaxOpenDuration > 0 {
				e.MaxOpenDuration = g.Grant.MaxOpenDuration.String()
			}
			out.Environments = append(out.Environments, e)
		case gatehouse.EntityInsightsAccount:
			out.Accounts = append(out.Accounts, teamAccountJSON{AccountName: g.Name, Permission: accountPermissionCodes[g.Set.DefaultIdentifier], PermissionSetName: g.Set.Name})
		}
	}
	return out
}

type updateTeamRequest struct {
	NewDisplayName            *string        `json:"newDisplayName"`
	NewDescription            *string        `json:"newDescription"`
	MemberAction              string         `json:"memberAction"`
	Member                    string         `json:"member"`
	AddStackPermission        *teamStackJSON `json:"addStackPermission"`
	EditStackPermission       *teamStackJSON `json:"editStackPermission"`
	RemoveStack               *teamStackJSON `json:"removeStack"`
	AddEnvironmentPermission  *teamEnvJSON   `json:"addEnvironmentPermission"`
	EditEnvironmentPermission *teamEnvJSON   `json:"editEnvironmentPermission"`
	RemoveEnvironment         *teamEnvJSON   `json:"removeEnvironment"`
}

type tokenRoleJSON struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	DefaultIdentifier string `json:"defaultIdentifier,omitempty"`
}

type accessTokenJSON struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Created     string         `json:"created"`
	LastUsed    int64          `json:"lastUsed"`
	Expires     int64          `json:"expires"`
	Admin       bool           `json:"admin"`
	CreatedBy   *string        `json:"createdBy"`
	Role        *tokenRoleJSON `json:"role,omitempty"`
	Type        string         `json:"type,omitempty"`
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

type createTokenResponse struct {
	ID         string `json:"id"`
	TokenValue string `json:"tokenValue"`
}
