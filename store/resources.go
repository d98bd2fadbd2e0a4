package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

const stackCols = "id, org_id, project, name, tags, created_by, version, lease_update, lease_expiry, created, modified FROM stacks"

func scanStack(s scanner) (*gatehouse.Stack, error) {
	st := &gatehouse.Stack{}
	var tags string
	var lease, created, modified int64
	if err := s.Scan(&st.ID, &st.OrgID, &st.Project, &st.Name, &tags, &st.CreatedBy, &st.Version, &st.ActiveUpdate, &lease, &created, &modified); err != nil {
		return nil, err
	}
	var err error
	st.Tags, err = parseTags(tags)
	st.LeaseExpiry, st.Created, st.Modified = fromUS(lease), fromUS(created), fromUS(modified)
	return st, err
}

func (t *tx) CreateStack(ctx context.Context, s *gatehouse.Stack) error {
	if s.ID == "" {
		s.ID = gatehouse.NewID()
	}
	tags, err := tagsText(s.Tags)
	if err != nil {
		return err
	}
	s.Created, s.Version = t.stamp(), 0
	s.Modified = s.Created
	_, err = t.exec(ctx, opWrite, "INSERT INTO stacks (id, org_id, project, name, tags, created_by, version, created, modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		s.ID, s.OrgID, s.Project, s.Name, tags, s.CreatedBy, s.Version, us(s.Created), us(s.Modified))
	if err != nil {
		return invalidAs(conflictAs(err, "stack %s/%s already exists", s.Project, s.Name), "organization %q does not exist", s.OrgID)
	}
	return t.bump(ctx, s.OrgID)
}

func (t *tx) GetStack(ctx context.Context, orgID, project, name string) (*gatehouse.Stack, error) {
	return get(ctx, t, "stack", scanStack, "SELECT "+stackCols+" WHERE org_id = ? AND project = ? AND name = ?", orgID, project, name)
}

func (t *tx) GetStackByID(ctx context.Context, id string) (*gatehouse.Stack, error) {
	return get(ctx, t, "stack", scanStack, "SELECT "+stackCols+" WHERE id = ?", id)
}

// ListStacks lists an organization's stacks (of one project, if given)
// by id, the order that stays stable under renames.
func (t *tx) ListStacks(ctx context.Context, orgID, project string, opts gatehouse.ListOptions) ([]*gatehouse.Stack, string, error) {
	where, args := "org_id = ?", []any{orgID}
	if project != "" {
		where += " AND project = ?"
		args = append(args, project)
	}
	return page[*gatehouse.Stack]{
		from: stackCols, where: where, args: args, keyCol: "org_id", scan: scanStack,
		key: func(s *gatehouse.Stack) cursor { return cursor{Key: s.OrgID, ID: s.ID} },
	}.run(ctx, t, opts)
}

func (t *tx) StackHeads(ctx context.Context, orgID string, ids []string) (map[string]gatehouse.StackHead, error) {
	out := make(map[string]gatehouse.StackHead, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	if len(ids) > gatehouse.MaxListLimit {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "%d stacks, over the limit of %d", len(ids), gatehouse.MaxListLimit)
	}
	args := make([]any, 0, len(ids)+1)
	args = append(args, orgID)
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := t.query(ctx, "SELECT id, version, modified FROM stacks WHERE org_id = ? AND id IN (?"+strings.Repeat(", ?", len(ids)-1)+")", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var h gatehouse.StackHead
		var modified int64
		if err := rows.Scan(&id, &h.Version, &modified); err != nil {
			return nil, err
		}
		h.Modified = fromUS(modified)
		out[id] = h
	}
	return out, rows.Err()
}

func (t *tx) UpdateStack(ctx context.Context, s *gatehouse.Stack) error {
	tags, err := tagsText(s.Tags)
	if err != nil {
		return err
	}
	s.Modified = t.stamp()
	err = t.execOne(ctx, opWrite, "stack", "UPDATE stacks SET project = ?, name = ?, tags = ?, modified = ? WHERE org_id = ? AND id = ?",
		s.Project, s.Name, tags, us(s.Modified), s.OrgID, s.ID)
	if err != nil {
		return conflictAs(err, "stack %s/%s already exists", s.Project, s.Name)
	}
	return t.bump(ctx, s.OrgID)
}

// DeleteStack deletes a stack with its history and the grants on it.
func (t *tx) DeleteStack(ctx context.Context, id string) error {
	s, err := t.GetStackByID(ctx, id)
	if err != nil {
		return err
	}
	if err := t.deleteEntityGrants(ctx, id); err != nil {
		return err
	}
	if err := t.execOne(ctx, opDelete, "stack", "DELETE FROM stacks WHERE id = ?", id); err != nil {
		return err
	}
	return t.bump(ctx, s.OrgID)
}

func (t *tx) SaveCheckpoint(ctx context.Context, c *gatehouse.Checkpoint) error {
	c.Created = t.stamp()
	res, err := t.exec(ctx, opWrite, "UPDATE stacks SET version = ?, modified = ? WHERE id = ? AND version = ?",
		c.Version, us(c.Created), c.StackID, c.Version-1)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		if _, err := t.GetStackByID(ctx, c.StackID); err != nil {
			return err
		}
		return gatehouse.Errorf(gatehouse.ECONFLICT, "checkpoint version %d does not follow the stack's current version", c.Version)
	}
	_, err = t.exec(ctx, opWrite, "INSERT INTO checkpoints (stack_id, version, data, created) VALUES (?, ?, ?, ?)",
		c.StackID, c.Version, c.Data, us(c.Created))
	return err
}

