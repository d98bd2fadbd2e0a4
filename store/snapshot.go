package store

import (
	"context"

	"github.com/gatehouse-iam/gatehouse"
)

// LoadSnapshot reads everything authorization needs about an organization.
// Run it in a Read transaction so that the parts agree.
func (t *tx) LoadSnapshot(ctx context.Context, orgID string) (*gatehouse.Snapshot, error) {
	s := &gatehouse.Snapshot{TeamRoles: map[string][]string{}}
	var err error
	if s.Org, err = t.GetOrg(ctx, orgID); err != nil {
		return nil, err
	}
	if s.Descriptors, err = all(ctx, t, scanDesc, "SELECT "+descCols+" WHERE org_id = ?", orgID); err != nil {
		return nil, err
	}
	if s.Members, err = all(ctx, t, scanMember, "SELECT "+memberCols+" WHERE org_id = ?", orgID); err != nil {
		return nil, err
	}
	if s.Users, err = all(ctx, t, scanUser, "SELECT "+userCols+" WHERE id IN (SELECT user_id FROM memberships WHERE org_id = ?)", orgID); err != nil {
		return nil, err
	}
	if s.Teams, err = all(ctx, t, scanTeam, "SELECT "+teamCols+" WHERE org_id = ?", orgID); err != nil {
		return nil, err
	}
	if s.TeamMembers, err = all(ctx, t, scanTeamMember, "SELECT team_id, user_id, role FROM team_members WHERE team_id IN (SELECT id FROM teams WHERE org_id = ?)", orgID); err != nil {
		return nil, err
	}
	type teamRole struct{ team, role string }
	trs, err := all(ctx, t, func(sc scanner) (teamRole, error) {
		var tr teamRole
		return tr, sc.Scan(&tr.team, &tr.role)
	}, "SELECT team_id, role_id FROM team_roles WHERE team_id IN (SELECT id FROM teams WHERE org_id = ?)", orgID)
	if err != nil {
		return nil, err
	}
	for _, tr := range trs {
		s.TeamRoles[tr.team] = append(s.TeamRoles[tr.team], tr.role)
	}
	if s.Grants, err = all(ctx, t, scanGrant, "SELECT "+grantCols+" WHERE org_id = ?", orgID); err != nil {
		return nil, err
	}
	// The organization's tokens, then its members' personal tokens of no
	// organization: two queries that each use an index, where one with
	// an OR scanned every token.
	if s.Tokens, err = all(ctx, t, scanToken, "SELECT "+tokenCols+" WHERE org_id = ? AND deleted = ?", orgID, false); err != nil {
		return nil, err
	}
	personal, err := all(ctx, t, scanToken, "SELECT "+tokenCols+" WHERE user_id IN (SELECT user_id FROM memberships WHERE org_id = ?) AND org_id IS NULL AND kind = ? AND deleted = ?",
		orgID, gatehouse.TokenPersonal, false)
	if err != nil {
		return nil, err
	}
	s.Tokens = append(s.Tokens, personal...)
	if s.Stacks, err = all(ctx, t, scanSnapshotStack, "SELECT id, project, name, tags, created_by FROM stacks WHERE org_id = ?", orgID); err != nil {
		return nil, err
	}
	if s.Environments, err = all(ctx, t, scanEnv, "SELECT "+envCols+" WHERE org_id = ?", orgID); err != nil {
		return nil, err
	}
	if s.Accounts, err = all(ctx, t, scanAccount, "SELECT "+accountCols+" WHERE org_id = ?", orgID); err != nil {
		return nil, err
	}
	return s, nil
}

// scanSnapshotStack reads what a snapshot needs of a stack (not its
// checkpoint version, lease or times: a startup reads every stack).
func scanSnapshotStack(s scanner) (*gatehouse.Stack, error) {
	st := &gatehouse.Stack{}
	var tags string
	if err := s.Scan(&st.ID, &st.Project, &st.Name, &tags, &st.CreatedBy); err != nil {
		return nil, err
	}
	var err error
	st.Tags, err = parseTags(tags)
	return st, err
}
