// Package service holds Gatehouse's use cases, written once: roles, sets
// and policies, members, teams and tokens. It validates input, applies the
// business rules ("a set in use cannot be deleted", "token names stay
// reserved"), writes through the store in one transaction, and refreshes the
// authorizer's snapshot before returning, so that the next request sees the
// change. Authorization of the caller happens in the api package, which
// calls the service only for allowed requests.
package service

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/policy"
	"github.com/gatehouse-iam/gatehouse/state"
)

// Service implements the use cases.
type Service struct {
	Store gatehouse.Store
	Authz *authz.Authorizer
	Now   func() time.Time
	// Keys makes and opens stacks' data keys; without it, stacks cannot be
	// created nor their secrets used.
	Keys gatehouse.Keyring
	// AuditKey keys the audit chain (the store's key, which VerifyAudit
	// checks the keyed part with) and CheckpointKey signs checkpoints of
	// its head; both are derived from the master key. Without them the
	// chain is unkeyed and checkpoints cannot be made.
	AuditKey, CheckpointKey []byte
	// MaxCheckpoint bounds a stack's checkpoint in bytes, whole, imported
	// or rebuilt from a delta (0: DefaultMaxCheckpoint).
	MaxCheckpoint int
	// MaxPersonalTokens bounds the live personal tokens of one user (0:
	// DefaultMaxPersonalTokens): every organization of the user loads
	// them into its snapshot.
	MaxPersonalTokens int

	keys keyCache
}

// New returns a Service.
func New(store gatehouse.Store, az *authz.Authorizer, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{Store: store, Authz: az, Now: now}
}

// DefaultMaxCheckpoint is the checkpoint limit when none is configured.
const DefaultMaxCheckpoint = 64 << 20

// CheckpointLimit is the largest checkpoint the service stores, in bytes.
func (s *Service) CheckpointLimit() int {
	if s.MaxCheckpoint <= 0 {
		return DefaultMaxCheckpoint
	}
	return min(s.MaxCheckpoint, state.MaxCheckpoint)
}

// write runs fn in a transaction and, when it commits, refreshes the
// organization's snapshot.
func (s *Service) write(ctx context.Context, orgID string, fn func(tx gatehouse.Tx) error) error {
	if err := s.Store.Write(ctx, fn); err != nil {
		return err
	}
	return s.Authz.Refresh(ctx, orgID)
}

func (s *Service) read(ctx context.Context, fn func(tx gatehouse.Tx) error) error {
	return s.Store.Read(ctx, fn)
}

// Names: logins, organization, team and token names.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

func checkName(field, v string, maxLen int) error {
	if v == "" {
		return gatehouse.Errorf(gatehouse.EINVALID, "%s: must not be empty", field)
	}
	if len(v) > maxLen {
		return gatehouse.Errorf(gatehouse.EINVALID, "%s: %d characters, over the limit of %d", field, len(v), maxLen)
	}
	if !nameRE.MatchString(v) {
		return gatehouse.Errorf(gatehouse.EINVALID, "%s: %q may hold only letters, digits, '.', '_' and '-', and must start with a letter or digit", field, v)
	}
	return nil
}

func checkText(field, v string, maxLen int) error {
	if len(v) > maxLen {
		return gatehouse.Errorf(gatehouse.EINVALID, "%s: %d characters, over the limit of %d", field, len(v), maxLen)
	}
	return nil
}

// CreateOrg creates an organization with its built-in sets and roles; the
// built-in Member role is the default role.
func (s *Service) CreateOrg(ctx context.Context, tx gatehouse.Tx, name, displayName string) (*gatehouse.Organization, map[string]string, error) {
	if err := checkName("name", name, 40); err != nil {
		return nil, nil, err
	}
	org := &gatehouse.Organization{Name: name, DisplayName: displayName,
		Settings: gatehouse.OrgSettings{MemberDefaults: gatehouse.DefaultMemberDefaults()}}
	if err := tx.CreateOrg(ctx, org); err != nil {
		return nil, nil, err
	}
	ids := map[string]string{}
	idFor := func(ident string) string {
		if ids[ident] == "" {
			ids[ident] = gatehouse.NewID()
		}
		return ids[ident]
	}
	descs := policy.Builtins(idFor, org.Settings.MemberDefaults)
	descriptions := builtinDescriptions()
	for _, d := range descs {
		details, err := policy.Encode(d.Details)
		if err != nil {
			return nil, nil, err
		}
		ident := identOf(ids, d.ID)
		rec := &gatehouse.Descriptor{ID: d.ID, OrgID: org.ID, Name: d.Name, Description: descriptions[ident], ResourceType: d.ResourceType,
			Purpose: d.Purpose, Details: details, Refs: policy.References(d.Details), DefaultIdentifier: ident}
		if err := tx.CreateDescriptor(ctx, rec); err != nil {
			return nil, nil, fmt.Errorf("create built-in %s: %w", d.Name, err)
		}
	}
	org.Settings.DefaultRoleID = ids[catalog.RoleMember]
	if err := tx.UpdateOrg(ctx, org); err != nil {
		return nil, nil, err
	}
	if err := s.audit(ctx, tx, org.ID, gatehouse.EventOrgCreated, org.ID, map[string]string{"name": name}, "created organization %q with its built-in roles", name); err != nil {
		return nil, nil, err
	}
	return org, ids, nil
}

