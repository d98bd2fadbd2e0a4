package service

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/gatehouse-iam/gatehouse"
)

var eventFlags = func() map[string]gatehouse.AuditEventType {
	m := map[string]gatehouse.AuditEventType{}
	for _, t := range gatehouse.AuditEventTypes {
		m[t.Event] = t
	}
	return m
}()

// NewAuditEvent builds an event of the given type for the context's actor.
// Data, when not nil, is recorded as JSON.
func NewAuditEvent(ctx context.Context, now time.Time, orgID, typ, description, entity string, data any) *gatehouse.AuditEvent {
	a := gatehouse.ActorFrom(ctx)
	flags := eventFlags[typ]
	e := &gatehouse.AuditEvent{OrgID: orgID, Time: now, Type: typ, Description: description, ActorUserID: a.UserID,
		ActorLogin: a.Login, TokenID: a.TokenID, TokenName: a.TokenName, SourceIP: a.SourceIP, UserAgent: a.UserAgent,
		RequestID: a.RequestID, ClientRequestID: a.ClientRequestID, Entity: entity, ReqOrgAdmin: flags.RequiresOrgAdmin, ReqStackAdmin: flags.RequiresStackAdmin,
		AuthFailure: flags.AuthenticationFailure}
	if data != nil {
		e.Data, _ = json.Marshal(data)
	}
	return e
}

// ClientText bounds a client's words for the audit log: valid UTF-8, no
// control characters, at most 256 bytes.
func ClientText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) > 256 {
		s = strings.ToValidUTF8(s[:256], "")
	}
	return s
}

// audit records an event in the transaction of the change it describes:
// the change and its event commit together or not at all.
func (s *Service) audit(ctx context.Context, tx gatehouse.Tx, orgID, typ, entity string, data any, format string, args ...any) error {
	return tx.AppendAudit(ctx, NewAuditEvent(ctx, s.Now(), orgID, typ, fmt.Sprintf(format, args...), entity, data))
}

// descriptorState is what a role-change event records of a descriptor.
type descriptorState struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Details     json.RawMessage `json:"details,omitempty"`
	Version     int             `json:"version,omitempty"`
}

func stateOf(d *gatehouse.Descriptor) descriptorState {
	return descriptorState{Name: d.Name, Description: d.Description, Details: d.Details, Version: d.Version}
}

// AuditEvents lists an organization's events.
func (s *Service) AuditEvents(ctx context.Context, orgID string, f gatehouse.AuditFilter, opts gatehouse.ListOptions) (es []*gatehouse.AuditEvent, next string, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		es, next, err = tx.ListAudit(ctx, orgID, f, opts)
		return err
	})
	return es, next, err
}

// VerifyAudit walks an organization's chain from its anchor and reports the
// first event whose link does not hold: a changed, deleted or inserted row.
// Events before the head's KeyedFrom were linked without the key (by a
// version before the chain was keyed) and are checked with ChainHash; the
// rest with ChainMAC, and the head and anchor with the head's MAC, so that
// cutting events at either end is found too. A checkpoint, when given, must
// be one this master key signed, and the chain must still hold its event
// with its hash.
func (s *Service) VerifyAudit(ctx context.Context, orgID string, cps ...*AuditCheckpoint) (*gatehouse.AuditVerification, error) {
	v, _, _, err := s.verifyAudit(ctx, orgID, cps)
	return v, err
}

// verifyAudit is VerifyAudit, also returning the last event checked and
// the head, read in the same transaction.
func (s *Service) verifyAudit(ctx context.Context, orgID string, cps []*AuditCheckpoint) (*gatehouse.AuditVerification, *gatehouse.AuditEvent, *gatehouse.AuditHead, error) {
	for _, cp := range cps {
		if err := s.checkCheckpoint(cp, orgID); err != nil {
			return nil, nil, nil, err
		}
	}
	w := &chainWalk{v: &gatehouse.AuditVerification{}, cps: cps, key: s.AuditKey,
		found: map[*AuditCheckpoint]bool{}, counted: map[*AuditCheckpoint]int64{}}
	err := s.read(ctx, func(tx gatehouse.Tx) (err error) {
		w.head, err = tx.AuditHead(ctx, orgID)
		if err != nil {
			return err
		}
		w.v.KeyedFrom = w.head.KeyedFrom
		sealed := len(w.head.MAC) > 0 || w.head.KeyedFrom != 0
		if sealed && s.AuditKey == nil {
			return gatehouse.Errorf(gatehouse.EINVALID, "the audit chain is keyed from event %d: verifying it needs the master key", w.head.KeyedFrom)
		}
		if ok, err := w.walk(ctx, tx, orgID); !ok || err != nil {
			return err
		}
		if sealed && !hmac.Equal(w.head.MAC, w.head.HeadMAC(s.AuditKey, orgID)) {
			w.v.Broken, w.v.Problem = w.head.LastSeq, "the chain's head or anchor does not match its MAC: it was moved, so events at the end or at the beginning of the chain were removed (or the master key is not this chain's)"
			return nil
		}
		if w.head.LastSeq != 0 && (w.after != w.head.LastSeq || string(w.prev) != string(w.head.LastHash)) {
			w.v.Broken, w.v.Problem = w.head.LastSeq, fmt.Sprintf("the chain ends at event %d, but its head records event %d: events at the end were removed", w.after, w.head.LastSeq)
			return nil
		}
		w.checkpoints()
		return nil
	})
	return w.v, w.last, w.head, err
}

