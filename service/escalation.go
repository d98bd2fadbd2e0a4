package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// No escalation (Kubernetes RBAC's rule): whoever grants, by a role or set
// edit, a token, a role assignment, a team membership or grant, the default
// role or an OIDC policy, may grant only what they hold themselves on the
// same entities, unless they are an Admin. The api package puts the
// authenticated caller in the context (WithCaller); work without a caller is
// the host's own (admin commands, bootstrap) and is not limited.

type callerKey struct{}

// WithCaller returns a context carrying the identity a request acts as, so
// that the service can hold what it grants to what the caller holds.
func WithCaller(ctx context.Context, id *gatehouse.Identity) context.Context {
	return context.WithValue(ctx, callerKey{}, id)
}

func callerFrom(ctx context.Context) *gatehouse.Identity {
	id, _ := ctx.Value(callerKey{}).(*gatehouse.Identity)
	return id
}

// checkGrant refuses (403) a change through which cand would be granted
// when cand is not within what the caller holds in the organization. what
// names the change for the message.
func (s *Service) checkGrant(ctx context.Context, orgID, what string, cand *policy.Grants) error {
	id := callerFrom(ctx)
	if id == nil || id.Token == nil {
		return nil
	}
	holder, admin, err := s.az.GrantsOf(ctx, id, orgID)
	if err != nil || admin {
		return err
	}
	entities, err := s.az.Entities(ctx, orgID)
	if err != nil {
		return err
	}
	if x := policy.Subset(cand, holder, entities); x != nil {
		return gatehouse.Errorf(gatehouse.EFORBIDDEN,
			"%s would grant %s %s, which the caller does not hold there; only an Admin may grant beyond what it holds", what, x.Scope.Name(), x.Where())
	}
	return nil
}

// compileNodes compiles descriptor trees against the organization's stored
// descriptors (as the transaction sees them) into one candidate.
func compileNodes(ctx context.Context, tx gatehouse.Tx, orgID string, nodes ...policy.Node) *policy.Grants {
	lookup := storeLookup(ctx, tx, orgID)
	cs := make([]*policy.Compiled, len(nodes))
	for i, n := range nodes {
		cs[i] = policy.Compile(n, lookup)
	}
	return policy.Union(cs...)
}

// roleNode is what holding descriptor id grants.
func roleNode(id string) policy.Node { return &policy.Compose{Descriptors: []string{id}} }

// grantNode is what a direct grant of set on an entity grants (as authz
// compiles it).
func grantNode(e gatehouse.EntityRef, setID string) policy.Node {
	return &policy.Condition{
		Condition: &policy.Equal{Left: &policy.Context{Type: e.Type}, Right: &policy.EntityLit{Type: e.Type, ID: strings.ToLower(e.ID)}},
		SubNode:   roleNode(setID),
	}
}

// checkDetails holds a descriptor's new content to what the caller holds.
func (s *Service) checkDetails(ctx context.Context, tx gatehouse.Tx, orgID, what string, details []byte) error {
	if callerFrom(ctx) == nil {
		return nil
	}
	n, err := policy.Decode(details)
	if err != nil {
		return err
	}
	return s.checkGrant(ctx, orgID, what, compileNodes(ctx, tx, orgID, n))
}

// checkRole holds a role (or set) by id to what the caller holds.
func (s *Service) checkRole(ctx context.Context, tx gatehouse.Tx, orgID, what, roleID string) error {
	if callerFrom(ctx) == nil {
		return nil
	}
	return s.checkGrant(ctx, orgID, what, compileNodes(ctx, tx, orgID, roleNode(roleID)))
}

// tokenRoleID returns the role an organization or runner token with role
// roleID holds: its own, or the organization's default.
func tokenRoleID(ctx context.Context, tx gatehouse.Tx, orgID, roleID string) (string, error) {
	if roleID != "" {
		return roleID, nil
	}
	org, err := tx.GetOrg(ctx, orgID)
	if err != nil {
		return "", err
	}
	if org.Settings.DefaultRoleID != "" {
		return org.Settings.DefaultRoleID, nil
	}
	d, err := builtinRole(ctx, tx, orgID, catalog.RoleMember)
	if err != nil {
		return "", err
	}
	return d.ID, nil
}