func identOf(ids map[string]string, id string) string {
	for k, v := range ids {
		if v == id {
			return k
		}
	}
	return ""
}

func builtinDescriptions() map[string]string {
	out := map[string]string{}
	for _, s := range catalog.Sets() {
		out[s.Identifier] = s.Description
	}
	for _, r := range catalog.Roles() {
		out[r.Identifier] = r.Description
	}
	return out
}

// Bootstrap prepares an empty database: an organization, its first admin
// and the admin's personal token, whose value it returns. On a database
// that already has an organization it does nothing and returns "".
func (s *Service) Bootstrap(ctx context.Context, orgName, adminLogin string) (token string, err error) {
	if err := checkName("bootstrap admin", adminLogin, 100); err != nil {
		return "", err
	}
	var orgID string
	err = s.Store.Write(ctx, func(tx gatehouse.Tx) error {
		existing, _, err := tx.ListOrgs(ctx, gatehouse.ListOptions{Limit: 1})
		if err != nil || len(existing) > 0 {
			return err
		}
		org, ids, err := s.CreateOrg(ctx, tx, orgName, orgName)
		if err != nil {
			return err
		}
		orgID = org.ID
		user, err := tx.GetUserByLogin(ctx, adminLogin)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			user = &gatehouse.User{Login: adminLogin, Name: adminLogin, ManagedBy: org.ID}
			err = tx.CreateUser(ctx, user)
		}
		if err != nil {
			return err
		}
		token, err = s.firstAdmin(ctx, tx, org.ID, ids[catalog.RoleAdmin], user, "bootstrap token of the first admin")
		return err
	})
	if err != nil || orgID == "" {
		return "", err
	}
	return token, s.Authz.Refresh(ctx, orgID)
}

// IssueToken creates a personal token for a member, for recovering access
// from the host with direct database access.
func (s *Service) IssueToken(ctx context.Context, orgName, login, description string, expires time.Time) (string, error) {
	var value string
	var orgID string
	err := s.Store.Write(ctx, func(tx gatehouse.Tx) error {
		org, err := tx.GetOrgByName(ctx, orgName)
		if err != nil {
			return gatehouse.Errorf(gatehouse.ENOTFOUND, "organization %q not found", orgName)
		}
		orgID = org.ID
		user, err := tx.GetUserByLogin(ctx, login)
		if err != nil {
			return gatehouse.Errorf(gatehouse.ENOTFOUND, "user %q not found", login)
		}
		if _, err := tx.GetMember(ctx, org.ID, user.ID); err != nil {
			return gatehouse.Errorf(gatehouse.ENOTFOUND, "user %q is not a member of %q", login, orgName)
		}
		v, digest := gatehouse.NewTokenValue()
		value = v
		t := &gatehouse.Token{Kind: gatehouse.TokenPersonal, UserID: user.ID, Description: description, Digest: digest, CreatedBy: user.ID, Expires: expires}
		if err := tx.CreateToken(ctx, t); err != nil {
			return err
		}
		ms, err := tx.ListUserMemberships(ctx, user.ID)
		if err != nil {
			return err
		}
		orgs := make([]string, len(ms))
		for i, m := range ms {
			orgs[i] = m.OrgID
		}
		return s.tokenEvent(gatehouse.WithActor(ctx, gatehouse.Actor{Login: "host: gatehouse admin issue-token"}), tx, orgs, gatehouse.EventTokenCreated, t, "issued from the host")
	})
	if err != nil {
		return "", err
	}
	return value, s.Authz.Refresh(ctx, orgID)
}

func itoa(i int) string { return strconv.Itoa(i) }

func quote(s string) string { return strconv.Quote(s) }

// SettingsChange changes some of an organization's settings; nil fields
// stay as they are.
type SettingsChange struct {
	MaxTokenLifetime *time.Duration
	AuditRetention   *time.Duration
	MemberDefaults   *gatehouse.MemberDefaults
	// Quotas, when set, replace the organization's quotas (zero fields:
	// the defaults).
	Quotas *gatehouse.Quotas
}

