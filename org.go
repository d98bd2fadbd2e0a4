package gatehouse

import (
	"fmt"
	"time"
)

// MemberDefaults are the organization-wide settings that extend the built-in
// Member role (Pulumi's "organization-wide role settings"). They apply to
// members on the built-in Member role and to team tokens.
type MemberDefaults struct {
	// StackPermission is granted on every stack: "none", "read" or "write".
	StackPermission string `json:"stackPermission"`
	// EnvironmentPermission is granted on every environment: "none", "read",
	// "open" or "write".
	EnvironmentPermission string `json:"environmentPermission"`
	// AccountPermission is granted on every Insights account: "none",
	// "read", "write" or "admin".
	AccountPermission string `json:"accountPermission"`
	// MembersCanCreateStacks grants stack:create (and transferring stacks in).
	MembersCanCreateStacks bool `json:"membersCanCreateStacks"`
	// StackAdminsCanTransfer lets members who administer a stack transfer it out.
	StackAdminsCanTransfer bool `json:"stackAdminsCanTransfer"`
	// StackAdminsCanDelete lets members who administer a stack delete it.
	StackAdminsCanDelete bool `json:"stackAdminsCanDelete"`
	// MembersCanCreateAccounts grants insights_account:create.
	MembersCanCreateAccounts bool `json:"membersCanCreateAccounts"`
	// MembersCanCreateTeams grants team:create.
	MembersCanCreateTeams bool `json:"membersCanCreateTeams"`
}

// DefaultMemberDefaults are a new organization's settings, as Pulumi's: no
// default access to existing entities; members may create stacks, and stack
// admins may delete and transfer them.
func DefaultMemberDefaults() MemberDefaults {
	return MemberDefaults{
		StackPermission:        "none",
		EnvironmentPermission:  "none",
		AccountPermission:      "none",
		MembersCanCreateStacks: true,
		StackAdminsCanTransfer: true,
		StackAdminsCanDelete:   true,
	}
}

// Validate reports the first field that holds a value outside its set.
func (d MemberDefaults) Validate() error {
	check := func(field, v string, allowed ...string) error {
		for _, a := range allowed {
			if v == a {
				return nil
			}
		}
		return Errorf(EINVALID, "%s: %q is not one of %v", field, v, allowed)
	}
	if err := check("stackPermission", d.StackPermission, "none", "read", "write"); err != nil {
		return err
	}
	if err := check("environmentPermission", d.EnvironmentPermission, "none", "read", "open", "write"); err != nil {
		return err
	}
	return check("accountPermission", d.AccountPermission, "none", "read", "write", "admin")
}

// String summarizes the settings for logs.
func (d MemberDefaults) String() string {
	return fmt.Sprintf("stack=%s environment=%s account=%s", d.StackPermission, d.EnvironmentPermission, d.AccountPermission)
}

// Organization is a tenant: everything else belongs to one.
type Organization struct {
	ID          string
	Name        string // the login, unique, as in /api/orgs/{orgName}
	DisplayName string
	Created     time.Time
	Settings    OrgSettings
	// Revision counts the changes that affect access; the store bumps it in
	// the same transaction as each such change.
	Revision int64
}

// OrgSettings are an organization's access settings.
type OrgSettings struct {
	// DefaultRoleID is the role new members and role-less organization
	// tokens get.
	DefaultRoleID  string         `json:"defaultRoleId"`
	MemberDefaults MemberDefaults `json:"memberDefaults"`
	// MaxTokenLifetime caps the total lifetime (creation to expiry) of
	// tokens used against the organization; zero means no cap.
	MaxTokenLifetime time.Duration `json:"maxTokenLifetime"`
	// AuditRetention is how long audit events are kept; zero keeps them
	// forever.
	AuditRetention time.Duration `json:"auditRetention"`
	// Quotas bound what the organization may hold; zero fields take the
	// defaults (DefaultQuotas).
	Quotas Quotas `json:"quotas,omitzero"`
}

// Quotas are an organization's limits on what it holds. A zero field is
// the default.
type Quotas struct {
	Stacks          int `json:"stacks,omitempty"`
	Environments    int `json:"environments,omitempty"`
	Tokens          int `json:"tokens,omitempty"`          // organization and team tokens
	Descriptors     int `json:"descriptors,omitempty"`     // custom roles, permission sets and policies
	DescriptorBytes int `json:"descriptorBytes,omitempty"` // of one descriptor's details
	PreviewEvents   int `json:"previewEvents,omitempty"`   // engine events kept per preview
}

// DefaultQuotas are generous: they stop abuse, not use.
var DefaultQuotas = Quotas{Stacks: 100_000, Environments: 10_000, Tokens: 50_000, Descriptors: 5_000,
	DescriptorBytes: 256 << 10, PreviewEvents: 10_000}

// Effective is q with the defaults in place of its zero fields.
func (q Quotas) Effective() Quotas {
	d := DefaultQuotas
	for _, f := range []struct{ v, def *int }{{&q.Stacks, &d.Stacks}, {&q.Environments, &d.Environments}, {&q.Tokens, &d.Tokens},
		{&q.Descriptors, &d.Descriptors}, {&q.DescriptorBytes, &d.DescriptorBytes}, {&q.PreviewEvents, &d.PreviewEvents}} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return q
}
