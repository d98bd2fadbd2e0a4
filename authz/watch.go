package authz

import (
	"context"
	"log/slog"
	"time"
)

// Watch keeps the snapshots current with changes made elsewhere (another
// replica, the admin CLI): every interval it reads the organizations'
// revisions and rebuilds those that moved. Changes made through this
// process are already installed by Refresh before their response. Watch
// returns when ctx ends. Changed, when not nil, announces organizations that
// changed elsewhere (PostgreSQL notifications): they are rebuilt at once.
func (a *Authorizer) Watch(ctx context.Context, interval time.Duration, changed <-chan string, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case orgID, ok := <-changed:
			if !ok {
				changed = nil
				continue
			}
			if orgID == "" { // announcements may have been missed
				if err := a.sync(ctx); err != nil && ctx.Err() == nil {
					log.Warn("refresh snapshots", "err", err)
				}
				continue
			}
			if err := a.Refresh(ctx, orgID); err != nil && ctx.Err() == nil {
				log.Warn("refresh snapshot", "org", orgID, "err", err)
			}
			continue
		case <-t.C:
		}
		if err := a.sync(ctx); err != nil && ctx.Err() == nil {
			log.Warn("refresh snapshots", "err", err)
		}
	}
}

// sync rebuilds every organization whose stored revision differs from the
// loaded one, and drops deleted ones.
func (a *Authorizer) sync(ctx context.Context) error {
	revs, err := a.revisions(ctx)
	if err != nil {
		return err
	}
	for id, rev := range revs {
		if a.Revision(id) != rev {
			if err := a.Refresh(ctx, id); err != nil {
				return err
			}
		}
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
