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
// elsewhere (PostgreSQL notifications): new tokens are added, anything else
// rebuilds its organization at once.
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

// sync rebuilds every organization whose stored revision differs from the
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

// apply installs an announced change: the tokens it created, when that is
// all it did, or else a rebuild unless the loaded snapshot is at the
// organization's stored revision already.
func (a *Authorizer) apply(ctx context.Context, c gatehouse.Change) error {
	if len(c.Tokens) > 0 && c.Revision > 0 && a.Revision(c.OrgID) >= 0 {
		toks := make([]*gatehouse.Token, 0, len(c.Tokens))
		err := a.store.Read(ctx, func(tx gatehouse.Tx) error {
			toks = toks[:0] // a retried read starts over (store.guard)
			for _, id := range c.Tokens {
				tok, err := tx.GetToken(ctx, id)
				if err != nil {
					return err
				}
				toks = append(toks, tok)
			}
			return nil
		})
		if err == nil {
			for _, tok := range toks {
				if tok.OrgID != c.OrgID { // a personal token of no organization reaches several
					return a.refreshIfMoved(ctx, c.OrgID)
				}
			}
			a.AddTokenAt(c.Revision, toks...)
			return nil
		}
	}
	return a.refreshIfMoved(ctx, c.OrgID)
}

// refreshIfMoved rebuilds an organization unless the loaded snapshot is at
// its stored revision already.
func (a *Authorizer) refreshIfMoved(ctx context.Context, orgID string) error {
	var org *gatehouse.Organization
	err := a.store.Read(ctx, func(tx gatehouse.Tx) (err error) {
		org, err = tx.GetOrg(ctx, orgID)
		return err
	})
	if err == nil && a.Revision(orgID) == org.Revision {
		return nil
	}
	return a.Refresh(ctx, orgID)
}
