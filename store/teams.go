package store

import (
	"context"

	"github.com/gatehouse-iam/gatehouse"
)

const teamCols = "id, org_id, kind, name, display_name, description, created FROM teams"

func scanTeam(s scanner) (*gatehouse.Team, error) {
	tm := &gatehouse.Team{}
	var created int64
	err := s.Scan(&tm.ID, &tm.OrgID, &tm.Kind, &tm.Name, &tm.DisplayName, &tm.Description, &created)
	tm.Created = fromUS(created)
	return tm, err
}

func (t *tx) CreateTeam(ctx context.Context, tm *gatehouse.Team) error {
	if tm.ID == "" {
		tm.ID = gatehouse.NewID()
	}
	tm.Created = t.stamp()
	_, err := t.exec(ctx, opWrite, "INSERT INTO teams (id, org_id, kind, name, display_name, description, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
		tm.ID, tm.OrgID, tm.Kind, tm.Name, tm.DisplayName, tm.Description, us(tm.Created))
	if err != nil {
		return invalidAs(conflictAs(err, "team %q already exists", tm.Name), "organization %q does not exist", tm.OrgID)
	}
	return t.bump(ctx, tm.OrgID, key(gatehouse.ChangeTeam, tm.ID))
}

func (t *tx) GetTeam(ctx context.Context, orgID, name string) (*gatehouse.Team, error) {
	return get(ctx, t, "team", scanTeam, "SELECT "+teamCols+" WHERE org_id = ? AND name = ?", orgID, name)
}

func (t *tx) GetTeamByID(ctx context.Context, id string) (*gatehouse.Team, error) {
	return get(ctx, t, "team", scanTeam, "SELECT "+teamCols+" WHERE id = ?", id)
}

func (t *tx) ListTeams(ctx context.Context, orgID string, opts gatehouse.ListOptions) ([]*gatehouse.Team, string, error) {
	return page[*gatehouse.Team]{
		from: teamCols, where: "org_id = ?", args: []any{orgID}, keyCol: "name", scan: scanTeam,
		key: func(tm *gatehouse.Team) cursor { return cursor{Key: tm.Name, ID: tm.ID} },
	}.run(ctx, t, opts)
}

func (t *tx) UpdateTeam(ctx context.Context, tm *gatehouse.Team) error {
	err := t.execOne(ctx, opWrite, "team", "UPDATE teams SET name = ?, display_name = ?, description = ? WHERE id = ?",
		tm.Name, tm.DisplayName, tm.Description, tm.ID)
	if err != nil {
		return conflictAs(err, "team %q already exists", tm.Name)
	}
	return t.bump(ctx, tm.OrgID, key(gatehouse.ChangeTeam, tm.ID))
}

// DeleteTeam revokes the team's tokens (their names stay reserved) and
// deletes the team with its members, roles and grants.
func (t *tx) DeleteTeam(ctx context.Context, id string) error {
	tm, err := t.GetTeamByID(ctx, id)
	if err != nil {
		return err
	}
	revoked, err := all(ctx, t, scanString, "UPDATE tokens SET deleted = ? WHERE team_id = ? RETURNING id", true, id)
	if err != nil {
		return err
	}
	for _, tok := range revoked {
		if err := t.bump(ctx, tm.OrgID, key(gatehouse.ChangeToken, tok)); err != nil {
			return err
		}
	}
	if err := t.execOne(ctx, opDelete, "team", "DELETE FROM teams WHERE id = ?", id); err != nil {
		return err
	}
	return t.bump(ctx, tm.OrgID, key(gatehouse.ChangeTeam, tm.ID))
}

func (t *tx) teamOrg(ctx context.Context, teamID string) (string, error) {
	return get(ctx, t, "team", func(s scanner) (string, error) {
		var o string
		return o, s.Scan(&o)
	}, "SELECT org_id FROM teams WHERE id = ?", teamID)
}

func (t *tx) PutTeamMember(ctx context.Context, m *gatehouse.TeamMember) error {
	if m.Role != gatehouse.TeamRoleMember && m.Role != gatehouse.TeamRoleAdmin {
		return gatehouse.Errorf(gatehouse.EINVALID, "team member role %q is not member or admin", m.Role)
	}
	org, err := t.teamOrg(ctx, m.TeamID)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, opWrite, "INSERT INTO team_members (team_id, user_id, role) VALUES (?, ?, ?) ON CONFLICT (team_id, user_id) DO UPDATE SET role = excluded.role",
		m.TeamID, m.UserID, m.Role)
	if err != nil {
		return invalidAs(err, "user %q does not exist", m.UserID)
	}
	return t.bump(ctx, org, key(gatehouse.ChangeTeam, m.TeamID))
}

func (t *tx) RemoveTeamMember(ctx context.Context, teamID, userID string) error {
	org, err := t.teamOrg(ctx, teamID)
	if err != nil {
		return err
	}
	if err := t.execOne(ctx, opDelete, "team member", "DELETE FROM team_members WHERE team_id = ? AND user_id = ?", teamID, userID); err != nil {
		return err
	}
	return t.bump(ctx, org, key(gatehouse.ChangeTeam, teamID))
}

func scanTeamMember(s scanner) (*gatehouse.TeamMember, error) {
	m := &gatehouse.TeamMember{}
	return m, s.Scan(&m.TeamID, &m.UserID, &m.Role)
}

func (t *tx) ListTeamMembers(ctx context.Context, teamID string) ([]*gatehouse.TeamMember, error) {
	return all(ctx, t, scanTeamMember, "SELECT team_id, user_id, role FROM team_members WHERE team_id = ? ORDER BY user_id", teamID)
}

func (t *tx) ListUserTeams(ctx context.Context, orgID, userID string) ([]*gatehouse.Team, error) {
	return all(ctx, t, scanTeam, "SELECT "+teamCols+" WHERE org_id = ? AND id IN (SELECT team_id FROM team_members WHERE user_id = ?) ORDER BY name", orgID, userID)
}

func (t *tx) AddTeamRole(ctx context.Context, teamID, roleID string) error {
	org, err := t.teamOrg(ctx, teamID)
	if err != nil {
		return err
	}
	if err := t.roleInOrg(ctx, org, roleID); err != nil {
		return err
	}
	if _, err := t.exec(ctx, opWrite, "INSERT INTO team_roles (team_id, role_id) VALUES (?, ?) ON CONFLICT DO NOTHING", teamID, roleID); err != nil {
		return err
	}
	return t.bump(ctx, org, key(gatehouse.ChangeTeam, teamID))
}

func (t *tx) RemoveTeamRole(ctx context.Context, teamID, roleID string) error {
	org, err := t.teamOrg(ctx, teamID)
	if err != nil {
		return err
	}
	if err := t.execOne(ctx, opDelete, "team role", "DELETE FROM team_roles WHERE team_id = ? AND role_id = ?", teamID, roleID); err != nil {
		return err
	}
	return t.bump(ctx, org, key(gatehouse.ChangeTeam, teamID))
}

func (t *tx) ListTeamRoles(ctx context.Context, teamID string) ([]string, error) {
	return all(ctx, t, scanString, "SELECT role_id FROM team_roles WHERE team_id = ? ORDER BY role_id", teamID)
}