// UpdateSettings applies a settings change, recording its event. A change
// to the member defaults rewrites the built-in Member role, whose tree
// holds them.
func (s *Service) UpdateSettings(ctx context.Context, orgID string, c SettingsChange) error {
	if c.MaxTokenLifetime != nil && *c.MaxTokenLifetime < 0 {
		return gatehouse.Errorf(gatehouse.EINVALID, "maxTokenLifetime: must not be negative")
	}
	if c.AuditRetention != nil && *c.AuditRetention != 0 && *c.AuditRetention < 24*time.Hour {
		return gatehouse.Errorf(gatehouse.EINVALID, "auditRetention: at least a day, or 0 to keep events forever")
	}
	if c.Quotas != nil {
		q := *c.Quotas
		for name, v := range map[string]int{"stacks": q.Stacks, "environments": q.Environments, "tokens": q.Tokens,
			"descriptors": q.Descriptors, "descriptorBytes": q.DescriptorBytes, "previewEvents": q.PreviewEvents} {
			if v < 0 {
				return gatehouse.Errorf(gatehouse.EINVALID, "quotas.%s: must not be negative (0: the default)", name)
			}
		}
	}
	if c.MemberDefaults != nil {
		if err := c.MemberDefaults.Validate(); err != nil {
			return err
		}
	}
	return s.write(ctx, orgID, func(tx gatehouse.Tx) error {
		org, err := tx.GetOrg(ctx, orgID)
		if err != nil {
			return err
		}
		before := org.Settings
		if c.MaxTokenLifetime != nil {
			org.Settings.MaxTokenLifetime = *c.MaxTokenLifetime
		}
		if c.AuditRetention != nil {
			org.Settings.AuditRetention = *c.AuditRetention
		}
		if c.Quotas != nil {
			org.Settings.Quotas = *c.Quotas
		}
		if c.MemberDefaults != nil {
			org.Settings.MemberDefaults = *c.MemberDefaults
			if err := s.rewriteMemberRole(ctx, tx, orgID, *c.MemberDefaults); err != nil {
				return err
			}
		}
		if err := tx.UpdateOrg(ctx, org); err != nil {
			return err
		}
		return s.audit(ctx, tx, orgID, gatehouse.EventSettingsChanged, orgID, map[string]any{"before": before, "after": org.Settings},
			"changed the organization's settings")
	})
}

// rewriteMemberRole regenerates the built-in Member role from the defaults.
func (s *Service) rewriteMemberRole(ctx context.Context, tx gatehouse.Tx, orgID string, d gatehouse.MemberDefaults) error {
	ids := map[string]string{}
	next := ""
	for {
		ds, n, err := tx.ListDescriptors(ctx, orgID, "", gatehouse.ListOptions{Limit: gatehouse.MaxListLimit, Continuation: next})
		if err != nil {
			return err
		}
		for _, x := range ds {
			if x.DefaultIdentifier != "" {
				ids[x.DefaultIdentifier] = x.ID
			}
		}
		if next = n; next == "" {
			break
		}
	}
	for _, b := range policy.Builtins(func(ident string) string { return ids[ident] }, d) {
		if b.ID != ids[catalog.RoleMember] {
			continue
		}
		member, err := tx.GetDescriptor(ctx, orgID, b.ID)
		if err != nil {
			return err
		}
		if member.Details, err = policy.Encode(b.Details); err != nil {
			return err
		}
		member.Refs = policy.References(b.Details)
		return tx.UpdateDescriptor(ctx, member, member.Version)
	}
	return gatehouse.Errorf(gatehouse.EINTERNAL, "the organization has no built-in Member role")
}

// firstAdmin makes user the first admin of a new organization, records it,
// and returns the admin's first personal token (shown once, never stored).
func (s *Service) firstAdmin(ctx context.Context, tx gatehouse.Tx, orgID, adminRoleID string, user *gatehouse.User, description string) (string, error) {
	if err := tx.AddMember(ctx, &gatehouse.Membership{OrgID: orgID, UserID: user.ID, RoleID: adminRoleID}); err != nil {
		return "", err
	}
	if err := s.audit(ctx, tx, orgID, gatehouse.EventMemberAdded, "", map[string]string{"login": user.Login, "role": "admin"},
		"added the first admin %q", user.Login); err != nil {
		return "", err
	}
	value, digest := gatehouse.NewTokenValue()
	t := &gatehouse.Token{Kind: gatehouse.TokenPersonal, UserID: user.ID, Description: description, Digest: digest, CreatedBy: user.ID}
	if err := tx.CreateToken(ctx, t); err != nil {
		return "", err
	}
	return value, s.tokenEvent(ctx, tx, []string{orgID}, gatehouse.EventTokenCreated, t, "created")
}
