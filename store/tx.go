package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

// tx implements gatehouse.Tx.
type tx struct {
	tx       runner
	d        *dialect
	now      func() time.Time
	readOnly bool
	origin   string // the DB's origin, for PostgreSQL announcements
	auditKey []byte // keys the audit chain; nil: unkeyed
	// retention is how many revisions the change log keeps (changes.go).
	retention int64
	// ctx carries the transaction's deadline to its statements (bound).
	ctx context.Context
	// bumped holds the organizations whose revision this transaction has
	// already bumped (one bump per transaction is enough), and what it
	// changed there.
	bumped map[string]*orgChange
	// locked holds the organizations whose row this transaction has
	// locked (LockOrg): a lock is held until the end, so once is enough.
	locked map[string]bool
}

var _ gatehouse.Tx = (*tx)(nil)

// runner runs statements: a *sql.Tx, or the SQLite writer's connection
// with its cache of prepared statements (stmtConn).
type runner interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func (t *tx) exec(ctx context.Context, o op, q string, args ...any) (sql.Result, error) {
	if t.readOnly {
		return nil, errors.New("store: write in a read transaction")
	}
	res, err := t.tx.ExecContext(t.bound(ctx), t.d.rebind(q), args...)
	if err != nil {
		return nil, t.d.mapErr(err, o)
	}
	return res, nil
}

// execOne runs a statement that must change exactly one row; zero rows is
// ENOTFOUND for what.
func (t *tx) execOne(ctx context.Context, o op, what, q string, args ...any) error {
	res, err := t.exec(ctx, o, q, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound(what)
	}
	return nil
}

func (t *tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	rows, err := t.tx.QueryContext(t.bound(ctx), t.d.rebind(q), args...)
	if err != nil {
		return nil, t.d.mapErr(err, opWrite)
	}
	return rows, nil
}

func (t *tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(t.bound(ctx), t.d.rebind(q), args...)
}

