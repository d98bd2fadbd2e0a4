package authz

import (
	"context"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// EntityAccess is what one principal holds on an entity, and why.
type EntityAccess struct {
	Holder
	// Grants are the sources of its scopes, each with the scopes it
	// grants on the entity.
	Grants []AccessGrant
}

// AccessGrant is one place that grants scopes on an entity: an Allow node
// of a role, reached through a path of the role's tree, the role held
// through Via.
type AccessGrant struct {
	// Via is how the principal holds the role: "organization role",
	// "team <name>" (a member's team), "direct grant" (a user's or a
	// team's entity grants, a stack's creator), "token role" or "" (a
	// team's own roles).
	Via string
	// Role and RoleID name the role (or the synthetic role of direct
	// grants); Path is policy.Match's path to the Allow, through tag and
	// entity conditions and composed sets.
	Role, RoleID, Path string
	// Holds are the rule's conditions that hold for the entity (a tag
	// rule's, an entity rule's).
	Holds []string
	// Scopes are the scopes this place grants on the entity, in catalog
	// order.
	Scopes []string
}

// source is a group of roles a principal holds one way. key names the
// group when other principals hold the same one (a role, a team's roles),
// so that its explanations are walked once per entity; "" when it is the
// principal's own (direct grants).
type source struct {
	via, key string
	roles    []*policy.Descriptor
}

// explanations memoizes policy.Explain's grants per (source, scope) for
// one entity: a thousand members holding one role walk its tree once.
type explanations struct {
	st   *orgState
	e    *gatehouse.Entity
	seen map[explainKey][]policy.Match
}

type explainKey struct {
	source string
	scope  catalog.Scope
}

func (x *explanations) grants(src source, sc catalog.Scope) []policy.Match {
	if src.key == "" {
		return policy.Explain(src.roles, x.st.lookup, sc, x.e).Grants
	}
	k := explainKey{src.key, sc}
	m, ok := x.seen[k]
	if !ok {
		m = policy.Explain(src.roles, x.st.lookup, sc, x.e).Grants
		x.seen[k] = m
	}
	return m
}

// Access answers for one entity: which members, teams and organization
// tokens hold which of the scopes of its type, and through which role,
// team and rule. The compiled grants decide each scope (as a request is
// decided); policy.Explain then walks, per way the principal holds its
// roles, the trees of the roles of the scopes it holds, so that a
// member's scope held through a team says which team. It reads only the
// snapshot.
func (a *Authorizer) Access(ctx context.Context, orgID string, e *gatehouse.Entity) ([]EntityAccess, error) {
	st, err := a.state(ctx, orgID)
	if err != nil {
		return nil, err
	}
	var scopes []catalog.Scope
	for i, info := range catalog.All() {
		if info.AppliesTo(e.Type) {
			scopes = append(scopes, catalog.Scope(i))
		}
	}
	var out []EntityAccess
	x := &explanations{st: st, e: e, seen: map[explainKey][]policy.Match{}}
	add := func(h Holder, grants *policy.Grants, sources []source) {
		if ga := x.access(grants, sources, scopes); len(ga) > 0 {
			out = append(out, EntityAccess{Holder: h, Grants: ga})
		}
	}
	for uid, m := range st.members.All() {
		if m.membership.Suspended {
			continue
		}
		name := uid
		if u := st.users.At(uid); u != nil {
			name = u.Login
		}
		add(Holder{Kind: "user", ID: uid, Name: name}, m.grants, st.memberSources(m, e))
	}
	for tid, t := range st.teams {
		add(Holder{Kind: "team", ID: tid, Name: t.team.Name}, t.grants, []source{{key: "team:" + tid, roles: t.roles}})
	}
	st.tokens.mu.Lock()
	var tokens []*gatehouse.Token
	for _, t := range st.tokens.m {
		if t.Kind == gatehouse.TokenOrganization && t.OrgID == orgID && !t.Deleted {
			tokens = append(tokens, t)
		}
	}
	st.tokens.mu.Unlock()
	for _, t := range tokens {
		tg := st.orgTokenGrants(t)
		add(Holder{Kind: "token", ID: t.ID, Name: t.Name}, tg.grants, []source{{via: "token role", key: rolesKey(tg.roles), roles: tg.roles}})
	}
	slices.SortFunc(out, func(x, y EntityAccess) int {
		if c := strings.Compare(x.Kind, y.Kind); c != 0 {
			return c
		}
		return strings.Compare(x.Name, y.Name)
	})
	return out, nil
}

// memberSources splits a member's roles by how the member holds them: the
// organization role, each team's roles, the direct grants.
func (st *orgState) memberSources(m *memberState, e *gatehouse.Entity) []source {
	var out []source
	if d := st.descs[m.membership.RoleID]; d != nil {
		out = append(out, source{via: "organization role", key: "role:" + d.ID, roles: []*policy.Descriptor{d}})
	}
	for _, tid := range st.teamsOf.At(m.membership.UserID) {
		if ts := st.teams[tid]; ts != nil {
			out = append(out, source{via: "team " + ts.team.Name, key: "team:" + tid, roles: ts.roles})
		}
	}
	if roles := st.rolesOn(m, e); len(roles) > 0 && strings.HasPrefix(roles[len(roles)-1].ID, "user-grants:") {
		out = append(out, source{via: "direct grant", roles: roles[len(roles)-1:]})
	}
	return out
}

// rolesKey names a list of roles by their ids.
func rolesKey(roles []*policy.Descriptor) string {
	var b strings.Builder
	b.WriteString("roles:")
	for _, r := range roles {
		b.WriteString(r.ID)
		b.WriteByte(',')
	}
	return b.String()
}

// access returns, for the scopes the grants allow on the entity, where
// each comes from: one AccessGrant per (way, role, node), its scopes
// merged.
func (x *explanations) access(grants *policy.Grants, sources []source, scopes []catalog.Scope) []AccessGrant {
	var out []AccessGrant
	at := map[[3]string]int{}
	note := func(via string, m policy.Match, sc catalog.Scope) {
		k := [3]string{via, m.RoleID + "\x00" + m.Role, m.Path}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, AccessGrant{Via: via, Role: m.Role, RoleID: m.RoleID, Path: m.Path, Holds: m.Holds})
		}
		if s := &out[i].Scopes; len(*s) == 0 || (*s)[len(*s)-1] != sc.Name() {
			*s = append(*s, sc.Name())
		}
	}
	for _, sc := range scopes {
		if !grants.Decide(sc, x.e) {
			continue
		}
		found := false
		for _, src := range sources {
			for _, m := range x.grants(src, sc) {
				note(src.via, m, sc)
				found = true
			}
		}
		if !found {
			// Allowed by something no source's tree shows (cannot happen
			// while the compiled grants are the union of these roles): say
			// so rather than drop the scope.
			note("", policy.Match{Role: "compiled grants"}, sc)
		}
	}
	return out
}
