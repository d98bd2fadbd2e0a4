package authz

import (
	"context"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// GrantsOf returns what the identity holds in the organization, from the
// snapshot, and whether it is an Admin there: it holds the built-in Admin
// role, or every scope unconditionally. An identity that is not a member
// holds nothing.
func (a *Authorizer) GrantsOf(ctx context.Context, id *gatehouse.Identity, orgID string) (*policy.Grants, bool, error) {
	st, err := a.state(ctx, orgID)
	if err != nil {
		return nil, false, err
	}
	roles, grants, ok := st.principal(id)
	if !ok {
		return policy.Union(), false, nil
	}
	adminID := st.builtin[catalog.RoleAdmin]
	for _, r := range roles {
		if adminID != "" && r.ID == adminID {
			return grants, true, nil
		}
	}
	return grants, grants.Holds(catalog.AllScopes()), nil
}

// TeamGrants returns what a team's members get from it (its roles and
// entity grants) or, with token, what a token of the team holds (those plus
// the organization's Member role). An unknown team grants nothing.
func (a *Authorizer) TeamGrants(ctx context.Context, orgID, teamID string, token bool) (*policy.Grants, error) {
	st, err := a.state(ctx, orgID)
	if err != nil {
		return nil, err
	}
	ts := st.teams[teamID]
	switch {
	case ts == nil:
		return policy.Union(), nil
	case token:
		return ts.tokenGrants, nil
	}
	return ts.grants, nil
}

// TeamOpenLimit is OpenLimit for what a team's members (or, with token,
// its tokens) get from the team on entity e.
func (a *Authorizer) TeamOpenLimit(ctx context.Context, orgID, teamID string, token bool, sc catalog.Scope, e *gatehouse.Entity) (time.Duration, bool, error) {
	st, err := a.state(ctx, orgID)
	if err != nil {
		return 0, false, err
	}
	ts := st.teams[teamID]
	if ts == nil {
		return 0, false, nil
	}
	roles := ts.roles
	if token {
		roles = ts.tokenRoles
	}
	secs, ok := policy.OpenLimit(roles, st.lookup, sc, e)
	return time.Duration(secs) * time.Second, ok, nil
}

// MemberGrants returns what a member holds (what a personal token of the
// member holds); nothing for a user who is not a member.
func (a *Authorizer) MemberGrants(ctx context.Context, orgID, userID string) (*policy.Grants, error) {
	st, err := a.state(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if ms := st.members.At(userID); ms != nil && !ms.membership.Suspended {
		return ms.grants, nil
	}
	return policy.Union(), nil
}

// Entities returns a lookup of the organization's entities, with their
// tags, as the snapshot holds them.
func (a *Authorizer) Entities(ctx context.Context, orgID string) (policy.EntityLookup, error) {
	st, err := a.state(ctx, orgID)
	if err != nil {
		return nil, err
	}
	return func(t gatehouse.EntityType, id string) *gatehouse.Entity {
		if e := st.entities.At(strings.ToLower(id)); e != nil && e.Type == t {
			return e
		}
		return nil
	}, nil
}
