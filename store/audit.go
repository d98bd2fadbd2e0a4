package store

import (
	"context"
	"crypto/hmac"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

const auditCols = "seq, org_id, time, type, description, actor_user_id, actor_login, token_id, token_name, source_ip, user_agent, request_id, entity, req_org_admin, req_stack_admin, auth_failure, data, client_request_id, prev_hash, hash FROM audit_events"

func scanAudit(s scanner) (*gatehouse.AuditEvent, error) {
	e := &gatehouse.AuditEvent{}
	var tm int64
	var data string
	err := s.Scan(&e.Seq, &e.OrgID, &tm, &e.Type, &e.Description, &e.ActorUserID, &e.ActorLogin, &e.TokenID, &e.TokenName,
		&e.SourceIP, &e.UserAgent, &e.RequestID, &e.Entity, &e.ReqOrgAdmin, &e.ReqStackAdmin, &e.AuthFailure, &data, &e.ClientRequestID, &e.PrevHash, &e.Hash)
	e.Time = fromUS(tm)
	if data != "" {
		e.Data = json.RawMessage(data)
	}
	return e, err
}

// AppendAudit appends an event. Its time is the caller's (the moment the
// action happened) or now.
func (t *tx) AppendAudit(ctx context.Context, e *gatehouse.AuditEvent) error {
	if e.OrgID == "" || e.Type == "" {
		return gatehouse.Errorf(gatehouse.EINVALID, "an audit event needs its organization and type")
	}
	if e.Time.IsZero() {
		e.Time = t.stamp()
	}
	e.Time = fromUS(us(e.Time))
	// Taking the head row serializes appends per organization, on both
	// dialects, so that the chain never forks.
	if t.readOnly {
		return gatehouse.Errorf(gatehouse.EINTERNAL, "store: write in a read transaction")
	}
	h := &gatehouse.AuditHead{}
	err := t.queryRow(ctx, "INSERT INTO audit_heads (org_id, last_seq, last_hash, anchor_seq, anchor_hash, keyed_from, mac) VALUES (?, 0, ?, 0, ?, 0, ?) "+
		"ON CONFLICT (org_id) DO UPDATE SET last_seq = audit_heads.last_seq RETURNING last_seq, last_hash, anchor_seq, anchor_hash, keyed_from, mac",
		e.OrgID, []byte{}, []byte{}, []byte{}).Scan(&h.LastSeq, &h.LastHash, &h.AnchorSeq, &h.AnchorHash, &h.KeyedFrom, &h.MAC)
	if err != nil {
		return t.d.mapErr(err, opWrite)
	}
	if t.auditKey == nil {
		keyed := len(h.MAC) > 0
		if !keyed && h.LastSeq == 0 {
			// A new chain in a database whose chains are keyed: this
			// process lacks the key it should have (a host command
			// without the master key), so it writes nothing unkeyed.
			var n int
			err := t.queryRow(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM audit_heads WHERE length(mac) > 0 LIMIT 1) k").Scan(&n)
			if err != nil {
				return t.d.mapErr(err, opWrite)
			}
			keyed = n > 0
		}
		if keyed {
			return gatehouse.Errorf(gatehouse.EINTERNAL, "the audit chains of this database are keyed, and this process has no audit key: give it the master key (host commands: GATEHOUSE_MASTER_KEY_FILE)")
		}
	}
	e.PrevHash = h.LastHash
	e.Hash = e.Link(t.auditKey, h.LastHash)
	if err := get2(ctx, t, &e.Seq, "INSERT INTO audit_events (org_id, time, type, description, actor_user_id, actor_login, token_id, token_name, source_ip, user_agent, request_id, entity, req_org_admin, req_stack_admin, auth_failure, data, client_request_id, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
		e.OrgID, us(e.Time), e.Type, e.Description, e.ActorUserID, e.ActorLogin, e.TokenID, e.TokenName, e.SourceIP, e.UserAgent,
		e.RequestID, e.Entity, e.ReqOrgAdmin, e.ReqStackAdmin, e.AuthFailure, string(e.Data), e.ClientRequestID, e.PrevHash, e.Hash); err != nil {
		return err
	}
	// A sealed head whose MAC does not hold was moved by someone without
	// the key (the tail or the oldest events cut): it is never sealed
	// again, or the next event would cover the tracks. The chain grows on
	// and `audit verify` keeps finding it.
	tampered := t.auditKey != nil && (len(h.MAC) > 0 || h.KeyedFrom != 0) && !hmac.Equal(h.MAC, h.HeadMAC(t.auditKey, e.OrgID))
	h.LastSeq, h.LastHash = e.Seq, e.Hash
	if t.auditKey != nil && !tampered {
		if h.KeyedFrom == 0 {
			// The first keyed event: the part before it was linked
			// without the key and is verified as such.
			h.KeyedFrom = e.Seq
		}
		h.MAC = h.HeadMAC(t.auditKey, e.OrgID)
	}
	if h.MAC == nil {
		h.MAC = []byte{} // the column is NOT NULL; drivers read an empty blob as nil
	}
	_, err = t.exec(ctx, opWrite, "UPDATE audit_heads SET last_seq = ?, last_hash = ?, keyed_from = ?, mac = ? WHERE org_id = ?", e.Seq, e.Hash, h.KeyedFrom, h.MAC, e.OrgID)
	return err
}

func (t *tx) AuditChain(ctx context.Context, orgID string, afterSeq int64, limit int) ([]*gatehouse.AuditEvent, error) {
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	return all(ctx, t, scanAudit, "SELECT "+auditCols+" WHERE org_id = ? AND seq > ? ORDER BY seq LIMIT ?", orgID, afterSeq, limit)
}

func (t *tx) AuditHead(ctx context.Context, orgID string) (*gatehouse.AuditHead, error) {
	h, err := get(ctx, t, "audit chain", func(s scanner) (*gatehouse.AuditHead, error) {
		h := &gatehouse.AuditHead{}
		return h, s.Scan(&h.LastSeq, &h.LastHash, &h.AnchorSeq, &h.AnchorHash, &h.KeyedFrom, &h.MAC)
	}, "SELECT last_seq, last_hash, anchor_seq, anchor_hash, keyed_from, mac FROM audit_heads WHERE org_id = ?", orgID)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return &gatehouse.AuditHead{}, nil
	}
	return h, err
}