func (t *tx) ReplaceCheckpoint(ctx context.Context, c *gatehouse.Checkpoint) error {
	return t.execOne(ctx, opWrite, "checkpoint", "UPDATE checkpoints SET data = ? WHERE stack_id = ? AND version = ? AND version = (SELECT version FROM stacks WHERE id = ?)",
		c.Data, c.StackID, c.Version, c.StackID)
}

func (t *tx) GetCheckpoint(ctx context.Context, stackID string, version int) (*gatehouse.Checkpoint, error) {
	scan := func(s scanner) (*gatehouse.Checkpoint, error) {
		c := &gatehouse.Checkpoint{}
		var created int64
		err := s.Scan(&c.StackID, &c.Version, &c.Data, &created)
		c.Created = fromUS(created)
		return c, err
	}
	if version == 0 {
		return get(ctx, t, "checkpoint", scan, "SELECT c.stack_id, c.version, c.data, c.created FROM checkpoints c JOIN stacks s ON s.id = c.stack_id AND s.version = c.version WHERE c.stack_id = ?", stackID)
	}
	return get(ctx, t, "checkpoint", scan, "SELECT stack_id, version, data, created FROM checkpoints WHERE stack_id = ? AND version = ?", stackID, version)
}

const updateCols = "id, stack_id, kind, status, version, lease_digest, lease_expiry, starter_digest, sequence, info, created, started, finished FROM stack_updates"

func scanUpdate(s scanner) (*gatehouse.StackUpdate, error) {
	u := &gatehouse.StackUpdate{}
	var info string
	var lease, created, started, finished int64
	err := s.Scan(&u.ID, &u.StackID, &u.Kind, &u.Status, &u.Version, &u.LeaseDigest, &lease, &u.StarterDigest, &u.Sequence, &info, &created, &started, &finished)
	u.Info = json.RawMessage(info)
	u.LeaseExpiry, u.Created, u.Started, u.Finished = fromUS(lease), fromUS(created), fromUS(started), fromUS(finished)
	return u, err
}

