package service

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"

	"github.com/pulumi/esc"
	"github.com/pulumi/esc/syntax"

	"github.com/gatehouse-iam/gatehouse"
)

// Opened evaluations are cached. ESC's evaluator re-evaluates every import
// on every evaluation (its EnvironmentLoader takes definitions, not
// values, and its values are unexported), which for an environment
// importing ten others of 100 values is most of an open's time. So the
// result of an open (not of a check) is kept, keyed by what it is a pure
// function of:
//   - the organization, the environment whose key opens the definition's
//     secrets ("" for a definition given in a request) and the definition's
//     own bytes (a stored version never changes; a hash of the bytes covers
//     a request's);
//   - the environment and version each import resolved to (kept in the
//     entry; an environment's id is never reused, its key never changes,
//     and a numbered version never changes).
//
// A hit is used only after every import has been resolved again (in one
// read transaction), in the order ESC loaded them, and decided for this
// caller outside it (the same lookup and decision as an evaluation's,
// with its refusals and limits): a new version, a moved tag, a
// retraction, a deletion (a new environment of the same name has another
// id) or a refusal each make it a miss, and a refused import is then
// reported by the fresh evaluation as always. An evaluation that
// loaded a provider (fn::open: stack outputs change, and are decided per
// caller), or that has errors, is never cached. The ExecContext is always
// empty, so no value depends on the caller.
//
// The values are kept in memory only, never stored. Bounded by the bytes
// of the definitions evaluated (an evaluation holds about 60 times its
// definitions' size: 1 MB for 1,000 values from 17 KB of YAML), 1 MiB of
// them, so about 64 MB: when full, the cache starts again empty.
var evaluations = &evalCache{max: 1 << 20}

type evalKey struct {
	orgID, scope string
	sum          [sha256.Size]byte
}

// importLoad is what one import of an evaluation resolved to, and the
// size of its definition.
type importLoad struct {
	name    string
	id      string
	version int
	size    int
}

type evalEntry struct {
	env   *esc.Environment
	diags syntax.Diagnostics
	loads []importLoad
	size  int // the bytes of the definitions evaluated
}

type evalCache struct {
	mu    sync.Mutex
	max   int // bytes of definitions
	bytes int
	m     map[evalKey]*evalEntry
}

func newEvalKey(orgID, scope, name string, def []byte) evalKey {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write(def)
	k := evalKey{orgID: orgID, scope: scope}
	h.Sum(k.sum[:0])
	return k
}

// errStale ends the check of a cached evaluation whose imports no longer
// resolve as they did.
var errStale = errors.New("stale")

func (c *evalCache) get(k evalKey) *evalEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[k]
}

func (c *evalCache) put(k evalKey, e *evalEntry) {
	if e.size > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || c.bytes+e.size > c.max {
		c.m, c.bytes = map[evalKey]*evalEntry{}, 0
	}
	if old, ok := c.m[k]; ok {
		c.bytes -= old.size
	}
	c.m[k] = e
	c.bytes += e.size
}

// cached is the cached evaluation of k for this caller, or nil: every
// import resolved and decided again, each to the environment and version
// it resolved to before.
func (s *Service) cached(ctx context.Context, k evalKey, orgID string, authorize ImportAuthorizer) *Evaluation {
	entry := evaluations.get(k)
	if entry == nil {
		return nil
	}
	if len(entry.loads) == 0 {
		return &Evaluation{Env: entry.env, Diagnostics: entry.diags}
	}
	ev := &evaluator{s: s, orgID: orgID, authorize: authorize}
	var lookups []lookup
	err := s.read(ctx, func(tx gatehouse.Tx) error {
		lookups = lookups[:0] // a retried read starts over
		for _, l := range entry.loads {
			found, err := ev.lookupTx(ctx, tx, l.name)
			if err != nil || found.err != nil || found.e.ID != l.id || found.version != l.version {
				return errStale
			}
			lookups = append(lookups, found)
		}
		return nil
	})
	if err != nil {
		return nil
	}
	for i, l := range lookups {
		limit, err := ev.decide(ctx, entry.loads[i].name, l)
		if err != nil {
			return nil // the evaluation reports the refusal
		}
		ev.resolved(l.e, l.version, limit)
	}
	return &Evaluation{Env: entry.env, Diagnostics: entry.diags, Imports: ev.imports, Limit: ev.limit}
}

// remember caches an open's evaluation of def, unless it may not be
// reused.
func remember(k evalKey, def []byte, out *Evaluation, ev *evaluator) {
	if ev.providers || out.Diagnostics.HasErrors() {
		return
	}
	size := len(def)
	for _, l := range ev.loads {
		size += l.size
	}
	evaluations.put(k, &evalEntry{env: out.Env, diags: out.Diagnostics, loads: ev.loads, size: size})
}
