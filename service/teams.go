package service

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

// TeamView is a team with its members, roles and entity grants.
type TeamView struct {
	Team    *gatehouse.Team
	Members []TeamMemberView
	RoleIDs []string
	Grants  []GrantView
}

// TeamMemberView is a team member with their user.
type TeamMemberView struct {
	User *gatehouse.User
	Role string
}

// GrantView is an entity grant with the entity's names and the set.
type GrantView struct {
	Grant   *gatehouse.Grant
	Project string
	Name    string
	Set     *gatehouse.Descriptor
}

// CreateTeam creates a Pulumi-kind team.
func (s *Service) CreateTeam(ctx context.Context, orgID, name, displayName, description string) (*gatehouse.Team, error) {
	var t *gatehouse.Team
	err := s.Batch(ctx, orgID, func(b *Batch) (err error) {
		t, err = b.CreateTeam(name, displayName, description)
		return err
	})
	return t, err
}

func (s *Service) createTeamTx(ctx context.Context, tx gatehouse.Tx, orgID, name, displayName, description string) (*gatehouse.Team, error) {
	if err := checkName("name", name, 100); err != nil {
		return nil, err
	}
	if err := checkText("displayName", displayName, 100); err != nil {
		return nil, err
	}
	if err := checkText("description", description, 1000); err != nil {
		return nil, err
	}
	t := &gatehouse.Team{OrgID: orgID, Kind: gatehouse.TeamPulumi, Name: name, DisplayName: displayName, Description: description}
	if err := tx.CreateTeam(ctx, t); err != nil {
		return nil, err
	}
	return t, s.audit(ctx, tx, orgID, gatehouse.EventTeamCreated, t.ID, map[string]string{"name": name, "displayName": displayName}, "created team %q", name)
}

func teamByName(ctx context.Context, tx gatehouse.TeamTx, orgID, name string) (*gatehouse.Team, error) {
	t, err := tx.GetTeam(ctx, orgID, name)
	if err != nil {
		return nil, gatehouse.Reword(err, gatehouse.ENOTFOUND, "team %q not found", name)
	}
	return t, nil
}

// Teams lists teams.
func (s *Service) Teams(ctx context.Context, orgID string, opts gatehouse.ListOptions) (ts []*gatehouse.Team, next string, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		ts, next, err = tx.ListTeams(ctx, orgID, opts)
		return err
	})
	return ts, next, err
}

// Team returns a team with its members, roles and grants.
func (s *Service) Team(ctx context.Context, orgID, name string) (v *TeamView, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		t, err := teamByName(ctx, tx, orgID, name)
		if err != nil {
			return err
		}
		v = &TeamView{Team: t}
		members, err := tx.ListTeamMembers(ctx, t.ID)
		if err != nil {
			return err
		}
		for _, m := range members {
			u, err := tx.GetUser(ctx, m.UserID)
			if err != nil {
				return err
			}
			v.Members = append(v.Members, TeamMemberView{User: u, Role: m.Role})
		}
		if v.RoleIDs, err = tx.ListTeamRoles(ctx, t.ID); err != nil {
			return err
		}
		grants, err := tx.ListGrants(ctx, orgID, gatehouse.GrantFilter{TeamID: t.ID})
		if err != nil {
			return err
		}
		v.Grants, err = grantViews(ctx, tx, orgID, grants)
		return err
	})
	return v, err
}

func grantViews(ctx context.Context, tx gatehouse.Tx, orgID string, grants []*gatehouse.Grant) ([]GrantView, error) {
	var out []GrantView
	for _, g := range grants {
		gv := GrantView{Grant: g}
		switch g.Entity.Type {
		case gatehouse.EntityStack:
			st, err := tx.GetStackByID(ctx, g.Entity.ID)
			if err != nil {
				return nil, err
			}
			gv.Project, gv.Name = st.Project, st.Name
		case gatehouse.EntityEnvironment:
			e, err := tx.GetEnvironmentByID(ctx, g.Entity.ID)
			if err != nil {
				return nil, err
			}
			gv.Project, gv.Name = e.Project, e.Name
		case gatehouse.EntityInsightsAccount:
			a, err := tx.GetAccountByID(ctx, g.Entity.ID)
			if err != nil {
				return nil, err
			}
			gv.Name = a.Name
		}
		set, err := tx.GetDescriptor(ctx, orgID, g.SetID)
		if err != nil {
			return nil, err
		}
		gv.Set = set
		out = append(out, gv)
	}
	return out, nil
}

// StackGrant names a stack and a legacy permission code.
type StackGrant struct {
	ProjectName, StackName string
	Permission             int
}

// EnvironmentGrant names an environment and a permission level.
type EnvironmentGrant struct {
	ProjectName, EnvName string
	Permission           string
	MaxOpenDuration      time.Duration
}

