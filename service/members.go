package service

import (
	"context"
	"fmt"
	"sort"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

// builtinRole returns the id of the organization's built-in role or set
// with the given identifier.
func builtinRole(ctx context.Context, tx gatehouse.DescriptorTx, orgID, ident string) (*gatehouse.Descriptor, error) {
	next := ""
	for {
		ds, n, err := tx.ListDescriptors(ctx, orgID, "", gatehouse.ListOptions{Limit: gatehouse.MaxListLimit, Continuation: next})
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if d.DefaultIdentifier == ident {
				return d, nil
			}
		}
		if next = n; next == "" {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "role: %q is not a built-in role (member, admin, billing-manager, reader, builder, maintainer)", ident)
		}
	}
}

// Builtin returns the organization's built-in role or set with the given
// identifier ("admin", "stack-read", ...).
func (s *Service) Builtin(ctx context.Context, orgID, ident string) (d *gatehouse.Descriptor, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		d, err = builtinRole(ctx, tx, orgID, ident)
		return err
	})
	return d, err
}

// MemberView is a member with their user and role.
type MemberView struct {
	Membership *gatehouse.Membership
	User       *gatehouse.User
	Role       *gatehouse.Descriptor
}

func memberView(ctx context.Context, tx gatehouse.Tx, m *gatehouse.Membership) (*MemberView, error) {
	u, err := tx.GetUser(ctx, m.UserID)
	if err != nil {
		return nil, err
	}
	r, err := tx.GetDescriptor(ctx, m.OrgID, m.RoleID)
	if err != nil {
		return nil, err
	}
	return &MemberView{Membership: m, User: u, Role: r}, nil
}

// Members lists members with their users and roles.
func (s *Service) Members(ctx context.Context, orgID string, opts gatehouse.ListOptions) (out []*MemberView, next string, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		out = nil // a retried read starts over (store.guard)
		ms, n, err := tx.ListMembers(ctx, orgID, opts)
		if err != nil {
			return err
		}
		next = n
		for _, m := range ms {
			v, err := memberView(ctx, tx, m)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	return out, next, err
}

// Member returns one member by login.
func (s *Service) Member(ctx context.Context, orgID, login string) (v *MemberView, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		m, err := memberByLogin(ctx, tx, orgID, login)
		if err != nil {
			return err
		}
		v, err = memberView(ctx, tx, m)
		return err
	})
	return v, err
}

func memberByLogin(ctx context.Context, tx gatehouse.IdentityTx, orgID, login string) (*gatehouse.Membership, error) {
	u, err := tx.GetUserByLogin(ctx, login)
	if err != nil {
		return nil, gatehouse.Reword(err, gatehouse.ENOTFOUND, "member %q not found", login)
	}
	m, err := tx.GetMember(ctx, orgID, u.ID)
	if err != nil {
		return nil, gatehouse.Reword(err, gatehouse.ENOTFOUND, "member %q not found", login)
	}
	return m, nil
}

// AddMember adds a user (creating it when new, managed by the
// organization) with a built-in role, or the organization's default role
// when role is empty. A user the organization does not manage joins only
// by accepting an invitation (Invite).
func (s *Service) AddMember(ctx context.Context, orgID, login, role string) (*MemberView, error) {
	return batchOne(ctx, s, orgID, func(b *Batch) (*MemberView, error) { return b.AddMember(login, role) })
}

