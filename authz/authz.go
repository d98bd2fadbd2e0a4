// Package authz authenticates tokens and decides requests. It keeps, per
// organization, an in-memory snapshot compiled from the store: roles
// compiled by the policy engine, each principal's grants, entities with
// their tags, and tokens by digest. A change that affects access changes
// the organization's snapshot by what it changed (Refresh reads the change
// log: delta.go) before its response returns; other replicas apply the same
// change sets when announced or polled (Watch). A snapshot is built whole
// at its first load, or when the log cannot bring it forward.
package authz

import (
	"context"
	"crypto/subtle"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// Authorizer answers "who is this?" and "may they?".
type Authorizer struct {
	store gatehouse.Store
	now   func() time.Time

	// mu serializes installing snapshots and changing tokens in memory;
	// it is never held while a snapshot is read or compiled.
	mu sync.Mutex
	// orgLocks holds one *sync.Mutex per organization, serializing that
	// organization's rebuilds (so that a later read installs later)
	// without making organizations wait on each other.
	orgLocks sync.Map
	// tokenEpoch counts in-memory token changes (under mu): a rebuild
	// that read its snapshot before one installs only after reading again.
	tokenEpoch uint64
	orgs       atomic.Pointer[map[string]*orgState]
	// tokens indexes every loaded organization's tokens by digest; personal
	// tokens appear under each organization of their user, with the same
	// record.
	tokensMu sync.RWMutex
	tokens   map[[32]byte]*gatehouse.Token

	used *usedBatch
	// rebuilds counts snapshots built whole (reasons: by reason, as
	// Reasons lists them) and deltas those changed by a delta, for metrics
	// and tests.
	rebuilds atomic.Uint64
	reasons  [4]atomic.Uint64
	deltas   atomic.Uint64
	// buildHook, in tests, runs between reading a snapshot and building it.
	buildHook func(orgID string)
}

// New returns an Authorizer over store. Organizations load on first use.
func New(store gatehouse.Store, now func() time.Time) *Authorizer {
	if now == nil {
		now = time.Now
	}
	a := &Authorizer{store: store, now: now, used: newUsedBatch()}
	a.orgs.Store(&map[string]*orgState{})
	a.tokens = map[[32]byte]*gatehouse.Token{}
	return a
}

// LoadAll loads every organization: call it at start, so that tokens of any
// organization authenticate from the first request.
func (a *Authorizer) LoadAll(ctx context.Context) error {
	revs, err := a.revisions(ctx)
	if err != nil {
		return err
	}
	for id := range revs {
		if err := a.Refresh(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// revisions reads every organization's revision.
func (a *Authorizer) revisions(ctx context.Context) (map[string]int64, error) {
	revs := map[string]int64{}
	err := a.store.Read(ctx, func(tx gatehouse.Tx) error {
		next := ""
		for {
			orgs, n, err := tx.ListOrgs(ctx, gatehouse.ListOptions{Limit: gatehouse.MaxListLimit, Continuation: next})
			if err != nil {
				return err
			}
			for _, o := range orgs {
				revs[o.ID] = o.Revision
			}
			if next = n; next == "" {
				return nil
			}
		}
	})
	return revs, err
}

// Refresh brings an organization's snapshot up to date with the store. A
// loaded snapshot changes by what the writes since its revision changed
// (read from the change log, delta.go); one not loaded yet, or one the log
// cannot bring forward (a gap, a write that did not say what it changed),
// is built whole, and counted by reason (RebuildsByReason). The read and
// the compile run under the organization's own lock only; the
// process-wide lock is taken to swap the new state in. A token added or
// removed in memory while the store was read may be missing from what was
// read: then the refresh reads again, and after two such tries reads under
// the process-wide lock, as a token change cannot come between.
func (a *Authorizer) Refresh(ctx context.Context, orgID string) error {
	return a.refresh(ctx, orgID, nil, 0)
}

// RefreshTo is Refresh after a write that committed the organization's
// revision rev: a snapshot at rev or later holds the write already (a
// refresh for a write committed with it, in one group or just after,
// took it there), and then nothing is read.
func (a *Authorizer) RefreshTo(ctx context.Context, orgID string, rev int64) error {
	return a.refresh(ctx, orgID, nil, rev)
}

// refresh is Refresh, with what the next revision changed when an
// announcement said (hint, nil otherwise), and the revision the caller
// needs (0: the latest).
func (a *Authorizer) refresh(ctx context.Context, orgID string, hint *gatehouse.ChangeSet, rev int64) error {
	if rev > 0 && a.Revision(orgID) >= rev {
		return nil
	}
	l, _ := a.orgLocks.LoadOrStore(orgID, &sync.Mutex{})
	l.(*sync.Mutex).Lock()
	defer l.(*sync.Mutex).Unlock()
	if rev > 0 && a.Revision(orgID) >= rev {
		return nil // the refresh this one waited for took the snapshot there
	}
	for try := 0; ; try++ {
		locked := try == 2
		a.mu.Lock()
		epoch := a.tokenEpoch
		prev := (*a.orgs.Load())[orgID]
		if !locked {
			a.mu.Unlock()
		}
		u, err := a.update(ctx, orgID, prev, hint)
		if !locked {
			a.mu.Lock()
		}
		if err != nil {
			a.mu.Unlock()
			return err
		}
		if a.tokenEpoch != epoch || (*a.orgs.Load())[orgID] != prev {
			a.mu.Unlock()
			continue
		}
		switch {
		case u.current:
		case u.reason != "" || u.st == nil:
			a.install(orgID, u.st)
		default:
			a.installDelta(orgID, u)
		}
		a.mu.Unlock()
		a.count(u)
		return nil
	}
}

// update is what a refresh installs.
type update struct {
	st *orgState // nil: the organization is gone
	// reason is why st was built whole; "" for a delta.
	reason         string
	added, removed []*gatehouse.Token // a delta's tokens
	current        bool               // nothing changed: keep the state
}

// update reads what changed since prev (nil: not loaded) and makes the
// state after it.
func (a *Authorizer) update(ctx context.Context, orgID string, prev *orgState, hint *gatehouse.ChangeSet) (update, error) {
	if prev == nil {
		st, err := a.load(ctx, orgID, nil)
		return update{st: st, reason: ReasonLoad}, err
	}
	d, keys, reason, err := a.readDelta(ctx, prev, hint)
	switch {
	case gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND:
		return update{}, nil
	case err != nil:
		return update{}, fmt.Errorf("read the changes of organization %s: %w", orgID, err)
	case reason == "" && d == nil:
		return update{current: true}, nil
	}
	if reason == "" {
		if a.buildHook != nil {
			a.buildHook(orgID)
		}
		st, added, removed, why := applyDelta(prev, d, keys)
		if why == "" {
			return update{st: st, added: added, removed: removed}, nil
		}
		reason = why
	}
	st, err := a.load(ctx, orgID, prev)
	return update{st: st, reason: reason}, err
}

// readDelta reads the change sets logged after prev's revision (or takes
// hint, when it is the next one) and the records they name, in one
// transaction. It returns a nil delta when nothing changed, and a reason
// when the log cannot bring prev forward.
func (a *Authorizer) readDelta(ctx context.Context, prev *orgState, hint *gatehouse.ChangeSet) (*gatehouse.Delta, []gatehouse.ChangeKey, string, error) {
	from, orgID := prev.revision.Load(), prev.org.ID
	var (
		d      *gatehouse.Delta
		keys   []gatehouse.ChangeKey
		reason string
	)
	err := a.store.Read(ctx, func(tx gatehouse.Tx) error {
		for _, useHint := range []bool{true, false} {
			d, keys, reason = nil, nil, ""
			var sets []gatehouse.ChangeSet
			if useHint {
				if hint == nil || hint.Revision != from+1 {
					continue
				}
				sets = []gatehouse.ChangeSet{*hint}
			} else {
				var err error
				if sets, err = tx.ChangesSince(ctx, orgID, from); err != nil {
					return err
				}
			}
			for i, cs := range sets {
				switch {
				case cs.Revision != from+int64(i)+1:
					reason = ReasonGap
				case cs.All:
					reason = ReasonUnknown
				}
				if reason != "" {
					return nil
				}
				keys = append(keys, cs.Keys...)
			}
			var err error
			if d, err = tx.LoadDelta(ctx, orgID, request(keys)); err != nil {
				return err
			}
			switch rev := d.Org.Revision; {
			case rev == from+int64(len(sets)) && len(sets) == 0:
				d = nil // nothing changed
				return nil
			case rev == from+int64(len(sets)):
				return nil
			case !useHint:
				reason = ReasonGap // revisions that logged nothing
				return nil
			}
		}
		return nil
	})
	return d, keys, reason, err
}

// count counts an installed update.
func (a *Authorizer) count(u update) {
	switch {
	case u.current || u.st == nil:
	case u.reason != "":
		a.rebuilds.Add(1)
		a.reasons[slices.Index(Reasons, u.reason)].Add(1)
	default:
		a.deltas.Add(1)
	}
}

// load reads an organization's snapshot and builds its state (nil when
// the organization is gone).
func (a *Authorizer) load(ctx context.Context, orgID string, prev *orgState) (*orgState, error) {
	var snap *gatehouse.Snapshot
	err := a.store.Read(ctx, func(tx gatehouse.Tx) (err error) {
		snap, err = tx.LoadSnapshot(ctx, orgID)
		return err
	})
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load organization %s: %w", orgID, err)
	}
	if a.buildHook != nil {
		a.buildHook(orgID)
	}
	return build(snap, prev)
}

// Rebuilds reports how many times an organization's snapshot was built
// whole from the store.
func (a *Authorizer) Rebuilds() uint64 { return a.rebuilds.Load() }

// RebuildsByReason reports the rebuilds by reason (Reasons).
func (a *Authorizer) RebuildsByReason(reason string) uint64 {
	if i := slices.Index(Reasons, reason); i >= 0 {
		return a.reasons[i].Load()
	}
	return 0
}

// Deltas reports how many times a snapshot was changed by a delta.
func (a *Authorizer) Deltas() uint64 { return a.deltas.Load() }

// installDelta installs the state a delta made, with its tokens. Callers
// hold a.mu.
func (a *Authorizer) installDelta(orgID string, u update) {
	old := *a.orgs.Load()
	orgs := maps.Clone(old)
	orgs[orgID] = u.st
	a.tokensMu.Lock()
	defer a.tokensMu.Unlock()
	u.st.tokens.mu.Lock()
	for _, t := range u.removed {
		d := [32]byte(t.Digest)
		if _, ok := u.st.tokens.m[d]; !ok {
			continue
		}
		delete(u.st.tokens.m, d)
		// A revoked token goes at once; a personal token no longer
		// reaching this organization stays while another holds it.
		if t.Deleted || t.Kind != gatehouse.TokenPersonal || t.OrgID != "" || !heldElsewhere(orgs, orgID, d) {
			delete(a.tokens, d)
		}
	}
	for _, t := range u.added {
		d := [32]byte(t.Digest)
		u.st.tokens.m[d] = t
		a.tokens[d] = t
	}
	u.st.tokens.mu.Unlock()
	a.orgs.Store(&orgs)
}

// install replaces an organization's state and its tokens in the index.
// Callers hold a.mu.
func (a *Authorizer) install(orgID string, st *orgState) {
	old := *a.orgs.Load()
	orgs := make(map[string]*orgState, len(old)+1)
	for k, v := range old {
		orgs[k] = v
	}
	prev := orgs[orgID]
	if st == nil {
		delete(orgs, orgID)
	} else {
		orgs[orgID] = st
	}
	a.tokensMu.Lock()
	defer a.tokensMu.Unlock()
	if prev != nil && (st == nil || prev.tokens != st.tokens) {
		prev.tokens.mu.Lock()
		for d, t := range prev.tokens.m {
			// A personal token stays while another loaded organization of
			// its user still holds it, and every token the new state holds
			// stays (it is replaced below).
			if _, kept := stTokens(st)[d]; kept || t.Kind == gatehouse.TokenPersonal && heldElsewhere(orgs, orgID, d) {
				continue
			}
			delete(a.tokens, d)
		}
		prev.tokens.mu.Unlock()
	}
	if st != nil && (prev == nil || prev.tokens != st.tokens) {
		st.tokens.mu.Lock()
		for d, t := range st.tokens.m {
			a.tokens[d] = t
		}
		st.tokens.mu.Unlock()
	}
	a.orgs.Store(&orgs)
}

// AddToken makes a token just created usable at once, without rebuilding
// its organization's snapshot: a token changes nothing else about access.
func (a *Authorizer) AddToken(t *gatehouse.Token) {
	a.mu.Lock() // so that no rebuild read before the token's commit installs over it
	defer a.mu.Unlock()
	a.addTokenLocked(t)
}

func (a *Authorizer) addTokenLocked(t *gatehouse.Token) {
	a.tokenEpoch++
	d := [32]byte(t.Digest)
	for _, st := range a.holders(t) {
		st.tokens.mu.Lock()
		st.tokens.m[d] = t
		st.tokens.mu.Unlock()
	}
	a.tokensMu.Lock()
	a.tokens[d] = t
	a.tokensMu.Unlock()
}

// maxAhead bounds the token-only revisions an organization's snapshot keeps
// while waiting for one between (another writer's change, which a rebuild
// settles).
const maxAhead = 4096

// AddTokenAt is AddToken for tokens of one organization whose creation
// moved it to revision rev and changed nothing else. When the loaded
// snapshot is at rev-1 (no other change came between), the snapshot is
// marked current at rev, so that the change is not rebuilt from the store:
// otherwise every exchanged token would cost a rebuild of its organization.
// Revisions may arrive in any order. Tokens of no organization (personal
// tokens, which reach all of their user's) are only added.
func (a *Authorizer) AddTokenAt(rev int64, toks ...*gatehouse.Token) {
	if len(toks) == 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := (*a.orgs.Load())[toks[0].OrgID]
	if st == nil {
		for _, t := range toks {
			a.addTokenLocked(t)
		}
		return
	}
	if rev <= st.revision.Load() {
		return // a rebuild at rev or later holds the tokens (or their revocation)
	}
	for _, t := range toks {
		a.addTokenLocked(t)
	}
	// Exchanges commit together and report in any order: a revision
	// ahead of the next waits until the ones between it come in.
	if st.ahead == nil {
		st.ahead = map[int64]bool{}
	}
	if len(st.ahead) < maxAhead {
		st.ahead[rev] = true
	}
	for next := st.revision.Load() + 1; st.ahead[next]; next++ {
		delete(st.ahead, next)
		st.revision.Store(next)
	}
}

// RemoveToken revokes a token in memory at once.
func (a *Authorizer) RemoveToken(t *gatehouse.Token) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tokenEpoch++
	d := [32]byte(t.Digest)
	for _, st := range *a.orgs.Load() {
		st.tokens.mu.Lock()
		delete(st.tokens.m, d)
		st.tokens.mu.Unlock()
	}
	a.tokensMu.Lock()
	delete(a.tokens, d)
	a.tokensMu.Unlock()
}

// holders are the loaded organizations a token belongs to: its own, or
// every organization of the user of a personal token of no organization.
func (a *Authorizer) holders(t *gatehouse.Token) []*orgState {
	var out []*orgState
	for id, st := range *a.orgs.Load() {
		if t.Kind == gatehouse.TokenPersonal && t.OrgID == "" {
			if st.members.At(t.UserID) != nil {
				out = append(out, st)
			}
		} else if id == t.OrgID {
			out = append(out, st)
		}
	}
	return out
}

// stTokens is st's tokens, read by install under a.mu: the map may change
// only under a.mu too (AddToken, RemoveToken, a delta's install).
func stTokens(st *orgState) map[[32]byte]*gatehouse.Token {
	if st == nil {
		return nil
	}
	return st.tokens.m
}

func heldElsewhere(orgs map[string]*orgState, except string, d [32]byte) bool {
	for id, st := range orgs {
		if id != except {
			_, ok := st.tokens.get(d)
			if ok {
				return true
			}
		}
	}
	return false
}

// Revision returns the revision of the loaded snapshot of an organization,
// or -1 when it is not loaded.
func (a *Authorizer) Revision(orgID string) int64 {
	if st := (*a.orgs.Load())[orgID]; st != nil {
		return st.revision.Load()
	}
	return -1
}

// Count returns how many stacks or environments the organization's
// installed snapshot holds, and the revision it is current at; ok is false
// when no snapshot is installed or t is another type. It reads nothing from
// the store: a caller holding the organization's row lock whose revision
// equals rev knows the count is exact.
func (a *Authorizer) Count(orgID string, t gatehouse.EntityType) (n int, rev int64, ok bool) {
	st := (*a.orgs.Load())[orgID]
	if st == nil {
		return 0, 0, false
	}
	switch t {
	case gatehouse.EntityStack:
		n = st.stacks.Len()
	case gatehouse.EntityEnvironment:
		n = st.envs.Len()
	default:
		return 0, 0, false
	}
	return n, st.revision.Load(), true
}

func (a *Authorizer) state(ctx context.Context, orgID string) (*orgState, error) {
	if st := (*a.orgs.Load())[orgID]; st != nil {
		return st, nil
	}
	if err := a.Refresh(ctx, orgID); err != nil {
		return nil, err
	}
	if st := (*a.orgs.Load())[orgID]; st != nil {
		return st, nil
	}
	return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "organization not found")
}

// ErrUnauthenticated is the one answer to every failed authentication, so
// that callers learn nothing about which part failed.
var ErrUnauthenticated = gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "unauthorized: the request needs a valid access token (Authorization: token <value>)")

