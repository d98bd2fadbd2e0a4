package authz

import (
	"maps"
	"slices"
	"strings"

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

	// Which of prev's maps s owns already (copied on first write).
	ownDescs, ownEntities                      bool
	ownMembers, ownTeams, ownTeamsOf, ownUsers bool

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

// own copies one of prev's principal maps into s the first time the
// delta writes it.
func own[V any](owned *bool, m *map[string]V) {
	if !*owned {
		*owned = true
		*m = maps.Clone(*m)
	}
}

func (x *delta) ownEntityMaps() {
	if !x.ownEntities {
		x.ownEntities = true
		s := x.s
		s.entities, s.info, s.created = maps.Clone(s.entities), maps.Clone(s.info), maps.Clone(s.created)
		s.stacks, s.envs, s.accounts = maps.Clone(s.stacks), maps.Clone(s.envs), maps.Clone(s.accounts)
		s.stackList = slices.Clone(s.stackList)
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
		delete(s.descs, id)
		delete(s.records, id)
	}
	for _, d := range x.d.Descriptors {
		if d.DefaultIdentifier != idents[d.ID] {
			return false // a built-in appeared: the organization's creation
		}
		delete(idents, d.ID)
		s.putDescriptor(d)
	}
	for _, ident := range idents {
		if ident != "" {
			return false // a built-in went
		}
	}
	// The changed descriptors and, transitively, those composing them.
	composers := map[string][]string{}
	for id, d := range s.descs {
		composeRefs(d.Details, func(ref string) { composers[ref] = append(composers[ref], id) })
	}
	queue := slices.Collect(maps.Keys(ids))
	for len(queue) > 0 {
		id := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if x.descs[id] {
			continue
		}
		x.descs[id] = true
		delete(s.compiled, id)
		queue = append(queue, composers[id]...)
	}
	return true
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
		ref := s.putStack(st)
		if i, ok := slices.BinarySearchFunc(s.stackList, st.ID, func(r StackRef, id string) int { return strings.Compare(r.ID, id) }); ok {
			s.stackList[i] = ref
		} else {
			s.stackList = slices.Insert(s.stackList, i, ref)
		}
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

// newCreator marks the creator of an entity the delta adds.
func (x *delta) newCreator(id, createdBy string) {
	if _, existed := x.s.info[id]; !existed && createdBy != "" {
		x.members[createdBy] = true
	}
}

// deleteEntity drops a deleted entity from the indexes, with its
// creator's admin grant and the grants on it.
func (x *delta) deleteEntity(id string) {
	s := x.s
	info, ok := s.info[id]
	if !ok {
		return
	}
	e := s.entities[id]
	delete(s.entities, id)
	delete(s.info, id)
	switch e.Type {
	case gatehouse.EntityStack:
		delete(s.stacks, info.name)
		if i, ok := slices.BinarySearchFunc(s.stackList, id, func(r StackRef, id string) int { return strings.Compare(r.ID, id) }); ok {
			s.stackList = slices.Delete(s.stackList, i, i+1)
		}
	case gatehouse.EntityEnvironment:
		delete(s.envs, info.name)
	case gatehouse.EntityInsightsAccount:
		delete(s.accounts, info.name)
	}
	if info.createdBy != "" {
		s.created[info.createdBy] = slices.DeleteFunc(slices.Clone(s.created[info.createdBy]),
			func(r gatehouse.EntityRef) bool { return r.ID == id })
		if len(s.created[info.createdBy]) == 0 {
			delete(s.created, info.createdBy)
		}
		x.members[info.createdBy] = true
	}
	for uid, ms := range x.prev.members {
		if slices.ContainsFunc(ms.direct, func(g *gatehouse.Grant) bool { return g.Entity.ID == id }) {
			x.members[uid] = true
			x.dropGrants(&gatehouse.Grant{UserID: uid}, func(g *gatehouse.Grant) bool { return g.Entity.ID == id })
		}
	}
	for tid, ts := range x.prev.teams {
		if slices.ContainsFunc(ts.direct, func(g *gatehouse.Grant) bool { return g.Entity.ID == id }) {
			x.teams[tid] = true
			x.dropGrants(&gatehouse.Grant{TeamID: tid}, func(g *gatehouse.Grant) bool { return g.Entity.ID == id })
		}
	}
}

// direct holds, per principal ("u:" or "t:" and its id), the grants a
// delta gives it, when they differ from what its state holds.
func (x *delta) principalGrants(g *gatehouse.Grant) *[]*gatehouse.Grant {
	k := "t:" + g.TeamID
	if g.UserID != "" {
		k = "u:" + g.UserID
	}
	if x.direct == nil {
		x.direct = map[string]*[]*gatehouse.Grant{}
	}
	if p := x.direct[k]; p != nil {
		return p
	}
	var cur []*gatehouse.Grant
	if g.UserID != "" {
		if ms := x.prev.members[g.UserID]; ms != nil {
			cur = slices.Clone(ms.direct)
		}
	} else if ts := x.prev.teams[g.TeamID]; ts != nil {
		cur = slices.Clone(ts.direct)
	}
	x.direct[k] = &cur
	return &cur
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
		for _, ms := range x.prev.members {
			for _, g := range ms.direct {
				x.owner[g.ID] = g
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
	own(&x.ownTeamsOf, &s.teamsOf)
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
	for uid, tids := range x.prev.teamsOf {
		for _, tid := range tids {
			if ids[tid] && !now[tid][uid] {
				s.teamsOf[uid] = slices.DeleteFunc(slices.Clone(s.teamsOf[uid]), func(t string) bool { return t == tid })
				x.members[uid] = true
			}
		}
	}
	for tid, users := range now {
		for uid := range users {
			if !slices.Contains(s.teamsOf[uid], tid) {
				s.teamsOf[uid] = append(slices.Clip(s.teamsOf[uid]), tid)
			}
			x.members[uid] = true
		}
	}
	for tid := range ids {
		if rows[tid] == nil {
			delete(s.teams, tid)
			continue
		}
		direct := []*gatehouse.Grant{}
		for _, g := range x.d.Grants {
			if g.TeamID == tid {
				direct = append(direct, g)
			}
		}
		if x.direct == nil {
			x.direct = map[string]*[]*gatehouse.Grant{}
		}
		x.direct["t:"+tid] = &direct
		s.teams[tid] = &teamState{team: rows[tid], roleIDs: x.d.TeamRoles[tid]} // compiled in compile
		x.teams[tid] = true
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
	own(&x.ownMembers, &s.members)
	own(&x.ownUsers, &s.users)
	own(&x.ownTeamsOf, &s.teamsOf)
	rows := map[string]*gatehouse.Membership{}
	for _, m := range x.d.Members {
		rows[m.UserID] = m
	}
	for uid := range ids {
		delete(s.users, uid)
		delete(s.teamsOf, uid)
		if rows[uid] == nil {
			if s.members[uid] != nil {
				x.gone = append(x.gone, uid)
			}
			delete(s.members, uid)
			continue
		}
		direct := []*gatehouse.Grant{}
		for _, g := range x.d.Grants {
			if g.UserID == uid {
				direct = append(direct, g)
			}
		}
		if x.direct == nil {
			x.direct = map[string]*[]*gatehouse.Grant{}
		}
		x.direct["u:"+uid] = &direct
		s.members[uid] = &memberState{membership: rows[uid]} // compiled in compile
		x.members[uid] = true
	}
	for _, u := range x.d.Users {
		if ids[u.ID] {
			s.users[u.ID] = u
		}
	}
	for _, tm := range x.d.TeamMembers {
		if ids[tm.UserID] && !slices.Contains(s.teamsOf[tm.UserID], tm.TeamID) {
			s.teamsOf[tm.UserID] = append(slices.Clip(s.teamsOf[tm.UserID]), tm.TeamID)
		}
	}
}

// markByDescriptors marks the principals holding a changed descriptor:
// as a role, through a grant's set, or through a creator's built-in set.
func (x *delta) markByDescriptors() {
	if len(x.descs) == 0 {
		return
	}
	s := x.s
	for id := range x.descs {
		delete(s.roleGrants, id)
	}
	// Changed is x.descs as a test that compares a few strings rather
	// than hashing: the scans below visit every member.
	changed := func(id string) bool { return x.descs[id] }
	if ids := slices.Collect(maps.Keys(x.descs)); len(ids) <= 8 {
		changed = func(id string) bool { return slices.Contains(ids, id) }
	}
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
	for uid, ms := range s.members {
		if changed(ms.membership.RoleID) || bySet(ms.direct) || creators && len(s.created[uid]) > 0 {
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
	own(&x.ownMembers, &s.members)
	for tid := range x.teams {
		ts := s.teams[tid]
		if ts == nil {
			continue
		}
		delete(s.compiled, "team-grants:"+tid)
		s.teams[tid] = s.team(ts.team, ts.roleIDs, x.grantsOf("t:"+tid, ts.direct))
	}
	if len(x.teams) > 0 {
		for uid, tids := range s.teamsOf {
			if slices.ContainsFunc(tids, func(t string) bool { return x.teams[t] }) {
				x.members[uid] = true
			}
		}
	}
	for uid := range x.members {
		ms := s.members[uid]
		if ms == nil {
			continue
		}
		delete(s.compiled, "user-grants:"+uid)
		s.members[uid] = s.member(ms.membership, x.grantsOf("u:"+uid, ms.direct))
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
		mine := t.OrgID == s.org.ID || t.Kind == gatehouse.TokenPersonal && t.OrgID == "" && s.members[t.UserID] != nil
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
