package authz

import (
	"maps"
	"slices"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// Why a snapshot was built whole rather than changed by a delta: the
// label of the rebuild counter (Authorizer.RebuildsByReason).
const (
	ReasonLoad    = "load"    // the organization was not loaded (startup, first use)
	ReasonGap     = "gap"     // the change log misses a revision (pruned, or never logged)
	ReasonUnknown = "unknown" // a write did not say what it changed
	ReasonBuiltin = "builtin" // the organization's built-in descriptors changed
)

// Reasons lists the rebuild reasons, in a fixed order.
var Reasons = []string{ReasonLoad, ReasonGap, ReasonUnknown, ReasonBuiltin}

// request names the records a delta of keys reads.
func request(keys []gatehouse.ChangeKey) gatehouse.DeltaRequest {
	var r gatehouse.DeltaRequest
	for _, k := range keys {
		switch k.Kind {
		case gatehouse.ChangeDescriptor:
			r.Descriptors = append(r.Descriptors, k.ID)
		case gatehouse.ChangeMember:
			r.Members = append(r.Members, k.ID)
		case gatehouse.ChangeTeam:
			r.Teams = append(r.Teams, k.ID)
		case gatehouse.ChangeGrant:
			r.Grants = append(r.Grants, k.ID)
		case gatehouse.ChangeStack:
			r.Stacks = append(r.Stacks, k.ID)
		case gatehouse.ChangeEnvironment:
			r.Environments = append(r.Environments, k.ID)
		case gatehouse.ChangeAccount:
			r.Accounts = append(r.Accounts, k.ID)
		case gatehouse.ChangeToken:
			r.Tokens = append(r.Tokens, k.ID)
		}
	}
	return r
}

// delta is one application of a change set to a state: the new state s,
// derived from prev, and what it found dirty on the way.
type delta struct {
	s, prev *orgState
	d       *gatehouse.Delta
	keys    map[gatehouse.ChangeKind]map[string]bool

	// Which of prev's maps s owns already (copied, or derived for a
	// cowMap, on first write).
	ownDescs, ownEntities, ownComposers, ownHolders bool
	ownMembers, ownTeams, ownTeamsOf, ownUsers      bool
	ownGranted, ownCreated                          bool

	descs   map[string]bool             // changed descriptors and those composing them
	teams   map[string]bool             // teams to compile again
	members map[string]bool             // members (user ids) to compile again
	grants  map[string]*gatehouse.Grant // the grants read, by id
	// direct holds the grants of principals whose grants changed
	// (principalGrants); owner, each grant's principal in prev.
	direct map[string]*[]*gatehouse.Grant
	owner  map[string]*gatehouse.Grant
	// gone lists the members removed.
	gone []string
	// tokens added and removed, for the authorizer's digest index.
	added, removed []*gatehouse.Token
}

// applyDelta derives the state after d (the records keys name, read at
// d.Org.Revision) from prev. It returns a rebuild reason instead when the
// delta cannot apply.
func applyDelta(prev *orgState, d *gatehouse.Delta, keys []gatehouse.ChangeKey) (*orgState, []*gatehouse.Token, []*gatehouse.Token, string) {
	x := &delta{prev: prev, d: d, keys: map[gatehouse.ChangeKind]map[string]bool{},
		descs: map[string]bool{}, teams: map[string]bool{}, members: map[string]bool{}, grants: map[string]*gatehouse.Grant{}}
	for _, k := range keys {
		if x.keys[k.Kind] == nil {
			x.keys[k.Kind] = map[string]bool{}
		}
		x.keys[k.Kind][k.ID] = true
	}
	x.derive()
	if !x.applyDescriptors() {
		return nil, nil, nil, ReasonBuiltin
	}
	for _, g := range d.Grants {
		x.grants[g.ID] = g
	}
	x.applyEntities()
	x.applyGrants()
	x.applyTeams()
	x.applyMembers()
	x.markByDescriptors()
	x.compile()
	x.applyTokens()
	return x.s, x.added, x.removed, ""
}

// derive makes s: prev's maps shared until written, its compiled roles
// and token grants but for what the delta changes.
func (x *delta) derive() {
	p := x.prev
	s := &orgState{org: x.d.Org, descs: p.descs, records: p.records, builtin: p.builtin,
		members: p.members, teams: p.teams, teamsOf: p.teamsOf, created: p.created, tokens: p.tokens,
		holders: p.holders, granted: p.granted, composers: p.composers,
		entities: p.entities, info: p.info, stacks: p.stacks, stackList: p.stackList, envs: p.envs,
		accounts: p.accounts, users: p.users}
	s.revision.Store(x.d.Org.Revision)
	s.lookup = func(id string) (*policy.Descriptor, bool) {
		d, ok := s.descs[id]
		return d, ok
	}
	p.mu.Lock()
	s.compiled = maps.Clone(p.compiled)
	s.roleGrants = maps.Clone(p.roleGrants)
	p.mu.Unlock()
	if x.keys[gatehouse.ChangeOrg] != nil || s.org.Settings.DefaultRoleID != p.org.Settings.DefaultRoleID {
		s.roleGrants = map[string]*tokenGrants{} // the default role may have changed
	}
	x.s = s
}

func (x *delta) ownDescriptors() {
	if !x.ownDescs {
		x.ownDescs = true
		x.s.descs, x.s.records, x.s.builtin = maps.Clone(x.s.descs), maps.Clone(x.s.records), maps.Clone(x.s.builtin)
	}
}

// own copies one of prev's maps into s the first time the delta writes
// it.
func own[V any](owned *bool, m *map[string]V) {
	if !*owned {
		*owned = true
		*m = maps.Clone(*m)
	}
}

// ownCow is own for a cowMap: s's map shares prev's shards until written.
func ownCow[V any](owned *bool, m **cowMap[V]) {
	if !*owned {
		*owned = true
		*m = (*m).derive()
	}
}

func (x *delta) ownEntityMaps() {
	if !x.ownEntities {
		x.ownEntities = true
		s := x.s
		s.entities, s.info = s.entities.derive(), s.info.derive()
		s.stacks, s.envs, s.accounts = s.stacks.derive(), s.envs.derive(), s.accounts.derive()
		s.stackList = s.stackList.derive()
		ownCow(&x.ownCreated, &s.created)
	}
}

// applyDescriptors puts the changed descriptors in place and marks them
// and those composing them. It reports false when the built-in
// descriptors changed, which a delta does not follow.
func (x *delta) applyDescriptors() bool {
	ids := x.keys[gatehouse.ChangeDescriptor]
	if len(ids) == 0 {
		return true
	}
	x.ownDescriptors()
	s := x.s
	idents := map[string]string{} // the built-in identifier of each descriptor named, before
	for id := range ids {
		if d := s.records[id]; d != nil {
			idents[id] = d.DefaultIdentifier
		}
		x.unrefer(id)
		delete(s.descs, id)
		delete(s.records, id)
	}
	for _, d := range x.d.Descriptors {
		if d.DefaultIdentifier != idents[d.ID] {
			return false // a built-in appeared: the organization's creation
		}
		delete(idents, d.ID)
		s.putDescriptor(d)
		x.refer(d.ID)
	}
	for _, ident := range idents {
		if ident != "" {
			return false // a built-in went
		}
	}
	// The changed descriptors and, transitively, those composing them.
	queue := slices.Collect(maps.Keys(ids))
	for len(queue) > 0 {
		id := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if x.descs[id] {
			continue
		}
		x.descs[id] = true
		delete(s.compiled, id)
		queue = append(queue, s.composers[id]...)
	}
	return true
}

// unrefer takes descriptor id out of the composers index, as s holds it
// (before its change).
func (x *delta) unrefer(id string) {
	d := x.s.descs[id]
	if d == nil {
		return
	}
	own(&x.ownComposers, &x.s.composers)
	c := x.s.composers
	composeRefs(d.Details, func(ref string) {
		c[ref] = slices.DeleteFunc(slices.Clone(c[ref]), func(by string) bool { return by == id })
		if len(c[ref]) == 0 {
			delete(c, ref)
		}
	})
}

// refer puts descriptor id in the composers index.
func (x *delta) refer(id string) {
	own(&x.ownComposers, &x.s.composers)
	c := x.s.composers
	composeRefs(x.s.descs[id].Details, func(ref string) {
		if !slices.Contains(c[ref], id) {
			c[ref] = append(slices.Clip(c[ref]), id)
		}
	})
}

// composeRefs calls f with every descriptor id n composes.
func composeRefs(n policy.Node, f func(string)) {
	switch n := n.(type) {
	case *policy.Group:
		for _, e := range n.Entries {
			composeRefs(e, f)
		}
	case *policy.Compose:
		for _, id := range n.Descriptors {
			f(id)
		}
	case *policy.Condition:
		composeRefs(n.SubNode, f)
	case *policy.IfThenElse:
		composeRefs(n.Then, f)
		composeRefs(n.Else, f)
	case *policy.Select:
		for _, o := range n.Options {
			composeRefs(o.Node, f)
		}
	}
}

// applyEntities updates the indexes of the stacks, environments and
// accounts the delta names; a deleted one takes its grants and its
// creator's admin grant with it.
func (x *delta) applyEntities() {
	kinds := []gatehouse.ChangeKind{gatehouse.ChangeStack, gatehouse.ChangeEnvironment, gatehouse.ChangeAccount}
	if x.keys[kinds[0]] == nil && x.keys[kinds[1]] == nil && x.keys[kinds[2]] == nil {
		return
	}
	x.ownEntityMaps()
	s := x.s
	found := map[string]bool{}
	for _, st := range x.d.Stacks {
		found[st.ID] = true
		x.newCreator(st.ID, st.CreatedBy)
		s.stackList.put(s.putStack(st))
	}
	for _, e := range x.d.Environments {
		found[e.ID] = true
		x.newCreator(e.ID, e.CreatedBy)
		s.putEnvironment(e)
	}
	for _, a := range x.d.Accounts {
		found[a.ID] = true
		x.newCreator(a.ID, a.CreatedBy)
		s.putAccount(a)
	}
	for _, kind := range kinds {
		for id := range x.keys[kind] {
			if !found[id] {
				x.deleteEntity(id)
			}
		}
	}
}

// newCreator marks the creator of an entity the delta adds: their
// grants' owned index is the state's (a new one).
func (x *delta) newCreator(id, createdBy string) {
	if _, existed := x.s.info.Get(id); !existed && createdBy != "" {
		x.members[createdBy] = true
	}
}

// deleteEntity drops a deleted entity from the indexes, with its
// creator's admin grant and the grants on it.
func (x *delta) deleteEntity(id string) {
	s := x.s
	info, ok := s.info.Get(id)
	if !ok {
		return
	}
	s.entities.Delete(id)
	s.info.Delete(id)
	switch info.typ {
	case gatehouse.EntityStack:
		s.stacks.Delete(info.name)
		s.stackList.remove(id)
	case gatehouse.EntityEnvironment:
		s.envs.Delete(info.name)
	case gatehouse.EntityInsightsAccount:
		s.accounts.Delete(info.name)
	}
	if info.createdBy != "" {
		if n := s.created.At(info.createdBy) - 1; n > 0 {
			s.created.Set(info.createdBy, n)
		} else {
			s.created.Delete(info.createdBy)
		}
		x.members[info.createdBy] = true
	}
	on := func(g *gatehouse.Grant) bool { return g.Entity.ID == id }
	for uid := range x.prev.granted.Keys() {
		if ms := x.prev.members.At(uid); ms != nil && slices.ContainsFunc(ms.direct, on) {
			x.members[uid] = true
			x.dropGrants(&gatehouse.Grant{UserID: uid}, on)
		}
	}
	for tid, ts := range x.prev.teams {
		if slices.ContainsFunc(ts.direct, on) {
			x.teams[tid] = true
			x.dropGrants(&gatehouse.Grant{TeamID: tid}, on)
		}
	}
}

// principalKey names a grant's principal in direct: "u:" or "t:" and its
// id.
func principalKey(g *gatehouse.Grant) string {
	if g.UserID != "" {
		return "u:" + g.UserID
	}
	return "t:" + g.TeamID
}

// principalGrants is the grants a delta gives g's principal, started from
// what prev holds.
func (x *delta) principalGrants(g *gatehouse.Grant) *[]*gatehouse.Grant {
	k := principalKey(g)
	if p := x.direct[k]; p != nil {
		return p
	}
	var cur []*gatehouse.Grant
	if g.UserID != "" {
		if ms := x.prev.members.At(g.UserID); ms != nil {
			cur = slices.Clone(ms.direct)
		}
	} else if ts := x.prev.teams[g.TeamID]; ts != nil {
		cur = slices.Clone(ts.direct)
	}
	return x.setDirect(k, cur)
}

// setDirect records the grants a delta gives principal k.
func (x *delta) setDirect(k string, grants []*gatehouse.Grant) *[]*gatehouse.Grant {
	if x.direct == nil {
		x.direct = map[string]*[]*gatehouse.Grant{}
	}
	x.direct[k] = &grants
	return &grants
}

// readDirect records, as the grants of principal k, the delta's grants
// that principal reports are its own (a member or team read again).
func (x *delta) readDirect(k string, mine func(*gatehouse.Grant) bool) {
	direct := []*gatehouse.Grant{}
	for _, g := range x.d.Grants {
		if mine(g) {
			direct = append(direct, g)
		}
	}
	x.setDirect(k, direct)
}

// dropGrants removes the grants of g's principal that drop reports.
func (x *delta) dropGrants(g *gatehouse.Grant, drop func(*gatehouse.Grant) bool) {
	p := x.principalGrants(g)
	*p = slices.DeleteFunc(*p, drop)
}

// applyGrants moves each grant the delta names from its principal in prev
// (if any) to its principal now (if it still exists).
func (x *delta) applyGrants() {
	ids := x.keys[gatehouse.ChangeGrant]
	if len(ids) == 0 {
		return
	}
	if x.owner == nil {
		x.owner = map[string]*gatehouse.Grant{}
		for uid := range x.prev.granted.Keys() {
			if ms := x.prev.members.At(uid); ms != nil {
				for _, g := range ms.direct {
					x.owner[g.ID] = g
				}
			}
		}
		for _, ts := range x.prev.teams {
			for _, g := range ts.direct {
				x.owner[g.ID] = g
			}
		}
	}
	for id := range ids {
		if old := x.owner[id]; old != nil {
			x.dropGrants(old, func(g *gatehouse.Grant) bool { return g.ID == id })
			x.markPrincipal(old)
		}
		if g := x.grants[id]; g != nil {
			p := x.principalGrants(g)
			*p = append(slices.DeleteFunc(*p, func(h *gatehouse.Grant) bool { return h.ID == id }), g)
			x.markPrincipal(g)
		}
	}
}

func (x *delta) markPrincipal(g *gatehouse.Grant) {
	if g.UserID != "" {
		x.members[g.UserID] = true
	} else {
		x.teams[g.TeamID] = true
	}
}

// applyTeams reads again the teams the delta names: the team, its roles,
// its grants and its members, whose team lists change with it.
func (x *delta) applyTeams() {
	ids := x.keys[gatehouse.ChangeTeam]
	if len(ids) == 0 {
		return
	}
	s := x.s
	own(&x.ownTeams, &s.teams)
	ownCow(&x.ownTeamsOf, &s.teamsOf)
	rows := map[string]*gatehouse.Team{}
	for _, t := range x.d.Teams {
		rows[t.ID] = t
	}
	now := map[string]map[string]bool{} // team -> users, as read
	for _, tm := range x.d.TeamMembers {
		if ids[tm.TeamID] {
			if now[tm.TeamID] == nil {
				now[tm.TeamID] = map[string]bool{}
			}
			now[tm.TeamID][tm.UserID] = true
		}
	}
	for uid, tids := range x.prev.teamsOf.All() {
		for _, tid := range tids {
			if ids[tid] && !now[tid][uid] {
				s.setTeamsOf(uid, slices.DeleteFunc(slices.Clone(s.teamsOf.At(uid)), func(t string) bool { return t == tid }))
				x.members[uid] = true
			}
		}
	}
	for tid, users := range now {
		for uid := range users {
			x.addTeamOf(uid, tid)
			x.members[uid] = true
		}
	}
	for tid := range ids {
		if rows[tid] == nil {
			delete(s.teams, tid)
			continue
		}
		x.readDirect("t:"+tid, func(g *gatehouse.Grant) bool { return g.TeamID == tid })
		s.teams[tid] = &teamState{team: rows[tid], roleIDs: x.d.TeamRoles[tid]} // compiled in compile
		x.teams[tid] = true
	}
}

// addTeamOf puts team tid in user uid's teams.
func (x *delta) addTeamOf(uid, tid string) {
	if tids := x.s.teamsOf.At(uid); !slices.Contains(tids, tid) {
		x.s.teamsOf.Set(uid, append(slices.Clip(tids), tid))
	}
}

// setTeamsOf sets a user's teams (none: the entry goes).
func (s *orgState) setTeamsOf(uid string, tids []string) {
	if len(tids) == 0 {
		s.teamsOf.Delete(uid)
	} else {
		s.teamsOf.Set(uid, tids)
	}
}

// applyMembers reads again the members the delta names: the membership,
// the user, their teams and their grants.
func (x *delta) applyMembers() {
	ids := x.keys[gatehouse.ChangeMember]
	if len(ids) == 0 {
		return
	}
	s := x.s
	ownCow(&x.ownMembers, &s.members)
	ownCow(&x.ownUsers, &s.users)
	ownCow(&x.ownTeamsOf, &s.teamsOf)
	rows := map[string]*gatehouse.Membership{}
	for _, m := range x.d.Members {
		rows[m.UserID] = m
	}
	for uid := range ids {
		s.users.Delete(uid)
		s.teamsOf.Delete(uid)
		was := s.members.At(uid)
		if was != nil {
			x.holding(was.membership.RoleID, uid, false)
		}
		if rows[uid] == nil {
			if was != nil {
				x.gone = append(x.gone, uid)
				x.granting(uid, false)
			}
			s.members.Delete(uid)
			continue
		}
		x.holding(rows[uid].RoleID, uid, true)
		x.readDirect("u:"+uid, func(g *gatehouse.Grant) bool { return g.UserID == uid })
		s.members.Set(uid, &memberState{membership: rows[uid]}) // compiled in compile
		x.members[uid] = true
	}
	for _, u := range x.d.Users {
		if ids[u.ID] {
			s.users.Set(u.ID, u)
		}
	}
	for _, tm := range x.d.TeamMembers {
		if ids[tm.UserID] {
			x.addTeamOf(tm.UserID, tm.TeamID)
		}
	}
}

// holding puts member uid in (or, with !holds, out of) the holders of
// role.
func (x *delta) holding(role, uid string, holds bool) {
	own(&x.ownHolders, &x.s.holders)
	h := x.s.holders
	if holds {
		h[role] = append(slices.Clip(h[role]), uid)
		return
	}
	if i := slices.Index(h[role], uid); i >= 0 {
		h[role] = slices.Delete(slices.Clone(h[role]), i, i+1)
	}
	if len(h[role]) == 0 {
		delete(h, role)
	}
}

// markByDescriptors marks the principals holding a changed descriptor:
// as a role (the holders index), through a grant's set, or through a
// creator's built-in set.
func (x *delta) markByDescriptors() {
	if len(x.descs) == 0 {
		return
	}
	s := x.s
	for id := range x.descs {
		delete(s.roleGrants, id)
		for _, uid := range s.holders[id] {
			x.members[uid] = true
		}
	}
	changed := func(id string) bool { return x.descs[id] }
	member := changed(s.builtin[catalog.RoleMember])
	creators := false
	for _, role := range creatorRole {
		creators = creators || changed(s.builtin[role])
	}
	bySet := func(direct []*gatehouse.Grant) bool {
		return slices.ContainsFunc(direct, func(g *gatehouse.Grant) bool { return changed(g.SetID) })
	}
	for tid, ts := range s.teams {
		if member || bySet(ts.direct) || slices.ContainsFunc(ts.roleIDs, changed) {
			x.teams[tid] = true
		}
	}
	for uid := range s.granted.Keys() {
		if ms := s.members.At(uid); ms != nil && bySet(ms.direct) {
			x.members[uid] = true
		}
	}
	if creators {
		for uid := range s.created.Keys() {
			x.members[uid] = true
		}
	}
}

// compile compiles the marked teams, then the marked members and the
// members of the marked teams.
func (x *delta) compile() {
	if len(x.teams) == 0 && len(x.members) == 0 {
		return
	}
	s := x.s
	if len(x.teams) > 0 {
		own(&x.ownTeams, &s.teams)
	}
	ownCow(&x.ownMembers, &s.members)
	for tid := range x.teams {
		ts := s.teams[tid]
		if ts == nil {
			continue
		}
		delete(s.compiled, "team-grants:"+tid)
		s.teams[tid] = s.team(ts.team, ts.roleIDs, x.grantsOf("t:"+tid, ts.direct))
	}
	if len(x.teams) > 0 {
		for uid, tids := range s.teamsOf.All() {
			if slices.ContainsFunc(tids, func(t string) bool { return x.teams[t] }) {
				x.members[uid] = true
			}
		}
	}
	for uid := range x.members {
		ms := s.members.At(uid)
		if ms == nil {
			continue
		}
		delete(s.compiled, "user-grants:"+uid)
		direct := x.grantsOf("u:"+uid, ms.direct)
		x.granting(uid, len(direct) > 0)
		s.members.Set(uid, s.member(ms.membership, direct))
	}
}

// granting records whether member uid holds direct grants.
func (x *delta) granting(uid string, has bool) {
	if has == x.s.granted.At(uid) {
		return
	}
	ownCow(&x.ownGranted, &x.s.granted)
	if has {
		x.s.granted.Set(uid, true)
	} else {
		x.s.granted.Delete(uid)
	}
}

// grantsOf is a principal's grants: as the delta changed them, or as they
// were.
func (x *delta) grantsOf(k string, were []*gatehouse.Grant) []*gatehouse.Grant {
	if p := x.direct[k]; p != nil {
		return *p
	}
	return were
}

// applyTokens works out the tokens the delta adds and removes (installed
// with the state, under the authorizer's lock): the tokens it names, and
// the personal tokens of members who joined or left.
func (x *delta) applyTokens() {
	s := x.s
	for _, t := range x.d.Tokens {
		if len(t.Digest) != 32 {
			continue
		}
		mine := t.OrgID == s.org.ID || t.Kind == gatehouse.TokenPersonal && t.OrgID == "" && s.members.At(t.UserID) != nil
		if !t.Deleted && mine {
			x.added = append(x.added, t)
		} else {
			x.removed = append(x.removed, t)
		}
	}
	if len(x.gone) == 0 {
		return
	}
	gone := map[string]bool{}
	for _, uid := range x.gone {
		gone[uid] = true
	}
	s.tokens.mu.Lock()
	for _, t := range s.tokens.m {
		if t.Kind == gatehouse.TokenPersonal && t.OrgID == "" && gone[t.UserID] {
			x.removed = append(x.removed, t)
		}
	}
	s.tokens.mu.Unlock()
}
