package service

import (
	"context"

	"github.com/gatehouse-iam/gatehouse"
)

// Batch is several operations on one organization in one write: all of
// them happen or none does (the first error rolls the write back), their
// audit events are recorded as each would record them alone, and the
// authorizer's snapshot is refreshed once, after the commit. A handler
// composes operations through it without seeing the store:
//
//	err := svc.Batch(ctx, orgID, func(b *service.Batch) error {
//		if err := b.RenameTeam(name, displayName, nil); err != nil {
//			return err
//		}
//		return b.SetTeamMember(name, "add", login)
//	})
//
// Each operation of a Batch is the transaction-level core of the Service
// method of the same name, which is a Batch of that one operation. A Batch
// is valid only inside the function given to Service.Batch.
type Batch struct {
	s     *Service
	ctx   context.Context
	tx    gatehouse.Tx
	orgID string
}

// Batch runs fn's operations on the organization in one write.
func (s *Service) Batch(ctx context.Context, orgID string, fn func(*Batch) error) error {
	return s.write(ctx, orgID, func(tx gatehouse.Tx) error {
		return fn(&Batch{s: s, ctx: ctx, tx: tx, orgID: orgID})
	})
}

// RenameTeam is Service.RenameTeam in the batch.
func (b *Batch) RenameTeam(name string, displayName, description *string) error {
	return b.s.renameTeamTx(b.ctx, b.tx, b.orgID, name, displayName, description)
}

// SetTeamMember is Service.SetTeamMember in the batch.
func (b *Batch) SetTeamMember(name, action, login string) error {
	return b.s.setTeamMemberTx(b.ctx, b.tx, b.orgID, name, action, login)
}

// PutTeamGrant is Service.PutTeamGrant in the batch.
func (b *Batch) PutTeamGrant(name string, g TeamGrant) error {
	return b.s.putTeamGrantTx(b.ctx, b.tx, b.orgID, name, g)
}

// RemoveTeamGrant is Service.RemoveTeamGrant in the batch.
func (b *Batch) RemoveTeamGrant(name string, g TeamGrant) error {
	return b.s.removeTeamGrantTx(b.ctx, b.tx, b.orgID, name, g)
}

// CreateTeam is Service.CreateTeam in the batch.
func (b *Batch) CreateTeam(name, displayName, description string) (*gatehouse.Team, error) {
	return b.s.createTeamTx(b.ctx, b.tx, b.orgID, name, displayName, description)
}

// DeleteTeam is Service.DeleteTeam in the batch.
func (b *Batch) DeleteTeam(name string) error {
	return b.s.deleteTeamTx(b.ctx, b.tx, b.orgID, name)
}

// AddTeamRole is Service.AddTeamRole in the batch.
func (b *Batch) AddTeamRole(name, roleID string) error {
	return b.s.addTeamRoleTx(b.ctx, b.tx, b.orgID, name, roleID)
}

// RemoveTeamRole is Service.RemoveTeamRole in the batch.
func (b *Batch) RemoveTeamRole(name, roleID string) error {
	return b.s.removeTeamRoleTx(b.ctx, b.tx, b.orgID, name, roleID)
}