// checkTeam holds what a team gives (to a new member, or with token to a
// team token) to what the caller holds.
func (s *Service) checkTeam(ctx context.Context, tx gatehouse.Tx, orgID, what, teamID string, token bool) error {
	if callerFrom(ctx) == nil {
		return nil
	}
	g, err := s.az.TeamGrants(ctx, orgID, teamID, token)
	if err != nil {
		return err
	}
	if err := s.checkGrant(ctx, orgID, what, g); err != nil {
		return err
	}
	return s.checkTeamOpenLimits(ctx, tx, orgID, what, teamID, token)
}

// checkTeamOpenLimits refuses what a team gives when, on an environment it
// has a grant on, it would let the caller keep the environment open longer
// than the caller's own limit there (or without one). Only the team's
// entity grants are compared: a team role's constraints are not.
func (s *Service) checkTeamOpenLimits(ctx context.Context, tx gatehouse.Tx, orgID, what, teamID string, token bool) error {
	caller := callerFrom(ctx)
	if caller == nil || caller.Token == nil {
		return nil
	}
	grants, err := tx.ListGrants(ctx, orgID, gatehouse.GrantFilter{TeamID: teamID})
	if err != nil {
		return err
	}
	entities, err := s.az.Entities(ctx, orgID)
	if err != nil {
		return err
	}
	open := catalog.MustLookup("environment:open")
	for _, gr := range grants {
		if gr.Entity.Type != gatehouse.EntityEnvironment {
			continue
		}
		e := entities(gr.Entity.Type, gr.Entity.ID)
		if e == nil {
			continue
		}
		theirs, ok, err := s.az.TeamOpenLimit(ctx, orgID, teamID, token, open, e)
		if err != nil || !ok {
			return err
		}
		mine, _, err := s.az.OpenLimit(ctx, caller, orgID, open, e)
		if err != nil || mine <= 0 || (theirs > 0 && theirs <= mine) {
			if err != nil {
				return err
			}
			continue
		}
		if admin, err := s.callerIsAdmin(ctx, orgID); err != nil || admin {
			return err
		}
		given := "no maxOpenDuration"
		if theirs > 0 {
			given = "maxOpenDuration " + theirs.String()
		}
		return gatehouse.Errorf(gatehouse.EFORBIDDEN, "maxOpenDuration: %s would let environment %s be kept open with %s, longer than the caller's own limit of %s there; only an Admin may grant beyond what it holds",
			what, e.ID, given, mine)
	}
	return nil
}

