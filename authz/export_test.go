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
	for _, id := range slices.Sorted(s.entities.Keys()) {
		e := s.entities.At(id)
		ents = append(ents, e)
		fmt.Fprintf(&b, "entity %s %s %v %+v\n", e.Type, id, e.Tags, s.info.At(id))
	}
	for _, names := range []*cowMap[string]{s.stacks, s.envs, s.accounts} {
		for _, n := range slices.Sorted(names.Keys()) {
			fmt.Fprintf(&b, "name %s=%s\n", n, names.At(n))
		}
		fmt.Fprintf(&b, "names %d\n", names.Len())
	}
	fmt.Fprintf(&b, "entities %d/%d list %d\n", s.entities.Len(), s.info.Len(), s.stackList.Len())
	for r := range s.stackList.After("") {
		fmt.Fprintf(&b, "list %s %s/%s %v %v\n", r.ID, r.Project, r.Name, r.Tags, r.Entity == s.entities.At(r.ID))
	}
	for _, c := range s.stackList.chunks {
		if len(c) == 0 || len(c) > stackChunk {
			fmt.Fprintf(&b, "bad chunk of %d\n", len(c))
		}
	}
	for _, uid := range slices.Sorted(s.created.Keys()) {
		fmt.Fprintf(&b, "created %s %d\n", uid, s.created.At(uid))
	}
	for _, uid := range slices.Sorted(s.users.Keys()) {
		fmt.Fprintf(&b, "user %s %s\n", uid, s.users.At(uid).Login)
	}
	// The indexes deltas find what to compile again by.
	for _, role := range slices.Sorted(maps.Keys(s.holders)) {
		fmt.Fprintf(&b, "holders %s %v\n", role, slices.Sorted(slices.Values(s.holders[role])))
	}
	fmt.Fprintf(&b, "granted %v\n", slices.Sorted(s.granted.Keys()))
	for _, id := range slices.Sorted(maps.Keys(s.composers)) {
		fmt.Fprintf(&b, "composers %s %v\n", id, slices.Sorted(slices.Values(s.composers[id])))
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
	for _, uid := range slices.Sorted(s.members.Keys()) {
		m := s.members.At(uid)
		fmt.Fprintf(&b, "member %s role %s suspended %v teams %v grants %s\n", uid, m.membership.RoleID, m.membership.Suspended,
			slices.Sorted(slices.Values(s.teamsOf.At(uid))), decisions(m.grants))
		for _, e := range ents {
			// What Explain walks on e: the creator's rule on what they
			// created, as a rebuild and a delta make it.
			for _, r := range s.rolesOn(m, e) {
				fmt.Fprintf(&b, " on %s: %s", e.ID, r.ID)
			}
		}
		b.WriteByte('\n')
	}
	for _, uid := range slices.Sorted(s.teamsOf.Keys()) {
		fmt.Fprintf(&b, "teamsOf %s %v\n", uid, slices.Sorted(slices.Values(s.teamsOf.At(uid))))
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