// chainWalk is one verification's walk along an organization's audit
// chain: the links so far and what it found of the checkpoints.
type chainWalk struct {
	v       *gatehouse.AuditVerification
	head    *gatehouse.AuditHead
	cps     []*AuditCheckpoint
	key     []byte
	found   map[*AuditCheckpoint]bool
	counted map[*AuditCheckpoint]int64
	prev    []byte
	after   int64
	last    *gatehouse.AuditEvent
}

// walk checks every event's link from the anchor on; false when one is
// broken (recorded in v).
func (w *chainWalk) walk(ctx context.Context, tx gatehouse.Tx, orgID string) (bool, error) {
	w.prev, w.after = w.head.AnchorHash, w.head.AnchorSeq
	if w.prev == nil {
		w.prev = []byte{}
	}
	for {
		page, err := tx.AuditChain(ctx, orgID, w.after, 1000)
		if err != nil {
			return false, err
		}
		for _, e := range page {
			if !w.event(e) {
				return false, nil
			}
		}
		if len(page) < 1000 {
			return true, nil
		}
	}
}

// event checks one event's link and the checkpoints it is the event of.
func (w *chainWalk) event(e *gatehouse.AuditEvent) bool {
	v := w.v
	keyed := w.head.KeyedFrom != 0 && e.Seq >= w.head.KeyedFrom
	var key []byte
	if keyed {
		key = w.key
		v.Keyed++
	} else {
		v.Unkeyed++
	}
	v.Events++
	switch {
	case string(e.PrevHash) != string(w.prev):
		v.Broken, v.Problem = e.Seq, "its link to the event before does not match: an event before it was changed, removed or inserted"
		return false
	case !hmac.Equal(e.Hash, e.Link(key, w.prev)):
		v.Broken, v.Problem = e.Seq, "its contents do not match its link: the event was changed"
		return false
	}
	for _, cp := range w.cps {
		if e.Seq <= cp.Seq {
			w.counted[cp]++
		}
		if e.Seq == cp.Seq {
			if hex.EncodeToString(e.Hash) != cp.Hash {
				v.Broken, v.Problem = e.Seq, "the checkpoint's event has another hash now: the chain was rewritten up to it"
				return false
			}
			w.found[cp] = true
		}
	}
	w.prev, w.after, w.last = e.Hash, e.Seq, e
	return true
}

// checkpoints compares the walked chain with each checkpoint.
func (w *chainWalk) checkpoints() {
	v, head, after := w.v, w.head, w.after
	for _, cp := range w.cps {
		switch {
		case w.found[cp]:
			v.Checkpoint = fmt.Sprintf("the chain holds the checkpoint's event %d (%s) with its hash", cp.Seq, cp.Time.UTC().Format(time.RFC3339))
		case cp.Seq == head.AnchorSeq && cp.Hash == hex.EncodeToString(head.AnchorHash):
			v.Checkpoint = fmt.Sprintf("the checkpoint's event %d is the last one pruned, the chain's anchor", cp.Seq)
		case cp.Seq < head.AnchorSeq:
			v.Checkpoint = fmt.Sprintf("the checkpoint's event %d was pruned (retention); the chain starts after event %d", cp.Seq, head.AnchorSeq)
		case cp.Seq > after:
			v.Broken, v.Problem = after, fmt.Sprintf("the chain ends at event %d, before the checkpoint's event %d of %s: events at the end were removed",
				after, cp.Seq, cp.Time.UTC().Format(time.RFC3339))
			return
		default:
			v.Broken, v.Problem = cp.Seq, fmt.Sprintf("the chain no longer holds the checkpoint's event %d: events were removed or the chain rewritten", cp.Seq)
			return
		}
		if cp.KeyedFrom != 0 && (head.KeyedFrom == 0 || head.KeyedFrom > cp.KeyedFrom) {
			v.Broken, v.Problem = head.LastSeq, fmt.Sprintf("the checkpoint says the chain is keyed from event %d, the database from event %d: the chain was downgraded to unkeyed links", cp.KeyedFrom, head.KeyedFrom)
			return
		}
		if w.found[cp] && head.AnchorSeq == cp.AnchorSeq && w.counted[cp] != cp.Count {
			v.Broken, v.Problem = cp.Seq, fmt.Sprintf("the checkpoint counted %d events up to event %d, the chain holds %d: events were removed or inserted", cp.Count, cp.Seq, w.counted[cp])
			return
		}
	}
}

