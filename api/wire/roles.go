package wire

import (
	"encoding/json"
	"time"
)

// Role is Pulumi's PermissionDescriptorRecord: a role, permission set or
// policy.
type Role struct {
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

// CreateRoleRequest is the body of POST /roles (Pulumi's
// PermissionDescriptorBase); every field is optional on the wire, checked
// by the service.
type CreateRoleRequest struct {
	Name         *string         `json:"name,omitempty"`
	Description  *string         `json:"description,omitempty"`
	ResourceType *string         `json:"resourceType,omitempty"`
	UXPurpose    *string         `json:"uxPurpose,omitempty"`
	Details      json.RawMessage `json:"details,omitempty"`
}

// UpdateRoleRequest is the body of PATCH /roles/{roleID}.
type UpdateRoleRequest struct {
	Name        *string         `json:"name,omitempty"`
	Description *string         `json:"description,omitempty"`
	Details     json.RawMessage `json:"details,omitempty"`
}

// ListRolesResponse is a page of roles (also a team's roles, in one page).
type ListRolesResponse struct {
	Roles             []Role `json:"roles"`
	ContinuationToken string `json:"continuationToken,omitempty"`
}

// RoleScopes is the scope catalog by entity type ("global", "stack", ...).
type RoleScopes map[string][]ScopeGroup

// ScopeGroup is a named group of the scope catalog.
type ScopeGroup struct {
	Name   string  `json:"name"`
	Scopes []Scope `json:"scopes"`
}

// Scope is one scope of the catalog with its metadata (its description).
type Scope struct {
	Name     string            `json:"name"`
	Metadata map[string]string `json:"metadata"`
}

// ListRoleUsersResponse lists the members assigned a role.
type ListRoleUsersResponse struct {
	Users []UserInfo `json:"users"`
}
