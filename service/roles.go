package service

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/policy"
)

var purposes = []string{gatehouse.PurposeRole, gatehouse.PurposeRolePrivate, gatehouse.PurposeRoleUserPrivate,
	gatehouse.PurposeRoleTemporary, gatehouse.PurposePolicy, gatehouse.PurposeSet}

// DescriptorInput is what a caller sends to create or change a descriptor
// (Pulumi's PermissionDescriptorBase and UpdateRoleRequest).
type DescriptorInput struct {
	Name         *string
	Description  *string
	ResourceType *string
	Purpose      *string
	Details      json.RawMessage
}

// storeLookup resolves Compose references against the organization's
// stored descriptors, decoding each once.
func storeLookup(ctx context.Context, tx gatehouse.Tx, orgID string) policy.Lookup {
	cache := map[string]*policy.Descriptor{}
	return func(id string) (*policy.Descriptor, bool) {
		if d, ok := cache[id]; ok {
			return d, d != nil
		}
		rec, err := tx.GetDescriptor(ctx, orgID, id)
		if err != nil {
			cache[id] = nil
			return nil, false
		}
		n, err := policy.Decode(rec.Details)
		if err != nil {
			n = &policy.Group{}
		}
		d := &policy.Descriptor{ID: rec.ID, Name: rec.Name, Purpose: rec.Purpose, ResourceType: rec.ResourceType, Details: n}
		cache[id] = d
		return d, true
	}
}

// parseDetails validates a descriptor document in its organization and
// returns its canonical encoding and references.
func parseDetails(ctx context.Context, tx gatehouse.Tx, orgID, selfID, purpose string, rt gatehouse.EntityType, raw json.RawMessage) (json.RawMessage, []string, error) {
	if len(raw) == 0 {
		return nil, nil, gatehouse.Errorf(gatehouse.EINVALID, "details: missing")
	}
	if err := checkDescriptorSize(ctx, tx, orgID, len(raw)); err != nil {
		return nil, nil, err
	}
	n, err := policy.Parse(raw, policy.Options{Purpose: purpose, ResourceType: rt, SelfID: selfID, Lookup: storeLookup(ctx, tx, orgID)})
	if err != nil {
		if es, ok := err.(policy.Errors); ok {
			return nil, nil, es.Invalid()
		}
		return nil, nil, err
	}
	// Composing costs the size of the expansion: refuse what would cost
	// more than the budget to compile at every snapshot.
	if _, _, err := policy.Expansion(n, storeLookup(ctx, tx, orgID), policy.MaxExpansion); err != nil {
		return nil, nil, err
	}
	enc, err := policy.Encode(n)
	if err != nil {
		return nil, nil, err
	}
	return enc, policy.References(n), nil
}

// CreateDescriptor creates a role, set or policy. With policyAndRole, the
// tree goes into a new policy and the role composes it, as the console
// does.
func (s *Service) CreateDescriptor(ctx context.Context, orgID string, in DescriptorInput, policyAndRole bool) (*gatehouse.Descriptor, error) {
	d, err := batchOne(ctx, s, orgID, func(b *Batch) (*gatehouse.Descriptor, error) { return b.CreateDescriptor(in, policyAndRole) })
	if err != nil {
		return nil, err
	}
	return d, nil
}

// newDescriptor checks a new descriptor's input and returns it, without
// its details.
func newDescriptor(orgID string, in DescriptorInput, policyAndRole bool) (*gatehouse.Descriptor, error) {
	if in.Name == nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "name: missing")
	}
	if err := checkDescriptorName(*in.Name); err != nil {
		return nil, err
	}
	d := &gatehouse.Descriptor{OrgID: orgID, Name: *in.Name, Purpose: gatehouse.PurposeRole, ResourceType: gatehouse.EntityGlobal}
	if in.Description != nil {
		if err := checkText("description", *in.Description, 1000); err != nil {
			return nil, err
		}
		d.Description = *in.Description
	}
	if in.Purpose != nil {
		if !slices.Contains(purposes, *in.Purpose) {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "uxPurpose: %q is not one of %v", *in.Purpose, purposes)
		}
		d.Purpose = *in.Purpose
	}
	if in.ResourceType != nil && *in.ResourceType != "" {
		if err := d.ResourceType.UnmarshalText([]byte(*in.ResourceType)); err != nil || d.ResourceType == gatehouse.EntityTeam {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "resourceType: %q is not one of global, stack, environment, insights-account", *in.ResourceType)
		}
	}
	if policyAndRole && d.Purpose != gatehouse.PurposeRole {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "createPolicyAndRole: only for uxPurpose role, not %s", d.Purpose)
	}
	return d, nil
}

