package service

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"maps"
	"strconv"
	"time"

	"github.com/pulumi/esc"
	"github.com/pulumi/esc/syntax"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/state"
)

// Environments (Pulumi ESC's model, without providers): a YAML definition
// kept in numbered versions, whose fn::secret values are sealed under the
// environment's own data key and opened only for a caller who may open it.

// MaxOpenDuration bounds how long an opened environment can be read.
const (
	DefaultOpenDuration = 2 * time.Hour
	MaxOpenDuration     = 24 * time.Hour
)

// CreateEnvironment creates an empty environment with its data key; a user
// who creates it administers it.
func (s *Service) CreateEnvironment(ctx context.Context, orgID string, by *gatehouse.Identity, project, name string) (*gatehouse.Environment, error) {
	e, _, wrapped, err := s.newEnvironment(orgID, by, project, name)
	if err != nil {
		return nil, err
	}
	err = s.write(ctx, orgID, func(tx gatehouse.Tx) error { return s.createEnvironmentTx(ctx, tx, e, wrapped) })
	if err != nil {
		return nil, err
	}
	return e, nil
}

// createEnvironmentTx is CreateEnvironment's core: the new environment
// (made by newEnvironment), stored and recorded.
func (s *Service) createEnvironmentTx(ctx context.Context, tx gatehouse.Tx, e *gatehouse.Environment, wrapped []byte) error {
	if err := s.storeEnvironment(ctx, tx, e, wrapped); err != nil {
		return err
	}
	return s.audit(ctx, tx, e.OrgID, gatehouse.EventEnvCreated, e.ID, nil, "created environment %s/%s", e.Project, e.Name)
}

// newEnvironment checks a new environment's names and makes its data key.
func (s *Service) newEnvironment(orgID string, by *gatehouse.Identity, project, name string) (*gatehouse.Environment, gatehouse.DataKey, []byte, error) {
	if err := checkStackName("project", project); err != nil {
		return nil, nil, nil, err
	}
	if err := checkStackName("name", name); err != nil {
		return nil, nil, nil, err
	}
	if s.Keys == nil {
		return nil, nil, nil, gatehouse.Errorf(gatehouse.EINTERNAL, "no master key is configured")
	}
	e := &gatehouse.Environment{ID: gatehouse.NewID(), OrgID: orgID, Project: project, Name: name}
	if by.User != nil {
		e.CreatedBy = by.User.ID
	}
	k, wrapped, err := s.Keys.NewStackKey(envKeyID(e.ID))
	return e, k, wrapped, err
}

// storeEnvironment stores a new environment (at version 1, empty) with
// its wrapped key, within the quota.
func (s *Service) storeEnvironment(ctx context.Context, tx gatehouse.Tx, e *gatehouse.Environment, wrapped []byte) error {
	if err := s.checkQuota(ctx, tx, e.OrgID, quotaEnvironments); err != nil {
		return err
	}
	if err := tx.CreateEnvironment(ctx, e, []byte{}); err != nil {
		return err
	}
	return tx.PutEnvironmentKey(ctx, e.ID, wrapped)
}

// envKeyID binds an environment's data key to it: a key wrapped for a
// stack never opens as an environment's, nor the reverse.
func envKeyID(id string) string { return "environment/" + id }

func (s *Service) envKey(ctx context.Context, envID string) (gatehouse.DataKey, error) {
	return s.openKey(ctx, envKeyID(envID), "environment", func(tx gatehouse.Tx) ([]byte, error) { return tx.GetEnvironmentKey(ctx, envID) }, nil)
}

// Environment returns an environment by project and name.
func (s *Service) Environment(ctx context.Context, orgID, project, name string) (e *gatehouse.Environment, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		e, err = tx.GetEnvironment(ctx, orgID, project, name)
		return err
	})
	return e, err
}

