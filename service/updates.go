package service

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"sort"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

// LeaseDuration is how long an update's lease lasts unless renewed; the
// pulumi CLI renews it well before.
const (
	LeaseDuration    = 5 * time.Minute
	MaxLeaseDuration = time.Hour
)

// UpdateInfo is what an update records beyond its columns, as JSON in
// StackUpdate.Info.
type UpdateInfo struct {
	Program         json.RawMessage   `json:"program,omitempty"`
	Message         string            `json:"message,omitempty"`
	Environment     map[string]string `json:"environment,omitempty"`
	Config          json.RawMessage   `json:"config,omitempty"`
	ResourceChanges map[string]int    `json:"resourceChanges,omitempty"`
	ResourceCount   int               `json:"resourceCount,omitempty"`
	Author          string            `json:"author,omitempty"`
}

// InfoOf decodes an update's recorded details.
func InfoOf(u *gatehouse.StackUpdate) UpdateInfo {
	var i UpdateInfo
	json.Unmarshal(u.Info, &i)
	return i
}

// ProgramInput is what the CLI says about an update when creating it.
type ProgramInput struct {
	Raw         json.RawMessage // the whole request, kept
	Name        string          // the program's project
	Message     string
	Environment map[string]string
	Config      json.RawMessage
}

// CreateUpdate records a new update, preview, refresh or destroy, not yet
// started.
func (s *Service) CreateUpdate(ctx context.Context, st *gatehouse.Stack, by *gatehouse.Identity, kind string, p ProgramInput) (u *gatehouse.StackUpdate, err error) {
	// No lock and no snapshot: the update is not yet started.
	err = s.store.Write(ctx, func(tx gatehouse.Tx) (err error) {
		u, err = createUpdateTx(ctx, tx, st, by, kind, p)
		return err
	})
	return u, err
}

func createUpdateTx(ctx context.Context, tx gatehouse.Tx, st *gatehouse.Stack, by *gatehouse.Identity, kind string, p ProgramInput) (*gatehouse.StackUpdate, error) {
	switch kind {
	case gatehouse.UpdateKindUpdate, gatehouse.UpdateKindPreview, gatehouse.UpdateKindRefresh, gatehouse.UpdateKindDestroy:
	default:
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "update kind: %q is not update, preview, refresh or destroy", kind)
	}
	if p.Name != st.Project {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "name: the program's project %q is not the stack's project %q", p.Name, st.Project)
	}
	info, _ := json.Marshal(UpdateInfo{Program: p.Raw, Message: p.Message, Environment: p.Environment, Config: p.Config, Author: by.Actor()})
	u := &gatehouse.StackUpdate{StackID: st.ID, Kind: kind, Status: gatehouse.UpdateNotStarted, Info: info, StarterDigest: by.Token.Digest}
	if err := recordStackImportsTx(ctx, tx, st, p.Environment); err != nil {
		return nil, err
	}
	return u, tx.CreateUpdate(ctx, u)
}

// Update returns one of a stack's updates.
func (s *Service) Update(ctx context.Context, st *gatehouse.Stack, id string) (u *gatehouse.StackUpdate, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		u, err = stackUpdate(ctx, tx, st, id)
		return err
	})
	return u, err
}

// stackUpdate reads one of the stack's updates: another stack's is not
// found, as a missing one; a failed read stays what it is.
func stackUpdate(ctx context.Context, tx gatehouse.Tx, st *gatehouse.Stack, id string) (*gatehouse.StackUpdate, error) {
	u, err := tx.GetUpdate(ctx, id)
	if err == nil && u.StackID != st.ID {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "update not found")
	}
	return u, gatehouse.Reword(err, gatehouse.ENOTFOUND, "update not found")
}

// Started is what starting an update returns: the version it will write,
// and its lease.
type Started struct {
	Version int
	Token   string
	Expires time.Time
}

func newLeaseToken() (string, []byte) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	v := hex.EncodeToString(b[:])
	return v, gatehouse.TokenDigest(v)
}

