package authz

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// SetBuildHook makes Refresh call h with the organization's id between
// reading its snapshot and compiling it.
func SetBuildHook(a *Authorizer, h func(orgID string)) { a.buildHook = h }

// Compiles reports how many roles the organization's current state
// compiled itself (rather than took from the state before it).
func Compiles(a *Authorizer, orgID string) int {
	st := (*a.orgs.Load())[orgID]
	if st == nil {
		return -1
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.fresh
}

// Fingerprint describes the organization's installed snapshot: its
// indexes and every decision of every principal on every entity, in a
// canonical order, so that two snapshots of one state compare equal.
func Fingerprint(a *Authorizer, orgID string) string {
	st := (*a.orgs.Load())[orgID]
	if st == nil {
		return "<none>"
	}
	return st.fingerprint()
}

// FreshFingerprint builds the organization's snapshot whole from the
// store, as at startup, and describes it as Fingerprint does.
func FreshFingerprint(ctx context.Context, a *Authorizer, orgID string) (string, error) {
	st, err := a.load(ctx, orgID, nil)
	if err != nil || st == nil {
		return "<none>", err
	}
	return st.fingerprint(), nil
}

func (s *orgState) fingerprint() string {
	var b strings.Builder
	o := s.org
	fmt.Fprintf(&b, "org %s rev %d default %q lifetime %v\n", o.ID, s.revision.Load(), o.Settings.DefaultRoleID, o.Settings.MaxTokenLifetime)
	for _, id := range slices.Sorted(maps.Keys(s.records)) {
		fmt.Fprintf(&b, "desc %s v%d %q\n", id, s.records[id].Version, s.records[id].DefaultIdentifier)
	}
	ents := []*gatehouse.Entity{{Type: gatehouse.EntityGlobal, ID: o.ID}}
	for _, id := range slices.Sorted(maps.Keys(s.entities)) {
		e := s.entities[id]
		ents = append(ents, e)
		fmt.Fprintf(&b, "entity %s %s %v %+v\n", e.Type, id, e.Tags, s.info[id])
	}
	for _, names := range []map[string]string{s.stacks, s.envs, s.accounts} {
		for _, n := range slices.Sorted(maps.Keys(names)) {
			fmt.Fprintf(&b, "name %s=%s\n", n, names[n])
		}
	}
	for _, r := range s.stackList {
		fmt.Fprintf(&b, "list %s %s/%s %v %v\n", r.ID, r.Project, r.Name, r.Tags, r.Entity == s.entities[r.ID])
	}
	for _, uid := range slices.Sorted(maps.Keys(s.created)) {
		refs := slices.Clone(s.created[uid])
		slices.SortFunc(refs, func(x, y gatehouse.EntityRef) int { return strings.Compare(x.ID, y.ID) })
		fmt.Fprintf(&b, "created %s %v\n", uid, refs)
	}
	for _, uid := range slices.Sorted(maps.Keys(s.users)) {
		fmt.Fprintf(&b, "user %s %s\n", uid, s.users[uid].Login)
	}
	decisions := func(g *policy.Grants) string {
		var d strings.Builder
		for _, e := range ents {
			for i := 0; i < catalog.Len(); i++ {
				if g.Decide(catalog.Scope(i), e) {
					d.WriteByte('1')
				} else {
					d.WriteByte('0')
				}
			}
			d.WriteByte('|')
		}
		return d.String()
	}
	for _, uid := range slices.Sorted(maps.Keys(s.members)) {
		m := s.members[uid]
		fmt.Fprintf(&b, "member %s role %s suspended %v teams %v grants %s\n", uid, m.membership.RoleID, m.membership.Suspended,
			slices.Sorted(slices.Values(s.teamsOf[uid])), decisions(m.grants))
	}
	for _, tid := range slices.Sorted(maps.Keys(s.teams)) {
		t := s.teams[tid]
		fmt.Fprintf(&b, "team %s %s roles %v grants %s tokens %s\n", tid, t.team.Name, slices.Sorted(slices.Values(t.roleIDs)),
			decisions(t.grants), decisions(t.tokenGrants))
	}
	s.tokens.mu.Lock()
	toks := slices.Collect(maps.Values(s.tokens.m))
	s.tokens.mu.Unlock()
	slices.SortFunc(toks, func(x, y *gatehouse.Token) int { return strings.Compare(x.ID, y.ID) })
	for _, t := range toks {
		fmt.Fprintf(&b, "token %s %s deleted %v role %q/%v", t.ID, t.Kind, t.Deleted, t.RoleID, t.RoleDeleted)
		if t.Kind == gatehouse.TokenOrganization || t.Kind == gatehouse.TokenRunner {
			fmt.Fprintf(&b, " grants %s", decisions(s.orgTokenGrants(t).grants))
		}
		b.WriteByte('\n')
	}
	return b.String()
}