func (s *Service) createDescriptorTx(ctx context.Context, tx gatehouse.Tx, orgID string, in DescriptorInput, policyAndRole bool) (*gatehouse.Descriptor, error) {
	d, err := newDescriptor(orgID, in, policyAndRole)
	if err != nil {
		return nil, err
	}
	if err := s.checkQuota(ctx, tx, orgID, quotaDescriptors); err != nil {
		return nil, err
	}
	details, refs, err := parseDetails(ctx, tx, orgID, "", d.Purpose, d.ResourceType, in.Details)
	if err != nil {
		return nil, err
	}
	if err := s.checkDetails(ctx, tx, orgID, "the new "+gatehouse.PurposeNoun(d.Purpose), details); err != nil {
		return nil, err
	}
	if policyAndRole {
		pol := &gatehouse.Descriptor{OrgID: orgID, Name: d.Name, Description: d.Description, Purpose: gatehouse.PurposePolicy,
			ResourceType: d.ResourceType, Details: details, Refs: refs}
		if err := tx.CreateDescriptor(ctx, pol); err != nil {
			return nil, err
		}
		if err := s.audit(ctx, tx, orgID, gatehouse.EventRoleCreated, pol.ID, stateOf(pol), "created policy %q", pol.Name); err != nil {
			return nil, err
		}
		d.Details, d.Refs = composeOf(pol.ID), []string{pol.ID}
		// The role is a second descriptor: it counts too.
		if err := s.checkQuota(ctx, tx, orgID, quotaDescriptors); err != nil {
			return nil, err
		}
	} else {
		d.Details, d.Refs = details, refs
	}
	if err := tx.CreateDescriptor(ctx, d); err != nil {
		return nil, err
	}
	return d, s.audit(ctx, tx, orgID, gatehouse.EventRoleCreated, d.ID, stateOf(d), "created %s %q", gatehouse.PurposeNoun(d.Purpose), d.Name)
}

func composeOf(id string) json.RawMessage {
	b, _ := policy.Encode(&policy.Compose{Descriptors: []string{id}})
	return b
}

func checkDescriptorName(name string) error {
	if name == "" {
		return gatehouse.Errorf(gatehouse.EINVALID, "name: must not be empty")
	}
	return checkText("name", name, 100)
}

// consolePolicy returns the policy a console-shaped role composes alone,
// with the same name, or nil.
func consolePolicy(ctx context.Context, tx gatehouse.Tx, role *gatehouse.Descriptor) *gatehouse.Descriptor {
	if role.Purpose == gatehouse.PurposePolicy || len(role.Refs) != 1 {
		return nil
	}
	n, err := policy.Decode(role.Details)
	if err != nil {
		return nil
	}
	if c, ok := n.(*policy.Compose); !ok || len(c.Descriptors) != 1 {
		return nil
	}
	pol, err := tx.GetDescriptor(ctx, role.OrgID, role.Refs[0])
	if err != nil || pol.Purpose != gatehouse.PurposePolicy || pol.Name != role.Name {
		return nil
	}
	return pol
}

// UpdateDescriptor changes a descriptor's name, description or details.
// Built-ins cannot change. A console role's name and description stay in
// step with its policy's.
func (s *Service) UpdateDescriptor(ctx context.Context, orgID, id string, in DescriptorInput) (*gatehouse.Descriptor, error) {
	return batchOne(ctx, s, orgID, func(b *Batch) (*gatehouse.Descriptor, error) { return b.UpdateDescriptor(id, in) })
}

