package service

import (
	"context"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

// errNotManaged refuses to add directly a user another organization (or
// none) manages.
func errNotManaged(login string) error {
	return gatehouse.Errorf(gatehouse.EFORBIDDEN, "userLogin: %q is a user this organization does not manage; invite them (POST /api/orgs/{org}/invites) and they join when they accept", login)
}

// Invitation lifetimes.
const (
	DefaultInviteLifetime = 7 * 24 * time.Hour
	MaxInviteLifetime     = 30 * 24 * time.Hour
)

// InviteInput describes an invitation to create or change.
type InviteInput struct {
	Login string // the invited user's login (create only)
	// RoleID (any role of the organization) wins over Role (a built-in
	// identifier); neither means the organization's default role.
	Role, RoleID string
	// Expires is a unix time; 0 means DefaultInviteLifetime from now.
	Expires   int64
	CreatedBy string // the sender's user id, "" for a token without a user
}

// InviteView is an invitation with its organization, user, role and
// sender.
type InviteView struct {
	Invite *gatehouse.Invite
	Org    *gatehouse.Organization
	User   *gatehouse.User
	Role   *gatehouse.Descriptor
	SentBy *gatehouse.User // nil when sent by a token without a user or the host
}

func inviteView(ctx context.Context, tx gatehouse.Tx, i *gatehouse.Invite) (*InviteView, error) {
	v := &InviteView{Invite: i}
	var err error
	if v.Org, err = tx.GetOrg(ctx, i.OrgID); err != nil {
		return nil, err
	}
	if v.User, err = tx.GetUser(ctx, i.UserID); err != nil {
		return nil, err
	}
	if v.Role, err = tx.GetDescriptor(ctx, i.OrgID, i.RoleID); err != nil {
		return nil, err
	}
	if i.CreatedBy != "" {
		v.SentBy, _ = tx.GetUser(ctx, i.CreatedBy)
	}
	return v, nil
}

// inviteRole resolves an invitation's role.
func inviteRole(ctx context.Context, tx gatehouse.Tx, orgID, role, roleID string) (*gatehouse.Descriptor, error) {
	switch {
	case roleID != "":
		d, err := tx.GetDescriptor(ctx, orgID, roleID)
		if err != nil {
			return nil, gatehouse.Recode(err, gatehouse.ENOTFOUND, gatehouse.EINVALID, "roleId: role %q not found", roleID)
		}
		if d.Purpose == gatehouse.PurposeSet || d.Purpose == gatehouse.PurposePolicy {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "roleId: %q is a %s, not a role", d.Name, d.Purpose)
		}
		return d, nil
	case role != "":
		d, err := builtinRole(ctx, tx, orgID, role)
		if err != nil {
			return nil, err
		}
		if d.Purpose != gatehouse.PurposeRole {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "role: %q is a permission set, not a role", role)
		}
		return d, nil
	}
	org, err := tx.GetOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	return tx.GetDescriptor(ctx, orgID, org.Settings.DefaultRoleID)
}

func (s *Service) inviteExpiry(expires int64) (time.Time, error) {
	now := s.Now()
	if expires == 0 {
		return now.Add(DefaultInviteLifetime), nil
	}
	t := time.Unix(expires, 0).UTC()
	switch {
	case expires < 0 || !t.After(now):
		return time.Time{}, gatehouse.Errorf(gatehouse.EINVALID, "expires: must be a unix time in the future, or 0 for %s from now", DefaultInviteLifetime)
	case t.Sub(now) > MaxInviteLifetime:
		return time.Time{}, gatehouse.Errorf(gatehouse.EINVALID, "expires: at most %s ahead", MaxInviteLifetime)
	}
	return t, nil
}

