package service

import (
	"cmp"
	"context"
	"slices"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// grantee is a principal with its compiled grants from the snapshot.
type grantee struct {
	p      Principal
	grants *policy.Grants
}

// accessChanges says whose access the tag changes move: for every member,
// team and organization token, the scopes its compiled grants give on
// each changed entity with the tags before and after. Roles, sets and
// entity grants do not change with tags, so the snapshot's compiled
// grants, decided on the entity as it would be, are the after-state
// exactly. Principals sharing one compiled grants value are decided once.
func (s *Service) accessChanges(ctx context.Context, orgID string, changes []TagChangeResult) ([]AccessChange, bool, error) {
	principals, err := s.grantees(ctx, orgID)
	if err != nil {
		return nil, false, err
	}
	var out []AccessChange
	for _, c := range changes {
		if !c.Changed {
			continue
		}
		before := &gatehouse.Entity{Type: c.Type, ID: c.ID, Tags: gatehouse.TagsFromMap(c.Before)}
		after := &gatehouse.Entity{Type: c.Type, ID: c.ID, Tags: gatehouse.TagsFromMap(c.After)}
		type diff struct{ gained, lost []string }
		memo := map[*policy.Grants]*diff{}
		for _, g := range principals {
			d, ok := memo[g.grants]
			if !ok {
				was, will := g.grants.Allowed(before), g.grants.Allowed(after)
				d = &diff{gained: scopeNames(will.Minus(was)), lost: scopeNames(was.Minus(will))}
				memo[g.grants] = d
			}
			if len(d.gained) == 0 && len(d.lost) == 0 {
				continue
			}
			if len(out) == MaxAccessChanges {
				return out, true, nil
			}
			out = append(out, AccessChange{Principal: g.p, Index: c.Index, Type: c.Type, EntityName: c.Name, Gained: d.gained, Lost: d.lost})
		}
	}
	return out, false, nil
}

func scopeNames(set catalog.Set) []string {
	var out []string
	for _, sc := range set.Scopes() {
		out = append(out, sc.Name())
	}
	return out
}

// grantees lists the organization's members (not suspended), teams and
// live organization tokens with their grants, by kind and name.
func (s *Service) grantees(ctx context.Context, orgID string) ([]grantee, error) {
	var out []grantee
	err := s.read(ctx, func(tx gatehouse.Tx) error {
		if err := eachPage(func(o gatehouse.ListOptions) (string, error) {
			ms, next, err := tx.ListMembers(ctx, orgID, o)
			for _, m := range ms {
				if m.Suspended {
					continue
				}
				u, err := tx.GetUser(ctx, m.UserID)
				if err != nil {
					return "", err
				}
				g, err := s.az.MemberGrants(ctx, orgID, m.UserID)
				if err != nil {
					return "", err
				}
				out = append(out, grantee{Principal{"user", u.ID, u.Login}, g})
			}
			return next, err
		}); err != nil {
			return err
		}
		if err := eachPage(func(o gatehouse.ListOptions) (string, error) {
			ts, next, err := tx.ListTeams(ctx, orgID, o)
			for _, t := range ts {
				g, err := s.az.TeamGrants(ctx, orgID, t.ID, false)
				if err != nil {
					return "", err
				}
				out = append(out, grantee{Principal{"team", t.ID, t.Name}, g})
			}
			return next, err
		}); err != nil {
			return err
		}
		return eachPage(func(o gatehouse.ListOptions) (string, error) {
			toks, next, err := tx.ListTokens(ctx, gatehouse.TokenFilter{OrgID: orgID, Kind: gatehouse.TokenOrganization, Expiry: gatehouse.TokenLive, At: s.Now()}, o)
			for _, t := range toks {
				g, _, err := s.az.GrantsOf(ctx, &gatehouse.Identity{Token: t}, orgID)
				if err != nil {
					return "", err
				}
				out = append(out, grantee{Principal{"token", t.ID, t.Name}, g})
			}
			return next, err
		})
	})
	slices.SortStableFunc(out, func(a, b grantee) int {
		return cmp.Or(cmp.Compare(a.p.Kind, b.p.Kind), cmp.Compare(a.p.Name, b.p.Name))
	})
	return out, err
}

// eachPage calls list with each page's options until it returns no
// continuation.
func eachPage(list func(gatehouse.ListOptions) (string, error)) error {
	o := gatehouse.ListOptions{Limit: gatehouse.MaxListLimit}
	for {
		next, err := list(o)
		if err != nil || next == "" {
			return err
		}
		o.Continuation = next
	}
}