// get scans one row, turning sql.ErrNoRows into ENOTFOUND for what.
func get[T any](ctx context.Context, t *tx, what string, scan func(scanner) (T, error), q string, args ...any) (T, error) {
	v, err := scan(t.queryRow(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return v, notFound(what)
	}
	if err != nil {
		return v, t.d.mapErr(err, opWrite)
	}
	return v, nil
}

// all scans every row.
func all[T any](ctx context.Context, t *tx, scan func(scanner) (T, error), q string, args ...any) ([]T, error) {
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// lockRow takes the row lock of a table's row by id until the transaction
// ends: SELECT ... FOR UPDATE on PostgreSQL, where it makes a check and
// the write it allows atomic at READ COMMITTED (the statements after it
// read what the previous holder committed). SQLite runs one writer at a
// time, so a write transaction holds every row already: there it only
// checks that the row exists. A missing row is ENOTFOUND for what.
func (t *tx) lockRow(ctx context.Context, table, what, id string) error {
	q := "SELECT id FROM " + table + " WHERE id = ?"
	if t.d == postgresDialect {
		q += " FOR UPDATE"
	}
	_, err := get(ctx, t, what, scanString, q, id)
	return err
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func notFound(what string) error { return gatehouse.Errorf(gatehouse.ENOTFOUND, "%s not found", what) }

// orgChange is what a transaction changed in one organization.
type orgChange struct {
	revision int64    // the organization's revision after the transaction
	tokens   []string // organization, team and runner tokens created
	other    bool     // anything else
	// keys are the records changed, in order (seen dedupes them); all
	// means a write could not say which (store/changes.go).
	keys []gatehouse.ChangeKey
	seen map[gatehouse.ChangeKey]bool
	all  bool
}

// bump increments an organization's revision for a change other than a
// token's creation, and records the records it changed (none: the write
// cannot say, and readers of the change log rebuild).
func (t *tx) bump(ctx context.Context, orgID string, keys ...gatehouse.ChangeKey) error {
	c, err := t.bumpOrg(ctx, orgID)
	if c != nil {
		c.other = true
		c.note(keys)
	}
	return err
}

// bumpOrg increments an organization's revision, once per transaction.
func (t *tx) bumpOrg(ctx context.Context, orgID string) (*orgChange, error) {
	if orgID == "" {
		return nil, nil
	}
	if c := t.bumped[orgID]; c != nil {
		return c, nil
	}
	c := &orgChange{}
	err := t.queryRow(ctx, "UPDATE organizations SET revision = revision + 1 WHERE id = ? RETURNING revision", orgID).Scan(&c.revision)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("organization")
	}
	if err != nil {
		return nil, t.d.mapErr(err, opWrite)
	}
	if t.bumped == nil {
		t.bumped = map[string]*orgChange{}
	}
	t.bumped[orgID] = c
	return c, nil
}

// maxAnnounced bounds an announcement's payload (PostgreSQL's stop at
// 8,000 bytes): a larger change set is left out, and listeners read it
// from the change log.
const maxAnnounced = 7000

// announce tells listening replicas, through PostgreSQL's NOTIFY (delivered
// when the transaction commits), which organizations changed: "ORG ORIGIN
// REVISION[ CHANGES]", with the change set (gatehouse.EncodeChanges) when
// it fits, so that replicas apply it rather than rebuild.
func (t *tx) announce(ctx context.Context) error {
	for orgID, c := range t.bumped {
		payload := orgID + " " + t.origin + " " + strconv.FormatInt(c.revision, 10)
		if enc := c.encoded(); len(payload)+1+len(enc) <= maxAnnounced {
			payload += " " + enc
		}
		if _, err := t.exec(ctx, opWrite, "SELECT pg_notify('"+notifyChannel+"', ?)", payload); err != nil {
			return err
		}
	}
	return nil
}

// Times are stored as unix microseconds; 0 is the zero time.
func us(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromUS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// stamp returns the transaction's notion of now, at the stored precision.
func (t *tx) stamp() time.Time { return fromUS(t.now().UnixMicro()) }

func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func tagsText(m map[string]string) (string, error) {
	if m == nil {
		m = map[string]string{}
	}
	return jsonText(m)
}

func parseTags(s string) (map[string]string, error) {
	m := map[string]string{}
	if s == "" {
		return m, nil
	}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("stored tags: %w", err)
	}
	return m, nil
}

// cursor is the position after the last row of a page: its sort key and
// id. It travels as an opaque continuation token.
type cursor struct {
	Key string `json:"k,omitempty"`
	Num int64  `json:"n,omitempty"`
	Tie int64  `json:"t,omitempty"` // the page's tieCol
	ID  string `json:"i"`
	// Sort names the order of a list that has several (page.sort).
	Sort string `json:"s,omitempty"`
}

func (c cursor) token() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func parseCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.ID == "" {
		return c, gatehouse.Errorf(gatehouse.EINVALID, "continuationToken: malformed; pass back the token a previous page returned")
	}
	return c, nil
}

func limitOf(opts gatehouse.ListOptions) (int, error) {
	switch {
	case opts.Limit == 0:
		return gatehouse.DefaultListLimit, nil
	case opts.Limit < 0 || opts.Limit > gatehouse.MaxListLimit:
		return 0, gatehouse.Errorf(gatehouse.EINVALID, "limit: %d is out of range (1 to %d)", opts.Limit, gatehouse.MaxListLimit)
	}
	return opts.Limit, nil
}

// page is a keyset-paginated list: rows matching where, ordered by keyCol
// then id, after the cursor in opts. keyCol holds text unless numeric.
type page[T any] struct {
	from, where string
	args        []any
	keyCol      string
	// idCol breaks ties (default "id"); tieCol, a number, when set, breaks
	// them first.
	idCol  string
	tieCol string
	// sort names the order, for a list that has several: a cursor of
	// another order is refused.
	sort    string
	numeric bool
	desc    bool
	scan    func(scanner) (T, error)
	key     func(T) cursor
	// keep, when set, filters the rows in Go (what SQL cannot say the
	// same way on both dialects); the page still holds up to its limit.
	keep func(T) bool
}

func (p page[T]) run(ctx context.Context, t *tx, opts gatehouse.ListOptions) ([]T, string, error) {
	limit, err := limitOf(opts)
	if err != nil {
		return nil, "", err
	}
	var after *cursor
	if opts.Continuation != "" {
		c, err := parseCursor(opts.Continuation)
		if err != nil {
			return nil, "", err
		}
		if c.Sort != p.sort {
			return nil, "", gatehouse.Errorf(gatehouse.EINVALID, "continuationToken: from a list in another order; pass back the token a previous page of this order returned")
		}
		after = &c
	}
	var items []T
	for {
		batch, err := p.rows(ctx, t, after, limit+1)
		if err != nil {
			return nil, "", err
		}
		for _, it := range batch {
			if p.keep == nil || p.keep(it) {
				items = append(items, it)
			}
		}
		if len(items) > limit || len(batch) <= limit {
			break
		}
		c := p.key(batch[len(batch)-1])
		after = &c
	}
	if len(items) <= limit {
		return items, "", nil
	}
	items = items[:limit]
	last := p.key(items[limit-1])
	last.Sort = p.sort
	return items, last.token(), nil
}

// rows reads up to n rows after the cursor (from the start when nil).
func (p page[T]) rows(ctx context.Context, t *tx, after *cursor, n int) ([]T, error) {
	where, args := p.where, append([]any(nil), p.args...)
	idCol := p.idCol
	if idCol == "" {
		idCol = "id"
	}
	cmp, dir := ">", "ASC"
	if p.desc {
		cmp, dir = "<", "DESC"
	}
	cols, order := p.keyCol+", "+idCol, fmt.Sprintf("%s %s, %s %s", p.keyCol, dir, idCol, dir)
	if p.tieCol != "" {
		cols, order = p.keyCol+", "+p.tieCol+", "+idCol, fmt.Sprintf("%s %s, %s %s, %s %s", p.keyCol, dir, p.tieCol, dir, idCol, dir)
	}
	if after != nil {
		var key any = after.Key
		if p.numeric {
			key = after.Num
		}
		if p.tieCol != "" {
			where += fmt.Sprintf(" AND (%s) %s (?, ?, ?)", cols, cmp)
			args = append(args, key, after.Tie, after.ID)
		} else {
			where += fmt.Sprintf(" AND (%s) %s (?, ?)", cols, cmp)
			args = append(args, key, after.ID)
		}
	}
	q := fmt.Sprintf("SELECT %s WHERE %s ORDER BY %s LIMIT ?", p.from, where, order)
	return all(ctx, t, p.scan, q, append(args, n)...)
}

func scanString(s scanner) (string, error) {
	var v string
	return v, s.Scan(&v)
}