// Authenticate checks the Authorization header's token: it must be known,
// not revoked, not expired, and within its organization's maximum token
// lifetime. The returned error says why, for logs and metrics; callers show
// the caller only ErrUnauthenticated.
func (a *Authorizer) Authenticate(header string) (*gatehouse.Identity, error) {
	value, ok := tokenFromHeader(header)
	if !ok {
		return nil, ErrNoToken
	}
	return a.AuthenticateDigest(gatehouse.TokenDigest(value))
}

// AuthenticateDigest authenticates a token by its digest, as Authenticate
// does by its value: requests made with an update's lease act for the token
// that started the update, which must still be valid.
func (a *Authorizer) AuthenticateDigest(d []byte) (*gatehouse.Identity, error) {
	id, err := a.verifyDigest(d)
	if err == nil {
		a.used.mark(id.Token.ID, a.now())
	}
	return id, err
}

// Verify checks a token as Authenticate does without recording its use:
// for a token that someone else presents to ask about it (authz/check),
// which is not a use of the token.
func (a *Authorizer) Verify(header string) (*gatehouse.Identity, error) {
	value, ok := tokenFromHeader(header)
	if !ok {
		return nil, ErrNoToken
	}
	return a.verifyDigest(gatehouse.TokenDigest(value))
}