// createInvite stores an invitation and records it.
func (s *Service) createInvite(ctx context.Context, tx gatehouse.Tx, i *gatehouse.Invite, u *gatehouse.User, roleName string) error {
	if _, err := tx.GetMember(ctx, i.OrgID, u.ID); err == nil {
		return gatehouse.Errorf(gatehouse.ECONFLICT, "%q is already a member", u.Login)
	}
	if err := tx.CreateInvite(ctx, i); err != nil {
		return gatehouse.Reword(err, gatehouse.ECONFLICT, "%q has a pending invitation already; change or revoke it", u.Login)
	}
	return s.audit(ctx, tx, i.OrgID, gatehouse.EventInviteCreated, i.ID, map[string]any{"login": u.Login, "roleId": i.RoleID,
		"role": roleName, "expires": i.Expires}, "invited %q with role %q", u.Login, roleName)
}

// Invite invites an existing user to the organization. A user the
// organization manages needs no invitation (AddMember); any other must
// accept.
func (s *Service) Invite(ctx context.Context, orgID string, in InviteInput) (*InviteView, error) {
	var v *InviteView
	err := s.store.Write(ctx, func(tx gatehouse.Tx) (err error) {
		// The organization's lock, as an acceptance takes it: the
		// member check and the insert are atomic on PostgreSQL.
		if err := tx.LockOrg(ctx, orgID); err != nil {
			return err
		}
		v, err = s.inviteTx(ctx, tx, orgID, in)
		return err
	})
	return v, err
}

func (s *Service) inviteTx(ctx context.Context, tx gatehouse.Tx, orgID string, in InviteInput) (*InviteView, error) {
	if err := checkLogin("userLogin", in.Login); err != nil {
		return nil, err
	}
	expires, err := s.inviteExpiry(in.Expires)
	if err != nil {
		return nil, err
	}
	u, err := tx.GetUserByLogin(ctx, in.Login)
	if err != nil {
		return nil, gatehouse.Reword(err, gatehouse.ENOTFOUND, "userLogin: user %q not found; add a new user as a member instead", in.Login)
	}
	d, err := inviteRole(ctx, tx, orgID, in.Role, in.RoleID)
	if err != nil {
		return nil, err
	}
	if err := s.checkRole(ctx, tx, orgID, "inviting a member with this role", d.ID); err != nil {
		return nil, err
	}
	i := &gatehouse.Invite{OrgID: orgID, UserID: u.ID, RoleID: d.ID, CreatedBy: in.CreatedBy, Expires: expires}
	if err := s.createInvite(ctx, tx, i, u, d.Name); err != nil {
		return nil, err
	}
	return inviteView(ctx, tx, i)
}

// Managed reports whether the organization may add the login directly: a
// new login (the organization creates the user, and manages it), or a user
// it manages.
func (s *Service) Managed(ctx context.Context, orgID, login string) (bool, error) {
	var managed bool
	err := s.read(ctx, func(tx gatehouse.Tx) error {
		u, err := tx.GetUserByLogin(ctx, login)
		switch {
		case gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND:
			managed = true
			return nil
		case err != nil:
			return err
		}
		managed = u.ManagedBy == orgID
		return nil
	})
	return managed, err
}