// PruneAudit deletes events older than the organization's retention.
func (s *Service) PruneAudit(ctx context.Context, orgID string) (int64, error) {
	var n int64
	err := s.store.Write(ctx, func(tx gatehouse.Tx) error {
		org, err := tx.GetOrg(ctx, orgID)
		if err != nil || org.Settings.AuditRetention <= 0 {
			return err
		}
		n, err = tx.PruneAudit(ctx, orgID, s.Now().Add(-org.Settings.AuditRetention))
		return err
	})
	return n, err
}

// AuditCheckpoint is a signed statement of an organization's chain head at
// a moment: its last event's sequence number and link, and how many events
// the chain held. Kept outside the database (exported by `gatehouse audit
// checkpoint`), it lets VerifyAudit find a chain cut back before it, or
// rewritten up to it, even by someone who can write the whole database.
//
// It is signed with HMAC-SHA256 under a key derived from the master key:
// only the holder of the master key can make or check one, which is who
// runs `audit verify` (from the host, with the database and the key). An
// Ed25519 signature would let third parties check checkpoints without the
// master key; nothing needs that yet.
type AuditCheckpoint struct {
	Version int    `json:"version"`
	Org     string `json:"org"`
	OrgID   string `json:"orgID"`
	// Seq and Hash (hex) are the chain's last event and its link; EventTime
	// is when that event happened.
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	EventTime time.Time `json:"eventTime"`
	// Count is the number of events from the anchor (AnchorSeq, the last
	// pruned) to Seq; KeyedFrom, the first keyed event.
	Count     int64 `json:"count"`
	AnchorSeq int64 `json:"anchorSeq"`
	KeyedFrom int64 `json:"keyedFrom"`
	// Time is when the checkpoint was taken.
	Time time.Time `json:"time"`
	MAC  string    `json:"mac"`
}

func (s *Service) checkpointMAC(cp *AuditCheckpoint) ([]byte, error) {
	if s.CheckpointKey == nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "audit checkpoints need the master key")
	}
	c := *cp
	c.MAC = ""
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, s.CheckpointKey)
	m.Write(b)
	return m.Sum(nil), nil
}

// checkCheckpoint checks a checkpoint's signature and organization.
func (s *Service) checkCheckpoint(cp *AuditCheckpoint, orgID string) error {
	want, err := s.checkpointMAC(cp)
	if err != nil {
		return err
	}
	got, err := hex.DecodeString(cp.MAC)
	if err != nil || !hmac.Equal(got, want) || cp.Version != 1 {
		return gatehouse.Errorf(gatehouse.EINVALID, "checkpoint: its signature does not hold: it was altered, or signed with another master key")
	}
	if cp.OrgID != orgID {
		return gatehouse.Errorf(gatehouse.EINVALID, "checkpoint: it is of organization %q, not this one", cp.Org)
	}
	return nil
}

// CheckpointAudit verifies an organization's chain and, when intact,
// returns a signed checkpoint of its head.
func (s *Service) CheckpointAudit(ctx context.Context, orgID, orgName string) (*AuditCheckpoint, error) {
	if s.CheckpointKey == nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "audit checkpoints need the master key")
	}
	v, last, head, err := s.verifyAudit(ctx, orgID, nil)
	if err != nil {
		return nil, err
	}
	if v.Broken != 0 {
		return nil, gatehouse.Errorf(gatehouse.ECONFLICT, "the audit chain is broken at event %d (%s): no checkpoint of a broken chain", v.Broken, v.Problem)
	}
	if last == nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "the organization has no audit events to checkpoint")
	}
	cp := &AuditCheckpoint{Version: 1, Org: orgName, OrgID: orgID, Seq: last.Seq, Hash: hex.EncodeToString(last.Hash),
		EventTime: last.Time.UTC(), Count: v.Events, AnchorSeq: head.AnchorSeq, KeyedFrom: v.KeyedFrom, Time: s.Now().UTC().Round(0)}
	mac, err := s.checkpointMAC(cp)
	if err != nil {
		return nil, err
	}
	cp.MAC = hex.EncodeToString(mac)
	return cp, nil
}

// RecordAudit appends events made outside any change (denials and
// authentication failures, which the api records off the request path)
// in one transaction: all of them or none.
func (s *Service) RecordAudit(ctx context.Context, events []*gatehouse.AuditEvent) error {
	return s.store.Write(ctx, func(tx gatehouse.Tx) error {
		for _, e := range events {
			if err := tx.AppendAudit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
}
