package service

import (
	"context"
	"fmt"

	"github.com/gatehouse-iam/gatehouse"
)

// AssignmentView is one principal's grant on an entity: a direct
// assignment to a user, or a team's grant.
type AssignmentView struct {
	User   *gatehouse.User
	Team   *gatehouse.Team
	Set    *gatehouse.Descriptor
	Source string // "assignment" or "team"
}

// Assignments lists every grant on an entity, and the permission sets that
// can be assigned on it.
func (s *Service) Assignments(ctx context.Context, orgID string, e gatehouse.EntityRef) (out []AssignmentView, available []*gatehouse.Descriptor, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		out = nil // a retried read starts over (store.guard)
		grants, err := tx.ListGrants(ctx, orgID, gatehouse.GrantFilter{Entity: &e})
		if err != nil {
			return err
		}
		for _, g := range grants {
			v := AssignmentView{Source: "assignment"}
			if v.Set, err = tx.GetDescriptor(ctx, orgID, g.SetID); err != nil {
				return err
			}
			if g.UserID != "" {
				if v.User, err = tx.GetUser(ctx, g.UserID); err != nil {
					return err
				}
			} else {
				v.Source = "team"
				if v.Team, err = tx.GetTeamByID(ctx, g.TeamID); err != nil {
					return err
				}
			}
			out = append(out, v)
		}
		available, err = setsFor(ctx, tx, orgID, e.Type)
		return err
	})
	return out, available, err
}

func setsFor(ctx context.Context, tx gatehouse.Tx, orgID string, t gatehouse.EntityType) ([]*gatehouse.Descriptor, error) {
	var out []*gatehouse.Descriptor
	opts := gatehouse.ListOptions{Limit: gatehouse.MaxListLimit}
	for {
		ds, next, err := tx.ListDescriptors(ctx, orgID, gatehouse.PurposeSet, opts)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if d.ResourceType == t {
				out = append(out, d)
			}
		}
		if opts.Continuation = next; next == "" {
			return out, nil
		}
	}
}

// Assign gives a user (by id or login) a permission set on an entity, or
// with an empty setID takes their direct grant away. It returns the new
// assignment, or nil after a revocation.
func (s *Service) Assign(ctx context.Context, orgID string, e gatehouse.EntityRef, user, setID string) (*AssignmentView, error) {
	return batchOne(ctx, s, orgID, func(b *Batch) (*AssignmentView, error) { return b.Assign(e, user, setID) })
}

func (s *Service) assignTx(ctx context.Context, tx gatehouse.Tx, orgID string, e gatehouse.EntityRef, user, setID string) (*AssignmentView, error) {
	u, err := tx.GetUser(ctx, user)
	if err != nil {
		if u, err = tx.GetUserByLogin(ctx, user); err != nil {
			return nil, gatehouse.Recode(err, gatehouse.ENOTFOUND, gatehouse.EINVALID, "userId: user %q not found", user)
		}
	}
	if _, err := tx.GetMember(ctx, orgID, u.ID); err != nil {
		return nil, gatehouse.Recode(err, gatehouse.ENOTFOUND, gatehouse.EINVALID, "userId: %q is not a member of the organization", u.Login)
	}
	if setID == "" {
		return nil, s.unassignTx(ctx, tx, orgID, e, u)
	}
	set, err := tx.GetDescriptor(ctx, orgID, setID)
	if err != nil {
		return nil, gatehouse.Recode(err, gatehouse.ENOTFOUND, gatehouse.EINVALID, "permissionSetId: %q is not a permission set of the organization", setID)
	}
	if set.Purpose != gatehouse.PurposeSet {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "permissionSetId: %q is not a permission set of the organization", setID)
	}
	if set.ResourceType != e.Type {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "permissionSetId: %q is for %s entities, not %s", set.Name, set.ResourceType, e.Type)
	}
	if err := s.checkGrant(ctx, orgID, fmt.Sprintf("assigning %q on %s %s", set.Name, e.Type, e.ID), compileNodes(ctx, tx, orgID, grantNode(e, setID))); err != nil {
		return nil, err
	}
	if err := tx.PutGrant(ctx, &gatehouse.Grant{OrgID: orgID, UserID: u.ID, Entity: e, SetID: setID}); err != nil {
		return nil, err
	}
	return &AssignmentView{User: u, Set: set, Source: "assignment"}, s.audit(ctx, tx, orgID, gatehouse.EventAssignmentChanged, e.ID,
		map[string]string{"user": u.Login, "entityType": e.Type.String(), "permissionSetId": setID},
		"gave %q the permission set %q on %s %s", u.Login, set.Name, e.Type, e.ID)
}

// unassignTx takes a user's direct grants on an entity away.
func (s *Service) unassignTx(ctx context.Context, tx gatehouse.Tx, orgID string, e gatehouse.EntityRef, u *gatehouse.User) error {
	grants, err := tx.ListGrants(ctx, orgID, gatehouse.GrantFilter{Entity: &e, UserID: u.ID})
	if err != nil {
		return err
	}
	for _, g := range grants {
		if err := tx.DeleteGrant(ctx, orgID, g.ID); err != nil {
			return err
		}
	}
	return s.audit(ctx, tx, orgID, gatehouse.EventAssignmentChanged, e.ID, map[string]string{"user": u.Login, "entityType": e.Type.String()},
		"revoked %q's assignment on %s %s", u.Login, e.Type, e.ID)
}