// StartUpdate starts an update: it takes the stack's lease (one update at
// a time; an expired lease is taken over and its update marked failed),
// and returns the lease token that authenticates the update's requests.
// The tags the CLI sends are merged into the stack's when setTags is true
// (the caller holds stack_tags:update), in the same transaction: a tag
// change refused leaves the update unstarted.
func (s *Service) StartUpdate(ctx context.Context, st *gatehouse.Stack, id string, by *gatehouse.Identity, tags map[string]string, setTags bool) (*Started, error) {
	if setTags && len(tags) > 0 {
		if err := s.checkUpdateTags(ctx, st, tags); err != nil {
			return nil, err
		}
	}
	var out *Started
	retagged := false
	err := s.store.Write(ctx, func(tx gatehouse.Tx) (err error) {
		out, retagged, err = s.startUpdateTx(ctx, tx, st, id, by, tags, setTags)
		return err
	})
	if err != nil {
		return nil, err
	}
	if retagged {
		if err := s.az.Refresh(ctx, st.OrgID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// startUpdateTx is StartUpdate in a transaction, its tags' change
// included; it reports whether the tags changed (the snapshot is then to
// be refreshed). It takes the organization's lock (with tags) and the
// stack's, in that order, before anything else.
func (s *Service) startUpdateTx(ctx context.Context, tx gatehouse.Tx, st *gatehouse.Stack, id string, by *gatehouse.Identity, tags map[string]string, setTags bool) (*Started, bool, error) {
	now := s.Now()
	token, digest := newLeaseToken()
	out := &Started{Token: token, Expires: now.Add(LeaseDuration)}
	u, err := lockedUpdate(ctx, tx, st, id, setTags && len(tags) > 0)
	if err != nil {
		return nil, false, err
	}
	if u.Status != gatehouse.UpdateNotStarted {
		return nil, false, gatehouse.Errorf(gatehouse.ECONFLICT, "the update is %s, not waiting to start", u.Status)
	}
	if !bytes.Equal(u.StarterDigest, by.Token.Digest) {
		return nil, false, gatehouse.Errorf(gatehouse.EFORBIDDEN, "the update was created with another access token")
	}
	cur, err := tx.GetStackByID(ctx, st.ID)
	if err != nil {
		return nil, false, err
	}
	// A preview writes nothing: it runs beside an update and holds a
	// lease of its own, not the stack's, so that a reader cannot keep
	// writers out by previewing.
	if u.Kind != gatehouse.UpdateKindPreview {
		if err := tx.AcquireStackLease(ctx, st.ID, u.ID, out.Expires, now); err != nil {
			return nil, false, err
		}
	}
	if u.Kind != gatehouse.UpdateKindPreview && cur.ActiveUpdate != "" && cur.ActiveUpdate != u.ID {
		// Its lease lapsed: the CLI that held it is gone.
		if old, err := tx.GetUpdate(ctx, cur.ActiveUpdate); err == nil && old.Status == gatehouse.UpdateRunning {
			old.Status, old.Finished, old.LeaseDigest = gatehouse.UpdateFailed, now, nil
			if err := tx.SaveUpdate(ctx, old); err != nil {
				return nil, false, err
			}
		}
	}
	u.Status, u.Started, u.LeaseDigest, u.LeaseExpiry = gatehouse.UpdateRunning, now, digest, out.Expires
	u.Version = cur.Version + 1
	if u.Kind == gatehouse.UpdateKindPreview {
		u.Version = cur.Version
	}
	out.Version = u.Version
	if err := tx.SaveUpdate(ctx, u); err != nil || !setTags || len(tags) == 0 {
		return out, false, err
	}
	// Merged, not replaced: the CLI sends the stack's tags with the
	// program's, and a tag an update leaves out is not one it removes.
	retagged, err := s.changeStackTagsTx(ctx, tx, st, TagUpdate{Merge: tags, FromUpdate: true})
	return out, retagged, err
}

// lockedUpdate reads one of the stack's updates under the stack's row
// lock, taken before the checks read the stack or the update again: a
// start then reads the version its completed predecessor made, and a
// second start of one update sees the first's. A transaction that also
// changes the organization (an update's tags) takes the organization's
// lock first, in the order every writer takes them.
func lockedUpdate(ctx context.Context, tx gatehouse.Tx, st *gatehouse.Stack, id string, org bool) (*gatehouse.StackUpdate, error) {
	if org {
		if err := tx.LockOrg(ctx, st.OrgID); err != nil {
			return nil, err
		}
	}
	if _, err := stackUpdate(ctx, tx, st, id); err != nil {
		return nil, err
	}
	if err := tx.LockStack(ctx, st.ID); err != nil {
		return nil, err
	}
	return stackUpdate(ctx, tx, st, id)
}

// Leased authenticates a request made with an update's lease token: the
// update must be running, hold the stack's lease, and the token must be
// its lease's. It returns the update and the identity of the token that
// started it, which must still be valid: revoking it stops the update.
func (s *Service) Leased(ctx context.Context, stackID, updateID, lease string) (*gatehouse.StackUpdate, *gatehouse.Identity, error) {
	var u *gatehouse.StackUpdate
	err := s.read(ctx, func(tx gatehouse.Tx) (err error) {
		u, err = tx.GetUpdate(ctx, updateID)
		return err
	})
	unauth := func(why string) error { return gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "update token: %s", why) }
	if err != nil || u.StackID != stackID {
		return nil, nil, unauth("no such update of this stack")
	}
	if subtle.ConstantTimeCompare(u.LeaseDigest, gatehouse.TokenDigest(lease)) != 1 {
		return nil, nil, unauth("not this update's lease")
	}
	if u.Status != gatehouse.UpdateRunning {
		return nil, nil, unauth("the update is " + u.Status)
	}
	if !s.Now().Before(u.LeaseExpiry) {
		return nil, nil, unauth("the lease expired")
	}
	id, err := s.az.AuthenticateDigest(u.StarterDigest)
	if err != nil {
		return nil, nil, unauth("the access token that started the update is no longer valid")
	}
	return u, id, nil
}

// RenewLease extends a running update's lease.
func (s *Service) RenewLease(ctx context.Context, u *gatehouse.StackUpdate, d time.Duration) (time.Time, error) {
	if d <= 0 {
		d = LeaseDuration
	}
	d = min(d, MaxLeaseDuration)
	now := s.Now()
	expiry := now.Add(d)
	err := s.store.Write(ctx, func(tx gatehouse.Tx) error { return renewLeaseTx(ctx, tx, u, expiry, now) })
	return expiry, err
}

// renewLeaseTx is RenewLease in a transaction: the lease of u runs until
// expiry from now on.
func renewLeaseTx(ctx context.Context, tx gatehouse.Tx, u *gatehouse.StackUpdate, expiry, now time.Time) error {
	if err := tx.LockStack(ctx, u.StackID); err != nil {
		return err
	}
	cur, err := tx.GetUpdate(ctx, u.ID)
	if err != nil {
		return err
	}
	// A renewal that waited for the update's completion renews
	// nothing: taking the freed lease again would lock the stack.
	if cur.Status != gatehouse.UpdateRunning {
		return gatehouse.Errorf(gatehouse.ECONFLICT, "the update is %s", cur.Status)
	}
	if u.Kind != gatehouse.UpdateKindPreview {
		if err := tx.AcquireStackLease(ctx, u.StackID, u.ID, expiry, now); err != nil {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "the update lost the stack's lease")
		}
	}
	cur.LeaseExpiry = expiry
	return tx.SaveUpdate(ctx, cur)
}

// holding re-reads the update and its stack in a write, under the stack's
// lock, checking that the update still runs and holds the lease.
func (s *Service) holding(ctx context.Context, tx gatehouse.Tx, id string) (*gatehouse.StackUpdate, *gatehouse.Stack, error) {
	u, err := tx.GetUpdate(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if err := tx.LockStack(ctx, u.StackID); err != nil {
		return nil, nil, err
	}
	// Read again under the lock: what the lock's previous holder wrote.
	if u, err = tx.GetUpdate(ctx, id); err != nil {
		return nil, nil, err
	}
	st, err := tx.GetStackByID(ctx, u.StackID)
	if err != nil {
		return nil, nil, err
	}
	if u.Status != gatehouse.UpdateRunning || (u.Kind != gatehouse.UpdateKindPreview && st.ActiveUpdate != u.ID) {
		return nil, nil, gatehouse.Errorf(gatehouse.ECONFLICT, "the update no longer holds the stack's lease")
	}
	return u, st, nil
}

// RecordEvents stores a batch of engine events; the summary event's
// resource changes go into the update's history entry.
func (s *Service) RecordEvents(ctx context.Context, updateID string, events []json.RawMessage) error {
	// Read before the write opens: the batch may be large.
	evs, changes, err := parseEvents(events)
	if err != nil {
		return err
	}
	return s.store.Write(ctx, func(tx gatehouse.Tx) error { return s.recordEventsTx(ctx, tx, updateID, evs, changes) })
}

// parseEvents reads a batch of engine events: each with its sequence
// number, and the summary event's resource changes (nil without one).
func parseEvents(events []json.RawMessage) ([]gatehouse.UpdateEvent, map[string]int, error) {
	if len(events) > 10000 {
		return nil, nil, gatehouse.Errorf(gatehouse.EINVALID, "events: %d events, over the limit of 10000", len(events))
	}
	evs := make([]gatehouse.UpdateEvent, 0, len(events))
	var changes map[string]int
	for i, raw := range events {
		var e struct {
			Sequence     *int `json:"sequence"`
			SummaryEvent *struct {
				ResourceChanges map[string]int `json:"resourceChanges"`
			} `json:"summaryEvent"`
		}
		if err := json.Unmarshal(raw, &e); err != nil || e.Sequence == nil {
			return nil, nil, gatehouse.Errorf(gatehouse.EINVALID, "events[%d]: an engine event needs a sequence number", i)
		}
		if e.SummaryEvent != nil {
			changes = e.SummaryEvent.ResourceChanges
		}
		evs = append(evs, gatehouse.UpdateEvent{Sequence: *e.Sequence, Data: raw})
	}
	return evs, changes, nil
}

// recordEventsTx is RecordEvents in a transaction, of the events
// parseEvents read.
func (s *Service) recordEventsTx(ctx context.Context, tx gatehouse.Tx, updateID string, evs []gatehouse.UpdateEvent, changes map[string]int) error {
	u, st, err := s.holding(ctx, tx, updateID)
	if err != nil {
		return err
	}
	if u.Kind == gatehouse.UpdateKindPreview {
		// A preview keeps its first events only (quotas.previewEvents):
		// sequence numbers past the quota are accepted and dropped.
		org, err := tx.GetOrg(ctx, st.OrgID)
		if err != nil {
			return err
		}
		limit := org.Settings.Quotas.Effective().PreviewEvents
		kept := evs[:0:0]
		for _, e := range evs {
			if e.Sequence >= 0 && e.Sequence <= limit {
				kept = append(kept, e)
			}
		}
		evs = kept
	}
	if err := tx.AppendUpdateEvents(ctx, u.ID, evs); err != nil {
		return err
	}
	if changes != nil {
		info := InfoOf(u)
		info.ResourceChanges = changes
		u.Info, _ = json.Marshal(info)
		return tx.SaveUpdate(ctx, u)
	}
	return nil
}

// UpdateEvents lists an update's engine events after a sequence number.
func (s *Service) UpdateEvents(ctx context.Context, u *gatehouse.StackUpdate, after, limit int) (evs []gatehouse.UpdateEvent, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		evs, err = tx.ListUpdateEvents(ctx, u.ID, after, limit)
		return err
	})
	return evs, err
}

