package service

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/esc"
	"github.com/pulumi/esc/eval"
	"github.com/pulumi/esc/syntax"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/state"
)

// Definitions are evaluated by ESC's own evaluator (github.com/pulumi/esc/
// eval): imports, interpolation, fn::secret and the other built-ins,
// schema checks and diagnostics with paths.
//
// Its API is used as is. Stored definitions keep their secrets sealed under
// the environment's key, in ESC's ciphertext envelope (state), and are
// handed to the evaluator sealed with that key as the Decrypter: it opens
// a secret only when it reveals it (not when checking without
// showSecrets). A definition given in a request (yaml/check, yaml/open)
// has no key: a ciphertext in it cannot be opened (a diagnostic).

// ImportAuthorizer decides, for the caller, whether it may open an
// environment reached through imports, and returns its maxOpenDuration
// there (0: none). A refusal's message is shown as the import's diagnostic.
type ImportAuthorizer func(ctx context.Context, e *gatehouse.Environment) (time.Duration, error)

// Evaluation is an evaluated definition: the result in ESC's shape, its
// diagnostics, the environments it imported (project/name@version) and
// the shortest maxOpenDuration on the way (0: none).
type Evaluation struct {
	Env         *esc.Environment
	Diagnostics syntax.Diagnostics
	Imports     []string
	Limit       time.Duration
}

// evaluator loads imported environments for ESC's evaluator, each
// authorized for the caller, and the providers Gatehouse serves
// (pulumi-stacks; any other is an unknown provider, a diagnostic).
type evaluator struct {
	s         *Service
	orgID     string
	authorize ImportAuthorizer
	imports   []string
	limit     time.Duration
	loads     []importLoad // what each import resolved to, in load order
	providers bool         // whether a provider was loaded (fn::open)
}