func (t *tx) PruneAudit(ctx context.Context, orgID string, before time.Time) (int64, error) {
	// Lock the head first (as AppendAudit does), so that its MAC is
	// computed over the head as it is when this commits, not as it was
	// before a concurrent append.
	if t.readOnly {
		return 0, gatehouse.Errorf(gatehouse.EINTERNAL, "store: write in a read transaction")
	}
	head := &gatehouse.AuditHead{}
	err := t.queryRow(ctx, "UPDATE audit_heads SET last_seq = last_seq WHERE org_id = ? RETURNING last_seq, last_hash, anchor_seq, anchor_hash, keyed_from, mac", orgID).
		Scan(&head.LastSeq, &head.LastHash, &head.AnchorSeq, &head.AnchorHash, &head.KeyedFrom, &head.MAC)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil // no events, nothing to prune
	}
	if err != nil {
		return 0, t.d.mapErr(err, opWrite)
	}
	if t.auditKey == nil && len(head.MAC) > 0 {
		return 0, gatehouse.Errorf(gatehouse.EINTERNAL, "the audit chain of organization %s is keyed, and this process has no audit key", orgID)
	}
	if t.auditKey != nil && (len(head.MAC) > 0 || head.KeyedFrom != 0) && !hmac.Equal(head.MAC, head.HeadMAC(t.auditKey, orgID)) {
		// Pruning would delete the evidence and reseal the head over it.
		return 0, gatehouse.Errorf(gatehouse.EINTERNAL, "the audit chain of organization %s has a head that does not match its MAC (tampered with, or another master key): not pruned; run gatehouse audit verify", orgID)
	}
	last, err := get(ctx, t, "audit event", func(s scanner) (*gatehouse.AuditEvent, error) {
		e := &gatehouse.AuditEvent{}
		return e, s.Scan(&e.Seq, &e.Hash)
	}, "SELECT seq, hash FROM audit_events WHERE org_id = ? AND time < ? ORDER BY seq DESC LIMIT 1", orgID, us(before))
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	// Events are appended in time order, so everything up to the last
	// event before the cut goes; the chain then starts from its hash.
	res, err := t.exec(ctx, opDelete, "DELETE FROM audit_events WHERE org_id = ? AND seq <= ?", orgID, last.Seq)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	// The head's MAC covers the anchor, so that nobody without the key
	// can move it past events they deleted.
	head.AnchorSeq, head.AnchorHash = last.Seq, last.Hash
	if len(head.MAC) > 0 {
		head.MAC = head.HeadMAC(t.auditKey, orgID)
	} else {
		head.MAC = []byte{}
	}
	_, err = t.exec(ctx, opWrite, "UPDATE audit_heads SET anchor_seq = ?, anchor_hash = ?, mac = ? WHERE org_id = ?", last.Seq, last.Hash, head.MAC, orgID)
	return n, err
}