func (s *Service) addMemberTx(ctx context.Context, tx gatehouse.Tx, orgID, login, role string) (*MemberView, error) {
	if err := checkLogin("userLogin", login); err != nil {
		return nil, err
	}
	roleID, err := memberRoleID(ctx, tx, orgID, role)
	if err != nil {
		return nil, err
	}
	u, err := tx.GetUserByLogin(ctx, login)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		// A new login: the organization creates the user, and manages it.
		u = &gatehouse.User{Login: login, Name: login, ManagedBy: orgID}
		err = tx.CreateUser(ctx, u)
	}
	if err != nil {
		return nil, err
	}
	if u.ManagedBy != orgID {
		return nil, errNotManaged(login)
	}
	if err := s.checkRole(ctx, tx, orgID, "adding a member with this role", roleID); err != nil {
		return nil, err
	}
	m := &gatehouse.Membership{OrgID: orgID, UserID: u.ID, RoleID: roleID}
	if err := tx.AddMember(ctx, m); err != nil {
		return nil, gatehouse.Reword(err, gatehouse.ECONFLICT, "%q is already a member", login)
	}
	v, err := memberView(ctx, tx, m)
	if err != nil {
		return nil, err
	}
	// A user this organization manages may come back with personal
	// tokens made elsewhere: they act here from now on, so the event
	// names them (as an accepted invitation's does).
	ids, err := ownPersonalTokens(ctx, tx, u.ID)
	if err != nil {
		return nil, err
	}
	return v, s.audit(ctx, tx, orgID, gatehouse.EventMemberAdded, "", map[string]any{"login": login, "roleId": roleID, "role": v.Role.Name,
		"personalTokens": ids}, "added %q with role %q", login, v.Role.Name)
}

// memberRoleID resolves the role a new member gets: the built-in role
// named, or the organization's default role when role is empty.
func memberRoleID(ctx context.Context, tx gatehouse.Tx, orgID, role string) (string, error) {
	if role == "" {
		org, err := tx.GetOrg(ctx, orgID)
		if err != nil {
			return "", err
		}
		return org.Settings.DefaultRoleID, nil
	}
	d, err := builtinRole(ctx, tx, orgID, role)
	if err != nil {
		return "", err
	}
	if d.Purpose != gatehouse.PurposeRole {
		return "", gatehouse.Errorf(gatehouse.EINVALID, "role: %q is a permission set, not a role", role)
	}
	return d.ID, nil
}

// UpdateMember changes a member's role: roleID (any role of the
// organization) wins over role (a built-in identifier).
func (s *Service) UpdateMember(ctx context.Context, orgID, login, role, roleID string) error {
	return s.Batch(ctx, orgID, func(b *Batch) error { return b.UpdateMember(login, role, roleID) })
}

func (s *Service) updateMemberTx(ctx context.Context, tx gatehouse.Tx, orgID, login, role, roleID string) error {
	if role == "" && roleID == "" {
		return gatehouse.Errorf(gatehouse.EINVALID, "role or fgaRoleId: one is required")
	}
	m, err := memberByLogin(ctx, tx, orgID, login)
	if err != nil {
		return err
	}
	var d *gatehouse.Descriptor
	if roleID != "" {
		d, err = tx.GetDescriptor(ctx, orgID, roleID)
		if err != nil {
			return gatehouse.Errorf(gatehouse.EINVALID, "fgaRoleId: role %q not found", roleID)
		}
	} else if d, err = builtinRole(ctx, tx, orgID, role); err != nil {
		return err
	}
	if d.Purpose == gatehouse.PurposeSet || d.Purpose == gatehouse.PurposePolicy {
		return gatehouse.Errorf(gatehouse.EINVALID, "%q is a %s, not a role", d.Name, d.Purpose)
	}
	if err := s.checkRole(ctx, tx, orgID, fmt.Sprintf("giving %q the role %q", login, d.Name), d.ID); err != nil {
		return err
	}
	if err := lastAdmin(ctx, tx, m, d.ID); err != nil {
		return err
	}
	before := m.RoleID
	m.RoleID = d.ID
	if err := tx.UpdateMember(ctx, m); err != nil {
		return err
	}
	return s.audit(ctx, tx, orgID, gatehouse.EventMemberRoleChanged, "", map[string]string{"login": login, "before": before, "after": d.ID},
		"gave %q the role %q", login, d.Name)
}