func (a *Authorizer) verifyDigest(d []byte) (*gatehouse.Identity, error) {
	if len(d) != 32 {
		return nil, ErrUnknownToken
	}
	digest := [32]byte(d)
	a.tokensMu.RLock()
	t := a.tokens[digest]
	a.tokensMu.RUnlock()
	if t == nil || subtle.ConstantTimeCompare(t.Digest, digest[:]) != 1 {
		return nil, ErrUnknownToken
	}
	if t.Deleted {
		return nil, ErrRevoked
	}
	now := a.now()
	if t.Expired(now) {
		return nil, ErrExpired
	}
	id := &gatehouse.Identity{Token: t}
	orgs := *a.orgs.Load()
	switch {
	case t.Kind == gatehouse.TokenPersonal && t.OrgID != "":
		// Bound to the organization that minted it: the user must be a
		// member there, and nowhere else counts.
		st := orgs[t.OrgID]
		if st == nil || st.members.At(t.UserID) == nil {
			return nil, ErrNotMember
		}
		// A membership newer than the token is a later one: removing the
		// user ended the token for good, and adding them back does not
		// revive it.
		if m := st.members.At(t.UserID).membership; m != nil && m.Created.After(t.Created) {
			return nil, ErrNotMember
		}
		if !gatehouse.TokenLifetimeOK(t, st.org.Settings.MaxTokenLifetime) {
			return nil, ErrLifetime
		}
		id.User = st.users.At(t.UserID)
	case t.Kind == gatehouse.TokenPersonal:
		// The user, and the lifetime cap of every organization the token
		// reaches, come from the loaded organizations.
		for _, st := range orgs {
			if m := st.members.At(t.UserID); m != nil {
				if id.User == nil {
					id.User = st.users.At(t.UserID)
				}
			}
		}
		if id.User == nil {
			return nil, ErrNoOrg
		}
	default:
		st := orgs[t.OrgID]
		if st == nil {
			return nil, ErrUnknownOrg
		}
		if !gatehouse.TokenLifetimeOK(t, st.org.Settings.MaxTokenLifetime) {
			return nil, ErrLifetime
		}
	}
	return id, nil
}

