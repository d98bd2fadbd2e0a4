package authz

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// orgState is the compiled snapshot of one organization at one revision.
// It is immutable once installed but for what grows under mu and the
// tokens; a change derives a new state from it (delta.go) or builds one.
type orgState struct {
	org *gatehouse.Organization
	// revision moves on only when a write changed nothing but add a token
	// this process already installed (Authorizer.AddTokenAt).
	revision atomic.Int64
	// ahead holds revisions above revision that were token-only changes
	// installed out of order (guarded by Authorizer.mu).
	ahead map[int64]bool

	// mu guards compiled and roleGrants, which grow after the build: roles
	// compile lazily.
	mu sync.Mutex

	descs    map[string]*policy.Descriptor // decoded descriptors by id
	records  map[string]*gatehouse.Descriptor
	compiled map[string]*policy.Compiled // roles (and synthetic roles) by id, compiled lazily
	fresh    int                         // roles this state compiled (not taken from the one before)
	lookup   policy.Lookup
	builtin  map[string]string // defaultIdentifier -> descriptor id

	// The maps keyed by user and entity are cowMaps, which a delta's
	// state shares but for the shards it writes (cow.go).
	members *cowMap[*memberState] // by user id
	teams   map[string]*teamState // by team id
	// teamsOf lists each user's teams (team memberships of members and
	// of anyone else); created, how many entities each user created.
	teamsOf *cowMap[[]string]
	created *cowMap[int]
	// holders lists the members holding each role as their organization
	// role, in no order, so that a role's change finds its holders
	// without a scan of the members; granted, the members with direct
	// grants.
	holders map[string][]string
	granted *cowMap[bool]
	// composers lists, per descriptor id, the descriptors composing it.
	composers map[string][]string
	// tokens is shared with the states derived from this one: tokens
	// change in place.
	tokens *tokenSet
	// roleGrants holds what an organization token of each role may do
	// (by role id; "" for a token that holds nothing).
	roleGrants map[string]*tokenGrants

	// Entities, by id and by name.
	entities *cowMap[*gatehouse.Entity]
	info     *cowMap[entityInfo] // stacks, environments, accounts by id
	stacks   *cowMap[string]     // "project/name" -> id
	// stackList is every stack in id order, for lists.
	stackList *stackList
	envs      *cowMap[string] // "project/name" -> id
	accounts  *cowMap[string] // name -> id
	users     *cowMap[*gatehouse.User]
}

// entityInfo is what the indexes need to know about an entity when it
// changes: its name key and who created it.
type entityInfo struct {
	name      string
	createdBy string
	typ       gatehouse.EntityType
}

// tokenSet is an organization's tokens by digest, guarded by mu.
type tokenSet struct {
	mu sync.Mutex
	m  map[[32]byte]*gatehouse.Token
}

func (ts *tokenSet) get(d [32]byte) (*gatehouse.Token, bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	t, ok := ts.m[d]
	return t, ok
}

type tokenGrants struct {
	roles  []*policy.Descriptor
	grants *policy.Grants
}

type memberState struct {
	membership *gatehouse.Membership
	direct     []*gatehouse.Grant   // the user's grants on entities
	roles      []*policy.Descriptor // the member role, team roles, and the direct grants as a synthetic role
	grants     *policy.Grants
}

type teamState struct {
	team    *gatehouse.Team
	roleIDs []string
	direct  []*gatehouse.Grant   // the team's grants on entities
	roles   []*policy.Descriptor // team roles, team entity grants as a synthetic role
	grants  *policy.Grants       // roles and entity grants only
	// tokenGrants is what a team token holds: the team's grants plus the
	// organization's Member role.
	tokenRoles  []*policy.Descriptor
	tokenGrants *policy.Grants
}

func newState(org *gatehouse.Organization) *orgState {
	s := &orgState{
		org:   org,
		descs: map[string]*policy.Descriptor{}, records: map[string]*gatehouse.Descriptor{},
		compiled: map[string]*policy.Compiled{}, builtin: map[string]string{},
		members: newCowMap[*memberState](), teams: map[string]*teamState{},
		teamsOf: newCowMap[[]string](), created: newCowMap[int](),
		holders: map[string][]string{}, granted: newCowMap[bool](), composers: map[string][]string{},
		tokens:     &tokenSet{m: map[[32]byte]*gatehouse.Token{}},
		roleGrants: map[string]*tokenGrants{},
		entities:   newCowMap[*gatehouse.Entity](), info: newCowMap[entityInfo](),
		stacks: newCowMap[string](), envs: newCowMap[string](), accounts: newCowMap[string](),
		users: newCowMap[*gatehouse.User](), stackList: &stackList{},
	}
	s.revision.Store(org.Revision)
	s.lookup = func(id string) (*policy.Descriptor, bool) {
		d, ok := s.descs[id]
		return d, ok
	}
	return s
}

