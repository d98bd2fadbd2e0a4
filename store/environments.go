package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

const envCols = "id, org_id, project, name, tags, created_by, version, created, modified, deletion_protected FROM environments"

func scanEnv(s scanner) (*gatehouse.Environment, error) {
	e := &gatehouse.Environment{}
	var tags string
	var created, modified int64
	if err := s.Scan(&e.ID, &e.OrgID, &e.Project, &e.Name, &tags, &e.CreatedBy, &e.Version, &created, &modified, &e.DeletionProtected); err != nil {
		return nil, err
	}
	var err error
	e.Tags, err = parseTags(tags)
	e.Created, e.Modified = fromUS(created), fromUS(modified)
	return e, err
}

func (t *tx) CreateEnvironment(ctx context.Context, e *gatehouse.Environment, definition []byte) error {
	if e.ID == "" {
		e.ID = gatehouse.NewID()
	}
	tags, err := tagsText(e.Tags)
	if err != nil {
		return err
	}
	e.Created, e.Version = t.stamp(), 1
	e.Modified = e.Created
	_, err = t.exec(ctx, opWrite, "INSERT INTO environments (id, org_id, project, name, tags, created_by, version, created, modified, deletion_protected) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		e.ID, e.OrgID, e.Project, e.Name, tags, e.CreatedBy, e.Version, us(e.Created), us(e.Modified), e.DeletionProtected)
	if err != nil {
		return invalidAs(conflictAs(err, "environment %s/%s already exists", e.Project, e.Name), "organization %q does not exist", e.OrgID)
	}
	if definition == nil {
		definition = []byte{}
	}
	if _, err := t.exec(ctx, opWrite, "INSERT INTO environment_versions (environment_id, version, definition, created_by, created) VALUES (?, ?, ?, ?, ?)",
		e.ID, 1, definition, e.CreatedBy, us(e.Created)); err != nil {
		return err
	}
	return t.bump(ctx, e.OrgID, key(gatehouse.ChangeEnvironment, e.ID))
}

func (t *tx) GetEnvironment(ctx context.Context, orgID, project, name string) (*gatehouse.Environment, error) {
	return get(ctx, t, "environment", scanEnv, "SELECT "+envCols+" WHERE org_id = ? AND project = ? AND name = ?", orgID, project, name)
}

func (t *tx) GetEnvironmentByID(ctx context.Context, id string) (*gatehouse.Environment, error) {
	return get(ctx, t, "environment", scanEnv, "SELECT "+envCols+" WHERE id = ?", id)
}

func (t *tx) ListEnvironments(ctx context.Context, orgID string, opts gatehouse.ListOptions) ([]*gatehouse.Environment, string, error) {
	return page[*gatehouse.Environment]{
		from: envCols, where: "org_id = ?", args: []any{orgID}, keyCol: "org_id", scan: scanEnv,
		key: func(e *gatehouse.Environment) cursor { return cursor{Key: e.OrgID, ID: e.ID} },
	}.run(ctx, t, opts)
}

func (t *tx) UpdateEnvironment(ctx context.Context, e *gatehouse.Environment) error {
	tags, err := tagsText(e.Tags)
	if err != nil {
		return err
	}
	e.Modified = t.stamp()
	err = t.execOne(ctx, opWrite, "environment", "UPDATE environments SET project = ?, name = ?, tags = ?, modified = ?, deletion_protected = ? WHERE org_id = ? AND id = ?",
		e.Project, e.Name, tags, us(e.Modified), e.DeletionProtected, e.OrgID, e.ID)
	if err != nil {
		return conflictAs(err, "environment %s/%s already exists", e.Project, e.Name)
	}
	return t.bump(ctx, e.OrgID, key(gatehouse.ChangeEnvironment, e.ID))
}

func (t *tx) DeleteEnvironment(ctx context.Context, id string) error {
	return t.deleteEntity(ctx, "environment", "environments", id)
}

func (t *tx) PutEnvironmentVersion(ctx context.Context, envID string, expectVersion int, definition []byte, by string) (int, error) {
	now := t.stamp()
	res, err := t.exec(ctx, opWrite, "UPDATE environments SET version = version + 1, modified = ? WHERE id = ? AND version = ?", us(now), envID, expectVersion)
	if err != nil {
		return 0, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		e, err := t.GetEnvironmentByID(ctx, envID)
		if err != nil {
			return 0, err
		}
		return 0, gatehouse.Errorf(gatehouse.ECONFLICT, "environment %s/%s was changed meanwhile: it is at version %d, not %d", e.Project, e.Name, e.Version, expectVersion)
	}
	if definition == nil {
		definition = []byte{}
	}
	_, err = t.exec(ctx, opWrite, "INSERT INTO environment_versions (environment_id, version, definition, created_by, created) VALUES (?, ?, ?, ?, ?)",
		envID, expectVersion+1, definition, by, us(now))
	return expectVersion + 1, err
}

// retractCols are a version's retraction, read by scanVersion.
const retractCols = ", v.retracted, v.retracted_by, v.retract_reason, v.replacement"

// scanVersion scans a version's columns (its definition when withDef)
// followed by retractCols.
func scanVersion(withDef bool) func(s scanner) (*gatehouse.EnvironmentVersion, error) {
	return func(s scanner) (*gatehouse.EnvironmentVersion, error) {
		v := &gatehouse.EnvironmentVersion{}
		var created, retracted int64
		r := gatehouse.EnvironmentRetraction{}
		dest := []any{&v.EnvironmentID, &v.Version, &v.CreatedBy, &created, &retracted, &r.By, &r.Reason, &r.Replacement}
		if withDef {
			dest = append(dest, &v.Definition)
		}
		err := s.Scan(dest...)
		v.Created = fromUS(created)
		if retracted != 0 {
			r.At = fromUS(retracted)
			v.Retracted = &r
		}
		return v, err
	}
}

func (t *tx) GetEnvironmentVersion(ctx context.Context, envID string, version int) (*gatehouse.EnvironmentVersion, error) {
	const cols = "SELECT v.environment_id, v.version, v.created_by, v.created" + retractCols + ", v.definition FROM environment_versions v "
	if version == 0 {
		return get(ctx, t, "environment version", scanVersion(true), cols+"JOIN environments e ON e.id = v.environment_id AND e.version = v.version WHERE v.environment_id = ?", envID)
	}
	return get(ctx, t, "environment version", scanVersion(true), cols+"WHERE v.environment_id = ? AND v.version = ?", envID, version)
}

func (t *tx) ListEnvironmentVersions(ctx context.Context, envID string, opts gatehouse.ListOptions) ([]*gatehouse.EnvironmentVersion, string, error) {
	return page[*gatehouse.EnvironmentVersion]{
		from: "v.environment_id, v.version, v.created_by, v.created" + retractCols + " FROM environment_versions v", where: "v.environment_id = ?", args: []any{envID},
		keyCol: "v.version", idCol: "v.environment_id", numeric: true, desc: true,
		scan: scanVersion(false),
		key: func(v *gatehouse.EnvironmentVersion) cursor {
			return cursor{Num: int64(v.Version), ID: v.EnvironmentID}
		},
	}.run(ctx, t, opts)
}

func (t *tx) RetractEnvironmentVersion(ctx context.Context, envID string, version int, r gatehouse.EnvironmentRetraction) error {
	at := r.At
	if at.IsZero() {
		at = t.stamp()
	}
	err := t.execOne(ctx, opWrite, "environment version", "UPDATE environment_versions SET retracted = ?, retracted_by = ?, retract_reason = ?, replacement = ? WHERE environment_id = ? AND version = ? AND retracted = 0",
		us(at), r.By, r.Reason, r.Replacement, envID, version)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		if _, gerr := t.GetEnvironmentVersion(ctx, envID, version); gerr == nil {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "version %d is retracted already", version)
		}
	}
	return err
}