// Environments lists one page of an organization's environments that
// visible allows.
func (s *Service) Environments(ctx context.Context, orgID string, visible func(*gatehouse.Environment) bool, opts gatehouse.ListOptions) (out []*gatehouse.Environment, next string, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		out = nil // a retried read starts over (store.guard)
		page, n, err := tx.ListEnvironments(ctx, orgID, opts)
		next = n
		for _, e := range page {
			if visible(e) {
				out = append(out, e)
			}
		}
		return err
	})
	return out, next, err
}

// Definition returns a version of an environment's definition (0: the
// current one), its secrets sealed, or revealed when reveal is set (the
// caller may open the environment; the read is recorded).
func (s *Service) Definition(ctx context.Context, e *gatehouse.Environment, version int, reveal bool) ([]byte, int, error) {
	var v *gatehouse.EnvironmentVersion
	err := s.read(ctx, func(tx gatehouse.Tx) (err error) {
		v, err = tx.GetEnvironmentVersion(ctx, e.ID, version)
		return err
	})
	if err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return nil, 0, gatehouse.Errorf(gatehouse.ENOTFOUND, "environment %s/%s has no version %d", e.Project, e.Name, version)
		}
		return nil, 0, err
	}
	if !reveal {
		return v.Definition, v.Version, nil
	}
	k, err := s.envKey(ctx, e.ID)
	if err != nil {
		return nil, 0, err
	}
	def, err := state.RevealSecrets(v.Definition, k)
	if err != nil {
		return nil, 0, gatehouse.Errorf(gatehouse.EINTERNAL, "%s", err.Error())
	}
	err = s.store.Write(ctx, func(tx gatehouse.Tx) error {
		return s.audit(ctx, tx, e.OrgID, gatehouse.EventEnvOpened, e.ID, map[string]any{"version": v.Version, "how": "definition with secrets"},
			"read environment %s/%s with its secrets", e.Project, e.Name)
	})
	return def, v.Version, err
}

// UpdateDefinition stores a new version of the definition with its
// secrets sealed, if the environment is still at expectVersion (-1: any).
func (s *Service) UpdateDefinition(ctx context.Context, e *gatehouse.Environment, def []byte, expectVersion int, by *gatehouse.Identity) (int, error) {
	sealed, err := s.sealDefinition(ctx, e, def)
	if err != nil {
		return 0, err
	}
	var version int
	err = s.envWrite(ctx, e.OrgID, func(tx gatehouse.Tx) (err error) {
		version, err = s.updateDefinitionTx(ctx, tx, e, sealed, expectVersion, by)
		return err
	})
	return version, err
}

// sealDefinition seals a new definition's secrets under the environment's
// key, refusing one ESC cannot parse with its diagnostics.
func (s *Service) sealDefinition(ctx context.Context, e *gatehouse.Environment, def []byte) ([]byte, error) {
	k, err := s.envKey(ctx, e.ID)
	if err != nil {
		return nil, err
	}
	sealed, err := state.SealSecrets(def, k)
	if err != nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "%s", err.Error())
	}
	if diags := SyntaxDiagnostics(e.Project+"/"+e.Name, def); diags != nil {
		return nil, &DiagnosticsError{diags}
	}
	return sealed, nil
}

// updateDefinitionTx is UpdateDefinition's core: the sealed definition
// stored as the next version if the environment is at expectVersion (-1:
// any). It keeps no state between calls, since a closure may run twice
// (store.guard).
func (s *Service) updateDefinitionTx(ctx context.Context, tx gatehouse.Tx, e *gatehouse.Environment, sealed []byte, expectVersion int, by *gatehouse.Identity) (int, error) {
	cur, err := tx.GetEnvironmentByID(ctx, e.ID)
	if err != nil {
		return 0, err
	}
	expect := expectVersion
	if expect < 0 {
		expect = cur.Version
	}
	author := by.Actor()
	if by.User != nil {
		author = by.User.ID
	}
	version, err := tx.PutEnvironmentVersion(ctx, e.ID, expect, sealed, author)
	if err != nil {
		return 0, err
	}
	return version, s.audit(ctx, tx, e.OrgID, gatehouse.EventEnvUpdated, e.ID, map[string]int{"version": version},
		"changed environment %s/%s (version %d)", e.Project, e.Name, version)
}