var stackPermissionSets = map[int]string{101: "stack-read", 102: "stack-write", 103: "stack-admin", 104: "stack-admin"}

var envPermissionSets = map[string]string{"read": "environment-read", "open": "environment-open", "write": "environment-write", "admin": "environment-admin"}

// RenameTeam changes a team's display name and description (nil: as it
// is); with neither, it only checks that the team exists.
func (s *Service) RenameTeam(ctx context.Context, orgID, name string, displayName, description *string) error {
	return s.Batch(ctx, orgID, func(b *Batch) error { return b.RenameTeam(name, displayName, description) })
}

// SetTeamMember adds, removes, promotes or demotes (action) a member of
// the organization in a team.
func (s *Service) SetTeamMember(ctx context.Context, orgID, name, action, login string) error {
	return s.Batch(ctx, orgID, func(b *Batch) error { return b.SetTeamMember(name, action, login) })
}

// PutTeamGrant gives a team a permission on a stack or an environment, or
// changes the one it has.
func (s *Service) PutTeamGrant(ctx context.Context, orgID, name string, g TeamGrant) error {
	return s.Batch(ctx, orgID, func(b *Batch) error { return b.PutTeamGrant(name, g) })
}

// RemoveTeamGrant takes a team's permission on a stack or an environment
// away (the grant's permission is not looked at).
func (s *Service) RemoveTeamGrant(ctx context.Context, orgID, name string, g TeamGrant) error {
	return s.Batch(ctx, orgID, func(b *Batch) error { return b.RemoveTeamGrant(name, g) })
}

// TeamGrant is one of a team's grants: on a stack or on an environment,
// exactly one of them set.
type TeamGrant struct {
	Stack       *StackGrant
	Environment *EnvironmentGrant
}

func (s *Service) renameTeamTx(ctx context.Context, tx gatehouse.Tx, orgID, name string, displayName, description *string) error {
	t, err := teamByName(ctx, tx, orgID, name)
	if err != nil || (displayName == nil && description == nil) {
		return err
	}
	if displayName != nil {
		if err := checkText("newDisplayName", *displayName, 100); err != nil {
			return err
		}
		t.DisplayName = *displayName
	}
	if description != nil {
		if err := checkText("newDescription", *description, 1000); err != nil {
			return err
		}
		t.Description = *description
	}
	if err := tx.UpdateTeam(ctx, t); err != nil {
		return err
	}
	return s.audit(ctx, tx, orgID, gatehouse.EventTeamUpdated, t.ID, map[string]string{"displayName": t.DisplayName, "description": t.Description},
		"changed team %q", t.Name)
}

func (s *Service) setTeamMemberTx(ctx context.Context, tx gatehouse.Tx, orgID, name, action, login string) error {
	t, err := teamByName(ctx, tx, orgID, name)
	if err != nil {
		return err
	}
	if action == "add" {
		if err := s.checkTeam(ctx, tx, orgID, "adding a member to team "+t.Name, t.ID, false); err != nil {
			return err
		}
	}
	if err := teamMemberAction(ctx, tx, orgID, t, action, login); err != nil {
		return err
	}
	typ := map[string]string{"add": gatehouse.EventTeamMemberAdded, "remove": gatehouse.EventTeamMemberRemoved,
		"promote": gatehouse.EventTeamMemberRole, "demote": gatehouse.EventTeamMemberRole}[action]
	return s.audit(ctx, tx, orgID, typ, t.ID, map[string]string{"member": login, "action": action},
		"%s %q in team %q", action, login, t.Name)
}

func (s *Service) putTeamGrantTx(ctx context.Context, tx gatehouse.Tx, orgID, name string, g TeamGrant) error {
	t, err := teamByName(ctx, tx, orgID, name)
	if err != nil {
		return err
	}
	if sg := g.Stack; sg != nil {
		set, ok := stackPermissionSets[sg.Permission]
		if !ok {
			return gatehouse.Errorf(gatehouse.EINVALID, "permission: %d is not a stack permission (101 read, 102 write, 103 admin)", sg.Permission)
		}
		if err := s.checkTeamGrant(ctx, tx, orgID, gatehouse.EntityStack, sg.ProjectName, sg.StackName, set, 0); err != nil {
			return err
		}
		if err := putTeamGrant(ctx, tx, orgID, t, gatehouse.EntityStack, sg.ProjectName, sg.StackName, set, itoa(sg.Permission), 0); err != nil {
			return err
		}
		return s.teamGrantEvent(ctx, tx, t, "stack permission "+itoa(sg.Permission)+" on "+sg.ProjectName+"/"+sg.StackName, sg)
	}
	eg := g.Environment
	set, ok := envPermissionSets[eg.Permission]
	if !ok {
		return gatehouse.Errorf(gatehouse.EINVALID, "permission: %q is not an environment permission (read, open, write, admin)", eg.Permission)
	}
	if err := s.checkTeamGrant(ctx, tx, orgID, gatehouse.EntityEnvironment, eg.ProjectName, eg.EnvName, set, eg.MaxOpenDuration); err != nil {
		return err
	}
	if err := putTeamGrant(ctx, tx, orgID, t, gatehouse.EntityEnvironment, eg.ProjectName, eg.EnvName, set, eg.Permission, eg.MaxOpenDuration); err != nil {
		return err
	}
	return s.teamGrantEvent(ctx, tx, t, "environment permission "+eg.Permission+" on "+eg.ProjectName+"/"+eg.EnvName, eg)
}