// lastAdmin refuses a change that would leave the organization without an
// admin who is not suspended (SCIM's active=false): demoting or removing
// an admin needs another active one.
func lastAdmin(ctx context.Context, tx gatehouse.Tx, m *gatehouse.Membership, newRoleID string) error {
	admin, err := builtinRole(ctx, tx, m.OrgID, catalog.RoleAdmin)
	if err != nil || newRoleID == admin.ID {
		return err
	}
	return lastActiveAdmin(ctx, tx, m)
}

// ErrLastActiveAdmin refuses to deactivate or remove the organization's
// last active admin.
var ErrLastActiveAdmin = gatehouse.Errorf(gatehouse.ECONFLICT, "this is the organization's last admin who is not suspended; make someone else an admin first")

// lastActiveAdmin refuses to take away the organization's last admin who
// is not suspended.
func lastActiveAdmin(ctx context.Context, tx gatehouse.Tx, m *gatehouse.Membership) error {
	admin, err := builtinRole(ctx, tx, m.OrgID, catalog.RoleAdmin)
	if err != nil || m.RoleID != admin.ID || m.Suspended {
		return err
	}
	usage, err := tx.DescriptorUsage(ctx, m.OrgID, admin.ID)
	if err != nil {
		return err
	}
	for _, uid := range usage.Members {
		if uid == m.UserID {
			continue
		}
		if other, err := tx.GetMember(ctx, m.OrgID, uid); err != nil {
			return err
		} else if !other.Suspended {
			return nil
		}
	}
	return ErrLastActiveAdmin
}

// RemoveMember removes a member (and their place in the organization's
// teams). Callers cannot remove themselves, nor the last admin.
func (s *Service) RemoveMember(ctx context.Context, orgID, login string, caller *gatehouse.Identity) error {
	return s.Batch(ctx, orgID, func(b *Batch) error { return b.RemoveMember(login, caller) })
}

func (s *Service) removeMemberTx(ctx context.Context, tx gatehouse.Tx, orgID, login string, caller *gatehouse.Identity) error {
	if caller != nil && caller.User != nil && caller.User.Login == login {
		return gatehouse.Errorf(gatehouse.EINVALID, "you cannot remove yourself from the organization")
	}
	m, err := memberByLogin(ctx, tx, orgID, login)
	if err != nil {
		return err
	}
	if err := lastAdmin(ctx, tx, m, ""); err != nil {
		return err
	}
	if err := tx.RemoveMember(ctx, orgID, m.UserID); err != nil {
		return err
	}
	return s.audit(ctx, tx, orgID, gatehouse.EventMemberRemoved, "", map[string]string{"login": login}, "removed %q", login)
}

// MemberTeams lists the names of a member's teams.
func (s *Service) MemberTeams(ctx context.Context, orgID, login string) (names []string, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		m, err := memberByLogin(ctx, tx, orgID, login)
		if err != nil {
			return err
		}
		teams, err := tx.ListUserTeams(ctx, orgID, m.UserID)
		names = nil // a retried read starts over
		for _, t := range teams {
			names = append(names, t.Name)
		}
		return err
	})
	return names, err
}

// UserOrgs lists the organizations of a user in the order the user
// joined them (the first is the user's default organization: joining
// another one, or being added back by one that manages the user, does not
// move it).
func (s *Service) UserOrgs(ctx context.Context, userID string) (orgs []*gatehouse.Organization, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		orgs = nil // a retried read starts over
		ms, err := tx.ListUserMemberships(ctx, userID)
		if err != nil {
			return err
		}
		sort.SliceStable(ms, func(i, j int) bool { return ms[i].Created.Before(ms[j].Created) })
		for _, m := range ms {
			o, err := tx.GetOrg(ctx, m.OrgID)
			if err != nil {
				return err
			}
			orgs = append(orgs, o)
		}
		return nil
	})
	return orgs, err
}