// envWrite runs an environment's write with the organization's lock taken
// first, as every service write does, without refreshing the snapshot
// (definitions, versions and settings are not in it).
func (s *Service) envWrite(ctx context.Context, orgID string, fn func(tx gatehouse.Tx) error) error {
	return s.store.Write(ctx, func(tx gatehouse.Tx) error {
		if err := tx.LockOrg(ctx, orgID); err != nil {
			return err
		}
		return fn(tx)
	})
}

// DeleteEnvironment deletes an environment with its versions and key,
// unless its deletion protection is on.
func (s *Service) DeleteEnvironment(ctx context.Context, e *gatehouse.Environment) error {
	return s.write(ctx, e.OrgID, func(tx gatehouse.Tx) error { return s.deleteEnvironmentTx(ctx, tx, e) })
}

// deleteEnvironmentTx is DeleteEnvironment's core.
func (s *Service) deleteEnvironmentTx(ctx context.Context, tx gatehouse.Tx, e *gatehouse.Environment) error {
	cur, err := tx.GetEnvironmentByID(ctx, e.ID)
	if err != nil {
		return err
	}
	if cur.DeletionProtected {
		return gatehouse.Errorf(gatehouse.ECONFLICT, "environment %s/%s is protected from deletion: turn deletion-protected off first (pulumi env settings set %s/%s deletion-protected false)",
			e.Project, e.Name, e.Project, e.Name)
	}
	if err := tx.DeleteEnvironment(ctx, e.ID); err != nil {
		return err
	}
	s.forgetKey(envKeyID(e.ID))
	return s.audit(ctx, tx, e.OrgID, gatehouse.EventEnvDeleted, e.ID, nil, "deleted environment %s/%s", e.Project, e.Name)
}

// openSession is what an open session's id carries, sealed under the
// environment's key: which version, until when. Any replica can read it.
type openSession struct {
	Version int   `json:"v"`
	Expires int64 `json:"e"`
}

// OpenEnvironment opens a version of an environment (0: the current one;
// a retracted one opens its replacement) for a while (d; 0 asks for the default) and returns the session's id,
// which reads its values. The definition is evaluated now: its imports
// each go through authorize (for the caller), and errors come back as
// diagnostics with no session. limit is the caller's maxOpenDuration on
// the environment (0: none), lowered to the shortest one of its imports:
// a longer duration is refused with 403 naming it, and the default is
// capped to it, since the esc CLI always asks for its default (2h) and a
// refusal would leave a limited member unable to open at all.
func (s *Service) OpenEnvironment(ctx context.Context, e *gatehouse.Environment, version int, d, limit time.Duration, authorize ImportAuthorizer) (string, syntax.Diagnostics, error) {
	if d > MaxOpenDuration {
		return "", nil, gatehouse.Errorf(gatehouse.EINVALID, "duration: %v is over the limit of %v", d, MaxOpenDuration)
	}
	k, err := s.envKey(ctx, e.ID)
	if err != nil {
		return "", nil, err
	}
	cur, err := s.Environment(ctx, e.OrgID, e.Project, e.Name)
	if err != nil {
		return "", nil, err
	}
	if version > 0 {
		if version > cur.Version {
			return "", nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "environment %s/%s has no version %d", e.Project, e.Name, version)
		}
		cur.Version = version
	}
	if cur.Version, err = s.openable(ctx, e, cur.Version); err != nil {
		return "", nil, err
	}
	ev, err := s.EvaluateStored(ctx, e, cur.Version, authorize, false)
	if err != nil || ev.Diagnostics.HasErrors() {
		return "", ev.diagnostics(), err
	}
	if ev.Limit > 0 && (limit == 0 || ev.Limit < limit) {
		limit = ev.Limit
	}
	if d, err = openDuration(e, d, limit); err != nil {
		return "", nil, err
	}
	data, _ := json.Marshal(openSession{Version: cur.Version, Expires: s.Now().Add(d).Unix()})
	id := base64.RawURLEncoding.EncodeToString(k.Encrypt(data))
	err = s.store.Write(ctx, func(tx gatehouse.Tx) error {
		details := map[string]any{"version": cur.Version, "duration": d.String(), "imports": ev.Imports}
		if limit > 0 {
			details["maxOpenDuration"] = limit.String()
		}
		return s.audit(ctx, tx, e.OrgID, gatehouse.EventEnvOpened, e.ID, details,
			"opened environment %s/%s (version %d)", e.Project, e.Name, cur.Version)
	})
	return id, nil, err
}

