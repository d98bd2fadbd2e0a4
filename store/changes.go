package store

import (
	"context"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
)

// changeRetention is how many of an organization's latest revisions the
// change log keeps by default (Options.ChangeRetention): a process further
// behind rebuilds its snapshot instead. Every 16th revision deletes what
// fell out of the window, so the log stays bounded without a sweeper.
const changeRetention = 1024

// maxChangeKeys bounds the keys one change set lists; a transaction that
// changed more is logged as "rebuild" ('*'), which is then cheaper.
const maxChangeKeys = 20_000

// note records what a transaction changed in an organization whose
// revision it bumped (c, from bumpOrg). No keys means the write cannot
// say: readers rebuild.
func (c *orgChange) note(keys []gatehouse.ChangeKey) {
	if len(keys) == 0 {
		c.all = true
		return
	}
	if c.seen == nil {
		c.seen = map[gatehouse.ChangeKey]bool{}
	}
	for _, k := range keys {
		if k.ID == "" || c.seen[k] {
			continue
		}
		c.seen[k] = true
		c.keys = append(c.keys, k)
	}
	if len(c.keys) > maxChangeKeys {
		c.all, c.keys, c.seen = true, nil, nil
	}
}

// encoded is the change set as the log and announcements carry it.
func (c *orgChange) encoded() string { return gatehouse.EncodeChanges(c.all, c.keys) }

// logChanges writes, before the transaction commits, one change log row per
// organization whose revision it bumped, and prunes what fell out of the
// retention window.
func (t *tx) logChanges(ctx context.Context) error {
	now := us(t.now())
	for orgID, c := range t.bumped {
		if _, err := t.exec(ctx, opWrite, "INSERT INTO org_changes (org_id, revision, changes, created) VALUES (?, ?, ?, ?)",
			orgID, c.revision, c.encoded(), now); err != nil {
			return err
		}
		keep := t.retention
		if keep <= 0 {
			keep = changeRetention
		}
		if c.revision > keep && c.revision%16 == 0 {
			// Every 16th revision prunes the 16 before the window.
			if _, err := t.exec(ctx, opDelete, "DELETE FROM org_changes WHERE org_id = ? AND revision <= ?",
				orgID, c.revision-keep); err != nil {
				return err
			}
		}
	}
	return nil
}

// ChangesSince implements gatehouse.ChangeLogTx.
func (t *tx) ChangesSince(ctx context.Context, orgID string, after int64) ([]gatehouse.ChangeSet, error) {
	type row struct {
		rev     int64
		changes string
	}
	rows, err := all(ctx, t, func(s scanner) (row, error) {
		var r row
		return r, s.Scan(&r.rev, &r.changes)
	}, "SELECT revision, changes FROM org_changes WHERE org_id = ? AND revision > ? ORDER BY revision", orgID, after)
	if err != nil {
		return nil, err
	}
	out := make([]gatehouse.ChangeSet, len(rows))
	for i, r := range rows {
		all, keys, ok := gatehouse.DecodeChanges(r.changes)
		out[i] = gatehouse.ChangeSet{Revision: r.rev, All: all || !ok, Keys: keys}
	}
	return out, nil
}

// maxIn bounds the ids one IN list carries.
const maxIn = 500

// inChunks runs q (ending in "IN (%s)") for ids, maxIn at a time, with
// args before the list, appending what scan reads to out.
func inChunks[T any](ctx context.Context, t *tx, out *[]T, scan func(scanner) (T, error), q string, args []any, ids []string) error {
	for len(ids) > 0 {
		n := min(len(ids), maxIn)
		a := append(append([]any(nil), args...), anySlice(ids[:n])...)
		got, err := all(ctx, t, scan, strings.Replace(q, "%s", placeholders(n), 1), a...)
		if err != nil {
			return err
		}
		*out = append(*out, got...)
		ids = ids[n:]
	}
	return nil
}