const revTagCols = "environment_id, name, version, edited_by, created, modified FROM environment_revision_tags"

func scanRevTag(s scanner) (*gatehouse.EnvironmentRevisionTag, error) {
	tag := &gatehouse.EnvironmentRevisionTag{}
	var created, modified int64
	err := s.Scan(&tag.EnvironmentID, &tag.Name, &tag.Version, &tag.EditedBy, &created, &modified)
	tag.Created, tag.Modified = fromUS(created), fromUS(modified)
	return tag, err
}

func (t *tx) PutEnvironmentRevisionTag(ctx context.Context, tag *gatehouse.EnvironmentRevisionTag, update bool) error {
	if _, err := t.GetEnvironmentVersion(ctx, tag.EnvironmentID, tag.Version); err != nil {
		return gatehouse.Reword(err, gatehouse.ENOTFOUND, "the environment has no version %d", tag.Version)
	}
	now := t.stamp()
	if update {
		tag.Modified = now
		return t.execOne(ctx, opWrite, "version tag", "UPDATE environment_revision_tags SET version = ?, edited_by = ?, modified = ? WHERE environment_id = ? AND name = ?",
			tag.Version, tag.EditedBy, us(now), tag.EnvironmentID, tag.Name)
	}
	tag.Created, tag.Modified = now, now
	_, err := t.exec(ctx, opWrite, "INSERT INTO environment_revision_tags (environment_id, name, version, edited_by, created, modified) VALUES (?, ?, ?, ?, ?, ?)",
		tag.EnvironmentID, tag.Name, tag.Version, tag.EditedBy, us(now), us(now))
	return conflictAs(err, "version tag %q already exists", tag.Name)
}

func (t *tx) GetEnvironmentRevisionTag(ctx context.Context, envID, name string) (*gatehouse.EnvironmentRevisionTag, error) {
	return get(ctx, t, "version tag", scanRevTag, "SELECT "+revTagCols+" WHERE environment_id = ? AND name = ?", envID, name)
}

