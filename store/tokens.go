package store

import (
	"context"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

const tokenCols = "id, kind, org_id, user_id, team_id, runner, name, description, role_id, digest, created, created_by, expires, last_used, deleted, exchanged, issuer_id, role_deleted FROM tokens"

func scanToken(s scanner) (*gatehouse.Token, error) {
	tk := &gatehouse.Token{}
	var orgID, userID, teamID, roleID, issuerID *string
	var created, expires, lastUsed int64
	if err := s.Scan(&tk.ID, &tk.Kind, &orgID, &userID, &teamID, &tk.Runner, &tk.Name, &tk.Description, &roleID,
		&tk.Digest, &created, &tk.CreatedBy, &expires, &lastUsed, &tk.Deleted, &tk.Exchanged, &issuerID, &tk.RoleDeleted); err != nil {
		return nil, err
	}
	tk.OrgID, tk.UserID, tk.TeamID, tk.RoleID, tk.IssuerID = deref(orgID), deref(userID), deref(teamID), deref(roleID), deref(issuerID)
	tk.Created, tk.Expires, tk.LastUsed = fromUS(created), fromUS(expires), fromUS(lastUsed)
	return tk, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (t *tx) CreateToken(ctx context.Context, tk *gatehouse.Token) error {
	if len(tk.Digest) != 32 {
		return gatehouse.Errorf(gatehouse.EINVALID, "token digest must be a SHA-256 (32 bytes)")
	}
	switch tk.Kind {
	case gatehouse.TokenPersonal:
		if tk.UserID == "" {
			return gatehouse.Errorf(gatehouse.EINVALID, "a personal token needs its user")
		}
	case gatehouse.TokenOrganization, gatehouse.TokenRunner:
		if tk.OrgID == "" {
			return gatehouse.Errorf(gatehouse.EINVALID, "an organization token needs its organization")
		}
	case gatehouse.TokenTeam:
		org, err := t.teamOrg(ctx, tk.TeamID)
		if err != nil || tk.OrgID != org {
			return gatehouse.Errorf(gatehouse.EINVALID, "team %q does not exist in the organization", tk.TeamID)
		}
	default:
		return gatehouse.Errorf(gatehouse.EINVALID, "unknown token kind %q", tk.Kind)
	}
	if tk.RoleID != "" {
		if err := t.roleInOrg(ctx, tk.OrgID, tk.RoleID); err != nil {
			return err
		}
	}
	if tk.ID == "" {
		tk.ID = gatehouse.NewID()
	}
	tk.Created = t.stamp()
	_, err := t.exec(ctx, opWrite, "INSERT INTO tokens (id, kind, org_id, user_id, team_id, runner, name, description, role_id, digest, created, created_by, expires, last_used, deleted, exchanged, issuer_id, role_deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		tk.ID, tk.Kind, nullable(tk.OrgID), nullable(tk.UserID), nullable(tk.TeamID), tk.Runner, tk.Name, tk.Description,
		nullable(tk.RoleID), tk.Digest, us(tk.Created), tk.CreatedBy, us(tk.Expires), us(tk.LastUsed), tk.Deleted, tk.Exchanged,
		nullable(tk.IssuerID), tk.RoleDeleted)
	if err != nil {
		return invalidAs(conflictAs(err, "a token named %q exists or existed in the organization; token names are never reused", tk.Name),
			"the token's organization or user does not exist")
	}
	if tk.Kind == gatehouse.TokenPersonal && tk.OrgID == "" {
		return t.bumpToken(ctx, tk)
	}
	// A token of one organization (a personal token bound to the
	// organization whose OIDC issuer minted it, too) changes only that one.
	c, err := t.bumpOrg(ctx, tk.OrgID)
	if err != nil {
		return err
	}
	c.tokens = append(c.tokens, tk.ID)
	c.note([]gatehouse.ChangeKey{key(gatehouse.ChangeToken, tk.ID)})
	return nil
}

// bumpToken bumps the revision of every organization a token can reach: its
// own, or for a personal token of no organization every organization of its
// user.
func (t *tx) bumpToken(ctx context.Context, tk *gatehouse.Token) error {
	if tk.Kind != gatehouse.TokenPersonal || tk.OrgID != "" {
		return t.bump(ctx, tk.OrgID, key(gatehouse.ChangeToken, tk.ID))
	}
	orgs, err := all(ctx, t, scanString, "SELECT org_id FROM memberships WHERE user_id = ?", tk.UserID)
	if err != nil {
		return err
	}
	for _, o := range orgs {
		if err := t.bump(ctx, o, key(gatehouse.ChangeToken, tk.ID)); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) GetToken(ctx context.Context, id string) (*gatehouse.Token, error) {
	return get(ctx, t, "token", scanToken, "SELECT "+tokenCols+" WHERE id = ?", id)
}

func (t *tx) GetTokenByDigest(ctx context.Context, digest []byte) (*gatehouse.Token, error) {
	return get(ctx, t, "token", scanToken, "SELECT "+tokenCols+" WHERE digest = ?", digest)
}

// ListTokens pages by the filter's sort key (creation time by default)
// and id, after filtering by owner, expiry and search.
func (t *tx) ListTokens(ctx context.Context, f gatehouse.TokenFilter, opts gatehouse.ListOptions) ([]*gatehouse.Token, string, error) {
	where, args := "1 = 1", []any{}
	add := func(cond string, v any) {
		where += " AND " + cond
		args = append(args, v)
	}
	if f.OrgID != "" {
		add("org_id = ?", f.OrgID)
	}
	if f.UserID != "" {
		add("user_id = ?", f.UserID)
	}
	if f.TeamID != "" {
		add("team_id = ?", f.TeamID)
	}
	if f.Kind != "" {
		add("kind = ?", f.Kind)
	}
	if f.RoleID != "" {
		add("role_id = ?", f.RoleID)
	}
	if where == "1 = 1" {
		return nil, "", gatehouse.Errorf(gatehouse.EINVALID, "list tokens of an organization, a user or a team")
	}
	if !f.IncludeDeleted {
		add("deleted = ?", false)
	}
	switch f.Expiry {
	case "":
	case gatehouse.TokenLive:
		add("(expires = 0 OR expires > ?)", us(f.At))
	case gatehouse.TokenExpired:
		add("expires <> 0 AND expires <= ?", us(f.At))
	default:
		return nil, "", gatehouse.Errorf(gatehouse.EINVALID, "filter: %q is not one of %s, %s", f.Expiry, gatehouse.TokenLive, gatehouse.TokenExpired)
	}
	p, err := tokenOrder(f.SortBy)
	if err != nil {
		return nil, "", err
	}
	p.where, p.args, p.desc = where, args, f.Desc
	if f.Desc {
		p.sort += " desc"
	}
	if f.Search != "" {
		search := strings.ToLower(f.Search)
		p.keep = func(tk *gatehouse.Token) bool {
			return strings.Contains(strings.ToLower(tk.Name+" "+tk.Description), search)
		}
	}
	return p.run(ctx, t, opts)
}

// tokenOrder is the page of a token list ordered by a sort key; ties
// (tokens of no name, never used or never expiring) go in creation order.
func tokenOrder(sortBy string) (page[*gatehouse.Token], error) {
	p := page[*gatehouse.Token]{from: tokenCols, numeric: true, scan: scanToken}
	switch sortBy {
	case "", gatehouse.TokenSortCreated:
		p.keyCol = "created"
		p.key = func(tk *gatehouse.Token) cursor { return cursor{Num: us(tk.Created), ID: tk.ID} }
		return p, nil
	case gatehouse.TokenSortName:
		p.keyCol, p.numeric = "name", false
		p.key = func(tk *gatehouse.Token) cursor { return cursor{Key: tk.Name, Tie: us(tk.Created), ID: tk.ID} }
	case gatehouse.TokenSortLastUsed:
		p.keyCol = "last_used"
		p.key = func(tk *gatehouse.Token) cursor { return cursor{Num: us(tk.LastUsed), Tie: us(tk.Created), ID: tk.ID} }
	case gatehouse.TokenSortExpires:
		p.keyCol = "expires"
		p.key = func(tk *gatehouse.Token) cursor { return cursor{Num: us(tk.Expires), Tie: us(tk.Created), ID: tk.ID} }
	default:
		return p, gatehouse.Errorf(gatehouse.EINVALID, "sortBy: %q is not one of name, created, lastUsed, expires", sortBy)
	}
	p.tieCol, p.sort = "created", sortBy
	return p, nil
}

func (t *tx) DeleteToken(ctx context.Context, id string) error {
	tk, err := t.GetToken(ctx, id)
	if err != nil {
		return err
	}
	if tk.Deleted {
		return notFound("token")
	}
	if _, err := t.exec(ctx, opWrite, "UPDATE tokens SET deleted = ? WHERE id = ?", true, id); err != nil {
		return err
	}
	return t.bumpToken(ctx, tk)
}

// TouchTokens records when tokens were last used. It does not bump the
// revision: last-used times do not affect access.
func (t *tx) TouchTokens(ctx context.Context, used map[string]time.Time) error {
	for id, at := range used {
		if _, err := t.exec(ctx, opWrite, "UPDATE tokens SET last_used = ? WHERE id = ? AND last_used < ?", us(at), id, us(at)); err != nil {
			return err
		}
	}
	return nil
}

// UnbindRole marks every token bound to a role as having lost it, before
// the role is deleted: such tokens hold nothing from then on (they do not
// fall back to the organization's default role), and it returns the live
// ones. The role's row is locked first, so that a token being bound to it
// concurrently either commits before (and is marked) or fails after.
func (t *tx) UnbindRole(ctx context.Context, orgID, roleID string) ([]*gatehouse.Token, error) {
	if err := t.lockDescriptor(ctx, orgID, roleID); err != nil {
		return nil, err
	}
	toks, err := all(ctx, t, scanToken, "SELECT "+tokenCols+" WHERE org_id = ? AND role_id = ? AND deleted = ? ORDER BY id", orgID, roleID, false)
	if err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, opWrite, "UPDATE tokens SET role_id = NULL, role_deleted = ? WHERE org_id = ? AND role_id = ?", true, orgID, roleID); err != nil {
		return nil, err
	}
	keys := []gatehouse.ChangeKey{key(gatehouse.ChangeDescriptor, roleID)}
	for _, tk := range toks {
		tk.RoleID, tk.RoleDeleted = "", true
		keys = append(keys, key(gatehouse.ChangeToken, tk.ID))
	}
	return toks, t.bump(ctx, orgID, keys...)
}

// RevokeIssuerTokens revokes every live token an OIDC issuer's exchanges
// minted, and returns them. It first takes the issuer's row lock, which an
// exchange also takes (TouchIssuer, in the transaction creating its
// token): an exchange either commits first and its token is revoked here,
// or waits and then finds the issuer gone.
func (t *tx) RevokeIssuerTokens(ctx context.Context, issuerID string) ([]*gatehouse.Token, error) {
	if _, err := t.exec(ctx, opWrite, "UPDATE issuers SET last_used = last_used WHERE id = ?", issuerID); err != nil {
		return nil, err
	}
	toks, err := all(ctx, t, scanToken, "SELECT "+tokenCols+" WHERE issuer_id = ? AND deleted = ? ORDER BY id", issuerID, false)
	if err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, opWrite, "UPDATE tokens SET deleted = ? WHERE issuer_id = ? AND deleted = ?", true, issuerID, false); err != nil {
		return nil, err
	}
	for _, tk := range toks {
		tk.Deleted = true
		if err := t.bumpToken(ctx, tk); err != nil {
			return nil, err
		}
	}
	return toks, nil
}

// PruneTokens implements gatehouse.Tx. Revocation has no time of its own
// (many writes set deleted), so a run stamps the revoked tokens it sees
// first (revoked_seen), and a later run deletes them once the retention
// has passed since: a revoked token is kept at least the retention and at
// most the retention plus one interval between runs.
func (t *tx) PruneTokens(ctx context.Context, orgID string, now, before time.Time, limit int) (gatehouse.TokenPrune, error) {
	var p gatehouse.TokenPrune
	orgCond, args := "org_id = ?", []any{orgID}
	if orgID == "" {
		orgCond, args = "org_id IS NULL", nil
	}
	if _, err := t.exec(ctx, opWrite, "UPDATE tokens SET revoked_seen = ? WHERE "+orgCond+" AND deleted = ? AND revoked_seen = 0",
		append([]any{us(now)}, append(args, true)...)...); err != nil {
		return p, err
	}
	toks, err := all(ctx, t, scanToken, "SELECT "+tokenCols+" WHERE "+orgCond+
		" AND ((expires > 0 AND expires <= ?) OR (deleted = ? AND revoked_seen > 0 AND revoked_seen <= ?)) ORDER BY id LIMIT ?",
		append(args, us(before), true, us(before), limit)...)
	if err != nil || len(toks) == 0 {
		return p, err
	}
	ids := make([]any, len(toks))
	for i, tk := range toks {
		ids[i] = tk.ID
		switch {
		case !tk.Deleted:
			p.Expired++
			p.Live = append(p.Live, tk)
		case !tk.Expires.IsZero() && !tk.Expires.After(before):
			p.Expired++
		default:
			p.Revoked++
		}
		// An exchanged token's name is made up ("oidc-" and random hex);
		// keeping those would grow token_names with every CI run.
		if tk.OrgID != "" && tk.Name != "" && !tk.Exchanged && (tk.Kind == gatehouse.TokenOrganization || tk.Kind == gatehouse.TokenTeam) {
			if _, err := t.exec(ctx, opWrite, "INSERT INTO token_names (org_id, name) VALUES (?, ?) ON CONFLICT DO NOTHING", tk.OrgID, tk.Name); err != nil {
				return p, err
			}
		}
	}
	in := "?" + strings.Repeat(", ?", len(ids)-1)
	if _, err := t.exec(ctx, opWrite, "DELETE FROM tokens WHERE id IN ("+in+")", ids...); err != nil {
		return p, err
	}
	// No revision bump: what a prune deletes grants nothing (revoked, or
	// refused as expired at every authentication), so no snapshot must
	// change; the service drops the live ones from its own (Live).
	return p, nil
}

// TokenNameReserved implements gatehouse.Tx.
func (t *tx) TokenNameReserved(ctx context.Context, orgID, name string) (bool, error) {
	var n int
	if err := t.queryRow(ctx, "SELECT count(*) FROM token_names WHERE org_id = ? AND name = ?", orgID, name).Scan(&n); err != nil {
		return false, t.d.mapErr(err, opWrite)
	}
	return n > 0, nil
}