func (s *Service) updateDescriptorTx(ctx context.Context, tx gatehouse.Tx, orgID, id string, in DescriptorInput) (*gatehouse.Descriptor, error) {
	if in.Name != nil {
		if err := checkDescriptorName(*in.Name); err != nil {
			return nil, err
		}
	}
	if in.Description != nil {
		if err := checkText("description", *in.Description, 1000); err != nil {
			return nil, err
		}
	}
	d, err := tx.GetDescriptor(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	if d.DefaultIdentifier != "" {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "%q is built in and cannot be changed; create a custom one instead", d.Name)
	}
	pol := consolePolicy(ctx, tx, d)
	before := stateOf(d)
	if in.Name != nil {
		d.Name = *in.Name
	}
	if in.Description != nil {
		d.Description = *in.Description
	}
	if in.Details != nil {
		details, refs, err := parseDetails(ctx, tx, orgID, d.ID, d.Purpose, d.ResourceType, in.Details)
		if err != nil {
			return nil, err
		}
		if err := s.checkDetails(ctx, tx, orgID, "the changed "+gatehouse.PurposeNoun(d.Purpose), details); err != nil {
			return nil, err
		}
		d.Details, d.Refs = details, refs
	}
	if err := tx.UpdateDescriptor(ctx, d, d.Version); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, tx, orgID, gatehouse.EventRoleUpdated, d.ID, map[string]any{"before": before, "after": stateOf(d)},
		"changed %s %q", gatehouse.PurposeNoun(d.Purpose), d.Name); err != nil {
		return nil, err
	}
	if pol != nil && (pol.Name != d.Name || pol.Description != d.Description) && slices.Equal(d.Refs, []string{pol.ID}) {
		pol.Name, pol.Description = d.Name, d.Description
		if err := tx.UpdateDescriptor(ctx, pol, pol.Version); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// DeleteDescriptor deletes a descriptor. A built-in, the organization's
// default role, and a descriptor another one composes are never deleted.
// A role held by members, teams or organization tokens is deleted only
// with force (`pulumi org role remove --force`): its members fall back to
// the default role (Pulumi's semantics), its teams lose it, and the tokens
// bound to it hold nothing from then on: they fail closed rather than
// take the default role, which may grant more. The audit event lists the
// tokens that lost their role. A console role's policy goes with it.
func (s *Service) DeleteDescriptor(ctx context.Context, orgID, id string, force bool) error {
	return s.Batch(ctx, orgID, func(b *Batch) error { return b.DeleteDescriptor(id, force) })
}

func (s *Service) deleteDescriptorTx(ctx context.Context, tx gatehouse.Tx, orgID, id string, force bool) error {
	d, err := tx.GetDescriptor(ctx, orgID, id)
	if err != nil {
		return err
	}
	if d.DefaultIdentifier != "" {
		return gatehouse.Errorf(gatehouse.EINVALID, "%q is built in and cannot be deleted", d.Name)
	}
	u, err := tx.DescriptorUsage(ctx, orgID, id)
	if err != nil {
		return err
	}
	if err := checkDeletable(ctx, tx, orgID, d, u, force); err != nil {
		return err
	}
	unbound, err := s.unbindRoleTokens(ctx, tx, orgID, id)
	if err != nil {
		return err
	}
	if err := s.moveToDefaultRole(ctx, tx, orgID, d, u.Members); err != nil {
		return err
	}
	for _, tid := range u.Teams {
		if err := tx.RemoveTeamRole(ctx, tid, id); err != nil {
			return err
		}
	}
	pol := consolePolicy(ctx, tx, d)
	if err := tx.DeleteDescriptor(ctx, orgID, id); err != nil {
		return err
	}
	if err := s.audit(ctx, tx, orgID, gatehouse.EventRoleDeleted, d.ID, map[string]any{"deleted": stateOf(d), "force": force,
		"unassignedMembers": u.Members, "unassignedTeams": u.Teams, "unboundTokens": unbound}, "deleted %s %q", gatehouse.PurposeNoun(d.Purpose), d.Name); err != nil {
		return err
	}
	if pol != nil {
		if pu, err := tx.DescriptorUsage(ctx, orgID, pol.ID); err == nil && !pu.InUse() {
			if err := tx.DeleteDescriptor(ctx, orgID, pol.ID); err != nil {
				return err
			}
			return s.audit(ctx, tx, orgID, gatehouse.EventRoleDeleted, pol.ID, map[string]any{"deleted": stateOf(pol)}, "deleted policy %q with its role", pol.Name)
		}
	}
	return nil
}

// checkDeletable refuses to delete a descriptor still in use: by other
// descriptors, as the default role, by grants, or (without force) by
// members, teams and tokens.
func checkDeletable(ctx context.Context, tx gatehouse.Tx, orgID string, d *gatehouse.Descriptor, u *gatehouse.DescriptorUsage, force bool) error {
	switch {
	case len(u.Descriptors) > 0:
		names := make([]string, 0, len(u.Descriptors))
		for _, ref := range u.Descriptors {
			if r, err := tx.GetDescriptor(ctx, orgID, ref); err == nil {
				names = append(names, quote(r.Name))
			} else {
				names = append(names, ref)
			}
		}
		return gatehouse.Errorf(gatehouse.ECONFLICT, "%q is used by %s; remove it from them first", d.Name, strings.Join(names, ", "))
	case u.OrgDefault:
		return gatehouse.Errorf(gatehouse.ECONFLICT, "%q is the organization's default role; make another role the default first", d.Name)
	case len(u.Grants) > 0:
		return gatehouse.Errorf(gatehouse.ECONFLICT, "%q is used by %d entity grant(s); remove them first", d.Name, len(u.Grants))
	case (len(u.Members) > 0 || len(u.Teams) > 0 || len(u.Tokens) > 0) && !force:
		return gatehouse.Errorf(gatehouse.ECONFLICT, "%q is assigned to %d member(s), %d team(s) and %d access token(s); unassign it, or delete with force=true (pulumi org role remove --force): members then fall back to the default role and the tokens hold nothing",
			d.Name, len(u.Members), len(u.Teams), len(u.Tokens))
	}
	return nil
}

// moveToDefaultRole gives the members of a role being deleted the
// organization's default role.
func (s *Service) moveToDefaultRole(ctx context.Context, tx gatehouse.Tx, orgID string, d *gatehouse.Descriptor, members []string) error {
	if len(members) == 0 {
		return nil
	}
	org, err := tx.GetOrg(ctx, orgID)
	if err != nil {
		return err
	}
	// Its members are given the default role: held to what the
	// caller holds, as any other role given to a member.
	if id := org.Settings.DefaultRoleID; id != "" {
		if err := s.checkRole(ctx, tx, orgID, fmt.Sprintf("deleting %q moves its members onto the default role, which", d.Name), id); err != nil {
			return err
		}
	}
	for _, uid := range members {
		m, err := tx.GetMember(ctx, orgID, uid)
		if err != nil {
			return err
		}
		m.RoleID = org.Settings.DefaultRoleID
		if err := tx.UpdateMember(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// unboundToken names, in a role's deletion event, a token that lost it.
type unboundToken struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// unbindRoleTokens marks the tokens bound to a role about to be deleted as
// holding nothing, and returns them for the audit event. It runs before the
// deletion, under the role's row lock (see Tx.UnbindRole).
func (s *Service) unbindRoleTokens(ctx context.Context, tx gatehouse.Tx, orgID, roleID string) ([]unboundToken, error) {
	toks, err := tx.UnbindRole(ctx, orgID, roleID)
	if err != nil {
		return nil, err
	}
	out := []unboundToken{}
	for _, t := range toks {
		out = append(out, unboundToken{ID: t.ID, Name: t.Name})
	}
	return out, nil
}

// SetDefaultRole makes a role the organization's default.
func (s *Service) SetDefaultRole(ctx context.Context, orgID, id string) error {
	return s.Batch(ctx, orgID, func(b *Batch) error { return b.SetDefaultRole(id) })
}

func (s *Service) setDefaultRoleTx(ctx context.Context, tx gatehouse.Tx, orgID, id string) error {
	d, err := tx.GetDescriptor(ctx, orgID, id)
	if err != nil {
		return err
	}
	if d.Purpose == gatehouse.PurposeSet || d.Purpose == gatehouse.PurposePolicy {
		return gatehouse.Errorf(gatehouse.EINVALID, "Invalid role type: %q is a %s, not a role", d.Name, d.Purpose)
	}
	if err := s.checkRole(ctx, tx, orgID, fmt.Sprintf("making %q the default role (held by tokens without a role)", d.Name), id); err != nil {
		return err
	}
	org, err := tx.GetOrg(ctx, orgID)
	if err != nil {
		return err
	}
	before := org.Settings.DefaultRoleID
	org.Settings.DefaultRoleID = id
	if err := tx.UpdateOrg(ctx, org); err != nil {
		return err
	}
	return s.audit(ctx, tx, orgID, gatehouse.EventDefaultRoleChanged, "", map[string]string{"before": before, "after": id}, "made %q the default role", d.Name)
}

// Descriptor returns one descriptor.
func (s *Service) Descriptor(ctx context.Context, orgID, id string) (d *gatehouse.Descriptor, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		d, err = tx.GetDescriptor(ctx, orgID, id)
		return err
	})
	return d, err
}

// Descriptors lists one purpose ("" for every one).
func (s *Service) Descriptors(ctx context.Context, orgID, purpose string, opts gatehouse.ListOptions) (ds []*gatehouse.Descriptor, next string, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		ds, next, err = tx.ListDescriptors(ctx, orgID, purpose, opts)
		return err
	})
	return ds, next, err
}

// RoleHolders returns the members who hold a role as their role and the
// teams that hold it, each ordered by id, in one read.
func (s *Service) RoleHolders(ctx context.Context, orgID, id string) (users []*gatehouse.User, teams []*gatehouse.Team, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		users, teams, err = tx.RoleHolders(ctx, orgID, id)
		return err
	})
	return users, teams, err
}
