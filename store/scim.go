package store

import (
	"context"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

func (t *tx) CreateSCIMToken(ctx context.Context, s *gatehouse.SCIMToken) error {
	if len(s.Digest) != 32 {
		return gatehouse.Errorf(gatehouse.EINVALID, "a SCIM token needs its digest")
	}
	if s.ID == "" {
		s.ID = gatehouse.NewID()
	}
	s.Created = t.stamp()
	if _, err := t.exec(ctx, opWrite, "UPDATE scim_tokens SET revoked = ? WHERE org_id = ? AND NOT revoked", true, s.OrgID); err != nil {
		return err
	}
	_, err := t.exec(ctx, opWrite, "INSERT INTO scim_tokens (id, org_id, digest, created, created_by, revoked) VALUES (?, ?, ?, ?, ?, ?)",
		s.ID, s.OrgID, s.Digest, us(s.Created), s.CreatedBy, false)
	return invalidAs(conflictAs(err, "the SCIM token exists already"), "organization %q does not exist", s.OrgID)
}

func (t *tx) GetSCIMTokenByDigest(ctx context.Context, digest []byte) (*gatehouse.SCIMToken, error) {
	return get(ctx, t, "SCIM token", func(sc scanner) (*gatehouse.SCIMToken, error) {
		s := &gatehouse.SCIMToken{}
		var created int64
		err := sc.Scan(&s.ID, &s.OrgID, &s.Digest, &created, &s.CreatedBy, &s.Revoked)
		s.Created = fromUS(created)
		return s, err
	}, "SELECT id, org_id, digest, created, created_by, revoked FROM scim_tokens WHERE digest = ?", digest)
}

// scimUserFrom joins the users an organization manages (users_managed,
// in id order), their memberships and what provisioning recorded of them;
// scimUserCols reads it.
const (
	scimUserFrom = ` FROM users u JOIN memberships m ON m.org_id = u.managed_by AND m.user_id = u.id
 LEFT JOIN scim_users s ON s.org_id = m.org_id AND s.user_id = m.user_id
 WHERE u.managed_by = ?`
	scimUserCols = `SELECT u.id, u.login, u.name, u.email, u.avatar_url, u.created, u.managed_by,
 m.org_id, m.user_id, m.role_id, m.suspended, m.created, COALESCE(s.external_id, ''), COALESCE(s.modified, 0)`
)

func scanSCIMUser(sc scanner) (*gatehouse.SCIMUser, error) {
	u, m := &gatehouse.User{}, &gatehouse.Membership{}
	var uCreated, mCreated, modified int64
	var managedBy *string
	v := &gatehouse.SCIMUser{User: u, Member: m}
	err := sc.Scan(&u.ID, &u.Login, &u.Name, &u.Email, &u.AvatarURL, &uCreated, &managedBy,
		&m.OrgID, &m.UserID, &m.RoleID, &m.Suspended, &mCreated, &v.ExternalID, &modified)
	u.Created, u.ManagedBy, m.Created, v.Modified = fromUS(uCreated), deref(managedBy), fromUS(mCreated), fromUS(modified)
	return v, err
}

// scimCond is the condition of a SCIM filter on an attribute, with its
// arguments, for the organization and the value.
type scimCond func(orgID, value string) (string, []any)

// scimWhere is the condition of a SCIM filter (conds: per attribute).
func scimWhere(f gatehouse.SCIMFilter, orgID string, conds map[string]scimCond) (string, []any, error) {
	if f.Attr == "" {
		return "", nil, nil
	}
	cond, ok := conds[f.Attr]
	if !ok {
		return "", nil, gatehouse.Errorf(gatehouse.EINVALID, "filter: cannot filter on %q", f.Attr)
	}
	q, args := cond(orgID, f.Value)
	return " AND " + q, args, nil
}

// scimPage runs a SCIM list: the count of all that match, then the page.
func scimPage[T any](ctx context.Context, t *tx, orgID string, f gatehouse.SCIMFilter, cols, from, order string, conds map[string]scimCond,
	scan func(scanner) (T, error)) ([]T, int, error) {
	where, wargs, err := scimWhere(f, orgID, conds)
	if err != nil {
		return nil, 0, err
	}
	args := append([]any{orgID}, wargs...)
	var total int
	if err := t.queryRow(ctx, "SELECT COUNT(*)"+from+where, args...).Scan(&total); err != nil {
		return nil, 0, t.d.mapErr(err, opWrite)
	}
	if f.Limit <= 0 || f.Offset >= total {
		return nil, total, nil
	}
	out, err := all(ctx, t, scan, cols+from+where+" ORDER BY "+order+" LIMIT ? OFFSET ?", append(args, f.Limit, max(f.Offset, 0))...)
	return out, total, err
}

// scimUserFilters are written for the indexes, each a lookup that then
// probes the memberships' key: userName through users_login_lower
// (logins compare ignoring case, RFC 7643's caseExact false), externalId
// through scim_users_external.
var scimUserFilters = map[string]scimCond{
	gatehouse.SCIMAttrUserName: func(_, v string) (string, []any) {
		// Logins are ASCII, so "ignoring case" is ASCII's case. SQLite's
		// LOWER folds only ASCII; PostgreSQL's folds Unicode, where the
		// Kelvin sign lowers to k and a dotted capital I to i: there a
		// value such as "\u212Aate" would find kate, whom SQLite (and
		// every byte-wise comparison of logins) tells apart. A value that
		// is not ASCII matches no login on either.
		if !isASCII(v) {
			return "1 = 0", nil
		}
		return "m.user_id IN (SELECT id FROM users WHERE LOWER(login) = LOWER(?))", []any{v}
	},
	gatehouse.SCIMAttrExternalID: func(org, v string) (string, []any) {
		return "m.user_id IN (SELECT user_id FROM scim_users WHERE org_id = ? AND external_id = ?)", []any{org, v}
	},
	gatehouse.SCIMAttrDisplayName: func(_, v string) (string, []any) { return "u.name = ?", []any{v} },
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func (t *tx) ListSCIMUsers(ctx context.Context, orgID string, f gatehouse.SCIMFilter) ([]*gatehouse.SCIMUser, int, error) {
	return scimPage(ctx, t, orgID, f, scimUserCols, scimUserFrom, "u.id", scimUserFilters, scanSCIMUser)
}

func (t *tx) GetSCIMUser(ctx context.Context, orgID, userID string) (*gatehouse.SCIMUser, error) {
	return get(ctx, t, "user", scanSCIMUser, scimUserCols+scimUserFrom+" AND u.id = ?", orgID, userID)
}

func (t *tx) PutSCIMUser(ctx context.Context, orgID, userID, externalID string, modified time.Time) error {
	_, err := t.exec(ctx, opWrite, `INSERT INTO scim_users (org_id, user_id, external_id, modified) VALUES (?, ?, ?, ?)
 ON CONFLICT (org_id, user_id) DO UPDATE SET external_id = excluded.external_id, modified = excluded.modified`,
		orgID, userID, externalID, us(modified))
	return invalidAs(err, "the organization or user does not exist")
}

const (
	scimGroupFrom = ` FROM teams t LEFT JOIN scim_groups g ON g.team_id = t.id WHERE t.org_id = ? AND t.kind = '` + gatehouse.TeamSCIM + `'`
	scimGroupCols = `SELECT t.id, t.org_id, t.kind, t.name, t.display_name, t.description, t.created,
 COALESCE(g.external_id, ''), COALESCE(g.modified, 0)`
)

func scanSCIMGroup(sc scanner) (*gatehouse.SCIMGroup, error) {
	tm := &gatehouse.Team{}
	v := &gatehouse.SCIMGroup{Team: tm}
	var created, modified int64
	err := sc.Scan(&tm.ID, &tm.OrgID, &tm.Kind, &tm.Name, &tm.DisplayName, &tm.Description, &created, &v.ExternalID, &modified)
	tm.Created, v.Modified = fromUS(created), fromUS(modified)
	return v, err
}

var scimGroupFilters = map[string]scimCond{
	gatehouse.SCIMAttrExternalID: func(org, v string) (string, []any) {
		return "t.id IN (SELECT team_id FROM scim_groups WHERE org_id = ? AND external_id = ?)", []any{org, v}
	},
	gatehouse.SCIMAttrDisplayName: func(_, v string) (string, []any) { return "t.display_name = ?", []any{v} },
}

func (t *tx) ListSCIMGroups(ctx context.Context, orgID string, f gatehouse.SCIMFilter) ([]*gatehouse.SCIMGroup, int, error) {
	return scimPage(ctx, t, orgID, f, scimGroupCols, scimGroupFrom, "t.id", scimGroupFilters, scanSCIMGroup)
}

func (t *tx) GetSCIMGroup(ctx context.Context, orgID, teamID string) (*gatehouse.SCIMGroup, error) {
	return get(ctx, t, "group", scanSCIMGroup, scimGroupCols+scimGroupFrom+" AND t.id = ?", orgID, teamID)
}

func (t *tx) PutSCIMGroup(ctx context.Context, orgID, teamID, externalID string, modified time.Time) error {
	_, err := t.exec(ctx, opWrite, `INSERT INTO scim_groups (org_id, team_id, external_id, modified) VALUES (?, ?, ?, ?)
 ON CONFLICT (team_id) DO UPDATE SET external_id = excluded.external_id, modified = excluded.modified`,
		orgID, teamID, externalID, us(modified))
	return invalidAs(err, "the organization or team does not exist")
}