// Invites lists an organization's pending invitations (expired ones too,
// marked by their expiry).
func (s *Service) Invites(ctx context.Context, orgID string) ([]*InviteView, error) {
	var out []*InviteView
	err := s.read(ctx, func(tx gatehouse.Tx) error {
		out = nil // a retried read starts over (store.guard)
		is, err := tx.ListInvites(ctx, orgID)
		if err != nil {
			return err
		}
		for _, i := range is {
			v, err := inviteView(ctx, tx, i)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	return out, err
}

// orgInvite returns an invitation of the organization (ENOTFOUND for
// another organization's).
func orgInvite(ctx context.Context, tx gatehouse.Tx, orgID, id string) (*gatehouse.Invite, error) {
	i, err := tx.GetInvite(ctx, id)
	if err == nil && i.OrgID != orgID {
		err = gatehouse.Errorf(gatehouse.ENOTFOUND, "another organization's invitation")
	}
	if err != nil {
		return nil, gatehouse.Reword(err, gatehouse.ENOTFOUND, "invitation %q not found", id)
	}
	return i, nil
}

// UpdateInvite changes a pending invitation's role or expiry.
func (s *Service) UpdateInvite(ctx context.Context, orgID, id string, in InviteInput) (*InviteView, error) {
	var v *InviteView
	err := s.store.Write(ctx, func(tx gatehouse.Tx) (err error) {
		if err := tx.LockOrg(ctx, orgID); err != nil {
			return err
		}
		v, err = s.updateInviteTx(ctx, tx, orgID, id, in)
		return err
	})
	return v, err
}

func (s *Service) updateInviteTx(ctx context.Context, tx gatehouse.Tx, orgID, id string, in InviteInput) (*InviteView, error) {
	i, err := orgInvite(ctx, tx, orgID, id)
	if err != nil {
		return nil, err
	}
	before := *i
	var d *gatehouse.Descriptor
	if in.Role != "" || in.RoleID != "" {
		if d, err = inviteRole(ctx, tx, orgID, in.Role, in.RoleID); err != nil {
			return nil, err
		}
		i.RoleID = d.ID
	}
	// Whatever field changes, the invitation that results grants its
	// role to whoever accepts: prolonging or reviving an Admin
	// invitation is granting Admin.
	if err := s.checkRole(ctx, tx, orgID, "changing an invitation with this role", i.RoleID); err != nil {
		return nil, err
	}
	if in.Expires != 0 {
		if i.Expires, err = s.inviteExpiry(in.Expires); err != nil {
			return nil, err
		}
	}
	if err := tx.UpdateInvite(ctx, i); err != nil {
		return nil, err
	}
	v, err := inviteView(ctx, tx, i)
	if err != nil {
		return nil, err
	}
	return v, s.audit(ctx, tx, orgID, gatehouse.EventInviteUpdated, i.ID, map[string]any{"login": v.User.Login,
		"before": map[string]any{"roleId": before.RoleID, "expires": before.Expires}, "after": map[string]any{"roleId": i.RoleID, "expires": i.Expires}},
		"changed the invitation of %q (role %q)", v.User.Login, v.Role.Name)
}

// RevokeInvite withdraws a pending invitation.
func (s *Service) RevokeInvite(ctx context.Context, orgID, id string) error {
	return s.store.Write(ctx, func(tx gatehouse.Tx) error {
		if err := tx.LockOrg(ctx, orgID); err != nil {
			return err
		}
		return s.revokeInviteTx(ctx, tx, orgID, id)
	})
}

func (s *Service) revokeInviteTx(ctx context.Context, tx gatehouse.Tx, orgID, id string) error {
	if _, err := orgInvite(ctx, tx, orgID, id); err != nil {
		return err
	}
	i, err := tx.TakeInvite(ctx, id)
	if err != nil {
		return gatehouse.Reword(err, gatehouse.ENOTFOUND, "invitation %q not found", id)
	}
	login := i.UserID
	if u, err := tx.GetUser(ctx, i.UserID); err == nil {
		login = u.Login
	}
	return s.audit(ctx, tx, orgID, gatehouse.EventInviteRevoked, i.ID, map[string]string{"login": login, "roleId": i.RoleID},
		"revoked the invitation of %q", login)
}

// PendingInvites lists the live invitations sent to a user.
func (s *Service) PendingInvites(ctx context.Context, userID string) ([]*InviteView, error) {
	var out []*InviteView
	now := s.Now()
	err := s.read(ctx, func(tx gatehouse.Tx) error {
		out = nil // a retried read starts over (store.guard)
		is, err := tx.ListUserInvites(ctx, userID)
		if err != nil {
			return err
		}
		for _, i := range is {
			if i.Expired(now) {
				continue
			}
			v, err := inviteView(ctx, tx, i)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	return out, err
}

// AcceptInvite makes the user a member of the invitation's organization
// with its role. Only the invited user accepts, before it expires; the
// invitation is taken in the same transaction, so a concurrent revoke or
// second accept finds nothing.
func (s *Service) AcceptInvite(ctx context.Context, user *gatehouse.User, id string) (*InviteView, error) {
	return s.answerInvite(ctx, user, id, true)
}

// DeclineInvite refuses an invitation.
func (s *Service) DeclineInvite(ctx context.Context, user *gatehouse.User, id string) error {
	_, err := s.answerInvite(ctx, user, id, false)
	return err
}

// ownPersonalTokens lists the ids of a user's own personal tokens (not
// those an organization's OIDC exchange minted): the tokens that act in
// every organization the user joins.
func ownPersonalTokens(ctx context.Context, tx gatehouse.Tx, userID string) ([]string, error) {
	toks, _, err := tx.ListTokens(ctx, gatehouse.TokenFilter{UserID: userID, Kind: gatehouse.TokenPersonal}, gatehouse.ListOptions{Limit: gatehouse.MaxListLimit})
	if err != nil {
		return nil, err
	}
	ids := []string{}
	for _, t := range toks {
		if t.OrgID == "" {
			ids = append(ids, t.ID)
		}
	}
	return ids, nil
}

func (s *Service) answerInvite(ctx context.Context, user *gatehouse.User, id string, accept bool) (*InviteView, error) {
	var v *InviteView
	err := s.store.Write(ctx, func(tx gatehouse.Tx) (err error) {
		// The organization's lock before the invitation is taken (the
		// order Invite takes them in), so that a new invitation of the
		// user waits for the membership this acceptance makes.
		if i, err := tx.GetInvite(ctx, id); err == nil {
			if err := tx.LockOrg(ctx, i.OrgID); err != nil {
				return err
			}
		}
		v, err = s.answerInviteTx(ctx, tx, user, id, accept)
		return err
	})
	if err != nil || !accept {
		return v, err
	}
	return v, s.az.Refresh(ctx, v.Org.ID)
}

// answerInviteTx is AcceptInvite (accept) or DeclineInvite in a
// transaction.
func (s *Service) answerInviteTx(ctx context.Context, tx gatehouse.Tx, user *gatehouse.User, id string, accept bool) (*InviteView, error) {
	i, err := tx.TakeInvite(ctx, id)
	if err == nil && i.UserID != user.ID {
		// another user's invitation is none of the caller's business
		err = gatehouse.Errorf(gatehouse.ENOTFOUND, "another user's invitation")
	}
	if err != nil {
		return nil, gatehouse.Reword(err, gatehouse.ENOTFOUND, "invitation %q not found", id)
	}
	if i.Expired(s.Now()) {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "invitation %q expired at %s; ask for a new one", id, i.Expires.Format(time.RFC3339))
	}
	v, err := inviteView(ctx, tx, i)
	if err != nil {
		return v, err
	}
	if !accept {
		return v, s.audit(ctx, tx, i.OrgID, gatehouse.EventInviteDeclined, i.ID, map[string]string{"login": user.Login},
			"%q declined the invitation", user.Login)
	}
	m := &gatehouse.Membership{OrgID: i.OrgID, UserID: user.ID, RoleID: i.RoleID}
	if err := tx.AddMember(ctx, m); err != nil {
		return v, gatehouse.Reword(err, gatehouse.ECONFLICT, "you are already a member of %q", v.Org.Name)
	}
	if err := s.audit(ctx, tx, i.OrgID, gatehouse.EventInviteAccepted, i.ID, map[string]string{"login": user.Login, "roleId": i.RoleID},
		"%q accepted the invitation with role %q", user.Login, v.Role.Name); err != nil {
		return v, err
	}
	// The user's own personal tokens act here from now on: the event
	// names them, so that the organization's log knows every token
	// that can act in it.
	ids, err := ownPersonalTokens(ctx, tx, user.ID)
	if err != nil {
		return v, err
	}
	return v, s.audit(ctx, tx, i.OrgID, gatehouse.EventMemberAdded, "", map[string]any{"login": user.Login, "roleId": i.RoleID,
		"role": v.Role.Name, "invite": i.ID, "personalTokens": ids}, "added %q with role %q (invitation accepted)", user.Login, v.Role.Name)
}
