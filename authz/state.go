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
// It is immutable once built; a change builds a new one.
type orgState struct {
	org *gatehouse.Organization
	// revision moves on only when a write changed nothing but add a token
	// this process already installed (Authorizer.AddTokenAt).
	revision atomic.Int64
	// ahead holds revisions above revision that were token-only changes
	// installed out of order (guarded by Authorizer.mu).
	ahead map[int64]bool

	// mu guards compiled, tokens and tokenGrants, which grow after the
	// build: roles compile lazily, and tokens created through this process
	// join without a rebuild.
	mu sync.Mutex

	descs    map[string]*policy.Descriptor // decoded descriptors by id
	records  map[string]*gatehouse.Descriptor
	compiled map[string]*policy.Compiled // roles by id, compiled lazily under build
	fresh    int                         // roles this state compiled (not taken from the one before)
	lookup   policy.Lookup
	builtin  map[string]string // defaultIdentifier -> descriptor id

	members map[string]*memberState // by user id
	teams   map[string]*teamState   // by team id
	tokens  map[[32]byte]*gatehouse.Token
	// tokenGrants holds what each organization token may do.
	tokenGrants map[string]*tokenGrants

	// Entities, by id and by name.
	entities map[string]*gatehouse.Entity
	stacks   map[string]string // "project/name" -> id
	// stackList is every stack in id order, for lists.
	stackList []StackRef
	envs      map[string]string // "project/name" -> id
	accounts  map[string]string // name -> id
	users     map[string]*gatehouse.User
}

type tokenGrants struct {
	roles  []*policy.Descriptor
	grants *policy.Grants
}

type memberState struct {
	membership *gatehouse.Membership
	roles      []*policy.Descriptor // the member role, team roles, and the direct grants as a synthetic role
	grants     *policy.Grants
	teams      []string // ids of the teams the member is in, for explanations
}

type teamState struct {
	team   *gatehouse.Team
	roles  []*policy.Descriptor // team roles, team entity grants as a synthetic role
	grants *policy.Grants       // roles and entity grants only
	// tokenGrants is what a team token holds: the team's grants plus the
	// organization's Member role.
	tokenRoles  []*policy.Descriptor
	tokenGrants *policy.Grants
}

// build compiles a snapshot. prev, when not nil, is the organization's
// state before: when the descriptors are the same, its compiled roles are
// taken as they are (a role's compiled form depends on the descriptors
// only), so that a write that changes no descriptor compiles nothing again.
func build(snap *gatehouse.Snapshot, prev *orgState) (*orgState, error) {
	s := &orgState{
		org:   snap.Org,
		descs: map[string]*policy.Descriptor{}, records: map[string]*gatehouse.Descriptor{},
		compiled: map[string]*policy.Compiled{}, builtin: map[string]string{},
		members: map[string]*memberState{}, teams: map[string]*teamState{},
		tokens: map[[32]byte]*gatehouse.Token{}, tokenGrants: map[string]*tokenGrants{},
		entities: map[string]*gatehouse.Entity{}, stacks: map[string]string{}, envs: map[string]string{},
		accounts: map[string]string{}, users: map[string]*gatehouse.User{},
	}
	s.revision.Store(snap.Org.Revision)
	s.loadDescriptors(snap)
	s.reuse(prev)
	s.loadEntities(snap)
	userDirect, teamDirect := s.directGrants(snap)
	s.creatorGrants(snap, userDirect)
	s.buildTeams(snap, teamDirect)
	s.buildMembers(snap, userDirect)
	for _, t := range snap.Tokens {
		if len(t.Digest) == 32 {
			s.tokens[[32]byte(t.Digest)] = t
		}
		if t.Kind == gatehouse.TokenOrganization || t.Kind == gatehouse.TokenRunner {
			s.orgTokenGrants(t)
		}
	}
	return s, nil
}

