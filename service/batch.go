package service

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

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
// method of the same name, which is a Batch of that one operation (or,
// where the method's snapshot refresh differs, the method's own write of
// that core: CreateToken, RevokeToken, ChangeStackTags, SetAccountTags,
// DeleteIssuer and the invitations' writes, which refresh nothing or
// less). A Batch is valid only inside the function given to Service.Batch.
//
// Writes that are not one organization's have a core but no Batch method:
// personal tokens (CreateToken and RevokeToken of kind personal, which act
// in every organization of their user; IssueToken), answering an
// invitation (the user's, of whichever organization invited them), the
// host's CreateOrgWithAdmin and Bootstrap (which make the organization),
// RegisterIssuer (its discovery is a network call, never made inside a
// write) and the OIDC exchange's mint (it installs its token at the
// organization's revision, AddTokenAt, instead of a refresh).
//
// The update lifecycle's writes have a core each (StartUpdate's tags
// change in its transaction) and, but for CreateUpdate, no Batch method:
// StartUpdate, RenewLease, RecordEvents, CompleteUpdate and CancelUpdate
// take the stack's lock, which comes before the audit head's, and an
// earlier operation of a Batch may have taken the audit head already.
// CreateUpdate takes no lock of its own (nor does its wrapper take the
// organization's, nor refresh the snapshot: the update is not started).
type Batch struct {
	s     *Service
	ctx   context.Context
	tx    gatehouse.Tx
	orgID string
	// after runs once the write commits, before the snapshot's refresh:
	// what an operation changes beyond the organization's own snapshot.
	after []func()
}

// Batch runs fn's operations on the organization in one write.
func (s *Service) Batch(ctx context.Context, orgID string, fn func(*Batch) error) error {
	b := &Batch{s: s, ctx: ctx, orgID: orgID}
	var rev int64 // the organization's revision the write committed
	err := s.store.Write(ctx, func(tx gatehouse.Tx) error {
		// The organization's lock first, as in write: the operations'
		// checks and writes are atomic on PostgreSQL too.
		if err := tx.LockOrg(ctx, orgID); err != nil {
			return err
		}
		b.tx, b.after = tx, nil
		if err := fn(b); err != nil {
			return err
		}
		var err error
		rev, err = tx.Revision(ctx, orgID)
		return err
	})
	if err != nil {
		return err
	}
	for _, f := range b.after {
		f()
	}
	return s.az.RefreshTo(ctx, orgID, rev)
}