// build compiles a snapshot. prev, when not nil, is the organization's
// state before: when the descriptors are the same, its compiled roles are
// taken as they are (a role's compiled form depends on the descriptors
// only), so that a write that changes no descriptor compiles nothing again.
func build(snap *gatehouse.Snapshot, prev *orgState) (*orgState, error) {
	s := newState(snap.Org)
	for _, d := range snap.Descriptors {
		s.putDescriptor(d)
	}
	for id, d := range s.descs {
		composeRefs(d.Details, func(ref string) { s.composers[ref] = append(s.composers[ref], id) })
	}
	s.reuse(prev)
	s.loadEntities(snap)
	for _, tm := range snap.TeamMembers {
		s.teamsOf.Set(tm.UserID, append(s.teamsOf.At(tm.UserID), tm.TeamID))
	}
	userDirect, teamDirect := map[string][]*gatehouse.Grant{}, map[string][]*gatehouse.Grant{}
	for _, g := range snap.Grants {
		if g.UserID != "" {
			userDirect[g.UserID] = append(userDirect[g.UserID], g)
		} else {
			teamDirect[g.TeamID] = append(teamDirect[g.TeamID], g)
		}
	}
	for _, t := range snap.Teams {
		s.teams[t.ID] = s.team(t, snap.TeamRoles[t.ID], teamDirect[t.ID])
	}
	for _, m := range snap.Members {
		s.members.Set(m.UserID, s.member(m, userDirect[m.UserID]))
		s.holders[m.RoleID] = append(s.holders[m.RoleID], m.UserID)
		if len(userDirect[m.UserID]) > 0 {
			s.granted.Set(m.UserID, true)
		}
	}
	for _, u := range snap.Users {
		s.users.Set(u.ID, u)
	}
	for _, t := range snap.Tokens {
		if len(t.Digest) == 32 {
			s.tokens.m[[32]byte(t.Digest)] = t
		}
	}
	return s, nil
}

// putDescriptor decodes a descriptor into the state.
func (s *orgState) putDescriptor(d *gatehouse.Descriptor) {
	n, err := policy.Decode(d.Details)
	if err != nil {
		// A stored document that no longer decodes grants nothing
		// rather than taking the organization down.
		n = &policy.Group{}
	}
	s.descs[d.ID] = &policy.Descriptor{ID: d.ID, Name: d.Name, Purpose: d.Purpose, ResourceType: d.ResourceType, Details: n}
	s.records[d.ID] = d
	if d.DefaultIdentifier != "" {
		s.builtin[d.DefaultIdentifier] = d.ID
	}
}

// loadEntities indexes the stacks, environments and accounts.
func (s *orgState) loadEntities(snap *gatehouse.Snapshot) {
	refs := make([]StackRef, 0, len(snap.Stacks))
	for _, st := range snap.Stacks {
		refs = append(refs, s.putStack(st))
	}
	slices.SortFunc(refs, func(a, b StackRef) int { return strings.Compare(a.ID, b.ID) })
	s.stackList = newStackList(refs)
	for _, e := range snap.Environments {
		s.putEnvironment(e)
	}
	for _, a := range snap.Accounts {
		s.putAccount(a)
	}
}

// putStack indexes a stack (but for stackList) and returns its list entry.
func (s *orgState) putStack(st *gatehouse.Stack) StackRef {
	e := &gatehouse.Entity{Type: gatehouse.EntityStack, ID: st.ID, Tags: gatehouse.TagsFromMap(st.Tags)}
	s.putEntity(e, st.Project+"/"+st.Name, st.CreatedBy, s.stacks)
	return StackRef{ID: st.ID, Project: st.Project, Name: st.Name, Tags: st.Tags, Entity: e}
}

func (s *orgState) putEnvironment(env *gatehouse.Environment) {
	e := &gatehouse.Entity{Type: gatehouse.EntityEnvironment, ID: env.ID, Tags: gatehouse.TagsFromMap(env.Tags)}
	s.putEntity(e, env.Project+"/"+env.Name, env.CreatedBy, s.envs)
}

func (s *orgState) putAccount(a *gatehouse.Account) {
	e := &gatehouse.Entity{Type: gatehouse.EntityInsightsAccount, ID: a.ID, Tags: gatehouse.TagsFromMap(a.Tags)}
	s.putEntity(e, a.Name, a.CreatedBy, s.accounts)
}

