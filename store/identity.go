package store

import (
	"context"

	"github.com/gatehouse-iam/gatehouse"
)

const userCols = "id, login, name, email, avatar_url, created, managed_by FROM users"

func scanUser(s scanner) (*gatehouse.User, error) {
	u := &gatehouse.User{}
	var created int64
	var managedBy *string
	err := s.Scan(&u.ID, &u.Login, &u.Name, &u.Email, &u.AvatarURL, &created, &managedBy)
	u.Created, u.ManagedBy = fromUS(created), deref(managedBy)
	return u, err
}

func (t *tx) CreateUser(ctx context.Context, u *gatehouse.User) error {
	if u.ID == "" {
		u.ID = gatehouse.NewID()
	}
	u.Created = t.stamp()
	_, err := t.exec(ctx, opWrite, "INSERT INTO users (id, login, name, email, avatar_url, created, managed_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
		u.ID, u.Login, u.Name, u.Email, u.AvatarURL, us(u.Created), nullable(u.ManagedBy))
	return invalidAs(conflictAs(err, "user %q already exists", u.Login), "the user's managing organization does not exist")
}

func (t *tx) GetUser(ctx context.Context, id string) (*gatehouse.User, error) {
	return get(ctx, t, "user", scanUser, "SELECT "+userCols+" WHERE id = ?", id)
}

func (t *tx) GetUserByLogin(ctx context.Context, login string) (*gatehouse.User, error) {
	return get(ctx, t, "user", scanUser, "SELECT "+userCols+" WHERE login = ?", login)
}

func (t *tx) UpdateUser(ctx context.Context, u *gatehouse.User) error {
	err := t.execOne(ctx, opWrite, "user", "UPDATE users SET login = ?, name = ?, email = ?, avatar_url = ?, managed_by = ? WHERE id = ?",
		u.Login, u.Name, u.Email, u.AvatarURL, nullable(u.ManagedBy), u.ID)
	return invalidAs(conflictAs(err, "user %q already exists", u.Login), "the user's managing organization does not exist")
}

const memberCols = "org_id, user_id, role_id, suspended, created FROM memberships"

func scanMember(s scanner) (*gatehouse.Membership, error) {
	m := &gatehouse.Membership{}
	var created int64
	err := s.Scan(&m.OrgID, &m.UserID, &m.RoleID, &m.Suspended, &created)
	m.Created = fromUS(created)
	return m, err
}

func (t *tx) AddMember(ctx context.Context, m *gatehouse.Membership) error {
	if err := t.roleInOrg(ctx, m.OrgID, m.RoleID); err != nil {
		return err
	}
	m.Created = t.stamp()
	_, err := t.exec(ctx, opWrite, "INSERT INTO memberships (org_id, user_id, role_id, suspended, created) VALUES (?, ?, ?, ?, ?)",
		m.OrgID, m.UserID, m.RoleID, m.Suspended, us(m.Created))
	if err != nil {
		err = conflictAs(err, "the user is already a member")
		return invalidAs(err, "the organization, user or role does not exist")
	}
	return t.bump(ctx, m.OrgID)
}

func (t *tx) GetMember(ctx context.Context, orgID, userID string) (*gatehouse.Membership, error) {
	return get(ctx, t, "member", scanMember, "SELECT "+memberCols+" WHERE org_id = ? AND user_id = ?", orgID, userID)
}

// ListMembers pages by user id.
func (t *tx) ListMembers(ctx context.Context, orgID string, opts gatehouse.ListOptions) ([]*gatehouse.Membership, string, error) {
	return page[*gatehouse.Membership]{
		from: "org_id, user_id, role_id, suspended, created, user_id AS id FROM memberships", where: "org_id = ?", args: []any{orgID},
		keyCol: "user_id", scan: func(s scanner) (*gatehouse.Membership, error) {
			m := &gatehouse.Membership{}
			var created int64
			var id string
			err := s.Scan(&m.OrgID, &m.UserID, &m.RoleID, &m.Suspended, &created, &id)
			m.Created = fromUS(created)
			return m, err
		},
		key: func(m *gatehouse.Membership) cursor { return cursor{Key: m.UserID, ID: m.UserID} },
	}.run(ctx, t, opts)
}

