package service

import (
	"context"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
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
	if err := checkName("admin", adminLogin, 100); err != nil {
		return nil, err
	}
	out := &OrgCreated{}
	ctx = gatehouse.WithActor(ctx, gatehouse.Actor{Login: "host: gatehouse admin org create"})
	err := s.Store.Write(ctx, func(tx gatehouse.Tx) error {
		existing, err := tx.GetUserByLogin(ctx, adminLogin)
		switch {
		case gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND:
			existing = nil
		case err != nil:
			return err
		case !invite:
			return gatehouse.Errorf(gatehouse.ECONFLICT, "admin: user %q exists already and another organization's user cannot be made an admin without consent; choose a new login, or pass --invite to invite %q as admin", adminLogin, adminLogin)
		}
		org, ids, err := s.CreateOrg(ctx, tx, name, name)
		if err != nil {
			return err
		}
		out.Org = org
		if existing != nil {
			out.Invite = &gatehouse.Invite{OrgID: org.ID, UserID: existing.ID, RoleID: ids[catalog.RoleAdmin], Expires: s.Now().Add(DefaultInviteLifetime)}
			return s.createInvite(ctx, tx, out.Invite, existing, "admin")
		}
		user := &gatehouse.User{Login: adminLogin, Name: adminLogin, ManagedBy: org.ID}
		if err := tx.CreateUser(ctx, user); err != nil {
			return err
		}
		out.Token, err = s.firstAdmin(ctx, tx, org.ID, ids[catalog.RoleAdmin], user, "first token of the admin of "+name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, s.Authz.Refresh(ctx, out.Org.ID)
}

// Orgs lists every organization, for the host command `gatehouse admin org
// list`.
func (s *Service) Orgs(ctx context.Context) (orgs []*gatehouse.Organization, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
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