func (t *tx) CreateUpdate(ctx context.Context, u *gatehouse.StackUpdate) error {
	if u.ID == "" {
		u.ID = gatehouse.NewID()
	}
	if len(u.Info) == 0 {
		u.Info = json.RawMessage(`{}`)
	}
	u.Created = t.stamp()
	_, err := t.exec(ctx, opWrite, "INSERT INTO stack_updates (id, stack_id, kind, status, version, lease_digest, lease_expiry, starter_digest, sequence, info, created, started, finished) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		u.ID, u.StackID, u.Kind, u.Status, u.Version, u.LeaseDigest, us(u.LeaseExpiry), u.StarterDigest, u.Sequence, string(u.Info), us(u.Created), us(u.Started), us(u.Finished))
	return invalidAs(err, "stack %q does not exist", u.StackID)
}

func (t *tx) GetUpdate(ctx context.Context, id string) (*gatehouse.StackUpdate, error) {
	return get(ctx, t, "update", scanUpdate, "SELECT "+updateCols+" WHERE id = ?", id)
}

func (t *tx) SaveUpdate(ctx context.Context, u *gatehouse.StackUpdate) error {
	if len(u.Info) == 0 {
		u.Info = json.RawMessage(`{}`)
	}
	return t.execOne(ctx, opWrite, "update", "UPDATE stack_updates SET status = ?, version = ?, lease_digest = ?, lease_expiry = ?, starter_digest = ?, sequence = ?, info = ?, started = ?, finished = ? WHERE id = ?",
		u.Status, u.Version, u.LeaseDigest, us(u.LeaseExpiry), u.StarterDigest, u.Sequence, string(u.Info), us(u.Started), us(u.Finished), u.ID)
}

// ListUpdates lists a stack's updates, newest first.
func (t *tx) ListUpdates(ctx context.Context, stackID string, opts gatehouse.ListOptions) ([]*gatehouse.StackUpdate, string, error) {
	return page[*gatehouse.StackUpdate]{
		from: updateCols, where: "stack_id = ?", args: []any{stackID}, keyCol: "created", numeric: true, desc: true, scan: scanUpdate,
		key: func(u *gatehouse.StackUpdate) cursor { return cursor{Num: us(u.Created), ID: u.ID} },
	}.run(ctx, t, opts)
}

// AcquireStackLease takes or renews the stack's lease in one conditional
// UPDATE of the stack's row: every condition is on that row, so that two
// writers racing on PostgreSQL serialize on its row lock and the second
// sees the first's lease.
func (t *tx) AcquireStackLease(ctx context.Context, stackID, updateID string, expiry, now time.Time) error {
	res, err := t.exec(ctx, opWrite, "UPDATE stacks SET lease_update = ?, lease_expiry = ? WHERE id = ? AND (lease_update = '' OR lease_update = ? OR lease_expiry <= ?)",
		updateID, us(expiry), stackID, updateID, us(now))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		if _, err := t.GetStackByID(ctx, stackID); err != nil {
			return err
		}
		return gatehouse.Errorf(gatehouse.ECONFLICT, "Another update is currently in progress.")
	}
	return nil
}

func (t *tx) ReleaseStackLease(ctx context.Context, stackID, updateID string) error {
	_, err := t.exec(ctx, opWrite, "UPDATE stacks SET lease_update = '', lease_expiry = 0 WHERE id = ? AND lease_update = ?", stackID, updateID)
	return err
}

func (t *tx) AppendUpdateEvents(ctx context.Context, updateID string, events []gatehouse.UpdateEvent) error {
	for _, e := range events {
		if _, err := t.exec(ctx, opWrite, "INSERT INTO update_events (update_id, sequence, data) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
			updateID, e.Sequence, e.Data); err != nil {
			return invalidAs(err, "update %q does not exist", updateID)
		}
	}
	return nil
}