// LoadEnvironment implements eval.EnvironmentLoader: name is
// [project/]name[@version], the project "default" when none is given.
func (ev *evaluator) LoadEnvironment(ctx context.Context, name string) ([]byte, eval.Decrypter, error) {
	e, n, err := ev.resolve(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	def, dec, err := ev.s.storedDefinition(ctx, e, n)
	if err != nil {
		return nil, nil, err
	}
	ev.loads = append(ev.loads, importLoad{name: name, id: e.ID, version: n, size: len(def)})
	return def, dec, nil
}

// resolve finds the environment and version an import names, decided for
// the caller, and records it (resolved) among the evaluation's imports.
func (ev *evaluator) resolve(ctx context.Context, name string) (*gatehouse.Environment, int, error) {
	if ev.authorize == nil {
		return nil, 0, fmt.Errorf("environment %q: imports are not allowed here", name)
	}
	var l lookup
	err := ev.s.read(ctx, func(tx gatehouse.Tx) (err error) {
		l, err = ev.lookupTx(ctx, tx, name)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	limit, err := ev.decide(ctx, name, l)
	if err != nil {
		return nil, 0, err
	}
	ev.resolved(l.e, l.version, limit)
	return l.e, l.version, nil
}

// lookup is what an import names as read in the store: the environment
// and its version, or why the version cannot be opened (told only to a
// caller who may open the environment).
type lookup struct {
	e       *gatehouse.Environment
	version int
	err     error
}

// lookupTx reads what an import names. Its errors are the import's
// diagnostic, naming it. It decides nothing: the caller's decisions are
// made outside the transaction (decide).
func (ev *evaluator) lookupTx(ctx context.Context, tx gatehouse.Tx, name string) (lookup, error) {
	project, envName, version := importName(name)
	e, err := tx.GetEnvironment(ctx, ev.orgID, project, envName)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return lookup{}, fmt.Errorf("environment %q not found", name)
	}
	if err != nil {
		return lookup{}, err
	}
	n, err := resolveVersionTx(ctx, tx, e, version)
	if err == nil {
		n, err = openableTx(ctx, tx, e, n)
	}
	return lookup{e: e, version: n, err: err}, nil
}

// decide decides an import for the caller: its maxOpenDuration there, or
// the refusal, then why its version cannot be opened.
func (ev *evaluator) decide(ctx context.Context, name string, l lookup) (time.Duration, error) {
	if ev.authorize == nil {
		return 0, fmt.Errorf("environment %q: imports are not allowed here", name)
	}
	limit, err := ev.authorize(ctx, l.e)
	if err != nil {
		return 0, fmt.Errorf("import %q refused: %v", name, gatehouse.ErrorMessage(err))
	}
	if l.err != nil {
		return 0, fmt.Errorf("import %q: %v", name, gatehouse.ErrorMessage(l.err))
	}
	return limit, nil
}

// resolved records a resolved import: its version among the imports, its
// maxOpenDuration lowering the evaluation's limit.
func (ev *evaluator) resolved(e *gatehouse.Environment, n int, limit time.Duration) {
	if limit > 0 && (ev.limit == 0 || limit < ev.limit) {
		ev.limit = limit
	}
	ev.imports = append(ev.imports, e.Project+"/"+e.Name+"@"+strconv.Itoa(n))
}

// LoadProvider implements eval.ProviderLoader: pulumi-stacks, for the
// caller's StackAuthorizer in ctx.
func (ev *evaluator) LoadProvider(ctx context.Context, name string) (esc.Provider, error) {
	ev.providers = true
	if name == "pulumi-stacks" {
		a, _ := ctx.Value(stackAuthorizerKey{}).(StackAuthorizer)
		return &stacksProvider{s: ev.s, orgID: ev.orgID, authorize: a}, nil
	}
	return nil, fmt.Errorf("unknown provider %q", name)
}

// LoadRotator implements eval.ProviderLoader.
func (ev *evaluator) LoadRotator(ctx context.Context, name string) (esc.Rotator, error) {
	return nil, fmt.Errorf("unknown rotator %q", name)
}

// keyDecrypter opens an environment's secrets for the evaluator.
type keyDecrypter struct{ k gatehouse.DataKey }

func (d keyDecrypter) Decrypt(_ context.Context, ciphertext []byte) ([]byte, error) {
	return d.k.Decrypt(ciphertext)
}

// noDecrypter is the Decrypter of a definition given in a request.
type noDecrypter struct{}

func (noDecrypter) Decrypt(context.Context, []byte) ([]byte, error) {
	return nil, fmt.Errorf("a ciphertext in a definition sent with the request cannot be opened: send the secret as plaintext fn::secret")
}

// storedDefinition is a stored version's definition, its secrets sealed
// in ESC's envelope, with the environment's key to open them.
func (s *Service) storedDefinition(ctx context.Context, e *gatehouse.Environment, version int) ([]byte, eval.Decrypter, error) {
	k, err := s.envKey(ctx, e.ID)
	if err != nil {
		return nil, nil, err
	}
	if def, ok := definitions.get(e.ID, version); ok {
		return def, keyDecrypter{k}, nil
	}
	var v *gatehouse.EnvironmentVersion
	err = s.read(ctx, func(tx gatehouse.Tx) (err error) {
		v, err = tx.GetEnvironmentVersion(ctx, e.ID, version)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	def, err := state.Envelope(v.Definition)
	if err != nil {
		return nil, nil, gatehouse.Errorf(gatehouse.EINTERNAL, "%s", err.Error())
	}
	if version > 0 {
		definitions.put(e.ID, version, def)
	}
	return def, keyDecrypter{k}, nil
}

// definitions caches stored definitions (secrets still sealed, in ESC's
// envelope) by environment id and version: a numbered version never
// changes, and an id is never reused, so an entry never goes stale (a
// deleted environment's are unreachable: it is looked up by name first).
// Bounded: when full, it starts again empty.
var definitions = &defCache{max: 1024}

type defKey struct {
	id      string
	version int
}

type defCache struct {
	mu  sync.Mutex
	max int
	m   map[defKey][]byte
}

func (c *defCache) get(id string, version int) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	def, ok := c.m[defKey{id, version}]
	return def, ok
}

func (c *defCache) put(id string, version int, def []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= c.max {
		c.m = make(map[defKey][]byte, c.max)
	}
	c.m[defKey{id, version}] = def
}

// Evaluate evaluates a definition named name in an organization, its
// ciphertexts opened by dec (nil: none can be). check evaluates
// symbolically (no fn::open runs) and reveals secrets only when
// showSecrets is set; otherwise the definition is opened. Imports are
// loaded through authorize. Errors in the definition are diagnostics, not
// an error.
func (s *Service) Evaluate(ctx context.Context, orgID, name string, def []byte, dec eval.Decrypter, authorize ImportAuthorizer, check, showSecrets bool) (*Evaluation, error) {
	return s.evaluate(ctx, orgID, "", name, def, dec, authorize, check, showSecrets)
}

// evaluate is Evaluate, where scope is the environment whose key dec is
// ("": none). An open whose result can be told apart by its key alone (a
// stored definition, or one given in a request with no decrypter) goes
// through the cache of evaluations.
func (s *Service) evaluate(ctx context.Context, orgID, scope, name string, def []byte, dec eval.Decrypter, authorize ImportAuthorizer, check, showSecrets bool) (*Evaluation, error) {
	cacheable := !check && (scope != "" || dec == nil)
	var key evalKey
	if cacheable {
		key = newEvalKey(orgID, scope, name, def)
		if out := s.cached(ctx, key, orgID, authorize); out != nil {
			return out, nil
		}
	}
	if dec == nil {
		dec = noDecrypter{}
	}
	decl, diags, err := eval.LoadYAMLBytes(name, def)
	if err != nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "definition: %v", err)
	}
	out := &Evaluation{Diagnostics: diags}
	if diags.HasErrors() {
		return out, nil
	}
	ev := &evaluator{s: s, orgID: orgID, authorize: authorize}
	ec, err := esc.NewExecContext(map[string]esc.Value{})
	if err != nil {
		return nil, err
	}
	var more syntax.Diagnostics
	if check {
		out.Env, more = eval.CheckEnvironment(ctx, name, decl, dec, ev, ev, ec, showSecrets)
	} else {
		out.Env, more = eval.EvalEnvironment(ctx, name, decl, dec, ev, ev, ec)
	}
	out.Diagnostics.Extend(more...)
	if out.Env == nil { // an empty definition
		out.Env = &esc.Environment{Properties: map[string]esc.Value{}}
	}
	out.Imports, out.Limit = ev.imports, ev.limit
	if cacheable {
		remember(key, def, out, ev)
	}
	return out, nil
}

// EvaluateStored evaluates a stored version of an environment (0: the
// current one), opened or checked as Evaluate does.
func (s *Service) EvaluateStored(ctx context.Context, e *gatehouse.Environment, version int, authorize ImportAuthorizer, check bool) (*Evaluation, error) {
	def, dec, err := s.storedDefinition(ctx, e, version)
	if err != nil {
		return nil, err
	}
	return s.evaluate(ctx, e.OrgID, e.ID, e.Project+"/"+e.Name, def, dec, authorize, check, !check)
}

// Anonymous environments: a definition given in the request (what a stack's
// Pulumi.<stack>.yaml `environment:` becomes), evaluated for the caller and
// kept open for the session's time. Sessions are stored, so that any
// replica answers them: by the SHA-256 of the id (the id, a bearer of the
// values for the token that opened it, is never stored), the values
// sealed under a data key of the session's own wrapped by the master key
// (bound to the digest, so a key never opens another session's values).
// Expired sessions are pruned with each open.

// yamlSessionKeyID binds a session's data key to its digest.
func yamlSessionKeyID(digest []byte) string {
	return "environment-session/" + hex.EncodeToString(digest)
}

// OpenYAML evaluates a definition given by the caller (its imports
// authorized by authorize) and opens it for d (0: the default), capped by
// the shortest maxOpenDuration of its imports. Errors in the definition
// come back as diagnostics with no session.
func (s *Service) OpenYAML(ctx context.Context, orgID string, by *gatehouse.Identity, def []byte, d time.Duration, authorize ImportAuthorizer) (string, syntax.Diagnostics, error) {
	if d > MaxOpenDuration {
		return "", nil, gatehouse.Errorf(gatehouse.EINVALID, "duration: %v is over the limit of %v", d, MaxOpenDuration)
	}
	if s.Keys == nil {
		return "", nil, gatehouse.Errorf(gatehouse.EINTERNAL, "no master key is configured")
	}
	ev, err := s.Evaluate(ctx, orgID, "yaml", def, nil, authorize, false, true)
	if err != nil || ev.Diagnostics.HasErrors() {
		return "", ev.diagnostics(), err
	}
	if d, err = openDuration(&gatehouse.Environment{Project: "yaml", Name: "(anonymous)"}, d, ev.Limit); err != nil {
		return "", nil, err
	}
	values, err := json.Marshal(ev.Env)
	if err != nil {
		return "", nil, gatehouse.Errorf(gatehouse.EINTERNAL, "open session: %v", err)
	}
	id := gatehouse.NewID() + gatehouse.NewID()
	digest := gatehouse.TokenDigest(id)
	k, wrapped, err := s.Keys.NewStackKey(yamlSessionKeyID(digest))
	if err != nil {
		return "", nil, err
	}
	now := s.Now()
	sess := &gatehouse.EnvironmentSession{Digest: digest, OrgID: orgID, TokenID: by.Token.ID, WrappedKey: wrapped, Sealed: k.Encrypt(values), Expires: now.Add(d)}
	err = s.store.Write(ctx, func(tx gatehouse.Tx) error {
		if _, err := tx.PruneEnvironmentSessions(ctx, now); err != nil {
			return err
		}
		if err := tx.CreateEnvironmentSession(ctx, sess); err != nil {
			return err
		}
		return s.audit(ctx, tx, orgID, gatehouse.EventEnvOpened, "", map[string]any{"imports": ev.Imports, "duration": d.String(), "how": "yaml"},
			"opened an anonymous environment importing %s", strings.Join(ev.Imports, ", "))
	})
	if err != nil {
		return "", nil, err
	}
	return id, nil, nil
}

// OpenedYAML reads an anonymous session, for the token that opened it.
func (s *Service) OpenedYAML(ctx context.Context, orgID string, by *gatehouse.Identity, id string) (*esc.Environment, error) {
	notFound := gatehouse.Errorf(gatehouse.ENOTFOUND, "open session not found or expired")
	if s.Keys == nil {
		return nil, notFound
	}
	digest := gatehouse.TokenDigest(id)
	var sess *gatehouse.EnvironmentSession
	err := s.read(ctx, func(tx gatehouse.Tx) (err error) {
		sess, err = tx.GetEnvironmentSession(ctx, digest)
		return err
	})
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	if sess.OrgID != orgID || sess.TokenID != by.Token.ID || !s.Now().Before(sess.Expires) {
		return nil, notFound
	}
	k, err := s.Keys.OpenStackKey(yamlSessionKeyID(digest), sess.WrappedKey)
	if err != nil {
		return nil, gatehouse.Errorf(gatehouse.EINTERNAL, "open session: %v", err)
	}
	values, err := k.Decrypt(sess.Sealed)
	var env esc.Environment
	if err == nil {
		err = json.Unmarshal(values, &env)
	}
	if err != nil {
		return nil, gatehouse.Errorf(gatehouse.EINTERNAL, "open session: %v", err)
	}
	return &env, nil
}

// DiagnosticsError is a definition refused for the errors ESC finds in it.
type DiagnosticsError struct{ Diagnostics syntax.Diagnostics }

func (e *DiagnosticsError) Error() string { return e.Diagnostics.Error() }

// SyntaxDiagnostics are the errors ESC finds in a definition without
// evaluating it (YAML, the shape of imports and values, the built-ins'
// arguments): what an update refuses, as Pulumi does.
func SyntaxDiagnostics(name string, def []byte) syntax.Diagnostics {
	_, diags, err := eval.LoadYAMLBytes(name, def)
	if err != nil {
		diags = append(diags, syntax.Error(nil, err.Error(), ""))
	}
	if !diags.HasErrors() {
		return nil
	}
	return diags
}