// get2 runs a statement returning one value.
func get2(ctx context.Context, t *tx, dest any, q string, args ...any) error {
	if t.readOnly {
		return gatehouse.Errorf(gatehouse.EINTERNAL, "store: write in a read transaction")
	}
	return t.d.mapErr(t.queryRow(ctx, q, args...).Scan(dest), opWrite)
}

// ListAudit pages by (time, seq), oldest first unless f.Descending.
func (t *tx) ListAudit(ctx context.Context, orgID string, f gatehouse.AuditFilter, opts gatehouse.ListOptions) ([]*gatehouse.AuditEvent, string, error) {
	limit, err := limitOf(opts)
	if err != nil {
		return nil, "", err
	}
	where, args := []string{"org_id = ?"}, []any{orgID}
	if !f.From.IsZero() {
		where, args = append(where, "time >= ?"), append(args, us(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, "time < ?"), append(args, us(f.To))
	}
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		where = append(where, col+" IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")+")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	in("type", f.Types)
	in("actor_login", f.ActorLogins)
	switch f.Class {
	case gatehouse.AuditClassRead:
		in("type", gatehouse.AuditReadEvents)
	case gatehouse.AuditClassChange:
		where = append(where, "type NOT IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(gatehouse.AuditReadEvents)), ", ")+")")
		for _, v := range gatehouse.AuditReadEvents {
			args = append(args, v)
		}
	}
	cmp, dir := ">", "ASC"
	if f.Descending {
		cmp, dir = "<", "DESC"
	}
	if opts.Continuation != "" {
		c, err := parseCursor(opts.Continuation)
		if err != nil {
			return nil, "", err
		}
		seq, err := strconv.ParseInt(c.ID, 10, 64)
		if err != nil {
			return nil, "", gatehouse.Errorf(gatehouse.EINVALID, "continuationToken: malformed; pass back the token a previous page returned")
		}
		where, args = append(where, "(time, seq) "+cmp+" (?, ?)"), append(args, c.Num, seq)
	}
	q := "SELECT " + auditCols + " WHERE " + strings.Join(where, " AND ") + " ORDER BY time " + dir + ", seq " + dir + " LIMIT ?"
	events, err := all(ctx, t, scanAudit, q, append(args, limit+1)...)
	if err != nil || len(events) <= limit {
		return events, "", err
	}
	events = events[:limit]
	last := events[limit-1]
	return events, cursor{Num: us(last.Time), ID: strconv.FormatInt(last.Seq, 10)}.token(), nil
}

func (t *tx) LastAudit(ctx context.Context, orgID string) (*gatehouse.AuditEvent, error) {
	return get(ctx, t, "audit event", scanAudit, "SELECT "+auditCols+" WHERE org_id = ? ORDER BY seq DESC LIMIT 1", orgID)
}