// loadDescriptors decodes the organization's descriptors.
func (s *orgState) loadDescriptors(snap *gatehouse.Snapshot) {
	for _, d := range snap.Descriptors {
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
	s.lookup = func(id string) (*policy.Descriptor, bool) {
		d, ok := s.descs[id]
		return d, ok
	}
}

// loadEntities indexes the stacks, environments, accounts and users.
func (s *orgState) loadEntities(snap *gatehouse.Snapshot) {
	s.stackList = make([]StackRef, 0, len(snap.Stacks))
	for _, st := range snap.Stacks {
		e := &gatehouse.Entity{Type: gatehouse.EntityStack, ID: st.ID, Tags: gatehouse.TagsFromMap(st.Tags)}
		s.entities[st.ID] = e
		s.stacks[st.Project+"/"+st.Name] = st.ID
		s.stackList = append(s.stackList, StackRef{ID: st.ID, Project: st.Project, Name: st.Name, Tags: st.Tags, Entity: e})
	}
	slices.SortFunc(s.stackList, func(a, b StackRef) int { return strings.Compare(a.ID, b.ID) })
	for _, e := range snap.Environments {
		s.entities[e.ID] = &gatehouse.Entity{Type: gatehouse.EntityEnvironment, ID: e.ID, Tags: gatehouse.TagsFromMap(e.Tags)}
		s.envs[e.Project+"/"+e.Name] = e.ID
	}
	for _, a := range snap.Accounts {
		s.entities[a.ID] = &gatehouse.Entity{Type: gatehouse.EntityInsightsAccount, ID: a.ID, Tags: gatehouse.TagsFromMap(a.Tags)}
		s.accounts[a.Name] = a.ID
	}
	for _, u := range snap.Users {
		s.users[u.ID] = u
	}
}

// directGrants turns the direct grants per user and per team into nodes.
func (s *orgState) directGrants(snap *gatehouse.Snapshot) (userDirect, teamDirect map[string][]policy.Node) {
	// Direct grants per user and per team, and creator grants, become one
	// synthetic role each: a Group of entity conditions composing the sets.
	userDirect, teamDirect = map[string][]policy.Node{}, map[string][]policy.Node{}
	for _, g := range snap.Grants {
		node := entityRule(g.Entity, g.SetID)
		if g.MaxOpenDuration > 0 {
			node = s.limitedRule(g)
		}
		if g.UserID != "" {
			userDirect[g.UserID] = append(userDirect[g.UserID], node)
		} else {
			teamDirect[g.TeamID] = append(teamDirect[g.TeamID], node)
		}
	}
	return userDirect, teamDirect
}

// creatorGrants adds each creator's admin grant on what they created.
func (s *orgState) creatorGrants(snap *gatehouse.Snapshot, userDirect map[string][]policy.Node) {
	// Creators administer what they created: a stack, an environment, an
	// Insights account.
	if admin, ok := s.builtin["stack-admin"]; ok {
		for _, st := range snap.Stacks {
			if st.CreatedBy != "" {
				userDirect[st.CreatedBy] = append(userDirect[st.CreatedBy], entityRule(gatehouse.EntityRef{Type: gatehouse.EntityStack, ID: st.ID}, admin))
			}
		}
	}
	if admin, ok := s.builtin["environment-admin"]; ok {
		for _, e := range snap.Environments {
			if e.CreatedBy != "" {
				userDirect[e.CreatedBy] = append(userDirect[e.CreatedBy], entityRule(gatehouse.EntityRef{Type: gatehouse.EntityEnvironment, ID: e.ID}, admin))
			}
		}
	}
	if admin, ok := s.builtin["insights-account-admin"]; ok {
		for _, a := range snap.Accounts {
			if a.CreatedBy != "" {
				userDirect[a.CreatedBy] = append(userDirect[a.CreatedBy], entityRule(gatehouse.EntityRef{Type: gatehouse.EntityInsightsAccount, ID: a.ID}, admin))
			}
		}
	}
}

// buildTeams compiles each team's grants and its tokens' grants.
func (s *orgState) buildTeams(snap *gatehouse.Snapshot, teamDirect map[string][]policy.Node) {
	memberRole := s.descs[s.builtin[catalog.RoleMember]]
	for _, t := range snap.Teams {
		ts := &teamState{team: t}
		for _, rid := range snap.TeamRoles[t.ID] {
			if d, ok := s.descs[rid]; ok {
				ts.roles = append(ts.roles, d)
			}
		}
		if nodes := teamDirect[t.ID]; len(nodes) > 0 {
			ts.roles = append(ts.roles, &policy.Descriptor{ID: "team-grants:" + t.ID, Name: fmt.Sprintf("entity grants of team %s", t.Name),
				Purpose: "role", Details: &policy.Group{Entries: nodes}})
		}
		ts.grants = s.union(ts.roles)
		ts.tokenRoles = ts.roles
		if memberRole != nil {
			ts.tokenRoles = append(slices.Clone(ts.roles), memberRole)
		}
		ts.tokenGrants = s.union(ts.tokenRoles)
		s.teams[t.ID] = ts
	}
}

// buildMembers compiles each member's grants: role, teams, direct grants.
func (s *orgState) buildMembers(snap *gatehouse.Snapshot, userDirect map[string][]policy.Node) {
	teamsOf := map[string][]string{}
	for _, tm := range snap.TeamMembers {
		teamsOf[tm.UserID] = append(teamsOf[tm.UserID], tm.TeamID)
	}
	for _, m := range snap.Members {
		ms := &memberState{membership: m, teams: teamsOf[m.UserID]}
		if !m.Suspended {
			if d, ok := s.descs[m.RoleID]; ok {
				ms.roles = append(ms.roles, d)
			}
			for _, tid := range teamsOf[m.UserID] {
				if ts := s.teams[tid]; ts != nil {
					ms.roles = append(ms.roles, ts.roles...)
				}
			}
			if nodes := userDirect[m.UserID]; len(nodes) > 0 {
				ms.roles = append(ms.roles, &policy.Descriptor{ID: "user-grants:" + m.UserID, Name: "direct grants and stacks created",
					Purpose: "role", Details: &policy.Group{Entries: nodes}})
			}
		}
		ms.grants = s.union(ms.roles)
		s.members[m.UserID] = ms
	}
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
// hold s.mu, or own s (during build).
func (s *orgState) compile(d *policy.Descriptor) *policy.Compiled {
	if c, ok := s.compiled[d.ID]; ok {
		return c
	}
	c := policy.Compile(d.Details, s.lookup)
	s.compiled[d.ID] = c
	s.fresh++
	return c
}

// orgTokenGrants returns what an organization or runner token holds,
// computing it on first use for tokens added after the build.
func (s *orgState) orgTokenGrants(t *gatehouse.Token) *tokenGrants {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tg := s.tokenGrants[t.ID]; tg != nil {
		return tg
	}
	tg := &tokenGrants{grants: policy.Union()}
	if r := s.roleOf(t); r != nil {
		tg = &tokenGrants{roles: []*policy.Descriptor{r}, grants: s.union([]*policy.Descriptor{r})}
	}
	s.tokenGrants[t.ID] = tg
	return tg
}

func (s *orgState) union(roles []*policy.Descriptor) *policy.Grants {
	cs := make([]*policy.Compiled, len(roles))
	for i, r := range roles {
		cs[i] = s.compile(r)
	}
	return policy.Union(cs...)
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