func (t *tx) ListUpdateEvents(ctx context.Context, updateID string, after, limit int) ([]gatehouse.UpdateEvent, error) {
	if limit <= 0 || limit > gatehouse.MaxListLimit {
		limit = gatehouse.MaxListLimit
	}
	rows, err := t.query(ctx, "SELECT sequence, data FROM update_events WHERE update_id = ? AND sequence > ? ORDER BY sequence LIMIT ?", updateID, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []gatehouse.UpdateEvent
	for rows.Next() {
		var e gatehouse.UpdateEvent
		if err := rows.Scan(&e.Sequence, &e.Data); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

const envCols = "id, org_id, project, name, tags, created_by, version, created, modified FROM environments"

func scanEnv(s scanner) (*gatehouse.Environment, error) {
	e := &gatehouse.Environment{}
	var tags string
	var created, modified int64
	if err := s.Scan(&e.ID, &e.OrgID, &e.Project, &e.Name, &tags, &e.CreatedBy, &e.Version, &created, &modified); err != nil {
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
	_, err = t.exec(ctx, opWrite, "INSERT INTO environments (id, org_id, project, name, tags, created_by, version, created, modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		e.ID, e.OrgID, e.Project, e.Name, tags, e.CreatedBy, e.Version, us(e.Created), us(e.Modified))
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
	return t.bump(ctx, e.OrgID)
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
	err = t.execOne(ctx, opWrite, "environment", "UPDATE environments SET project = ?, name = ?, tags = ?, modified = ? WHERE org_id = ? AND id = ?",
		e.Project, e.Name, tags, us(e.Modified), e.OrgID, e.ID)
	if err != nil {
		return conflictAs(err, "environment %s/%s already exists", e.Project, e.Name)
	}
	return t.bump(ctx, e.OrgID)
}

func (t *tx) DeleteEnvironment(ctx context.Context, id string) error {
	e, err := t.GetEnvironmentByID(ctx, id)
	if err != nil {
		return err
	}
	if err := t.deleteEntityGrants(ctx, id); err != nil {
		return err
	}
	if err := t.execOne(ctx, opDelete, "environment", "DELETE FROM environments WHERE id = ?", id); err != nil {
		return err
	}
	return t.bump(ctx, e.OrgID)
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

func (t *tx) GetEnvironmentVersion(ctx context.Context, envID string, version int) (*gatehouse.EnvironmentVersion, error) {
	scan := func(s scanner) (*gatehouse.EnvironmentVersion, error) {
		v := &gatehouse.EnvironmentVersion{}
		var created int64
		err := s.Scan(&v.EnvironmentID, &v.Version, &v.Definition, &v.CreatedBy, &created)
		v.Created = fromUS(created)
		return v, err
	}
	if version == 0 {
		return get(ctx, t, "environment version", scan, "SELECT v.environment_id, v.version, v.definition, v.created_by, v.created FROM environment_versions v JOIN environments e ON e.id = v.environment_id AND e.version = v.version WHERE v.environment_id = ?", envID)
	}
	return get(ctx, t, "environment version", scan, "SELECT environment_id, version, definition, created_by, created FROM environment_versions WHERE environment_id = ? AND version = ?", envID, version)
}

const accountCols = "id, org_id, name, tags, created_by, details, created, modified FROM accounts"

func scanAccount(s scanner) (*gatehouse.Account, error) {
	a := &gatehouse.Account{}
	var tags, details string
	var created, modified int64
	if err := s.Scan(&a.ID, &a.OrgID, &a.Name, &tags, &a.CreatedBy, &details, &created, &modified); err != nil {
		return nil, err
	}
	a.Details = json.RawMessage(details)
	var err error
	a.Tags, err = parseTags(tags)
	a.Created, a.Modified = fromUS(created), fromUS(modified)
	return a, err
}

func (t *tx) CreateAccount(ctx context.Context, a *gatehouse.Account) error {
	if a.ID == "" {
		a.ID = gatehouse.NewID()
	}
	tags, err := tagsText(a.Tags)
	if err != nil {
		return err
	}
	a.Created = t.stamp()
	a.Modified = a.Created
	if len(a.Details) == 0 {
		a.Details = json.RawMessage(`{}`)
	}
	_, err = t.exec(ctx, opWrite, "INSERT INTO accounts (id, org_id, name, tags, created_by, details, created, modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		a.ID, a.OrgID, a.Name, tags, a.CreatedBy, string(a.Details), us(a.Created), us(a.Modified))
	if err != nil {
		return invalidAs(conflictAs(err, "account %q already exists", a.Name), "organization %q does not exist", a.OrgID)
	}
	return t.bump(ctx, a.OrgID)
}

func (t *tx) GetAccount(ctx context.Context, orgID, name string) (*gatehouse.Account, error) {
	return get(ctx, t, "account", scanAccount, "SELECT "+accountCols+" WHERE org_id = ? AND name = ?", orgID, name)
}

func (t *tx) GetAccountByID(ctx context.Context, id string) (*gatehouse.Account, error) {
	return get(ctx, t, "account", scanAccount, "SELECT "+accountCols+" WHERE id = ?", id)
}

func (t *tx) ListAccounts(ctx context.Context, orgID string, opts gatehouse.ListOptions) ([]*gatehouse.Account, string, error) {
	return page[*gatehouse.Account]{
		from: accountCols, where: "org_id = ?", args: []any{orgID}, keyCol: "name", scan: scanAccount,
		key: func(a *gatehouse.Account) cursor { return cursor{Key: a.Name, ID: a.ID} },
	}.run(ctx, t, opts)
}

func (t *tx) UpdateAccount(ctx context.Context, a *gatehouse.Account) error {
	tags, err := tagsText(a.Tags)
	if err != nil {
		return err
	}
	a.Modified = t.stamp()
	if len(a.Details) == 0 {
		a.Details = json.RawMessage(`{}`)
	}
	err = t.execOne(ctx, opWrite, "account", "UPDATE accounts SET name = ?, tags = ?, details = ?, modified = ? WHERE org_id = ? AND id = ?",
		a.Name, tags, string(a.Details), us(a.Modified), a.OrgID, a.ID)
	if err != nil {
		return conflictAs(err, "account %q already exists", a.Name)
	}
	return t.bump(ctx, a.OrgID)
}

func (t *tx) DeleteAccount(ctx context.Context, id string) error {
	a, err := t.GetAccountByID(ctx, id)
	if err != nil {
		return err
	}
	if err := t.deleteEntityGrants(ctx, id); err != nil {
		return err
	}
	if err := t.execOne(ctx, opDelete, "account", "DELETE FROM accounts WHERE id = ?", id); err != nil {
		return err
	}
	return t.bump(ctx, a.OrgID)
}

func (t *tx) PutStackKey(ctx context.Context, stackID string, wrapped []byte) error {
	if len(wrapped) == 0 {
		return gatehouse.Errorf(gatehouse.EINVALID, "a stack key must not be empty")
	}
	_, err := t.exec(ctx, opWrite, "INSERT INTO stack_keys (stack_id, wrapped, created) VALUES (?, ?, ?)", stackID, wrapped, us(t.stamp()))
	return invalidAs(conflictAs(err, "the stack has a data key already"), "the stack does not exist")
}

func (t *tx) GetStackKey(ctx context.Context, stackID string) ([]byte, error) {
	var wrapped []byte
	err := t.queryRow(ctx, "SELECT wrapped FROM stack_keys WHERE stack_id = ?", stackID).Scan(&wrapped)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("stack key")
	}
	if err != nil {
		return nil, t.d.mapErr(err, opWrite)
	}
	return wrapped, nil
}

func (t *tx) ListEnvironmentVersions(ctx context.Context, envID string, opts gatehouse.ListOptions) ([]*gatehouse.EnvironmentVersion, string, error) {
	return page[*gatehouse.EnvironmentVersion]{
		from: "environment_id, version, created_by, created FROM environment_versions", where: "environment_id = ?", args: []any{envID},
		keyCol: "version", idCol: "environment_id", numeric: true, desc: true,
		scan: func(s scanner) (*gatehouse.EnvironmentVersion, error) {
			v := &gatehouse.EnvironmentVersion{}
			var created int64
			err := s.Scan(&v.EnvironmentID, &v.Version, &v.CreatedBy, &created)
			v.Created = fromUS(created)
			return v, err
		},
		key: func(v *gatehouse.EnvironmentVersion) cursor {
			return cursor{Num: int64(v.Version), ID: v.EnvironmentID}
		},
	}.run(ctx, t, opts)
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