// checkAuthRules holds what every allow rule of an OIDC policy would mint to
// what the caller holds.
func (s *Service) checkAuthRules(ctx context.Context, tx gatehouse.Tx, orgID string, rules []gatehouse.AuthPolicyRule) error {
	if callerFrom(ctx) == nil {
		return nil
	}
	for i, r := range rules {
		if r.Decision != "allow" {
			continue
		}
		at := fmt.Sprintf("policies[%d]", i)
		what := fmt.Sprintf("%s (%s tokens)", at, r.TokenType)
		switch r.TokenType {
		case gatehouse.TokenOrganization, gatehouse.TokenRunner:
			for _, p := range r.AuthorizedPermissions {
				if p == "admin" {
					a, err := builtinRole(ctx, tx, orgID, catalog.RoleAdmin)
					if err != nil {
						return err
					}
					if err := s.checkRole(ctx, tx, orgID, what+" with authorizedPermissions admin", a.ID); err != nil {
						return err
					}
				}
			}
			id, err := tokenRoleID(ctx, tx, orgID, r.RoleID)
			if err != nil {
				return err
			}
			if err := s.checkRole(ctx, tx, orgID, what+" with its role", id); err != nil {
				return err
			}
		case gatehouse.TokenTeam:
			if err := s.checkSubject(ctx, orgID, at+".teamName", r.TeamName); err != nil {
				return err
			}
			t, err := tx.GetTeam(ctx, orgID, r.TeamName)
			if err != nil {
				if admin, err := s.callerIsAdmin(ctx, orgID); err != nil || admin {
					return err
				}
				return gatehouse.Errorf(gatehouse.EFORBIDDEN, "%s.teamName: no team %q yet, so what its tokens would hold cannot be compared with what the caller holds; only an Admin may write it", at, r.TeamName)
			}
			if err := s.checkTeam(ctx, tx, orgID, what+" of team "+r.TeamName, t.ID, true); err != nil {
				return err
			}
		case gatehouse.TokenPersonal:
			if err := s.checkSubject(ctx, orgID, at+".userLogin", r.UserLogin); err != nil {
				return err
			}
			u, err := tx.GetUserByLogin(ctx, r.UserLogin)
			if err == nil {
				_, err = tx.GetMember(ctx, orgID, u.ID)
			}
			if err != nil {
				if admin, err := s.callerIsAdmin(ctx, orgID); err != nil || admin {
					return err
				}
				return gatehouse.Errorf(gatehouse.EFORBIDDEN, "%s.userLogin: %q is not a member yet, so what its tokens would hold cannot be compared with what the caller holds; only an Admin may write it", at, r.UserLogin)
			}
			g, err := s.az.MemberGrants(ctx, orgID, u.ID)
			if err != nil {
				return err
			}
			if err := s.checkGrant(ctx, orgID, what+" acting as "+r.UserLogin, g); err != nil {
				return err
			}
		}
	}
	return nil
}

// callerIsAdmin reports whether the context's caller is an Admin of the
// organization (or the host, with no caller).
func (s *Service) callerIsAdmin(ctx context.Context, orgID string) (bool, error) {
	id := callerFrom(ctx)
	if id == nil || id.Token == nil {
		return true, nil
	}
	_, admin, err := s.az.GrantsOf(ctx, id, orgID)
	return admin, err
}

// checkSubject refuses to a caller who is not an Admin a team or user
// pattern in an OIDC rule ('*', '?' and '.' are wildcards): it matches
// teams or users that come later, whose grants cannot be compared now.
func (s *Service) checkSubject(ctx context.Context, orgID, field, pattern string) error {
	if !strings.ContainsAny(pattern, "*?.") {
		return nil
	}
	if admin, err := s.callerIsAdmin(ctx, orgID); err != nil || admin {
		return err
	}
	return gatehouse.Errorf(gatehouse.EFORBIDDEN, "%s: %q is a pattern ('*', '?' and '.' are wildcards) that matches teams or users created later, whose grants cannot be compared with what the caller holds; only an Admin may write one", field, pattern)
}

// checkRetag refuses a change of an entity's tags through which the caller
// would gain a scope on the entity (retagging it to match a tag rule).
func (s *Service) checkRetag(ctx context.Context, orgID string, t gatehouse.EntityType, id string, before, after map[string]string) error {
	caller := callerFrom(ctx)
	if caller == nil || caller.Token == nil {
		return nil
	}
	holder, admin, err := s.az.GrantsOf(ctx, caller, orgID)
	if err != nil || admin {
		return err
	}
	old := &gatehouse.Entity{Type: t, ID: strings.ToLower(id), Tags: gatehouse.TagsFromMap(before)}
	next := &gatehouse.Entity{Type: t, ID: old.ID, Tags: gatehouse.TagsFromMap(after)}
	oldSet, newSet := holder.Allowed(old), holder.Allowed(next)
	if gained := newSet.Minus(oldSet).Scopes(); len(gained) > 0 {
		return gatehouse.Errorf(gatehouse.EFORBIDDEN,
			"tags: the change would give the caller %s on this %s, which it does not hold now; only an Admin may retag into more access", gained[0].Name(), t)
	}
	return nil
}