// putEntity indexes an entity by id and by name (in names), and records
// its creator's admin grant on it when it is new.
func (s *orgState) putEntity(e *gatehouse.Entity, name, createdBy string, names *cowMap[string]) {
	old, existed := s.info.Get(e.ID)
	if existed && old.name != name {
		names.Delete(old.name)
	}
	s.entities.Set(e.ID, e)
	names.Set(name, e.ID)
	s.info.Set(e.ID, entityInfo{name: name, createdBy: createdBy, typ: e.Type})
	if !existed && createdBy != "" {
		s.created.Set(createdBy, s.created.At(createdBy)+1)
	}
}

// team compiles a team's grants and its tokens' grants.
func (s *orgState) team(t *gatehouse.Team, roleIDs []string, direct []*gatehouse.Grant) *teamState {
	ts := &teamState{team: t, roleIDs: roleIDs, direct: direct}
	for _, rid := range roleIDs {
		if d, ok := s.descs[rid]; ok {
			ts.roles = append(ts.roles, d)
		}
	}
	if nodes := s.grantNodes(direct); len(nodes) > 0 {
		ts.roles = append(ts.roles, &policy.Descriptor{ID: "team-grants:" + t.ID, Name: fmt.Sprintf("entity grants of team %s", t.Name),
			Purpose: "role", Details: &policy.Group{Entries: nodes}})
	}
	ts.grants = s.union(ts.roles)
	ts.tokenRoles = ts.roles
	if memberRole := s.descs[s.builtin[catalog.RoleMember]]; memberRole != nil {
		ts.tokenRoles = append(slices.Clone(ts.roles), memberRole)
	}
	ts.tokenGrants = s.union(ts.tokenRoles)
	return ts
}

// member compiles a member's grants: role, teams, direct grants and the
// admin grants on what they created (policy.Owned, not one rule per
// entity: creating a stack compiles nothing).
func (s *orgState) member(m *gatehouse.Membership, direct []*gatehouse.Grant) *memberState {
	ms := &memberState{membership: m, direct: direct}
	var owned *policy.Owned
	if !m.Suspended {
		if d, ok := s.descs[m.RoleID]; ok {
			ms.roles = append(ms.roles, d)
		}
		for _, tid := range s.teamsOf.At(m.UserID) {
			if ts := s.teams[tid]; ts != nil {
				ms.roles = append(ms.roles, ts.roles...)
			}
		}
		if nodes := s.grantNodes(direct); len(nodes) > 0 {
			ms.roles = append(ms.roles, s.directRole(m.UserID, nodes))
		}
		owned = s.owned(m.UserID)
	}
	ms.grants = policy.UnionOwned(owned, s.compileAll(ms.roles)...)
	return ms
}

// directRole is a member's synthetic role of direct grants (and, for an
// explanation, the creator's rule on an entity).
func (s *orgState) directRole(uid string, nodes []policy.Node) *policy.Descriptor {
	return &policy.Descriptor{ID: "user-grants:" + uid, Name: "direct grants and stacks created",
		Purpose: "role", Details: &policy.Group{Entries: nodes}}
}

// owned is what a user holds on what they created: the built-in admin
// set of each entity type on the entities whose creator they are, as
// the state's entity index says (nil when they created nothing).
func (s *orgState) owned(uid string) *policy.Owned {
	if s.created.At(uid) == 0 {
		return nil
	}
	info := s.info
	o := &policy.Owned{
		Owns: func(t gatehouse.EntityType, id string) bool {
			i, ok := info.Get(id)
			return ok && i.createdBy == uid && i.typ == t
		},
		Each: func(yield func(gatehouse.EntityType, string) bool) {
			for id, i := range info.All() {
				if i.createdBy == uid && !yield(i.typ, id) {
					return
				}
			}
		},
	}
	for t, role := range creatorRole {
		if d := s.descs[s.builtin[role]]; d != nil {
			o.Sets[t] = s.compile(d)
		}
	}
	return o
}

// rolesOn is what Explain and OpenLimit walk for a member on entity e:
// their roles and, when they created e, the creator's rule on it in the
// synthetic role of direct grants (the compiled grants hold it as
// policy.Owned).
func (s *orgState) rolesOn(ms *memberState, e *gatehouse.Entity) []*policy.Descriptor {
	uid := ms.membership.UserID
	info, ok := s.info.Get(e.ID)
	if ms.membership.Suspended || !ok || info.createdBy != uid || info.typ != e.Type {
		return ms.roles
	}
	admin, ok := s.builtin[creatorRole[e.Type]]
	if !ok {
		return ms.roles
	}
	roles := ms.roles
	if n := len(roles); n > 0 && roles[n-1].ID == "user-grants:"+uid {
		roles = roles[:n-1]
	}
	nodes := append(s.grantNodes(ms.direct), entityRule(gatehouse.EntityRef{Type: e.Type, ID: e.ID}, admin))
	return append(slices.Clip(roles), s.directRole(uid, nodes))
}