// CompleteUpdate finishes a running update with its result and frees the
// stack's lease. An update that wrote no checkpoint still makes a version,
// a copy of the previous one, so that history numbers every update.
func (s *Service) CompleteUpdate(ctx context.Context, updateID, status string) error {
	return s.store.Write(ctx, func(tx gatehouse.Tx) error { return s.completeUpdateTx(ctx, tx, updateID, status) })
}

func (s *Service) completeUpdateTx(ctx context.Context, tx gatehouse.Tx, updateID, status string) error {
	switch status {
	case gatehouse.UpdateSucceeded, gatehouse.UpdateFailed, gatehouse.UpdateCancelled:
	default:
		return gatehouse.Errorf(gatehouse.EINVALID, "status: %q is not succeeded, failed or cancelled", status)
	}
	u, st, err := s.holding(ctx, tx, updateID)
	if err != nil {
		return err
	}
	if u.Kind != gatehouse.UpdateKindPreview && st.Version == u.Version-1 {
		if st.Version == 0 {
			u.Version = 0
		} else {
			prev, err := tx.GetCheckpoint(ctx, st.ID, st.Version)
			if err != nil {
				return err
			}
			if err := saveCheckpoint(ctx, tx, u, st, prev.Data); err != nil {
				return err
			}
		}
	}
	if u.Kind != gatehouse.UpdateKindPreview && u.Version > 0 {
		cp, err := tx.GetCheckpoint(ctx, st.ID, u.Version)
		if err != nil {
			return err
		}
		info := InfoOf(u)
		info.ResourceCount = resourceCount(cp.Data)
		u.Info, _ = json.Marshal(info)
	}
	u.Status, u.Finished, u.LeaseDigest = status, s.Now(), nil
	if err := tx.SaveUpdate(ctx, u); err != nil {
		return err
	}
	if err := tx.ReleaseStackLease(ctx, st.ID, u.ID); err != nil {
		return err
	}
	if u.Kind == gatehouse.UpdateKindPreview {
		return nil
	}
	return s.audit(ctx, tx, st.OrgID, gatehouse.EventStackUpdated, st.ID, map[string]any{"kind": u.Kind, "result": status, "version": u.Version},
		"%s of stack %s/%s %s (version %d)", u.Kind, st.Project, st.Name, status, u.Version)
}