// openDuration is how long an open lasts: d, or the default capped to
// limit; over limit is refused.
func openDuration(e *gatehouse.Environment, d, limit time.Duration) (time.Duration, error) {
	if d <= 0 {
		d = DefaultOpenDuration
		if limit > 0 && d > limit {
			d = limit
		}
	}
	if limit > 0 && d > limit {
		return 0, gatehouse.Errorf(gatehouse.EFORBIDDEN, "duration: %v is over your limit of %v on environment %s/%s (the largest maxOpenDuration of the grants that let you open it, or a shorter one of an import)",
			d, limit, e.Project, e.Name)
	}
	return d, nil
}

// diagnostics are an evaluation's, or none.
func (ev *Evaluation) diagnostics() syntax.Diagnostics {
	if ev == nil {
		return nil
	}
	return ev.Diagnostics
}

// OpenedValues reads an open session: the version's evaluation, secrets
// revealed, its imports authorized again for the caller.
func (s *Service) OpenedValues(ctx context.Context, e *gatehouse.Environment, id string, authorize ImportAuthorizer) (*esc.Environment, error) {
	k, err := s.envKey(ctx, e.ID)
	if err != nil {
		return nil, err
	}
	raw, err := base64.RawURLEncoding.DecodeString(id)
	notFound := gatehouse.Errorf(gatehouse.ENOTFOUND, "open session not found or expired")
	if err != nil {
		return nil, notFound
	}
	data, err := k.Decrypt(raw)
	var sess openSession
	if err != nil || json.Unmarshal(data, &sess) != nil || s.Now().Unix() >= sess.Expires {
		return nil, notFound
	}
	ev, err := s.EvaluateStored(ctx, e, sess.Version, authorize, false)
	if err != nil {
		return nil, err
	}
	if ev.Diagnostics.HasErrors() {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "environment %s/%s no longer evaluates: %s", e.Project, e.Name, ev.Diagnostics.Error())
	}
	return ev.Env, nil
}

// EnvironmentVersions lists an environment's versions, newest first.
func (s *Service) EnvironmentVersions(ctx context.Context, e *gatehouse.Environment, opts gatehouse.ListOptions) (vs []*gatehouse.EnvironmentVersion, next string, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		vs, next, err = tx.ListEnvironmentVersions(ctx, e.ID, opts)
		return err
	})
	return vs, next, err
}

// EnvironmentVersionsBefore lists at most count of an environment's
// versions numbered below before (0: no bound), newest first: the esc
// CLI's paging, which stops at an empty page.
func (s *Service) EnvironmentVersionsBefore(ctx context.Context, e *gatehouse.Environment, before, count int) ([]*gatehouse.EnvironmentVersion, error) {
	out := []*gatehouse.EnvironmentVersion{}
	opts := gatehouse.ListOptions{Limit: gatehouse.MaxListLimit}
	for len(out) < count {
		page, next, err := s.EnvironmentVersions(ctx, e, opts)
		if err != nil {
			return nil, err
		}
		for _, v := range page {
			if (before <= 0 || v.Version < before) && len(out) < count {
				out = append(out, v)
			}
		}
		if next == "" {
			break
		}
		opts.Continuation = next
	}
	return out, nil
}