// batchOne is a Batch of the one operation op, which returns a value.
func batchOne[T any](ctx context.Context, s *Service, orgID string, op func(*Batch) (T, error)) (T, error) {
	var v T
	err := s.Batch(ctx, orgID, func(b *Batch) (err error) {
		v, err = op(b)
		return err
	})
	return v, err
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

// CreateStack is Service.CreateStack in the batch.
func (b *Batch) CreateStack(by *gatehouse.Identity, in StackInput) (*gatehouse.Stack, error) {
	return b.s.createStackTx(b.ctx, b.tx, b.orgID, by, in)
}

// DeleteStack is Service.DeleteStack in the batch.
func (b *Batch) DeleteStack(st *gatehouse.Stack, force bool) error {
	return b.s.deleteStackTx(b.ctx, b.tx, b.orgID, st, force)
}

// RenameStack is Service.RenameStack in the batch.
func (b *Batch) RenameStack(st *gatehouse.Stack, newProject, newName string) error {
	return b.s.renameStackTx(b.ctx, b.tx, b.orgID, st, newProject, newName)
}

// ChangeStackTags is Service.ChangeStackTags in the batch (the snapshot is
// refreshed even when the tags stay as they were).
func (b *Batch) ChangeStackTags(st *gatehouse.Stack, c TagUpdate) error {
	cur, err := orgStack(b.ctx, b.tx, b.orgID, st.ID)
	if err != nil {
		return err
	}
	_, err = b.s.changeStackTagsTx(b.ctx, b.tx, cur, c)
	return err
}

// CreateAccount is Service.CreateAccount in the batch.
func (b *Batch) CreateAccount(by *gatehouse.Identity, in AccountInput) (*gatehouse.Account, error) {
	return b.s.createAccountTx(b.ctx, b.tx, b.orgID, by, in)
}

// DeleteAccount is Service.DeleteAccount in the batch.
func (b *Batch) DeleteAccount(a *gatehouse.Account) error {
	return b.s.deleteAccountTx(b.ctx, b.tx, b.orgID, a)
}

// SetAccountTags is Service.SetAccountTags in the batch.
func (b *Batch) SetAccountTags(a *gatehouse.Account, tags map[string]string) error {
	_, err := b.s.setAccountTagsTx(b.ctx, b.tx, b.orgID, a, tags)
	return err
}

// Assign is Service.Assign in the batch.
func (b *Batch) Assign(e gatehouse.EntityRef, user, setID string) (*AssignmentView, error) {
	return b.s.assignTx(b.ctx, b.tx, b.orgID, e, user, setID)
}

// Invite is Service.Invite in the batch.
func (b *Batch) Invite(in InviteInput) (*InviteView, error) {
	return b.s.inviteTx(b.ctx, b.tx, b.orgID, in)
}

// UpdateInvite is Service.UpdateInvite in the batch.
func (b *Batch) UpdateInvite(id string, in InviteInput) (*InviteView, error) {
	return b.s.updateInviteTx(b.ctx, b.tx, b.orgID, id, in)
}

// RevokeInvite is Service.RevokeInvite in the batch.
func (b *Batch) RevokeInvite(id string) error {
	return b.s.revokeInviteTx(b.ctx, b.tx, b.orgID, id)
}

// UpdateSettings is Service.UpdateSettings in the batch.
func (b *Batch) UpdateSettings(c SettingsUpdate) error {
	return b.s.updateSettingsTx(b.ctx, b.tx, b.orgID, c)
}

// CreateToken is Service.CreateToken in the batch, for an organization or
// a team token of the batch's organization (in.OrgID is set to it); a
// personal token is no one organization's and is refused.
func (b *Batch) CreateToken(in TokenInput) (*gatehouse.Token, string, error) {
	if in.Kind != gatehouse.TokenOrganization && in.Kind != gatehouse.TokenTeam {
		return nil, "", gatehouse.Errorf(gatehouse.EINVALID, "kind: a batch creates organization and team tokens, not %q ones", in.Kind)
	}
	in.OrgID = b.orgID
	return b.s.createTokenTx(b.ctx, b.tx, in)
}

// RevokeToken is Service.RevokeToken in the batch, for an organization or
// a team token of the batch's organization; any other is not found.
func (b *Batch) RevokeToken(id string, check func(*gatehouse.Token) error) error {
	_, err := b.s.revokeTokenTx(b.ctx, b.tx, id, func(t *gatehouse.Token) error {
		if t.Kind == gatehouse.TokenPersonal || t.OrgID != b.orgID {
			return gatehouse.Errorf(gatehouse.ENOTFOUND, "token %q not found", id)
		}
		return check(t)
	})
	return err
}

// UpdateIssuer is Service.UpdateIssuer in the batch.
func (b *Batch) UpdateIssuer(id string, in IssuerInput) (*gatehouse.Issuer, error) {
	return b.s.updateIssuerTx(b.ctx, b.tx, b.orgID, id, in)
}

// DeleteIssuer is Service.DeleteIssuer in the batch: the tokens it revokes
// leave every organization's snapshot after the commit.
func (b *Batch) DeleteIssuer(id string) error {
	revoked, err := b.s.deleteIssuerTx(b.ctx, b.tx, b.orgID, id)
	if err != nil {
		return err
	}
	b.after = append(b.after, func() {
		// Personal tokens are indexed under every organization of their
		// user, which this organization's rebuild does not reach.
		for _, t := range revoked {
			b.s.az.RemoveToken(t)
		}
	})
	return nil
}

// UpdatePolicy is Service.UpdatePolicy in the batch.
func (b *Batch) UpdatePolicy(policyID string, rules []gatehouse.AuthPolicyRule) (*gatehouse.AuthPolicy, error) {
	return b.s.updatePolicyTx(b.ctx, b.tx, b.orgID, policyID, rules)
}

// AddMember is Service.AddMember in the batch.
func (b *Batch) AddMember(login, role string) (*MemberView, error) {
	return b.s.addMemberTx(b.ctx, b.tx, b.orgID, login, role)
}

// UpdateMember is Service.UpdateMember in the batch.
func (b *Batch) UpdateMember(login, role, roleID string) error {
	return b.s.updateMemberTx(b.ctx, b.tx, b.orgID, login, role, roleID)
}

// RemoveMember is Service.RemoveMember in the batch.
func (b *Batch) RemoveMember(login string, caller *gatehouse.Identity) error {
	return b.s.removeMemberTx(b.ctx, b.tx, b.orgID, login, caller)
}

// CreateDescriptor is Service.CreateDescriptor in the batch.
func (b *Batch) CreateDescriptor(in DescriptorInput, policyAndRole bool) (*gatehouse.Descriptor, error) {
	return b.s.createDescriptorTx(b.ctx, b.tx, b.orgID, in, policyAndRole)
}

// UpdateDescriptor is Service.UpdateDescriptor in the batch.
func (b *Batch) UpdateDescriptor(id string, in DescriptorInput) (*gatehouse.Descriptor, error) {
	return b.s.updateDescriptorTx(b.ctx, b.tx, b.orgID, id, in)
}

// DeleteDescriptor is Service.DeleteDescriptor in the batch.
func (b *Batch) DeleteDescriptor(id string, force bool) error {
	return b.s.deleteDescriptorTx(b.ctx, b.tx, b.orgID, id, force)
}

// SetDefaultRole is Service.SetDefaultRole in the batch.
func (b *Batch) SetDefaultRole(id string) error {
	return b.s.setDefaultRoleTx(b.ctx, b.tx, b.orgID, id)
}

// CreateUpdate is Service.CreateUpdate in the batch, of a stack of the
// batch's organization.
func (b *Batch) CreateUpdate(st *gatehouse.Stack, by *gatehouse.Identity, kind string, p ProgramInput) (*gatehouse.StackUpdate, error) {
	cur, err := orgStack(b.ctx, b.tx, b.orgID, st.ID)
	if err != nil {
		return nil, err
	}
	return createUpdateTx(b.ctx, b.tx, cur, by, kind, p)
}

// The environments' writes in a batch. Creating and cloning make the new
// environment's data key outside any transaction and have no Batch
// method; the others take nothing but the organization's lock, which the
// batch holds.

// UpdateDefinition is Service.UpdateDefinition in the batch.
func (b *Batch) UpdateDefinition(e *gatehouse.Environment, def []byte, expectVersion int, by *gatehouse.Identity) (int, error) {
	if err := b.sameOrg(e.OrgID); err != nil {
		return 0, err
	}
	sealed, err := b.s.sealDefinition(b.ctx, e, def)
	if err != nil {
		return 0, err
	}
	return b.s.updateDefinitionTx(b.ctx, b.tx, e, sealed, expectVersion, by)
}

// DeleteEnvironment is Service.DeleteEnvironment in the batch.
func (b *Batch) DeleteEnvironment(e *gatehouse.Environment) error {
	if err := b.sameOrg(e.OrgID); err != nil {
		return err
	}
	return b.s.deleteEnvironmentTx(b.ctx, b.tx, e)
}

// ChangeEnvironmentTags is Service.ChangeEnvironmentTags in the batch.
func (b *Batch) ChangeEnvironmentTags(e *gatehouse.Environment, c TagUpdate) error {
	if err := b.sameOrg(e.OrgID); err != nil {
		return err
	}
	_, err := b.s.changeEnvironmentTagsTx(b.ctx, b.tx, e, c)
	return err
}

// SetDeletionProtection is Service.SetDeletionProtection in the batch.
func (b *Batch) SetDeletionProtection(e *gatehouse.Environment, on bool) (*gatehouse.Environment, error) {
	if err := b.sameOrg(e.OrgID); err != nil {
		return nil, err
	}
	return b.s.setDeletionProtectionTx(b.ctx, b.tx, e, on)
}

// PutRevisionTag is Service.PutRevisionTag in the batch.
func (b *Batch) PutRevisionTag(e *gatehouse.Environment, name string, version int, update bool, by *gatehouse.Identity) error {
	if err := b.sameOrg(e.OrgID); err != nil {
		return err
	}
	return b.s.putRevisionTagTx(b.ctx, b.tx, e, name, version, update, by)
}

// DeleteRevisionTag is Service.DeleteRevisionTag in the batch.
func (b *Batch) DeleteRevisionTag(e *gatehouse.Environment, name string) error {
	if err := b.sameOrg(e.OrgID); err != nil {
		return err
	}
	return b.s.deleteRevisionTagTx(b.ctx, b.tx, e, name)
}

// RetractVersion is Service.RetractVersion in the batch.
func (b *Batch) RetractVersion(e *gatehouse.Environment, version, replacement int, reason string, by *gatehouse.Identity) (int, error) {
	if err := b.sameOrg(e.OrgID); err != nil {
		return 0, err
	}
	return b.s.retractVersionTx(b.ctx, b.tx, e, version, replacement, reason, by)
}

// sameOrg refuses an environment (or other entity) of another
// organization than the batch's, as not found: a batch writes one
// organization.
func (b *Batch) sameOrg(orgID string) error {
	if orgID != b.orgID {
		return gatehouse.Errorf(gatehouse.ENOTFOUND, "not found in this organization")
	}
	return nil
}

// MaxTagChanges bounds the entities one ChangeTags call changes.
const MaxTagChanges = 1000

// TagChange is one entity's tag change in ChangeTags: Set adds or changes
// tags, Remove removes them (a tag not there is no error). The entity is
// a stack ("project/stack"), an environment ("project/environment") or an
// Insights account (its name);
// the caller resolves it to ID, deciding the caller's access to it first.
type TagChange struct {
	Type   gatehouse.EntityType
	Name   string
	ID     string
	Set    map[string]string
	Remove []string
}

// TagChangeResult is what a TagChange did (or, in a dry run, would do).
type TagChangeResult struct {
	Index         int
	Type          gatehouse.EntityType
	ID, Name      string
	Before, After map[string]string
	Changed       bool
}

// AccessChange is a principal's access to an entity that a tag change
// gives or takes: the scopes gained and lost through tag rules.
type AccessChange struct {
	Principal    Principal
	Index        int // of the TagChange
	Type         gatehouse.EntityType
	EntityName   string
	Gained, Lost []string
}

// Principal names a member, team or organization token.
type Principal struct {
	Kind string // "user", "team" or "token"
	ID   string
	Name string
}

// TagOptions are ChangeTags's options.
type TagOptions struct {
	// DryRun rolls the changes back once every one was applied and
	// checked.
	DryRun bool
	// Access, in a dry run, lists whose access the changes would move.
	Access bool
}

// TagChanges is what ChangeTags did, or would do in a dry run.
type TagChanges struct {
	DryRun  bool
	Changes []TagChangeResult
	// Access is filled in a dry run: whose access the changes move, in
	// the order of the changes, then principals by kind and name.
	Access []AccessChange
	// AccessTruncated says Access stopped at MaxAccessChanges.
	AccessTruncated bool
}

// MaxAccessChanges bounds the access changes a dry run reports.
const MaxAccessChanges = 10000

// errDryRun rolls a dry run's write back once every change was applied
// and checked in it.
var errDryRun = errors.New("dry run")

// CheckTagChanges validates a batch of tag changes without reading
// anything: its size, each entity's type and name, each tag's name and
// value, and that no entity appears twice. An error names the change's
// index and field.
func CheckTagChanges(changes []TagChange) error {
	if err := CheckTagCount(len(changes)); err != nil {
		return err
	}
	seen := make(map[string]int, len(changes))
	for i, c := range changes {
		if err := checkTagChange(c); err != nil {
			return prefixError(err, "changes[%d].", i)
		}
		key := c.Type.String() + " " + c.Name
		if j, ok := seen[key]; ok {
			return gatehouse.Errorf(gatehouse.EINVALID, "changes[%d].entity: %s %q is changes[%d] too; give each entity one change", i, c.Type, c.Name, j)
		}
		seen[key] = i
	}
	return nil
}

// CheckTagCount refuses an empty batch or one over MaxTagChanges.
func CheckTagCount(n int) error {
	switch {
	case n == 0:
		return gatehouse.Errorf(gatehouse.EINVALID, "changes: at least one change is needed")
	case n > MaxTagChanges:
		return gatehouse.Errorf(gatehouse.EINVALID, "changes: %d changes, over the limit of %d per batch; send them in batches", n, MaxTagChanges)
	}
	return nil
}

func checkTagChange(c TagChange) error {
	switch c.Type {
	case gatehouse.EntityStack, gatehouse.EntityEnvironment:
		project, name, ok := strings.Cut(c.Name, "/")
		if !ok || project == "" || name == "" || strings.Contains(name, "/") {
			return gatehouse.Errorf(gatehouse.EINVALID, "entity.name: %q is not project/name", c.Name)
		}
	case gatehouse.EntityInsightsAccount:
		if c.Name == "" {
			return gatehouse.Errorf(gatehouse.EINVALID, "entity.name: the Insights account's name is needed")
		}
	default:
		return gatehouse.Errorf(gatehouse.EINVALID, "entity.type: %q is not stack, environment or insights-account", c.Type)
	}
	if len(c.Set) == 0 && len(c.Remove) == 0 {
		return gatehouse.Errorf(gatehouse.EINVALID, "set: nothing to set or remove")
	}
	if _, ok := c.Set[ProjectTag]; ok {
		return gatehouse.Errorf(gatehouse.EINVALID, "set: %s is built in and cannot be changed", ProjectTag)
	}
	if _, err := checkTags(c.Set); err != nil {
		return gatehouse.Errorf(gatehouse.EINVALID, "set: %s", strings.TrimPrefix(gatehouse.ErrorMessage(err), "tags: "))
	}
	for j, k := range c.Remove {
		if k == ProjectTag {
			return gatehouse.Errorf(gatehouse.EINVALID, "remove[%d]: %s is built in and cannot be removed", j, ProjectTag)
		}
		if !tagNameRE.MatchString(k) {
			return gatehouse.Errorf(gatehouse.EINVALID, "remove[%d]: %q is not a tag name", j, k)
		}
		if _, ok := c.Set[k]; ok {
			return gatehouse.Errorf(gatehouse.EINVALID, "remove[%d]: %q is set by the same change", j, k)
		}
	}
	return nil
}

// prefixError puts a field path before a client error's message, keeping
// its code; other errors come back as they are.
func prefixError(err error, format string, args ...any) error {
	var e *gatehouse.Error
	if !errors.As(err, &e) {
		return err
	}
	return &gatehouse.Error{Code: e.Code, Message: fmt.Sprintf(format, args...) + e.Message, Err: err}
}

// ChangeTags applies a batch of tag changes in one write: every change
// or none, one audit event per entity that changes, one snapshot refresh.
// The changes are validated first (CheckTagChanges); each entity's tags
// are read under the organization's lock, so that no concurrent change is
// lost, and a change that would give the caller a scope it does not hold
// is refused as one alone is. With o.DryRun the write is rolled back
// after every change was applied and checked, and, with o.Access, the
// result says whose access the changes would move (AccessChange): a
// decision per principal and changed entity, about 0.6 µs each.
func (s *Service) ChangeTags(ctx context.Context, orgID string, changes []TagChange, o TagOptions) (*TagChanges, error) {
	dryRun := o.DryRun
	if err := CheckTagChanges(changes); err != nil {
		return nil, err
	}
	out := &TagChanges{DryRun: dryRun, Changes: make([]TagChangeResult, len(changes))}
	err := s.Batch(ctx, orgID, func(b *Batch) error {
		for i, c := range changes {
			r, err := b.changeTags(c)
			if err != nil {
				return prefixError(err, "changes[%d] (%s %s): ", i, c.Type, c.Name)
			}
			r.Index = i
			out.Changes[i] = r
		}
		if dryRun {
			return errDryRun
		}
		return nil
	})
	if !dryRun || !errors.Is(err, errDryRun) {
		if err != nil {
			return nil, err
		}
		return out, nil
	}
	if !o.Access {
		return out, nil
	}
	if out.Access, out.AccessTruncated, err = s.accessChanges(ctx, orgID, out.Changes); err != nil {
		return nil, err
	}
	return out, nil
}

// changeTags is one TagChange in the batch: the entity's tags now, with
// the change applied as a replacement (Set over them, Remove taken out).
// An account's tags are always replaced whole (SetAccountTags).
func (b *Batch) changeTags(c TagChange) (TagChangeResult, error) {
	r := TagChangeResult{Type: c.Type, ID: c.ID, Name: c.Name}
	var cur map[string]string
	switch c.Type {
	case gatehouse.EntityStack:
		st, err := orgStack(b.ctx, b.tx, b.orgID, c.ID)
		if err != nil {
			return r, err
		}
		cur = st.Tags
		r.Before, r.After = cur, nextTags(cur, c)
		r.Changed, err = b.s.changeStackTagsTx(b.ctx, b.tx, st, TagUpdate{Replace: r.After})
		return r, err
	case gatehouse.EntityInsightsAccount:
		a, err := b.tx.GetAccountByID(b.ctx, c.ID)
		if err == nil {
			err = b.sameOrg(a.OrgID)
		}
		if err != nil {
			return r, err
		}
		r.Before, r.After = a.Tags, nextTags(a.Tags, c)
		r.Changed, err = b.s.setAccountTagsTx(b.ctx, b.tx, b.orgID, a, r.After)
		return r, err
	default:
		e, err := b.tx.GetEnvironmentByID(b.ctx, c.ID)
		if err == nil {
			err = b.sameOrg(e.OrgID)
		}
		if err != nil {
			return r, err
		}
		r.Before, r.After = e.Tags, nextTags(e.Tags, c)
		r.Changed, err = b.s.changeEnvironmentTagsTx(b.ctx, b.tx, e, TagUpdate{Replace: r.After})
		return r, err
	}
}

func nextTags(cur map[string]string, c TagChange) map[string]string {
	out := maps.Clone(cur)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, c.Set)
	for _, k := range c.Remove {
		delete(out, k)
	}
	return out
}