// grantNodes turns a principal's grants into the nodes of its synthetic
// role.
func (s *orgState) grantNodes(direct []*gatehouse.Grant) []policy.Node {
	nodes := make([]policy.Node, 0, len(direct)+1)
	for _, g := range direct {
		if g.MaxOpenDuration > 0 {
			nodes = append(nodes, s.limitedRule(g))
		} else {
			nodes = append(nodes, entityRule(g.Entity, g.SetID))
		}
	}
	return nodes
}

// creatorRole is the built-in set a creator holds on what they created:
// a stack, an environment, an Insights account.
var creatorRole = map[gatehouse.EntityType]string{
	gatehouse.EntityStack:           "stack-admin",
	gatehouse.EntityEnvironment:     "environment-admin",
	gatehouse.EntityInsightsAccount: "insights-account-admin",
}

func entityRule(e gatehouse.EntityRef, setID string) policy.Node {
	return &policy.Condition{
		Condition: &policy.Equal{Left: &policy.Context{Type: e.Type}, Right: &policy.EntityLit{Type: e.Type, ID: strings.ToLower(e.ID)}},
		SubNode:   &policy.Compose{Descriptors: []string{setID}},
	}
}

// limitedRule is a grant with a maxOpenDuration (a team's environment
// permission): the set's scopes on the entity, inlined into one Allow that
// carries the limit as its constraints.MaxOpenDuration, so that
// policy.OpenLimit finds it like any descriptor's constraint.
func (s *orgState) limitedRule(g *gatehouse.Grant) policy.Node {
	e := &gatehouse.Entity{Type: g.Entity.Type, ID: strings.ToLower(g.Entity.ID)}
	var scopes catalog.Set
	if set := s.descs[g.SetID]; set != nil {
		scopes = policy.Evaluate(set.Details, s.lookup, e)
	}
	secs := int((g.MaxOpenDuration + time.Second - 1) / time.Second)
	return &policy.Condition{
		Condition: &policy.Equal{Left: &policy.Context{Type: e.Type}, Right: &policy.EntityLit{Type: e.Type, ID: e.ID}},
		SubNode:   &policy.Allow{Permissions: scopes.Names(), Constraints: &policy.Constraints{MaxOpenDuration: secs}},
	}
}

// reuse takes prev's compiled descriptors when prev holds exactly the
// same descriptors (ids, versions and documents). Synthetic roles (entity
// grants) depend on more than descriptors and are compiled again.
func (s *orgState) reuse(prev *orgState) {
	if prev == nil || len(prev.records) != len(s.records) {
		return
	}
	for id, d := range s.records {
		p := prev.records[id]
		if p == nil || p.Version != d.Version || !bytes.Equal(p.Details, d.Details) {
			return
		}
	}
	prev.mu.Lock()
	defer prev.mu.Unlock()
	for id, c := range prev.compiled {
		if _, ok := s.records[id]; ok {
			s.compiled[id] = c
		}
	}
}

// compile returns the compiled form of a role, compiling it once. Callers
// hold s.mu, or own s (during a build or a delta).
func (s *orgState) compile(d *policy.Descriptor) *policy.Compiled {
	if c, ok := s.compiled[d.ID]; ok {
		return c
	}
	c := policy.Compile(d.Details, s.lookup)
	s.compiled[d.ID] = c
	s.fresh++
	return c
}

// orgTokenGrants returns what an organization or runner token holds: what
// its role holds, computed once per role.
func (s *orgState) orgTokenGrants(t *gatehouse.Token) *tokenGrants {
	r := s.roleOf(t)
	id := ""
	if r != nil {
		id = r.ID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if tg := s.roleGrants[id]; tg != nil {
		return tg
	}
	tg := &tokenGrants{grants: policy.Union()}
	if r != nil {
		tg = &tokenGrants{roles: []*policy.Descriptor{r}, grants: s.union([]*policy.Descriptor{r})}
	}
	s.roleGrants[id] = tg
	return tg
}

func (s *orgState) union(roles []*policy.Descriptor) *policy.Grants {
	return policy.Union(s.compileAll(roles)...)
}

func (s *orgState) compileAll(roles []*policy.Descriptor) []*policy.Compiled {
	cs := make([]*policy.Compiled, len(roles))
	for i, r := range roles {
		cs[i] = s.compile(r)
	}
	return cs
}

// roleOf returns an organization token's role: its own, or the
// organization's default; none for a token whose role was deleted.
func (s *orgState) roleOf(t *gatehouse.Token) *policy.Descriptor {
	if t.RoleDeleted {
		return nil // its role was deleted: it holds nothing, not the default
	}
	id := t.RoleID
	if id == "" {
		id = s.org.Settings.DefaultRoleID
	}
	if id == "" {
		id = s.builtin[catalog.RoleMember]
	}
	return s.descs[id]
}