// ResolveVersion names a version of an environment: "" or "latest" is
// the current one, a number is itself (if it exists), any other name a
// version tag.
func (s *Service) ResolveVersion(ctx context.Context, e *gatehouse.Environment, ref string) (int, error) {
	cur, err := s.Environment(ctx, e.OrgID, e.Project, e.Name)
	if err != nil {
		return 0, err
	}
	return s.resolveVersionOf(ctx, cur, ref)
}

// resolveVersionOf is ResolveVersion for e as just read (its current
// version).
func (s *Service) resolveVersionOf(ctx context.Context, e *gatehouse.Environment, ref string) (n int, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) (err error) {
		n, err = resolveVersionTx(ctx, tx, e, ref)
		return err
	})
	return n, err
}

// resolveVersionTx is resolveVersionOf in a transaction.
func resolveVersionTx(ctx context.Context, tx gatehouse.Tx, e *gatehouse.Environment, ref string) (int, error) {
	switch {
	case ref == "" || ref == LatestTag:
		return e.Version, nil
	case ref[0] >= '0' && ref[0] <= '9':
		n, err := strconv.Atoi(ref)
		if err != nil || n < 1 {
			return 0, gatehouse.Errorf(gatehouse.EINVALID, "version: %q is not a version number", ref)
		}
		if n > e.Version {
			return 0, gatehouse.Errorf(gatehouse.ENOTFOUND, "environment %s/%s has no version %d", e.Project, e.Name, n)
		}
		return n, nil
	}
	t, err := tx.GetEnvironmentRevisionTag(ctx, e.ID, ref)
	if err != nil {
		return 0, gatehouse.Reword(err, gatehouse.ENOTFOUND, "environment %s/%s has no version tag %q", e.Project, e.Name, ref)
	}
	return t.Version, nil
}

// ChangeEnvironmentTags applies a change to an environment's tags; adding
// one that exists is a conflict, as in ESC.
func (s *Service) ChangeEnvironmentTags(ctx context.Context, e *gatehouse.Environment, c TagUpdate) error {
	var changed bool
	err := s.envWrite(ctx, e.OrgID, func(tx gatehouse.Tx) (err error) {
		changed, err = s.changeEnvironmentTagsTx(ctx, tx, e, c)
		return err
	})
	if err != nil || !changed {
		return err
	}
	return s.az.Refresh(ctx, e.OrgID)
}

// changeEnvironmentTagsTx is ChangeEnvironmentTags' core; it says whether
// the tags changed (the snapshot needs a refresh only then).
func (s *Service) changeEnvironmentTagsTx(ctx context.Context, tx gatehouse.Tx, e *gatehouse.Environment, c TagUpdate) (bool, error) {
	cur, err := tx.GetEnvironmentByID(ctx, e.ID)
	if err != nil {
		return false, err
	}
	tags, ok, err := applyTags(cur.Tags, c, "", "", gatehouse.ECONFLICT)
	if err != nil || !ok {
		return false, err
	}
	if err := s.checkRetag(ctx, cur.OrgID, gatehouse.EntityEnvironment, cur.ID, cur.Tags, tags); err != nil {
		return false, err
	}
	before := cur.Tags
	cur.Tags = tags
	if err := tx.UpdateEnvironment(ctx, cur); err != nil {
		return false, err
	}
	return true, s.audit(ctx, tx, cur.OrgID, gatehouse.EventEnvTagsChanged, cur.ID, map[string]any{"before": before, "after": tags},
		"changed the tags of environment %s/%s", cur.Project, cur.Name)
}

// CloneOptions are what a clone keeps of its source (the esc CLI's
// clone flags).
type CloneOptions struct {
	Version         int  // the version to copy (0: the current one)
	History         bool // every version up to Version, in order, with its retraction
	EnvironmentTags bool // the environment's tags
	RevisionTags    bool // the version tags (needs History: the versions keep their numbers)
	// Access makes the descriptors naming the source by identity name the
	// clone too (preserveAccess; the caller must be allowed to change
	// roles: the API requires role:update).
	Access bool
}