func tokenFromHeader(h string) (string, bool) {
	scheme, value, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok {
		return "", false
	}
	switch strings.ToLower(scheme) {
	case "token", "bearer":
	default:
		return "", false
	}
	value = strings.TrimSpace(value)
	return value, value != ""
}

// Org returns the loaded organization by name, or ENOTFOUND.
func (a *Authorizer) Org(ctx context.Context, name string) (*gatehouse.Organization, error) {
	for _, st := range *a.orgs.Load() {
		if st.org.Name == name {
			return st.org, nil
		}
	}
	var org *gatehouse.Organization
	err := a.store.Read(ctx, func(tx gatehouse.Tx) (err error) {
		org, err = tx.GetOrgByName(ctx, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	if _, err := a.state(ctx, org.ID); err != nil {
		return nil, err
	}
	return org, nil
}

// principal returns the roles and grants the identity holds in st, or ok
// false when it has none there (not a member, another organization's token).
func (st *orgState) principal(id *gatehouse.Identity) (roles []*policy.Descriptor, grants *policy.Grants, ok bool) {
	t := id.Token
	if t.BoundElsewhere(st.org.ID) {
		return nil, nil, false // another organization's token, whatever its kind
	}
	switch t.Kind {
	case gatehouse.TokenPersonal:
		m := st.members.At(t.UserID)
		if m == nil || m.membership.Suspended {
			return nil, nil, false
		}
		if !gatehouse.TokenLifetimeOK(t, st.org.Settings.MaxTokenLifetime) {
			return nil, nil, false
		}
		return m.roles, m.grants, true
	case gatehouse.TokenTeam:
		if t.OrgID != st.org.ID {
			return nil, nil, false
		}
		ts := st.teams[t.TeamID]
		if ts == nil {
			return nil, nil, false
		}
		return ts.tokenRoles, ts.tokenGrants, true
	default:
		if t.OrgID != st.org.ID {
			return nil, nil, false
		}
		tg := st.orgTokenGrants(t)
		return tg.roles, tg.grants, true
	}
}

// Member reports whether the identity belongs to the organization: a live
// membership for personal tokens (and, for one bound to an organization,
// that organization), the organization's own tokens otherwise.
func (a *Authorizer) Member(ctx context.Context, id *gatehouse.Identity, orgID string) bool {
	st, err := a.state(ctx, orgID)
	if err != nil {
		return false
	}
	_, _, ok := st.principal(id)
	return ok
}

// Decide reports whether the identity may use scope sc on entity e of the
// organization. It does not allocate on the allow path.
func (a *Authorizer) Decide(ctx context.Context, id *gatehouse.Identity, orgID string, sc catalog.Scope, e *gatehouse.Entity) (bool, error) {
	st, err := a.state(ctx, orgID)
	if err != nil {
		return false, err
	}
	_, grants, ok := st.principal(id)
	if !ok {
		return false, nil
	}
	return grants.Decide(sc, e), nil
}

// Decision is the outcome of Authorize: whether the scope is allowed and,
// on a denial, what the caller may learn about it.
type Decision struct {
	Allowed bool
	// MayRead reports, on a denial, whether the caller may read the entity
	// (its type's read scope: stack:read, environment:read,
	// insights_account:read; true for the other types). A caller who may
	// not learns nothing about the entity, not even why.
	MayRead bool
	// Explanation says why the scope was denied: set only on a denial the
	// caller may read (nil otherwise, so that an allow is two booleans).
	Explanation *policy.Explanation
}

// Authorize decides scope sc for the identity on entity e of the
// organization, from the compiled grants, as Decide does. Only a denial
// does more: the read-scope probe and, when the caller may read the
// entity, policy.Explain's walk of the role trees. Like Decide it does not
// allocate on the allow path.
func (a *Authorizer) Authorize(ctx context.Context, id *gatehouse.Identity, orgID string, sc catalog.Scope, e *gatehouse.Entity) (Decision, error) {
	st, err := a.state(ctx, orgID)
	if err != nil {
		return Decision{}, err
	}
	roles, grants, member := st.principal(id)
	if member && grants.Decide(sc, e) {
		return Decision{Allowed: true}, nil
	}
	return st.denial(st.entityRoles(id, roles, e), grants, member, sc, e), nil
}

// entityRoles is roles as Explain and OpenLimit walk them on entity e: a
// member's with the creator's rule on e when they created it (rolesOn).
func (st *orgState) entityRoles(id *gatehouse.Identity, roles []*policy.Descriptor, e *gatehouse.Entity) []*policy.Descriptor {
	if id.Token.Kind == gatehouse.TokenPersonal {
		if ms := st.members.At(id.Token.UserID); ms != nil {
			return st.rolesOn(ms, e)
		}
	}
	return roles
}

// denial is Authorize's answer when sc is denied: a denial the caller may
// not read the entity of, or one with its explanation.
func (st *orgState) denial(roles []*policy.Descriptor, grants *policy.Grants, member bool, sc catalog.Scope, e *gatehouse.Entity) Decision {
	if read, ok := readScope(e.Type); ok && !(member && grants.Decide(read, e)) {
		return Decision{}
	}
	ex := notMember
	if member {
		ex = policy.Explain(roles, st.lookup, sc, e)
	}
	return Decision{MayRead: true, Explanation: &ex}
}

// notMember explains every denial of an identity that is no principal of
// the organization.
var notMember = policy.Explanation{Reason: "the caller is not a member of the organization"}

// readScope is the scope that reading an entity of type t needs, when its
// type has one: a caller without it is told the entity does not exist.
func readScope(t gatehouse.EntityType) (catalog.Scope, bool) {
	switch t {
	case gatehouse.EntityStack:
		return scopeStackRead, true
	case gatehouse.EntityEnvironment:
		return scopeEnvironmentRead, true
	case gatehouse.EntityInsightsAccount:
		return scopeAccountRead, true
	}
	return 0, false
}

var (
	scopeStackRead       = catalog.MustLookup("stack:read")
	scopeEnvironmentRead = catalog.MustLookup("environment:read")
	scopeAccountRead     = catalog.MustLookup("insights_account:read")
)

// Explain decides like Decide and says why.
func (a *Authorizer) Explain(ctx context.Context, id *gatehouse.Identity, orgID string, sc catalog.Scope, e *gatehouse.Entity) (policy.Explanation, error) {
	st, err := a.state(ctx, orgID)
	if err != nil {
		return policy.Explanation{}, err
	}
	roles, _, ok := st.principal(id)
	if !ok {
		return notMember, nil
	}
	return policy.Explain(st.entityRoles(id, roles, e), st.lookup, sc, e), nil
}

// OpenLimit returns how long the identity may keep entity e open under
// scope sc (environment:open): the largest maxOpenDuration among the grants
// that give it sc on e, or 0 when one of them has none. ok is false when no
// grant gives it sc on e. It walks the principal's role trees
// (policy.OpenLimit), once per open, off the Decide path.
func (a *Authorizer) OpenLimit(ctx context.Context, id *gatehouse.Identity, orgID string, sc catalog.Scope, e *gatehouse.Entity) (limit time.Duration, ok bool, err error) {
	st, err := a.state(ctx, orgID)
	if err != nil {
		return 0, false, err
	}
	roles, _, member := st.principal(id)
	if !member {
		return 0, false, nil
	}
	secs, ok := policy.OpenLimit(st.entityRoles(id, roles, e), st.lookup, sc, e)
	return time.Duration(secs) * time.Second, ok, nil
}

// Entity returns the organization entity or a named stack, environment or
// account, with its tags, from the snapshot. name is "project/stack",
// "project/environment" or the account name.
func (a *Authorizer) Entity(ctx context.Context, orgID string, t gatehouse.EntityType, name string) (*gatehouse.Entity, error) {
	st, err := a.state(ctx, orgID)
	if err != nil {
		return nil, err
	}
	var id string
	switch t {
	case gatehouse.EntityGlobal:
		return &gatehouse.Entity{Type: gatehouse.EntityGlobal, ID: orgID}, nil
	case gatehouse.EntityStack:
		id = st.stacks.At(name)
	case gatehouse.EntityEnvironment:
		id = st.envs.At(name)
	case gatehouse.EntityInsightsAccount:
		id = st.accounts.At(name)
	}
	if e := st.entities.At(id); e != nil {
		return e, nil
	}
	return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "%s %q not found", t, name)
}

// EntityByID returns an entity of the organization by id.
func (a *Authorizer) EntityByID(ctx context.Context, orgID, id string) (*gatehouse.Entity, error) {
	st, err := a.state(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if e := st.entities.At(strings.ToLower(id)); e != nil {
		return e, nil
	}
	return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "entity %q not found", id)
}

// TakeUsed returns and forgets the tokens used since the last call, with
// when: the server writes them to the store in batches, off the request
// path.
func (a *Authorizer) TakeUsed() map[string]time.Time { return a.used.take() }

// usedBatch collects last-used times.
type usedBatch struct {
	mu   sync.Mutex
	used map[string]time.Time
}

func newUsedBatch() *usedBatch { return &usedBatch{used: map[string]time.Time{}} }

func (b *usedBatch) mark(id string, at time.Time) {
	b.mu.Lock()
	if at.After(b.used[id]) {
		b.used[id] = at
	}
	b.mu.Unlock()
}

func (b *usedBatch) take() map[string]time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.used
	b.used = map[string]time.Time{}
	return out
}

// Descriptor returns a descriptor record from the organization's snapshot,
// which is as current as any decision: reads of roles need no database
// round trip.
func (a *Authorizer) Descriptor(ctx context.Context, orgID, id string) (*gatehouse.Descriptor, error) {
	st, err := a.state(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if d := st.records[id]; d != nil {
		return d, nil
	}
	return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "descriptor not found")
}

// StackRef is a stack as the snapshot knows it.
type StackRef struct {
	ID, Project, Name string
	Tags              map[string]string
	Entity            *gatehouse.Entity
}

// VisibleStacks lists, in id order, up to limit of the organization's
// stacks after the id after that match and on which the identity holds
// scope sc, and the id to continue after ("" at the end). It reads only
// the snapshot: deciding on 10,000 stacks takes a few milliseconds.
func (a *Authorizer) VisibleStacks(ctx context.Context, id *gatehouse.Identity, orgID string, sc catalog.Scope, after string, limit int, match func(*StackRef) bool) ([]StackRef, string, error) {
	st, err := a.state(ctx, orgID)
	if err != nil {
		return nil, "", err
	}
	_, grants, ok := st.principal(id)
	if !ok {
		return nil, "", nil
	}
	var out []StackRef
	for r := range st.stackList.After(after) {
		if limit > 0 && len(out) == limit {
			return out, out[len(out)-1].ID, nil // more follow
		}
		if (match == nil || match(r)) && grants.Decide(sc, r.Entity) {
			out = append(out, *r)
		}
	}
	return out, "", nil
}

// Holder is a principal that holds a scope on an entity.
type Holder struct {
	Kind string // "user", "team" or "token"
	ID   string
	Name string // the user's login, the team's or the token's name
}

// WhoCan answers the reverse question: which members, teams and
// organization tokens of the organization hold scope sc on entity e. It
// walks the snapshot's compiled grants in memory.
func (a *Authorizer) WhoCan(ctx context.Context, orgID string, sc catalog.Scope, e *gatehouse.Entity) ([]Holder, error) {
	st, err := a.state(ctx, orgID)
	if err != nil {
		return nil, err
	}
	var out []Holder
	for uid, m := range st.members.All() {
		if !m.membership.Suspended && m.grants.Decide(sc, e) {
			name := uid
			if u := st.users.At(uid); u != nil {
				name = u.Login
			}
			out = append(out, Holder{Kind: "user", ID: uid, Name: name})
		}
	}
	for tid, t := range st.teams {
		if t.grants.Decide(sc, e) {
			out = append(out, Holder{Kind: "team", ID: tid, Name: t.team.Name})
		}
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
		if st.orgTokenGrants(t).grants.Decide(sc, e) {
			out = append(out, Holder{Kind: "token", ID: t.ID, Name: t.Name})
		}
	}
	slices.SortFunc(out, func(x, y Holder) int {
		if c := strings.Compare(x.Kind, y.Kind); c != 0 {
			return c
		}
		return strings.Compare(x.Name, y.Name)
	})
	return out, nil
}
