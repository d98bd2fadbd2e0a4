package store

import (
	"context"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

const grantCols = "id, org_id, user_id, team_id, entity_type, entity_id, set_id, legacy, max_open_duration, created FROM grants"

func scanGrant(s scanner) (*gatehouse.Grant, error) {
	g := &gatehouse.Grant{}
	var userID, teamID *string
	var et string
	var maxOpen, created int64
	if err := s.Scan(&g.ID, &g.OrgID, &userID, &teamID, &et, &g.Entity.ID, &g.SetID, &g.Legacy, &maxOpen, &created); err != nil {
		return nil, err
	}
	if userID != nil {
		g.UserID = *userID
	}
	if teamID != nil {
		g.TeamID = *teamID
	}
	if err := g.Entity.Type.UnmarshalText([]byte(et)); err != nil {
		return nil, err
	}
	g.MaxOpenDuration = time.Duration(maxOpen)
	g.Created = fromUS(created)
	return g, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// PutGrant creates the grant of its principal on its entity, or replaces
// the set of the existing one (keeping its id).
func (t *tx) PutGrant(ctx context.Context, g *gatehouse.Grant) error {
	if (g.UserID == "") == (g.TeamID == "") {
		return gatehouse.Errorf(gatehouse.EINVALID, "a grant names exactly one of a user and a team")
	}
	switch g.Entity.Type {
	case gatehouse.EntityStack, gatehouse.EntityEnvironment, gatehouse.EntityInsightsAccount:
	default:
		return gatehouse.Errorf(gatehouse.EINVALID, "grants are on stacks, environments and Insights accounts, not %s", g.Entity.Type)
	}
	if err := t.roleInOrg(ctx, g.OrgID, g.SetID); err != nil {
		return gatehouse.Errorf(gatehouse.EINVALID, "permission set %q does not exist in the organization", g.SetID)
	}
	if err := t.entityInOrg(ctx, g.OrgID, g.Entity); err != nil {
		return err
	}
	if g.TeamID != "" {
		if org, err := t.teamOrg(ctx, g.TeamID); err != nil || org != g.OrgID {
			return gatehouse.Errorf(gatehouse.EINVALID, "team %q does not exist in the organization", g.TeamID)
		}
	}
	principalCol, principal := "user_id", g.UserID
	if g.TeamID != "" {
		principalCol, principal = "team_id", g.TeamID
	}
	existing, err := get(ctx, t, "grant", scanString, "SELECT id FROM grants WHERE "+principalCol+" = ? AND entity_id = ?", principal, g.Entity.ID)
	switch {
	case err == nil:
		g.ID = existing
		_, err = t.exec(ctx, opWrite, "UPDATE grants SET set_id = ?, legacy = ?, max_open_duration = ? WHERE id = ?",
			g.SetID, g.Legacy, int64(g.MaxOpenDuration), g.ID)
	case gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND:
		if g.ID == "" {
			g.ID = gatehouse.NewID()
		}
		g.Created = t.stamp()
		_, err = t.exec(ctx, opWrite, "INSERT INTO grants (id, org_id, user_id, team_id, entity_type, entity_id, set_id, legacy, max_open_duration, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			g.ID, g.OrgID, nullable(g.UserID), nullable(g.TeamID), g.Entity.Type.String(), g.Entity.ID, g.SetID, g.Legacy, int64(g.MaxOpenDuration), us(g.Created))
	}
	if err != nil {
		return invalidAs(err, "the user does not exist")
	}
	return t.bump(ctx, g.OrgID, key(gatehouse.ChangeGrant, g.ID))
}

// entityInOrg checks that the entity exists in the organization.
func (t *tx) entityInOrg(ctx context.Context, orgID string, e gatehouse.EntityRef) error {
	table := map[gatehouse.EntityType]string{gatehouse.EntityStack: "stacks", gatehouse.EntityEnvironment: "environments",
		gatehouse.EntityInsightsAccount: "accounts"}[e.Type]
	_, err := get(ctx, t, e.Type.String(), scanString, "SELECT id FROM "+table+" WHERE org_id = ? AND id = ?", orgID, e.ID)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return gatehouse.Errorf(gatehouse.EINVALID, "%s %q does not exist in the organization", e.Type, e.ID)
	}
	return err
}

func (t *tx) DeleteGrant(ctx context.Context, orgID, id string) error {
	if err := t.execOne(ctx, opDelete, "grant", "DELETE FROM grants WHERE org_id = ? AND id = ?", orgID, id); err != nil {
		return err
	}
	return t.bump(ctx, orgID, key(gatehouse.ChangeGrant, id))
}

func (t *tx) ListGrants(ctx context.Context, orgID string, f gatehouse.GrantFilter) ([]*gatehouse.Grant, error) {
	q, args := "SELECT "+grantCols+" WHERE org_id = ?", []any{orgID}
	if f.Entity != nil {
		q += " AND entity_type = ? AND entity_id = ?"
		args = append(args, f.Entity.Type.String(), f.Entity.ID)
	}
	if f.UserID != "" {
		q += " AND user_id = ?"
		args = append(args, f.UserID)
	}
	if f.TeamID != "" {
		q += " AND team_id = ?"
		args = append(args, f.TeamID)
	}
	return all(ctx, t, scanGrant, q+" ORDER BY created, id", args...)
}

// deleteEntityGrants removes the grants on an entity being deleted.
func (t *tx) deleteEntityGrants(ctx context.Context, entityID string) error {
	_, err := t.exec(ctx, opDelete, "DELETE FROM grants WHERE entity_id = ?", entityID)
	return err
}

// deleteEntity deletes a stack, environment or account (what, in table)
// with the grants on it, and bumps its organization's revision; the rows
// that hang off it go by ON DELETE CASCADE.
func (t *tx) deleteEntity(ctx context.Context, what, table, id string) error {
	orgID, err := get(ctx, t, what, scanString, "SELECT org_id FROM "+table+" WHERE id = ?", id)
	if err != nil {
		return err
	}
	if err := t.deleteEntityGrants(ctx, id); err != nil {
		return err
	}
	if err := t.execOne(ctx, opDelete, what, "DELETE FROM "+table+" WHERE id = ?", id); err != nil {
		return err
	}
	// The grants on it went too: readers find them by the entity.
	kind := map[string]gatehouse.ChangeKind{"stacks": gatehouse.ChangeStack, "environments": gatehouse.ChangeEnvironment,
		"accounts": gatehouse.ChangeAccount}[table]
	return t.bump(ctx, orgID, key(kind, id))
}
