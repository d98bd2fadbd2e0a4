package service

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// OrgCreated is what CreateOrgWithAdmin made.
type OrgCreated struct {
	Org *gatehouse.Organization
	// Token is the admin's first personal token, when the admin is a user
	// the new organization created (shown once, never stored).
	Token string
	// Invite is the invitation sent instead to an admin who existed
	// already (only when asked for).
	Invite *gatehouse.Invite
}

// CreateOrgWithAdmin creates an organization with its built-in roles and
// its first admin, for the host command `gatehouse admin org create`. A new
// login becomes a user the organization manages, with a first personal
// token. A login that exists already belongs to someone who has not
// consented: the organization is refused, unless invite is set, in which
// case the user is invited as admin and gets no token (they accept with
// their own).
func (s *Service) CreateOrgWithAdmin(ctx context.Context, name, adminLogin string, invite bool) (*OrgCreated, error) {
	ctx = gatehouse.WithActor(ctx, gatehouse.Actor{Login: "host: gatehouse admin org create"})
	var out *OrgCreated
	err := s.store.Write(ctx, func(tx gatehouse.Tx) (err error) {
		out, err = s.createOrgWithAdminTx(ctx, tx, name, adminLogin, invite)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, s.az.Refresh(ctx, out.Org.ID)
}

// createOrgWithAdminTx is CreateOrgWithAdmin in a transaction.
func (s *Service) createOrgWithAdminTx(ctx context.Context, tx gatehouse.Tx, name, adminLogin string, invite bool) (*OrgCreated, error) {
	if err := checkName("admin", adminLogin, 100); err != nil {
		return nil, err
	}
	existing, err := tx.GetUserByLogin(ctx, adminLogin)
	switch {
	case gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND:
		existing = nil
	case err != nil:
		return nil, err
	case !invite:
		return nil, gatehouse.Errorf(gatehouse.ECONFLICT, "admin: user %q exists already and another organization's user cannot be made an admin without consent; choose a new login, or pass --invite to invite %q as admin", adminLogin, adminLogin)
	}
	org, ids, err := s.CreateOrg(ctx, tx, name, name)
	if err != nil {
		return nil, err
	}
	out := &OrgCreated{Org: org}
	if existing != nil {
		out.Invite = &gatehouse.Invite{OrgID: org.ID, UserID: existing.ID, RoleID: ids[catalog.RoleAdmin], Expires: s.Now().Add(DefaultInviteLifetime)}
		return out, s.createInvite(ctx, tx, out.Invite, existing, "admin")
	}
	user := &gatehouse.User{Login: adminLogin, Name: adminLogin, ManagedBy: org.ID}
	if err := tx.CreateUser(ctx, user); err != nil {
		return nil, err
	}
	out.Token, err = s.firstAdmin(ctx, tx, org.ID, ids[catalog.RoleAdmin], user, "first token of the admin of "+name)
	return out, err
}

// Org returns an organization by id.
func (s *Service) Org(ctx context.Context, id string) (org *gatehouse.Organization, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		org, err = tx.GetOrg(ctx, id)
		return err
	})
	return org, err
}

// Orgs lists every organization, for the host command `gatehouse admin org
// list`.
func (s *Service) Orgs(ctx context.Context) (orgs []*gatehouse.Organization, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		orgs = nil // a retried read starts over (store.guard)
		next := ""
		for {
			page, n, err := tx.ListOrgs(ctx, gatehouse.ListOptions{Limit: gatehouse.MaxListLimit, Continuation: next})
			if err != nil {
				return err
			}
			orgs = append(orgs, page...)
			if next = n; next == "" {
				return nil
			}
		}
	})
	return orgs, err
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
	var orgID string
	err = s.store.Write(ctx, func(tx gatehouse.Tx) (err error) {
		token, orgID, err = s.bootstrapTx(ctx, tx, orgName, adminLogin)
		return err
	})
	if gatehouse.ErrorCode(err) == gatehouse.ECONFLICT && s.bootstrapped(ctx) {
		// Another replica, started at the same time, bootstrapped the
		// database first: nothing is left to do.
		return "", nil
	}
	if err != nil || orgID == "" {
		return "", err
	}
	return token, s.az.Refresh(ctx, orgID)
}

// bootstrapped reports whether the database holds an organization.
func (s *Service) bootstrapped(ctx context.Context) bool {
	found := false
	s.read(ctx, func(tx gatehouse.Tx) error {
		orgs, _, err := tx.ListOrgs(ctx, gatehouse.ListOptions{Limit: 1})
		found = len(orgs) > 0
		return err
	})
	return found
}

// bootstrapTx is Bootstrap in a transaction; it returns the token and the
// new organization's id, both "" when an organization existed.
func (s *Service) bootstrapTx(ctx context.Context, tx gatehouse.Tx, orgName, adminLogin string) (token, orgID string, err error) {
	if err := checkName("bootstrap admin", adminLogin, 100); err != nil {
		return "", "", err
	}
	existing, _, err := tx.ListOrgs(ctx, gatehouse.ListOptions{Limit: 1})
	if err != nil || len(existing) > 0 {
		return "", "", err
	}
	org, ids, err := s.CreateOrg(ctx, tx, orgName, orgName)
	if err != nil {
		return "", "", err
	}
	user, err := tx.GetUserByLogin(ctx, adminLogin)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		user = &gatehouse.User{Login: adminLogin, Name: adminLogin, ManagedBy: org.ID}
		err = tx.CreateUser(ctx, user)
	}
	if err != nil {
		return "", "", err
	}
	token, err = s.firstAdmin(ctx, tx, org.ID, ids[catalog.RoleAdmin], user, "bootstrap token of the first admin")
	return token, org.ID, err
}

// SettingsUpdate changes some of an organization's settings; nil fields
// stay as they are.
type SettingsUpdate struct {
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
func (s *Service) UpdateSettings(ctx context.Context, orgID string, c SettingsUpdate) error {
	return s.Batch(ctx, orgID, func(b *Batch) error { return b.UpdateSettings(c) })
}

// checkSettings checks a settings change before it is applied.
func checkSettings(c SettingsUpdate) error {
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
	return nil
}

func (s *Service) updateSettingsTx(ctx context.Context, tx gatehouse.Tx, orgID string, c SettingsUpdate) error {
	if err := checkSettings(c); err != nil {
		return err
	}
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