func (s *Service) removeTeamGrantTx(ctx context.Context, tx gatehouse.Tx, orgID, name string, g TeamGrant) error {
	t, err := teamByName(ctx, tx, orgID, name)
	if err != nil {
		return err
	}
	if sg := g.Stack; sg != nil {
		if err := removeTeamGrant(ctx, tx, orgID, t, gatehouse.EntityStack, sg.ProjectName, sg.StackName); err != nil {
			return err
		}
		return s.teamGrantEvent(ctx, tx, t, "removed stack "+sg.ProjectName+"/"+sg.StackName, sg)
	}
	eg := g.Environment
	if err := removeTeamGrant(ctx, tx, orgID, t, gatehouse.EntityEnvironment, eg.ProjectName, eg.EnvName); err != nil {
		return err
	}
	return s.teamGrantEvent(ctx, tx, t, "removed environment "+eg.ProjectName+"/"+eg.EnvName, eg)
}

func (s *Service) teamGrantEvent(ctx context.Context, tx gatehouse.Tx, t *gatehouse.Team, what string, v any) error {
	return s.audit(ctx, tx, t.OrgID, gatehouse.EventTeamGrantChanged, t.ID, v, "%s for team %q", what, t.Name)
}

func teamMemberAction(ctx context.Context, tx gatehouse.Tx, orgID string, t *gatehouse.Team, action, login string) error {
	if login == "" {
		return gatehouse.Errorf(gatehouse.EINVALID, "member: required with memberAction")
	}
	m, err := memberByLogin(ctx, tx, orgID, login)
	if err != nil {
		return gatehouse.Recode(err, gatehouse.ENOTFOUND, gatehouse.EINVALID, "member: %q is not a member of the organization", login)
	}
	switch action {
	case "add":
		return tx.PutTeamMember(ctx, &gatehouse.TeamMember{TeamID: t.ID, UserID: m.UserID, Role: gatehouse.TeamRoleMember})
	case "promote", "demote":
		members, err := tx.ListTeamMembers(ctx, t.ID)
		if err != nil {
			return err
		}
		in := false
		for _, tm := range members {
			in = in || tm.UserID == m.UserID
		}
		if !in {
			return gatehouse.Errorf(gatehouse.EINVALID, "member: %q is not in team %q", login, t.Name)
		}
		role := gatehouse.TeamRoleAdmin
		if action == "demote" {
			role = gatehouse.TeamRoleMember
		}
		return tx.PutTeamMember(ctx, &gatehouse.TeamMember{TeamID: t.ID, UserID: m.UserID, Role: role})
	case "remove":
		err := tx.RemoveTeamMember(ctx, t.ID, m.UserID)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return gatehouse.Errorf(gatehouse.EINVALID, "member: %q is not in team %q", login, t.Name)
		}
		return err
	}
	return gatehouse.Errorf(gatehouse.EINVALID, "memberAction: %q is not one of add, remove, promote, demote", action)
}

func entityID(ctx context.Context, tx gatehouse.Tx, orgID string, t gatehouse.EntityType, project, name string) (string, error) {
	switch t {
	case gatehouse.EntityStack:
		st, err := tx.GetStack(ctx, orgID, project, name)
		if err != nil {
			return "", gatehouse.Recode(err, gatehouse.ENOTFOUND, gatehouse.EINVALID, "stack %s/%s not found", project, name)
		}
		return st.ID, nil
	default:
		e, err := tx.GetEnvironment(ctx, orgID, project, name)
		if err != nil {
			return "", gatehouse.Recode(err, gatehouse.ENOTFOUND, gatehouse.EINVALID, "environment %s/%s not found", project, name)
		}
		return e.ID, nil
	}
}

func putTeamGrant(ctx context.Context, tx gatehouse.Tx, orgID string, t *gatehouse.Team, et gatehouse.EntityType, project, name, set, legacy string, maxOpen time.Duration) error {
	id, err := entityID(ctx, tx, orgID, et, project, name)
	if err != nil {
		return err
	}
	d, err := builtinRole(ctx, tx, orgID, set)
	if err != nil {
		return err
	}
	return tx.PutGrant(ctx, &gatehouse.Grant{OrgID: orgID, TeamID: t.ID, Entity: gatehouse.EntityRef{Type: et, ID: id},
		SetID: d.ID, Legacy: legacy, MaxOpenDuration: maxOpen})
}