func anySlice(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// LoadDelta implements gatehouse.ChangeLogTx. Run it in a Read
// transaction, with ChangesSince, so that the parts agree.
func (t *tx) LoadDelta(ctx context.Context, orgID string, req gatehouse.DeltaRequest) (*gatehouse.Delta, error) {
	d := &gatehouse.Delta{TeamRoles: map[string][]string{}}
	var err error
	if d.Org, err = t.GetOrg(ctx, orgID); err != nil {
		return nil, err
	}
	org := []any{orgID}
	steps := []func() error{
		func() error {
			return inChunks(ctx, t, &d.Descriptors, scanDesc, "SELECT "+descCols+" WHERE org_id = ? AND id IN (%s)", org, req.Descriptors)
		},
		func() error {
			return inChunks(ctx, t, &d.Members, scanMember, "SELECT "+memberCols+" WHERE org_id = ? AND user_id IN (%s)", org, req.Members)
		},
		func() error {
			return inChunks(ctx, t, &d.Users, scanUser, "SELECT "+userCols+" WHERE id IN (SELECT user_id FROM memberships WHERE org_id = ?) AND id IN (%s)", org, req.Members)
		},
		func() error {
			return inChunks(ctx, t, &d.Teams, scanTeam, "SELECT "+teamCols+" WHERE org_id = ? AND id IN (%s)", org, req.Teams)
		},
		func() error { return t.deltaTeamMembers(ctx, d, orgID, req) },
		func() error { return t.deltaTeamRoles(ctx, d, orgID, req.Teams) },
		func() error { return t.deltaGrants(ctx, d, orgID, req) },
		func() error {
			return inChunks(ctx, t, &d.Tokens, scanToken, "SELECT "+tokenCols+" WHERE id IN (%s)", nil, req.Tokens)
		},
		func() error { // the live personal tokens of no organization of the members named
			return inChunks(ctx, t, &d.Tokens, scanToken, "SELECT "+tokenCols+" WHERE deleted = ? AND kind = ? AND org_id IS NULL AND user_id IN (%s)",
				[]any{false, gatehouse.TokenPersonal}, req.Members)
		},
		func() error {
			return inChunks(ctx, t, &d.Stacks, scanStack, "SELECT "+stackCols+" WHERE org_id = ? AND id IN (%s)", org, req.Stacks)
		},
		func() error {
			return inChunks(ctx, t, &d.Environments, scanEnv, "SELECT "+envCols+" WHERE org_id = ? AND id IN (%s)", org, req.Environments)
		},
		func() error {
			return inChunks(ctx, t, &d.Accounts, scanAccount, "SELECT "+accountCols+" WHERE org_id = ? AND id IN (%s)", org, req.Accounts)
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// deltaTeamMembers reads the team memberships of the teams and of the
// members a delta names.
func (t *tx) deltaTeamMembers(ctx context.Context, d *gatehouse.Delta, orgID string, req gatehouse.DeltaRequest) error {
	if err := inChunks(ctx, t, &d.TeamMembers, scanTeamMember, "SELECT team_id, user_id, role FROM team_members WHERE team_id IN (%s)", nil, req.Teams); err != nil {
		return err
	}
	return inChunks(ctx, t, &d.TeamMembers, scanTeamMember,
		"SELECT team_id, user_id, role FROM team_members WHERE team_id IN (SELECT id FROM teams WHERE org_id = ?) AND user_id IN (%s)", []any{orgID}, req.Members)
}

// deltaTeamRoles reads the roles of the teams a delta names.
func (t *tx) deltaTeamRoles(ctx context.Context, d *gatehouse.Delta, orgID string, teams []string) error {
	type teamRole struct{ team, role string }
	var trs []teamRole
	err := inChunks(ctx, t, &trs, func(sc scanner) (teamRole, error) {
		var tr teamRole
		return tr, sc.Scan(&tr.team, &tr.role)
	}, "SELECT team_id, role_id FROM team_roles WHERE team_id IN (SELECT id FROM teams WHERE org_id = ?) AND team_id IN (%s)", []any{orgID}, teams)
	for _, tr := range trs {
		d.TeamRoles[tr.team] = append(d.TeamRoles[tr.team], tr.role)
	}
	return err
}

// deltaGrants reads the grants of the members and teams a delta names,
// and the grants it names by id.
func (t *tx) deltaGrants(ctx context.Context, d *gatehouse.Delta, orgID string, req gatehouse.DeltaRequest) error {
	org := []any{orgID}
	if err := inChunks(ctx, t, &d.Grants, scanGrant, "SELECT "+grantCols+" WHERE org_id = ? AND user_id IN (%s)", org, req.Members); err != nil {
		return err
	}
	if err := inChunks(ctx, t, &d.Grants, scanGrant, "SELECT "+grantCols+" WHERE org_id = ? AND team_id IN (%s)", org, req.Teams); err != nil {
		return err
	}
	return inChunks(ctx, t, &d.Grants, scanGrant, "SELECT "+grantCols+" WHERE org_id = ? AND id IN (%s)", org, req.Grants)
}

// key is a change key.
func key(kind gatehouse.ChangeKind, id string) gatehouse.ChangeKey {
	return gatehouse.ChangeKey{Kind: kind, ID: id}
}