// CancelUpdate cancels a running update and frees the stack's lease.
func (s *Service) CancelUpdate(ctx context.Context, st *gatehouse.Stack, id string) error {
	return s.store.Write(ctx, func(tx gatehouse.Tx) error { return s.cancelUpdateTx(ctx, tx, st, id) })
}

func (s *Service) cancelUpdateTx(ctx context.Context, tx gatehouse.Tx, st *gatehouse.Stack, id string) error {
	u, err := lockedUpdate(ctx, tx, st, id, false)
	if err != nil {
		return err
	}
	if u.Status != gatehouse.UpdateRunning && u.Status != gatehouse.UpdateNotStarted {
		return gatehouse.Errorf(gatehouse.ECONFLICT, "the update is %s already", u.Status)
	}
	u.Status, u.Finished, u.LeaseDigest = gatehouse.UpdateCancelled, s.Now(), nil
	if err := tx.SaveUpdate(ctx, u); err != nil {
		return err
	}
	if err := tx.ReleaseStackLease(ctx, st.ID, u.ID); err != nil {
		return err
	}
	return s.audit(ctx, tx, st.OrgID, gatehouse.EventStackUpdateCancel, st.ID, map[string]string{"update": u.ID, "kind": u.Kind},
		"cancelled the %s of stack %s/%s", u.Kind, st.Project, st.Name)
}