func removeTeamGrant(ctx context.Context, tx gatehouse.Tx, orgID string, t *gatehouse.Team, et gatehouse.EntityType, project, name string) error {
	id, err := entityID(ctx, tx, orgID, et, project, name)
	if err != nil {
		return err
	}
	ref := gatehouse.EntityRef{Type: et, ID: id}
	grants, err := tx.ListGrants(ctx, orgID, gatehouse.GrantFilter{TeamID: t.ID, Entity: &ref})
	if err != nil {
		return err
	}
	if len(grants) == 0 {
		return gatehouse.Errorf(gatehouse.EINVALID, "team %q has no grant on %s %s/%s", t.Name, et, project, name)
	}
	return tx.DeleteGrant(ctx, orgID, grants[0].ID)
}

// DeleteTeam deletes a team; its tokens are revoked with it.
func (s *Service) DeleteTeam(ctx context.Context, orgID, name string) error {
	return s.Batch(ctx, orgID, func(b *Batch) error { return b.DeleteTeam(name) })
}

func (s *Service) deleteTeamTx(ctx context.Context, tx gatehouse.Tx, orgID, name string) error {
	t, err := teamByName(ctx, tx, orgID, name)
	if err != nil {
		return err
	}
	if err := tx.DeleteTeam(ctx, t.ID); err != nil {
		return err
	}
	return s.audit(ctx, tx, orgID, gatehouse.EventTeamDeleted, t.ID, map[string]string{"name": t.Name}, "deleted team %q and revoked its tokens", t.Name)
}

// AddTeamRole gives a team a role; a team holds any number.
func (s *Service) AddTeamRole(ctx context.Context, orgID, name, roleID string) error {
	return s.Batch(ctx, orgID, func(b *Batch) error { return b.AddTeamRole(name, roleID) })
}

func (s *Service) addTeamRoleTx(ctx context.Context, tx gatehouse.Tx, orgID, name, roleID string) error {
	t, err := teamByName(ctx, tx, orgID, name)
	if err != nil {
		return err
	}
	d, err := tx.GetDescriptor(ctx, orgID, roleID)
	if err != nil {
		return err
	}
	if d.Purpose == gatehouse.PurposeSet || d.Purpose == gatehouse.PurposePolicy {
		return gatehouse.Errorf(gatehouse.EINVALID, "%q is a %s, not a role", d.Name, d.Purpose)
	}
	if err := s.checkRole(ctx, tx, orgID, fmt.Sprintf("giving team %q the role %q", t.Name, d.Name), roleID); err != nil {
		return err
	}
	if err := tx.AddTeamRole(ctx, t.ID, roleID); err != nil {
		return err
	}
	return s.audit(ctx, tx, orgID, gatehouse.EventTeamRoleAssigned, t.ID, map[string]string{"team": t.Name, "roleId": roleID}, "gave team %q the role %q", t.Name, d.Name)
}

// RemoveTeamRole takes a role from a team.
func (s *Service) RemoveTeamRole(ctx context.Context, orgID, name, roleID string) error {
	return s.Batch(ctx, orgID, func(b *Batch) error { return b.RemoveTeamRole(name, roleID) })
}

func (s *Service) removeTeamRoleTx(ctx context.Context, tx gatehouse.Tx, orgID, name, roleID string) error {
	t, err := teamByName(ctx, tx, orgID, name)
	if err != nil {
		return err
	}
	if err := tx.RemoveTeamRole(ctx, t.ID, roleID); err != nil {
		return err
	}
	return s.audit(ctx, tx, orgID, gatehouse.EventTeamRoleUnassigned, t.ID, map[string]string{"team": t.Name, "roleId": roleID}, "took role %s from team %q", roleID, t.Name)
}

// TeamByID returns a team of the organization by id.
func (s *Service) TeamByID(ctx context.Context, orgID, id string) (t *gatehouse.Team, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		t, err = tx.GetTeamByID(ctx, id)
		if err == nil && t.OrgID != orgID {
			return gatehouse.Errorf(gatehouse.ENOTFOUND, "team %q not found", id)
		}
		return err
	})
	return t, err
}

// TeamRoles returns a team's roles.
func (s *Service) TeamRoles(ctx context.Context, orgID, name string) (ds []*gatehouse.Descriptor, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		t, err := teamByName(ctx, tx, orgID, name)
		if err != nil {
			return err
		}
		ids, err := tx.ListTeamRoles(ctx, t.ID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			d, err := tx.GetDescriptor(ctx, orgID, id)
			if err != nil {
				return err
			}
			ds = append(ds, d)
		}
		return nil
	})
	return ds, err
}