// Grant is one assignment in AssignMany: a user (id or login) given a
// permission set on an entity (the caller resolves it to ID), or with an
// empty SetID their direct grant taken away.
type Grant struct {
	Entity gatehouse.EntityRef
	Name   string // the entity's name, for errors
	User   string
	SetID  string
}

// AssignMany applies up to MaxTagChanges grants in one write, as Assign
// does each (its escalation check included): all or none, one audit
// event each, one snapshot refresh. A user may appear once per entity.
// It returns the assignments in order (nil for a revocation).
func (s *Service) AssignMany(ctx context.Context, orgID string, grants []Grant) ([]*AssignmentView, error) {
	if err := CheckGrants(grants); err != nil {
		return nil, err
	}
	out := make([]*AssignmentView, len(grants))
	err := s.Batch(ctx, orgID, func(b *Batch) error {
		for i, g := range grants {
			v, err := b.Assign(g.Entity, g.User, g.SetID)
			if err != nil {
				return prefixError(err, "assignments[%d] (%s %s): ", i, g.Entity.Type, g.Name)
			}
			out[i] = v
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CheckGrants validates a batch of grants without reading anything: its
// size, that each names a user, and that no user appears twice on one
// entity. An error names the grant's index.
func CheckGrants(grants []Grant) error {
	switch {
	case len(grants) == 0:
		return gatehouse.Errorf(gatehouse.EINVALID, "assignments: at least one is needed")
	case len(grants) > MaxTagChanges:
		return gatehouse.Errorf(gatehouse.EINVALID, "assignments: %d assignments, over the limit of %d per batch; send them in batches", len(grants), MaxTagChanges)
	}
	seen := make(map[[3]string]int, len(grants))
	for i, g := range grants {
		if g.User == "" {
			return gatehouse.Errorf(gatehouse.EINVALID, "assignments[%d].userId: missing", i)
		}
		key := [3]string{g.Entity.Type.String(), g.Name, strings.ToLower(g.User)}
		if j, ok := seen[key]; ok {
			return gatehouse.Errorf(gatehouse.EINVALID, "assignments[%d]: %q on %s %s is assignments[%d] too", i, g.User, g.Entity.Type, g.Name, j)
		}
		seen[key] = i
	}
	return nil
}