// History lists a stack's updates other than previews, newest first: one
// page of pageSize (0: all).
func (s *Service) History(ctx context.Context, st *gatehouse.Stack, pageSize, page int) ([]*gatehouse.StackUpdate, error) {
	var out []*gatehouse.StackUpdate
	skip := 0
	restart := func() {
		out, skip = nil, 0
		if pageSize > 0 {
			skip = (max(page, 1) - 1) * pageSize
		}
	}
	err := s.walkUpdates(ctx, st, restart, func(u *gatehouse.StackUpdate) bool {
		if !inHistory(u) {
			return false
		}
		if skip > 0 {
			skip--
			return false
		}
		out = append(out, u)
		return pageSize > 0 && len(out) == pageSize
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Version > out[j].Version })
	return out, err
}

// inHistory reports whether an update is part of the stack's history:
// started, and not a preview.
func inHistory(u *gatehouse.StackUpdate) bool {
	return u.Kind != gatehouse.UpdateKindPreview && u.Status != gatehouse.UpdateNotStarted
}

// walkUpdates calls fn on the stack's updates, newest first, until it
// returns true or there are no more. restart, when not nil, resets fn's
// state before each walk: a read that met a dead connection is walked
// again (store.guard).
func (s *Service) walkUpdates(ctx context.Context, st *gatehouse.Stack, restart func(), fn func(*gatehouse.StackUpdate) bool) error {
	return s.read(ctx, func(tx gatehouse.Tx) error {
		if restart != nil {
			restart()
		}
		next := ""
		for {
			us, n, err := tx.ListUpdates(ctx, st.ID, gatehouse.ListOptions{Limit: gatehouse.MaxListLimit, Continuation: next})
			if err != nil {
				return err
			}
			for _, u := range us {
				if fn(u) {
					return nil
				}
			}
			if next = n; next == "" {
				return nil
			}
		}
	})
}

// VersionUpdate returns the update that made a version of the stack (0:
// the latest), reading the history only as far back as it is.
func (s *Service) VersionUpdate(ctx context.Context, st *gatehouse.Stack, version int) (*gatehouse.StackUpdate, error) {
	var out *gatehouse.StackUpdate
	err := s.walkUpdates(ctx, st, nil, func(u *gatehouse.StackUpdate) bool {
		if inHistory(u) && (version == 0 || u.Version == version) {
			out = u
		}
		return out != nil
	})
	if err == nil && out == nil {
		err = gatehouse.Errorf(gatehouse.ENOTFOUND, "stack %s/%s has no update of version %d", st.Project, st.Name, version)
	}
	return out, err
}

// LatestPreview returns the stack's most recent preview.
func (s *Service) LatestPreview(ctx context.Context, st *gatehouse.Stack) (*gatehouse.StackUpdate, error) {
	var out *gatehouse.StackUpdate
	err := s.walkUpdates(ctx, st, nil, func(u *gatehouse.StackUpdate) bool {
		if u.Kind == gatehouse.UpdateKindPreview {
			out = u
		}
		return out != nil
	})
	if err == nil && out == nil {
		err = gatehouse.Errorf(gatehouse.ENOTFOUND, "stack %s/%s has no previews", st.Project, st.Name)
	}
	return out, err
}