func (t *tx) ListUserMemberships(ctx context.Context, userID string) ([]*gatehouse.Membership, error) {
	return all(ctx, t, scanMember, "SELECT "+memberCols+" WHERE user_id = ? ORDER BY org_id", userID)
}

func (t *tx) UpdateMember(ctx context.Context, m *gatehouse.Membership) error {
	if err := t.roleInOrg(ctx, m.OrgID, m.RoleID); err != nil {
		return err
	}
	err := t.execOne(ctx, opWrite, "member", "UPDATE memberships SET role_id = ?, suspended = ? WHERE org_id = ? AND user_id = ?",
		m.RoleID, m.Suspended, m.OrgID, m.UserID)
	if err != nil {
		return invalidAs(err, "role %q does not exist", m.RoleID)
	}
	return t.bump(ctx, m.OrgID)
}

func (t *tx) RemoveMember(ctx context.Context, orgID, userID string) error {
	if err := t.execOne(ctx, opDelete, "member", "DELETE FROM memberships WHERE org_id = ? AND user_id = ?", orgID, userID); err != nil {
		return err
	}
	if _, err := t.exec(ctx, opDelete, "DELETE FROM team_members WHERE user_id = ? AND team_id IN (SELECT id FROM teams WHERE org_id = ?)", userID, orgID); err != nil {
		return err
	}
	if _, err := t.exec(ctx, opDelete, "DELETE FROM grants WHERE org_id = ? AND user_id = ?", orgID, userID); err != nil {
		return err
	}
	return t.bump(ctx, orgID)
}

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
	return t.bump(ctx, tm.OrgID)
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
	return t.bump(ctx, tm.OrgID)
}

// DeleteTeam revokes the team's tokens (their names stay reserved) and
// deletes the team with its members, roles and grants.
func (t *tx) DeleteTeam(ctx context.Context, id string) error {
	tm, err := t.GetTeamByID(ctx, id)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, opWrite, "UPDATE tokens SET deleted = ? WHERE team_id = ?", true, id); err != nil {
		return err
	}
	if err := t.execOne(ctx, opDelete, "team", "DELETE FROM teams WHERE id = ?", id); err != nil {
		return err
	}
	return t.bump(ctx, tm.OrgID)
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
	return t.bump(ctx, org)
}

func (t *tx) RemoveTeamMember(ctx context.Context, teamID, userID string) error {
	org, err := t.teamOrg(ctx, teamID)
	if err != nil {
		return err
	}
	if err := t.execOne(ctx, opDelete, "team member", "DELETE FROM team_members WHERE team_id = ? AND user_id = ?", teamID, userID); err != nil {
		return err
	}
	return t.bump(ctx, org)
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
	return t.bump(ctx, org)
}

func (t *tx) RemoveTeamRole(ctx context.Context, teamID, roleID string) error {
	org, err := t.teamOrg(ctx, teamID)
	if err != nil {
		return err
	}
	if err := t.execOne(ctx, opDelete, "team role", "DELETE FROM team_roles WHERE team_id = ? AND role_id = ?", teamID, roleID); err != nil {
		return err
	}
	return t.bump(ctx, org)
}

func (t *tx) ListTeamRoles(ctx context.Context, teamID string) ([]string, error) {
	return all(ctx, t, scanString, "SELECT role_id FROM team_roles WHERE team_id = ? ORDER BY role_id", teamID)
}

func scanString(s scanner) (string, error) {
	var v string
	return v, s.Scan(&v)
}

// roleInOrg checks that descriptor id exists in the organization: a
// reference across organizations is as invalid as one to nothing.
func (t *tx) roleInOrg(ctx context.Context, orgID, id string) error {
	_, err := get(ctx, t, "descriptor", scanString, "SELECT id FROM descriptors WHERE org_id = ? AND id = ?", orgID, id)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return gatehouse.Errorf(gatehouse.EINVALID, "role %q does not exist in the organization", id)
	}
	return err
}
