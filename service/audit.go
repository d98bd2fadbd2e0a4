package service

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

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
		RequestID: a.RequestID, Entity: entity, ReqOrgAdmin: flags.RequiresOrgAdmin, ReqStackAdmin: flags.RequiresStackAdmin,
		AuthFailure: flags.AuthenticationFailure}
	if data != nil {
		e.Data, _ = json.Marshal(data)
	}
	return e
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
func (s *Service) VerifyAudit(ctx context.Context, orgID string) (*gatehouse.AuditVerification, error) {
	v := &gatehouse.AuditVerification{}
	err := s.read(ctx, func(tx gatehouse.Tx) error {
		head, err := tx.AuditHead(ctx, orgID)
		if err != nil {
			return err
		}
		prev, after := head.AnchorHash, head.AnchorSeq
		if prev == nil {
			prev = []byte{}
		}
		for {
			page, err := tx.AuditChain(ctx, orgID, after, 1000)
			if err != nil {
				return err
			}
			for _, e := range page {
				v.Events++
				switch {
				case string(e.PrevHash) != string(prev):
					v.Broken, v.Problem = e.Seq, "its link to the event before does not match: an event before it was changed, removed or inserted"
					return nil
				case string(e.Hash) != string(e.ChainHash(prev)):
					v.Broken, v.Problem = e.Seq, "its contents do not match its hash: the event was changed"
					return nil
				}
				prev, after = e.Hash, e.Seq
			}
			if len(page) < 1000 {
				break
			}
		}
		if head.LastSeq != 0 && (after != head.LastSeq || string(prev) != string(head.LastHash)) {
			v.Broken, v.Problem = head.LastSeq, fmt.Sprintf("the chain ends at event %d, but its head records event %d: events at the end were removed", after, head.LastSeq)
		}
		return nil
	})
	return v, err
}

// PruneAudit deletes events older than the organization's retention.
func (s *Service) PruneAudit(ctx context.Context, orgID string) (int64, error) {
	var n int64
	err := s.Store.Write(ctx, func(tx gatehouse.Tx) error {
		org, err := tx.GetOrg(ctx, orgID)
		if err != nil || org.Settings.AuditRetention <= 0 {
			return err
		}
		n, err = tx.PruneAudit(ctx, orgID, s.Now().Add(-org.Settings.AuditRetention))
		return err
	})
	return n, err
}
