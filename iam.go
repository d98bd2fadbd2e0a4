package gatehouse

import (
	"context"
	"encoding/json"
	"io"
	"time"
)

// IAM is Gatehouse's identity and access management, as a program uses it:
// organizations by name, roles, members, teams, tokens and decisions.
// api.Client implements it over HTTP for the gatehouse CLI; a test adapter
// over the service (api's named_test.go) checks that both behave alike.
type IAM interface {
	// WhoAmI describes the caller.
	WhoAmI(ctx context.Context) (*WhoAmI, error)

	// Roles lists descriptors of one purpose (PurposeRole, PurposeSet, ...).
	Roles(ctx context.Context, org, purpose string) ([]*Descriptor, error)
	Role(ctx context.Context, org, id string) (*Descriptor, error)
	// CreateRole creates a role, set or policy; with policyAndRole, a role
	// composing a new policy that holds the details.
	CreateRole(ctx context.Context, org string, in RoleInput, policyAndRole bool) (*Descriptor, error)
	UpdateRole(ctx context.Context, org, id string, in RoleInput) (*Descriptor, error)
	DeleteRole(ctx context.Context, org, id string, force bool) error
	SetDefaultRole(ctx context.Context, org, id string) error

	Members(ctx context.Context, org string) ([]*Member, error)
	// AddMember adds a user (creating it when new) with a built-in role, or
	// the organization's default when role is empty.
	AddMember(ctx context.Context, org, login, role string) (*Member, error)
	// SetMemberRole gives a member any role of the organization.
	SetMemberRole(ctx context.Context, org, login, roleID string) error
	RemoveMember(ctx context.Context, org, login string) error

	Teams(ctx context.Context, org string) ([]*Team, error)
	CreateTeam(ctx context.Context, org, name, displayName, description string) (*Team, error)
	DeleteTeam(ctx context.Context, org, name string) error
	// TeamMember adds, removes, promotes or demotes a member of a team.
	TeamMember(ctx context.Context, org, team, login, action string) error
	AssignTeamRole(ctx context.Context, org, team, roleID string) error
	UnassignTeamRole(ctx context.Context, org, team, roleID string) error

	// Tokens lists tokens: the caller's personal tokens when org is empty,
	// a team's when team is set, else the organization's.
	Tokens(ctx context.Context, org, team string) ([]*Token, error)
	CreateToken(ctx context.Context, org string, req TokenRequest) (*CreatedToken, error)
	RevokeToken(ctx context.Context, org, team, id string) error

	// Check decides a batch of questions, with explanations.
	Check(ctx context.Context, org string, checks []CheckRequest) ([]CheckResult, error)

	// Issuers lists the organization's OIDC issuers.
	Issuers(ctx context.Context, org string) ([]*Issuer, error)
	// RegisterIssuer registers an issuer by URL (its policy denies all).
	RegisterIssuer(ctx context.Context, org, name, url string, maxExpiration time.Duration) (*Issuer, error)
	DeleteIssuer(ctx context.Context, org, id string) error
	// IssuerPolicy returns an issuer's policy and its rules.
	IssuerPolicy(ctx context.Context, org, issuerID string) (*AuthPolicy, []AuthPolicyRule, error)
	// SetIssuerPolicy replaces the rules of an issuer's policy.
	SetIssuerPolicy(ctx context.Context, org, issuerID string, rules []AuthPolicyRule) (*AuthPolicy, error)

	// AuditEvents lists an organization's audit events, newest first.
	AuditEvents(ctx context.Context, org string, f AuditFilter, opts ListOptions) ([]*AuditEvent, string, error)
	// ExportAudit writes the matching events to w as "csv" or "cef".
	ExportAudit(ctx context.Context, org string, f AuditFilter, format string, w io.Writer) error
}

// WhoAmI describes an authenticated caller.
type WhoAmI struct {
	Login         string   // the user, or the organization or team of a token
	Organizations []string // organization names
	TokenName     string   // for organization and team tokens
	Team          string   // for team tokens
}

// RoleInput creates or changes a descriptor; nil fields stay as they are.
type RoleInput struct {
	Name         *string
	Description  *string
	ResourceType string // for sets: stack, environment, insights-account, global
	Purpose      string // role (default), set, policy, ...
	Details      json.RawMessage
}

// Member is a member of an organization with their role.
type Member struct {
	Login     string
	Name      string
	RoleID    string
	RoleName  string
	Suspended bool
	Created   time.Time
}

// TokenRequest asks for a new token: a personal one when the organization
// is empty, a team's when Team is set, else the organization's.
type TokenRequest struct {
	Team        string
	Name        string
	Description string
	Expires     time.Time // zero: never
	RoleID      string    // organization tokens
}

// CreatedToken is a new token and its value, which is shown only now.
type CreatedToken struct {
	ID    string
	Value string
}

// CheckRequest is one decision to make: may the token use the scope on the
// entity? The entity is the organization (Type "global"), or a stack or
// environment by Project and Name, an account by Name, or any by ID.
type CheckRequest struct {
	Token  string      `json:"token"`
	Scope  string      `json:"scope"`
	Entity CheckEntity `json:"entity"`
	// Explain asks for an allowed check's reason too (which role grants
	// the scope, and where). A denial is always explained; an allowed
	// check is decided from the compiled grants alone unless asked, so
	// that its cost does not grow with the size of the roles.
	Explain bool `json:"explain,omitempty"`
}

// CheckEntity names the entity of a check.
type CheckEntity struct {
	Type    string `json:"type"`
	ID      string `json:"id,omitempty"`
	Project string `json:"project,omitempty"`
	Name    string `json:"name,omitempty"`
}

// CheckResult is one decision with its explanation, or the problem with the
// question.
type CheckResult struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason"`
	Error   string `json:"error,omitempty"`
}