// checkTeamGrant holds a team grant of built-in set on a named entity to
// what the caller holds on that entity, its maxOpenDuration (0: none)
// included: a caller whose own environment:open there is limited may not
// grant a longer one, nor none.
func (s *Service) checkTeamGrant(ctx context.Context, tx gatehouse.Tx, orgID string, et gatehouse.EntityType, project, name, set string, maxOpen time.Duration) error {
	caller := callerFrom(ctx)
	if caller == nil {
		return nil
	}
	id, err := entityID(ctx, tx, orgID, et, project, name)
	if err != nil {
		return err
	}
	d, err := builtinRole(ctx, tx, orgID, set)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("the team grant of %s on %s %s/%s", d.Name, et, project, name)
	cand := compileNodes(ctx, tx, orgID, grantNode(gatehouse.EntityRef{Type: et, ID: id}, d.ID))
	if err := s.checkGrant(ctx, orgID, what, cand); err != nil || caller.Token == nil || et != gatehouse.EntityEnvironment {
		return err
	}
	open := catalog.MustLookup("environment:open")
	e := &gatehouse.Entity{Type: et, ID: strings.ToLower(id)}
	if entities, err := s.az.Entities(ctx, orgID); err != nil {
		return err
	} else if cur := entities(et, id); cur != nil {
		e = cur
	}
	if !cand.Decide(open, e) {
		return nil
	}
	if admin, err := s.callerIsAdmin(ctx, orgID); err != nil || admin {
		return err
	}
	limit, _, err := s.az.OpenLimit(ctx, caller, orgID, open, e)
	if err != nil || limit <= 0 || (maxOpen > 0 && maxOpen <= limit) {
		return err
	}
	given := "no maxOpenDuration"
	if maxOpen > 0 {
		given = "maxOpenDuration " + maxOpen.String()
	}
	return gatehouse.Errorf(gatehouse.EFORBIDDEN, "maxOpenDuration: %s would let the team keep it open with %s, longer than the caller's own limit of %s there; only an Admin may grant beyond what it holds",
		what, given, limit)
}

// checkUpdateTags refuses, before an update starts, the tags it would merge
// into the stack when they would give the caller more on it (the merge
// itself checks again, after the update has started).
func (s *Service) checkUpdateTags(ctx context.Context, st *gatehouse.Stack, tags map[string]string) error {
	next, ok, err := applyTags(st.Tags, TagUpdate{Merge: tags, FromUpdate: true}, ProjectTag, st.Project, gatehouse.EINVALID)
	if err != nil || !ok {
		return nil // the merge reports bad tags itself
	}
	return s.checkRetag(ctx, st.OrgID, gatehouse.EntityStack, st.ID, st.Tags, next)
}

// checkNewStackGrant holds a team grant of built-in set on a stack being
// created to what the caller holds on it. A user who creates a stack holds
// Stack Admin on it, which covers every team grant creation makes; a token
// holds only what its grants give on the new stack (with its tags).
func (s *Service) checkNewStackGrant(ctx context.Context, tx gatehouse.Tx, st *gatehouse.Stack, team, set string) error {
	caller := callerFrom(ctx)
	if caller == nil || caller.Token == nil || caller.User != nil {
		return nil
	}
	holder, admin, err := s.az.GrantsOf(ctx, caller, st.OrgID)
	if err != nil || admin {
		return err
	}
	d, err := builtinRole(ctx, tx, st.OrgID, set)
	if err != nil {
		return err
	}
	e := &gatehouse.Entity{Type: gatehouse.EntityStack, ID: strings.ToLower(st.ID), Tags: gatehouse.TagsFromMap(st.Tags)}
	cand := compileNodes(ctx, tx, st.OrgID, roleNode(d.ID)).Allowed(e)
	if missing := cand.Minus(holder.Allowed(e)).Scopes(); len(missing) > 0 {
		return gatehouse.Errorf(gatehouse.EFORBIDDEN, "teams: giving team %q %s on the new stack would grant %s on it, which the caller does not hold there; only an Admin may grant beyond what it holds",
			team, d.Name, missing[0].Name())
	}
	return nil
}
