package authz

import (
	"context"
	"log/slog"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

// Watch keeps the snapshots current with changes made elsewhere (another
// replica, the admin CLI): every interval it reads the organizations'
// revisions and rebuilds those that moved. Changes made through this
// process are already installed by Refresh before their response. Watch
// returns when ctx ends. Changed, when not nil, announces changes made
// elsewhere (PostgreSQL notifications): the organization is brought up to
// date at once, by the announced change set or the change log (Refresh).
func (a *Authorizer) Watch(ctx context.Context, interval time.Duration, changed <-chan gatehouse.Change, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	polled := map[string]int64{}
	for {
		select {
		case <-ctx.Done():
			return
		case c, ok := <-changed:
			if !ok {
				changed = nil
				continue
			}
			if c.OrgID == "" { // announcements may have been missed: catch up now
				if err := a.sync(ctx, polled, true); err != nil && ctx.Err() == nil {
					log.Warn("refresh snapshots", "err", err)
				}
				continue
			}
			if err := a.apply(ctx, c); err != nil && ctx.Err() == nil {
				log.Warn("refresh snapshot", "org", c.OrgID, "err", err)
			}
			continue
		case <-t.C:
		}
		if err := a.sync(ctx, polled, false); err != nil && ctx.Err() == nil {
			log.Warn("refresh snapshots", "err", err)
		}
	}
}

// sync refreshes every organization whose stored revision differs from the
// loaded one, and drops deleted ones. Writes through this process install
// themselves just after they commit (Refresh, AddTokenAt), so a revision
// first seen now may be one of those on its way: an organization is rebuilt
// when its snapshot is still behind what the previous poll saw, which is
// within two intervals of someone else's change. polled holds the stored
// revisions the previous poll saw. now rebuilds every organization that
// moved at once: announcements may have been missed (the listener
// connected or reconnected), so waiting for another poll could take an
// interval for nothing.
func (a *Authorizer) sync(ctx context.Context, polled map[string]int64, now bool) error {
	revs, err := a.revisions(ctx)
	if err != nil {
		return err
	}
	for id, rev := range revs {
		loaded := a.Revision(id)
		if loaded == rev {
			continue
		}
		if prev, seen := polled[id]; !now && loaded >= 0 && (!seen || loaded >= prev) {
			continue // changed since the last poll: wait for one more
		}
		if err := a.Refresh(ctx, id); err != nil {
			return err
		}
	}
	clear(polled)
	for id, rev := range revs {
		polled[id] = rev
	}
	for id := range *a.orgs.Load() {
		if _, ok := revs[id]; !ok {
			a.mu.Lock()
			a.install(id, nil)
			a.mu.Unlock()
		}
	}
	return nil
}

// apply brings an announced organization up to date: by the announced
// change set when it is the next revision, or by the change log.
func (a *Authorizer) apply(ctx context.Context, c gatehouse.Change) error {
	return a.refresh(ctx, c.OrgID, c.Changes, 0)
}