// clonedVersion is a version a clone copies: its definition (secrets
// revealed) and its retraction, if History keeps it.
type clonedVersion struct {
	def       []byte
	retracted *gatehouse.EnvironmentRetraction
}

// CloneEnvironment creates project/name from e, as opts says: each
// version copied opened under e's key and sealed under the clone's own.
// The clone's creator administers it, as with CreateEnvironment. The
// clone, its versions and tags are written in one transaction: a failure
// leaves no half clone.
func (s *Service) CloneEnvironment(ctx context.Context, e *gatehouse.Environment, by *gatehouse.Identity, project, name string, opts CloneOptions) (*gatehouse.Environment, error) {
	if opts.RevisionTags && !opts.History {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "preserveRevisionTags: version tags name versions, which a clone keeps only with preserveHistory")
	}
	versions, err := s.cloneSource(ctx, e, opts.Version, opts.History)
	if err != nil {
		return nil, err
	}
	var tags []*gatehouse.EnvironmentRevisionTag
	if opts.RevisionTags {
		if tags, err = s.RevisionTags(ctx, e); err != nil {
			return nil, err
		}
	}
	c, k, wrapped, err := s.newEnvironment(e.OrgID, by, project, name)
	if err != nil {
		return nil, err
	}
	sealed := make([][]byte, len(versions))
	for i, v := range versions {
		if sealed[i], err = state.SealSecrets(v.def, k); err != nil {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "%s", err.Error())
		}
	}
	if opts.EnvironmentTags && len(e.Tags) > 0 {
		c.Tags = maps.Clone(e.Tags)
	}
	err = s.write(ctx, e.OrgID, func(tx gatehouse.Tx) error {
		if err := s.cloneEnvironmentTx(ctx, tx, e, c, wrapped, sealed, by); err != nil {
			return err
		}
		if err := cloneHistoryTx(ctx, tx, c, versions, tags); err != nil {
			return err
		}
		if opts.Access {
			return s.preserveAccessTx(ctx, tx, e, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.Version = 1 + len(sealed)
	return c, nil
}

// cloneEnvironmentTx is CloneEnvironment's core: c (made by newEnvironment,
// with e's tags when asked) stored with its key and sealed versions, and
// one creation event naming the source.
func (s *Service) cloneEnvironmentTx(ctx context.Context, tx gatehouse.Tx, e, c *gatehouse.Environment, wrapped []byte, sealed [][]byte, by *gatehouse.Identity) error {
	if err := s.checkRetag(ctx, e.OrgID, gatehouse.EntityEnvironment, c.ID, nil, c.Tags); err != nil {
		return err
	}
	if err := s.storeEnvironment(ctx, tx, c, wrapped); err != nil {
		return err
	}
	for i, def := range sealed {
		if _, err := tx.PutEnvironmentVersion(ctx, c.ID, 1+i, def, author(by)); err != nil {
			return err
		}
	}
	return s.audit(ctx, tx, e.OrgID, gatehouse.EventEnvCreated, c.ID, map[string]any{"clonedFrom": e.Project + "/" + e.Name, "versions": 1 + len(sealed), "tags": c.Tags},
		"created environment %s/%s, a clone of %s/%s", c.Project, c.Name, e.Project, e.Name)
}

// cloneHistoryTx gives a clone with history its source's retractions
// (a retracted version stays retracted: it may be why it was) and version
// tags, on the versions of the same numbers; a tag of a version past the
// clone's last is left out, as is latest (the clone's own).
func cloneHistoryTx(ctx context.Context, tx gatehouse.Tx, c *gatehouse.Environment, versions []clonedVersion, tags []*gatehouse.EnvironmentRevisionTag) error {
	last := 1 + len(versions)
	for i, v := range versions {
		if v.retracted != nil && 2+i < last {
			if err := tx.RetractEnvironmentVersion(ctx, c.ID, 2+i, *v.retracted); err != nil {
				return err
			}
		}
	}
	for _, t := range tags {
		if t.Name == LatestTag || t.Version > last {
			continue
		}
		tag := &gatehouse.EnvironmentRevisionTag{EnvironmentID: c.ID, Name: t.Name, Version: t.Version, EditedBy: t.EditedBy}
		if err := tx.PutEnvironmentRevisionTag(ctx, tag, false); err != nil {
			return err
		}
	}
	return nil
}

// cloneSource is what a clone copies: the versions, secrets revealed,
// oldest first (version 1, the empty one every environment starts with,
// is the clone's own).
func (s *Service) cloneSource(ctx context.Context, e *gatehouse.Environment, version int, history bool) ([]clonedVersion, error) {
	cur, err := s.Environment(ctx, e.OrgID, e.Project, e.Name)
	if err != nil {
		return nil, err
	}
	from, to := cur.Version, cur.Version
	if version > 0 {
		if version > cur.Version {
			return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "environment %s/%s has no version %d", e.Project, e.Name, version)
		}
		from, to = version, version
	}
	if history {
		from = 2
	}
	var out []clonedVersion
	for n := max(from, 2); n <= to; n++ {
		def, _, err := s.Definition(ctx, e, n, true)
		if err != nil {
			return nil, err
		}
		v := clonedVersion{def: def}
		if history {
			if v.retracted, err = s.retraction(ctx, e, n); err != nil {
				return nil, err
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// retraction is a version's retraction, or nil.
func (s *Service) retraction(ctx context.Context, e *gatehouse.Environment, n int) (*gatehouse.EnvironmentRetraction, error) {
	var v *gatehouse.EnvironmentVersion
	err := s.read(ctx, func(tx gatehouse.Tx) (err error) {
		v, err = tx.GetEnvironmentVersion(ctx, e.ID, n)
		return err
	})
	if err != nil {
		return nil, err
	}
	return v.Retracted, nil
}

// SetDeletionProtection turns an environment's deletion protection on or
// off (each request recorded, a change or not); it returns the
// environment as it is now.
func (s *Service) SetDeletionProtection(ctx context.Context, e *gatehouse.Environment, on bool) (*gatehouse.Environment, error) {
	var cur *gatehouse.Environment
	err := s.envWrite(ctx, e.OrgID, func(tx gatehouse.Tx) (err error) {
		cur, err = s.setDeletionProtectionTx(ctx, tx, e, on)
		return err
	})
	if err != nil {
		return nil, err
	}
	return cur, nil
}

// setDeletionProtectionTx is SetDeletionProtection's core.
func (s *Service) setDeletionProtectionTx(ctx context.Context, tx gatehouse.Tx, e *gatehouse.Environment, on bool) (*gatehouse.Environment, error) {
	cur, err := tx.GetEnvironmentByID(ctx, e.ID)
	if err != nil {
		return nil, err
	}
	cur.DeletionProtected = on
	if err := tx.UpdateEnvironment(ctx, cur); err != nil {
		return nil, err
	}
	return cur, s.audit(ctx, tx, cur.OrgID, gatehouse.EventEnvUpdated, cur.ID, map[string]bool{"deletionProtected": on},
		"set deletion protection of environment %s/%s %v", cur.Project, cur.Name, on)
}

// EnvironmentOwner is the user who created an environment, or nil when a
// token with no user did, or that user is gone.
func (s *Service) EnvironmentOwner(ctx context.Context, e *gatehouse.Environment) (*gatehouse.User, error) {
	if e.CreatedBy == "" {
		return nil, nil
	}
	var u *gatehouse.User
	err := s.read(ctx, func(tx gatehouse.Tx) (err error) {
		u, err = tx.GetUser(ctx, e.CreatedBy)
		return err
	})
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return nil, nil
	}
	return u, err
}