func (t *tx) ListEnvironmentRevisionTags(ctx context.Context, envID string) ([]*gatehouse.EnvironmentRevisionTag, error) {
	return all(ctx, t, scanRevTag, "SELECT "+revTagCols+" WHERE environment_id = ? ORDER BY name", envID)
}

func (t *tx) DeleteEnvironmentRevisionTag(ctx context.Context, envID, name string) error {
	return t.execOne(ctx, opDelete, "version tag", "DELETE FROM environment_revision_tags WHERE environment_id = ? AND name = ?", envID, name)
}

func (t *tx) PutEnvironmentKey(ctx context.Context, envID string, wrapped []byte) error {
	if len(wrapped) == 0 {
		return gatehouse.Errorf(gatehouse.EINVALID, "an environment key must not be empty")
	}
	_, err := t.exec(ctx, opWrite, "INSERT INTO environment_keys (environment_id, wrapped, created) VALUES (?, ?, ?)", envID, wrapped, us(t.stamp()))
	return invalidAs(conflictAs(err, "the environment has a data key already"), "the environment does not exist")
}

func (t *tx) GetEnvironmentKey(ctx context.Context, envID string) ([]byte, error) {
	var wrapped []byte
	err := t.queryRow(ctx, "SELECT wrapped FROM environment_keys WHERE environment_id = ?", envID).Scan(&wrapped)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("environment key")
	}
	if err != nil {
		return nil, t.d.mapErr(err, opWrite)
	}
	return wrapped, nil
}

func (t *tx) CreateEnvironmentSession(ctx context.Context, s *gatehouse.EnvironmentSession) error {
	if len(s.Digest) != 32 || len(s.WrappedKey) == 0 || len(s.Sealed) == 0 {
		return gatehouse.Errorf(gatehouse.EINVALID, "an open session needs its digest, its wrapped key and its sealed values")
	}
	s.Created = t.stamp()
	_, err := t.exec(ctx, opWrite, "INSERT INTO environment_open_sessions (digest, org_id, token_id, wrapped_key, sealed, created, expires) VALUES (?, ?, ?, ?, ?, ?, ?)",
		s.Digest, s.OrgID, s.TokenID, s.WrappedKey, s.Sealed, us(s.Created), us(s.Expires))
	return invalidAs(conflictAs(err, "the open session exists already"), "organization %q does not exist", s.OrgID)
}

func (t *tx) GetEnvironmentSession(ctx context.Context, digest []byte) (*gatehouse.EnvironmentSession, error) {
	s := &gatehouse.EnvironmentSession{}
	var created, expires int64
	err := t.queryRow(ctx, "SELECT digest, org_id, token_id, wrapped_key, sealed, created, expires FROM environment_open_sessions WHERE digest = ?", digest).
		Scan(&s.Digest, &s.OrgID, &s.TokenID, &s.WrappedKey, &s.Sealed, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("open session")
	}
	if err != nil {
		return nil, t.d.mapErr(err, opWrite)
	}
	s.Created, s.Expires = fromUS(created), fromUS(expires)
	return s, nil
}

func (t *tx) PruneEnvironmentSessions(ctx context.Context, before time.Time) (int64, error) {
	res, err := t.exec(ctx, opDelete, "DELETE FROM environment_open_sessions WHERE expires < ?", us(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t *tx) PutStackEnvironmentImports(ctx context.Context, st *gatehouse.Stack, imports []gatehouse.StackEnvironmentImport) error {
	if _, err := t.exec(ctx, opDelete, "DELETE FROM stack_environment_imports WHERE stack_id = ?", st.ID); err != nil {
		return err
	}
	for i, imp := range imports {
		_, err := t.exec(ctx, opWrite, "INSERT INTO stack_environment_imports (stack_id, position, org_id, project, name, ref, stack_version) VALUES (?, ?, ?, ?, ?, ?, ?)",
			st.ID, i, st.OrgID, imp.Project, imp.Name, imp.Ref, imp.StackVersion)
		if err != nil {
			return invalidAs(err, "stack %q does not exist", st.ID)
		}
	}
	return nil
}

func (t *tx) ListStackEnvironmentImports(ctx context.Context, orgID, project, name string) ([]gatehouse.StackEnvironmentImport, error) {
	rows, err := t.query(ctx, "SELECT stack_id, project, name, ref, stack_version FROM stack_environment_imports WHERE org_id = ? AND project = ? AND name = ? ORDER BY stack_id, position",
		orgID, project, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []gatehouse.StackEnvironmentImport
	for rows.Next() {
		var imp gatehouse.StackEnvironmentImport
		if err := rows.Scan(&imp.StackID, &imp.Project, &imp.Name, &imp.Ref, &imp.StackVersion); err != nil {
			return nil, t.d.mapErr(err, opWrite)
		}
		out = append(out, imp)
	}
	return out, rows.Err()
}
