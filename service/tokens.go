package service

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-iam/gatehouse"
)

// MaxTokenAhead is how far ahead a token's expiry may be.
const MaxTokenAhead = 2 * 365 * 24 * time.Hour

// TokenInput describes a token to create.
type TokenInput struct {
	Kind        string
	OrgID       string // organization and team tokens; a personal token bound to one organization
	UserID      string // personal tokens
	TeamName    string // team tokens
	Name        string // organization and team tokens: 1 to 40 characters
	Description string
	// Expires is a unix time, or 0 for never.
	Expires   int64
	RoleID    string
	CreatedBy string
}

// CreateToken creates a token and returns it with its value, which is shown
// once and never stored.
func (s *Service) CreateToken(ctx context.Context, in TokenInput) (*gatehouse.Token, string, error) {
	var t *gatehouse.Token
	var value string
	err := s.store.Write(ctx, func(tx gatehouse.Tx) (err error) {
		t, value, err = s.createTokenTx(ctx, tx, in)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	s.installToken(ctx, t)
	return t, value, nil
}

// installToken adds a token just committed to the snapshot. A revocation
// that committed after it (a deprovisioning, a removal from the
// organization) may have refreshed the snapshot before this add, which
// would bring the revoked token back, to wake when the user is active
// again: so the store is asked once more after the add, and a token no
// longer live there is taken out. The add and a refresh's install are
// ordered by the authorizer's lock, so either the refresh comes after the
// add and removes it, or this read sees the revocation. A failed read
// takes the token out too (the next refresh installs it if live).
func (s *Service) installToken(ctx context.Context, t *gatehouse.Token) {
	s.az.AddToken(t)
	live := false
	err := s.read(ctx, func(tx gatehouse.Tx) error {
		cur, err := tx.GetToken(ctx, t.ID)
		if err != nil {
			return err
		}
		live = !cur.Deleted
		return nil
	})
	if err != nil || !live {
		s.az.RemoveToken(t)
	}
}

// createTokenTx is CreateToken in a transaction, but for the token's
// installation in the snapshot.
func (s *Service) createTokenTx(ctx context.Context, tx gatehouse.Tx, in TokenInput) (*gatehouse.Token, string, error) {
	now := s.Now()
	t := &gatehouse.Token{Kind: in.Kind, OrgID: in.OrgID, UserID: in.UserID, Name: in.Name, Description: in.Description,
		RoleID: in.RoleID, CreatedBy: in.CreatedBy}
	if err := checkTokenInput(in, t, now); err != nil {
		return nil, "", err
	}
	value, digest := gatehouse.NewTokenValue()
	t.Digest = digest
	if in.Kind == gatehouse.TokenOrganization || in.Kind == gatehouse.TokenTeam {
		if err := s.checkTokenQuota(ctx, tx, in.OrgID); err != nil {
			return nil, "", err
		}
		// Under the organization's lock (the quota's), which a prune of
		// its tokens takes too: the name is reserved, or still a token's.
		if err := checkTokenName(ctx, tx, in.OrgID, in.Name); err != nil {
			return nil, "", err
		}
	}
	orgs, err := s.checkTokenOwner(ctx, tx, in, t)
	if err != nil {
		return nil, "", err
	}
	if err := checkTokenLifetime(ctx, tx, in.OrgID, t, now); err != nil {
		return nil, "", err
	}
	if err := tx.CreateToken(ctx, t); err != nil {
		return nil, "", err
	}
	return t, value, s.tokenEvent(ctx, tx, orgs, gatehouse.EventTokenCreated, t, "created")
}

// checkTokenInput checks a new token's description, expiry (set on t) and
// name.
func checkTokenInput(in TokenInput, t *gatehouse.Token, now time.Time) error {
	if err := checkText("description", in.Description, 1000); err != nil {
		return err
	}
	switch {
	case in.Expires < 0:
		return gatehouse.Errorf(gatehouse.EINVALID, "expires: must be a unix time in the future, or 0 for never")
	case in.Expires > 0:
		t.Expires = time.Unix(in.Expires, 0).UTC()
		if !t.Expires.After(now) {
			return gatehouse.Errorf(gatehouse.EINVALID, "expires: %s is in the past", t.Expires.Format(time.RFC3339))
		}
		if t.Expires.Sub(now) > MaxTokenAhead {
			return gatehouse.Errorf(gatehouse.EINVALID, "expires: at most two years ahead")
		}
	}
	if in.Kind != gatehouse.TokenPersonal {
		if in.Name == "" || len(in.Name) > 40 {
			return gatehouse.Errorf(gatehouse.EINVALID, "name: must be 1 to 40 characters")
		}
		if strings.ContainsFunc(in.Name, unicode.IsControl) || !utf8.ValidString(in.Name) {
			// The name is the actor of the token's audit events, shown as is.
			return gatehouse.Errorf(gatehouse.EINVALID, "name: %q holds control characters or invalid UTF-8", in.Name)
		}
	}
	return nil
}

// checkTokenOwner checks what the token of each kind belongs to (its
// team, its role, its user's token count) and returns the organizations
// whose audit trails record it.
func (s *Service) checkTokenOwner(ctx context.Context, tx gatehouse.Tx, in TokenInput, t *gatehouse.Token) ([]string, error) {
	orgs := []string{in.OrgID}
	switch in.Kind {
	case gatehouse.TokenTeam:
		team, err := teamByName(ctx, tx, in.OrgID, in.TeamName)
		if err != nil {
			return nil, err
		}
		t.TeamID = team.ID
		return orgs, s.checkTeam(ctx, tx, in.OrgID, "a token of team "+team.Name, team.ID, true)
	case gatehouse.TokenOrganization:
		if in.RoleID != "" {
			d, err := tx.GetDescriptor(ctx, in.OrgID, in.RoleID)
			if err != nil {
				return nil, gatehouse.Recode(err, gatehouse.ENOTFOUND, gatehouse.EINVALID, "roleID: role %q not found", in.RoleID)
			}
			if d.Purpose == gatehouse.PurposeSet || d.Purpose == gatehouse.PurposePolicy {
				return nil, gatehouse.Errorf(gatehouse.EINVALID, "roleID: %q is a %s, not a role", d.Name, d.Purpose)
			}
		}
		rid, err := tokenRoleID(ctx, tx, in.OrgID, in.RoleID)
		if err != nil {
			return nil, err
		}
		return orgs, s.checkRole(ctx, tx, in.OrgID, "an organization token with this role", rid)
	case gatehouse.TokenPersonal:
		ms, err := tx.ListUserMemberships(ctx, in.UserID)
		if err != nil {
			return nil, err
		}
		orgs = orgs[:0]
		for _, m := range ms {
			orgs = append(orgs, m.OrgID)
		}
		if in.OrgID != "" && !slices.Contains(orgs, in.OrgID) {
			orgs = append(orgs, in.OrgID) // locked, for the membership check below
		}
		if err := s.checkPersonalTokens(ctx, tx, in.UserID, orgs); err != nil {
			return nil, err
		}
		if in.OrgID != "" {
			// A token bound to one organization (made from a session of
			// its single sign-on) needs the membership, read under the
			// organization's lock that a removal takes too, and is
			// recorded there only.
			if _, err := tx.GetMember(ctx, in.OrgID, in.UserID); err != nil {
				return nil, gatehouse.Recode(err, gatehouse.ENOTFOUND, gatehouse.EFORBIDDEN, "forbidden: you are no longer a member of the organization")
			}
			orgs = []string{in.OrgID}
		}
		// After checkPersonalTokens's locks, so that a deprovisioning
		// (scimUserWrite takes the same ones) either came first and is
		// seen, or comes after and revokes this token too.
		return orgs, checkNotDeprovisioned(ctx, tx, in.UserID)
	}
	return orgs, nil
}

// checkTokenLifetime holds a token of an organization to the
// organization's longest token lifetime.
func checkTokenLifetime(ctx context.Context, tx gatehouse.OrgTx, orgID string, t *gatehouse.Token, now time.Time) error {
	if orgID == "" {
		return nil
	}
	org, err := tx.GetOrg(ctx, orgID)
	if err != nil {
		return err
	}
	if max := org.Settings.MaxTokenLifetime; max > 0 && (t.Expires.IsZero() || t.Expires.Sub(now) > max) {
		return gatehouse.Errorf(gatehouse.EINVALID, "expires: the organization allows tokens to live at most %s", max)
	}
	return nil
}

// DefaultMaxPersonalTokens is the most live personal tokens a user holds
// when Service.MaxPersonalTokens is 0.
const DefaultMaxPersonalTokens = 1000

// checkPersonalTokens refuses a user's personal token past
// MaxPersonalTokens not revoked (expired ones count: every organization of
// the user loads them until they are revoked). It takes the row locks of
// the user's organizations, in order, so that concurrent creates count
// one after another.
func (s *Service) checkPersonalTokens(ctx context.Context, tx gatehouse.Tx, userID string, orgs []string) error {
	limit := s.MaxPersonalTokens
	if limit <= 0 {
		limit = DefaultMaxPersonalTokens
	}
	if err := lockOrgs(ctx, tx, orgs); err != nil {
		return err
	}
	n, next := 0, ""
	for {
		ts, more, err := tx.ListTokens(ctx, gatehouse.TokenFilter{UserID: userID, Kind: gatehouse.TokenPersonal},
			gatehouse.ListOptions{Limit: gatehouse.MaxListLimit, Continuation: next})
		if err != nil {
			return err
		}
		n += len(ts)
		if n >= limit {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "quota: the user holds %d personal tokens, the limit of %d; revoke some (expired ones count until revoked)", n, limit)
		}
		if next = more; next == "" {
			return nil
		}
	}
}

// lockOrgs takes the row locks of organizations in id order, the one
// order every transaction that writes a personal token (which bumps the
// revision of each organization of its user) takes them in: in any other
// order two such transactions deadlock on PostgreSQL.
func lockOrgs(ctx context.Context, tx gatehouse.Tx, orgs []string) error {
	for _, o := range slices.Sorted(slices.Values(orgs)) {
		if err := tx.LockOrg(ctx, o); err != nil {
			return err
		}
	}
	return nil
}

// TokenFilter selects, orders and pages a token list: whose tokens,
// expiry (live or expired at the service's clock when At is zero), search
// and order, all applied before the list is paged.
type TokenFilter struct {
	gatehouse.TokenFilter
	gatehouse.ListOptions
}

// TokenView is a token with what a list shows of it: its creator's login
// ("" when the creator is unknown) and, for an organization token, the
// role it holds (its own or the organization's default; nil when its role
// was deleted with force).
type TokenView struct {
	*gatehouse.Token
	CreatedByLogin string
	Role           *gatehouse.Descriptor
}

// Tokens lists tokens with their creators and roles, read in one
// transaction.
func (s *Service) Tokens(ctx context.Context, f TokenFilter) (out []TokenView, next string, err error) {
	lf := f.TokenFilter
	if lf.Expiry != "" && lf.At.IsZero() {
		lf.At = s.Now()
	}
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		ts, more, err := tx.ListTokens(ctx, lf, f.ListOptions)
		if err != nil {
			return err
		}
		next = more
		out, err = tokenViews(ctx, tx, ts)
		return err
	})
	return out, next, err
}

// tokenViews adds to tokens their creators' logins (one read) and their
// roles (one read per distinct role and organization).
func tokenViews(ctx context.Context, tx gatehouse.Tx, ts []*gatehouse.Token) ([]TokenView, error) {
	var creators []string
	for _, t := range ts {
		if t.CreatedBy != "" {
			creators = append(creators, t.CreatedBy)
		}
	}
	logins, err := userLogins(ctx, tx, creators)
	if err != nil {
		return nil, err
	}
	roles := tokenRoles{tx: tx, defaults: map[string]string{}, roles: map[[2]string]*gatehouse.Descriptor{}}
	out := make([]TokenView, 0, len(ts))
	for _, t := range ts {
		v := TokenView{Token: t, CreatedByLogin: logins[t.CreatedBy]}
		if t.Kind == gatehouse.TokenOrganization && !t.RoleDeleted {
			if v.Role, err = roles.of(ctx, t); err != nil {
				return nil, err
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// tokenRoles reads the roles of organization tokens, each once.
type tokenRoles struct {
	tx interface {
		gatehouse.OrgTx
		gatehouse.DescriptorTx
	}
	defaults map[string]string                   // organization id: its default role's id
	roles    map[[2]string]*gatehouse.Descriptor // organization and role ids: the role (nil: none)
}

// of is the role an organization token holds: nil when there is none.
func (r tokenRoles) of(ctx context.Context, t *gatehouse.Token) (*gatehouse.Descriptor, error) {
	roleID := t.RoleID
	if roleID == "" {
		id, ok := r.defaults[t.OrgID]
		if !ok {
			org, err := r.tx.GetOrg(ctx, t.OrgID)
			if err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				return nil, err
			}
			if org != nil {
				id = org.Settings.DefaultRoleID
			}
			r.defaults[t.OrgID] = id
		}
		roleID = id
	}
	key := [2]string{t.OrgID, roleID}
	d, ok := r.roles[key]
	if !ok {
		var err error
		if d, err = r.tx.GetDescriptor(ctx, t.OrgID, roleID); err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			return nil, err
		}
		r.roles[key] = d
	}
	return d, nil
}

// TeamID returns a team's id by name.
func (s *Service) TeamID(ctx context.Context, orgID, name string) (id string, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		t, err := teamByName(ctx, tx, orgID, name)
		if err == nil {
			id = t.ID
		}
		return err
	})
	return id, err
}

// RevokeToken revokes a token after check accepts it (ownership, kind).
func (s *Service) RevokeToken(ctx context.Context, id string, check func(*gatehouse.Token) error) error {
	var revoked *gatehouse.Token
	err := s.store.Write(ctx, func(tx gatehouse.Tx) (err error) {
		revoked, err = s.revokeTokenTx(ctx, tx, id, check)
		return err
	})
	if err != nil {
		return err
	}
	s.az.RemoveToken(revoked)
	return nil
}

// revokeTokenTx is RevokeToken in a transaction, but for the token's
// removal from the snapshot; it returns the revoked token.
func (s *Service) revokeTokenTx(ctx context.Context, tx gatehouse.Tx, id string, check func(*gatehouse.Token) error) (*gatehouse.Token, error) {
	t, err := tx.GetToken(ctx, id)
	if err == nil && t.Deleted {
		err = gatehouse.Errorf(gatehouse.ENOTFOUND, "a deleted token")
	}
	if err != nil {
		return nil, gatehouse.Reword(err, gatehouse.ENOTFOUND, "token %q not found", id)
	}
	if err := check(t); err != nil {
		return nil, err
	}
	orgs := []string{t.OrgID}
	if t.Kind == gatehouse.TokenPersonal {
		if orgs, err = userOrgs(ctx, tx, t.UserID); err != nil {
			return nil, err
		}
	}
	if err := lockOrgs(ctx, tx, orgs); err != nil {
		return nil, err
	}
	if err := tx.DeleteToken(ctx, id); err != nil {
		return nil, err
	}
	return t, s.tokenEvent(ctx, tx, orgs, gatehouse.EventTokenDeleted, t, "revoked")
}

// userOrgs lists the ids of the organizations a user is a member of.
func userOrgs(ctx context.Context, tx gatehouse.Tx, userID string) ([]string, error) {
	ms, err := tx.ListUserMemberships(ctx, userID)
	if err != nil {
		return nil, err
	}
	orgs := make([]string, len(ms))
	for i, m := range ms {
		orgs[i] = m.OrgID
	}
	return orgs, nil
}

// tokenEvent records a token's creation or revocation in each organization
// it reaches; never its value.
func (s *Service) tokenEvent(ctx context.Context, tx gatehouse.Tx, orgs []string, typ string, t *gatehouse.Token, verb string) error {
	data := map[string]any{"id": t.ID, "kind": t.Kind, "name": t.Name, "description": t.Description, "roleId": t.RoleID,
		"teamId": t.TeamID, "expires": t.Expires}
	name := t.Name
	if name == "" {
		name = t.Description
	}
	for _, o := range orgs {
		if err := s.audit(ctx, tx, o, typ, t.ID, data, "%s %s token %q", verb, t.Kind, name); err != nil {
			return err
		}
	}
	return nil
}

// IssueToken creates a personal token for a member, for recovering access
// from the host with direct database access.
func (s *Service) IssueToken(ctx context.Context, orgName, login, description string, expires time.Time) (string, error) {
	var value, orgID string
	err := s.store.Write(ctx, func(tx gatehouse.Tx) (err error) {
		value, orgID, err = s.issueTokenTx(ctx, tx, orgName, login, description, expires)
		return err
	})
	if err != nil {
		return "", err
	}
	return value, s.az.Refresh(ctx, orgID)
}

// issueTokenTx is IssueToken in a transaction; it returns the token's
// value and the organization's id.
func (s *Service) issueTokenTx(ctx context.Context, tx gatehouse.Tx, orgName, login, description string, expires time.Time) (string, string, error) {
	org, err := tx.GetOrgByName(ctx, orgName)
	if err != nil {
		return "", "", gatehouse.Reword(err, gatehouse.ENOTFOUND, "organization %q not found", orgName)
	}
	user, err := tx.GetUserByLogin(ctx, login)
	if err != nil {
		return "", "", gatehouse.Reword(err, gatehouse.ENOTFOUND, "user %q not found", login)
	}
	if _, err := tx.GetMember(ctx, org.ID, user.ID); err != nil {
		return "", "", gatehouse.Reword(err, gatehouse.ENOTFOUND, "user %q is not a member of %q", login, orgName)
	}
	orgs, err := userOrgs(ctx, tx, user.ID)
	if err != nil {
		return "", "", err
	}
	if err := lockOrgs(ctx, tx, orgs); err != nil {
		return "", "", err
	}
	value, digest := gatehouse.NewTokenValue()
	t := &gatehouse.Token{Kind: gatehouse.TokenPersonal, UserID: user.ID, Description: description, Digest: digest, CreatedBy: user.ID, Expires: expires}
	if err := tx.CreateToken(ctx, t); err != nil {
		return "", "", err
	}
	return value, org.ID, s.tokenEvent(gatehouse.WithActor(ctx, gatehouse.Actor{Login: "host: gatehouse admin issue-token"}), tx, orgs, gatehouse.EventTokenCreated, t, "issued from the host")
}

// checkTokenName refuses the name of a pruned token: organization and
// team token names are never reused, also once the token is gone.
func checkTokenName(ctx context.Context, tx gatehouse.Tx, orgID, name string) error {
	reserved, err := tx.TokenNameReserved(ctx, orgID, name)
	if err != nil {
		return err
	}
	if reserved {
		return gatehouse.Errorf(gatehouse.ECONFLICT, "name: a token named %q exists or existed in the organization; token names are never reused", name)
	}
	return nil
}

// DefaultTokenRetention is how long expired and revoked tokens are kept
// before PruneTokens deletes them (serve's --token-retention).
const DefaultTokenRetention = 30 * 24 * time.Hour

// pruneBatch bounds the tokens one prune transaction deletes, so that a
// first run over years of tokens does not hold the organization's lock
// for long.
const pruneBatch = 1000

// TokenPruneResult counts what a PruneTokens run deleted.
type TokenPruneResult struct {
	Expired, Revoked int
	// Orgs is the number of organizations that had tokens pruned.
	Orgs int
}

// PruneTokens deletes the tokens that expired, or were revoked, longer
// than retention ago, in every organization (and the personal tokens of
// none), each organization in transactions of its own under its lock;
// the names of organization and team tokens stay reserved. A revoked
// token is counted from the first run that sees it revoked. What it
// deletes grants nothing, so no snapshot is rebuilt; expired tokens still
// held in this process's snapshot are dropped from it.
func (s *Service) PruneTokens(ctx context.Context, retention time.Duration) (TokenPruneResult, error) {
	var res TokenPruneResult
	if retention <= 0 {
		return res, gatehouse.Errorf(gatehouse.EINVALID, "retention: must be positive, not %s", retention)
	}
	orgs, err := s.allOrgIDs(ctx)
	if err != nil {
		return res, err
	}
	for _, orgID := range append(orgs, "") {
		n, err := s.pruneOrgTokens(ctx, orgID, retention)
		if err != nil {
			return res, err
		}
		res.Expired += n.Expired
		res.Revoked += n.Revoked
		if orgID != "" && n.Expired+n.Revoked > 0 {
			res.Orgs++
		}
	}
	return res, nil
}

// pruneOrgTokens is PruneTokens for one organization (orgID empty: the
// personal tokens of no organization, which hold no name and take no
// organization's lock).
func (s *Service) pruneOrgTokens(ctx context.Context, orgID string, retention time.Duration) (gatehouse.TokenPrune, error) {
	var total gatehouse.TokenPrune
	for {
		now := s.Now()
		var p gatehouse.TokenPrune
		err := s.store.Write(ctx, func(tx gatehouse.Tx) (err error) {
			if orgID != "" {
				if err := tx.LockOrg(ctx, orgID); err != nil {
					return err
				}
			}
			p, err = tx.PruneTokens(ctx, orgID, now, now.Add(-retention), pruneBatch)
			return err
		})
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return total, nil // the organization went meanwhile
		}
		if err != nil {
			return total, err
		}
		for _, t := range p.Live {
			s.az.RemoveToken(t)
		}
		total.Expired += p.Expired
		total.Revoked += p.Revoked
		if p.Expired+p.Revoked < pruneBatch {
			return total, nil
		}
	}
}

// allOrgIDs lists every organization's id, page by page.
func (s *Service) allOrgIDs(ctx context.Context) ([]string, error) {
	var ids []string
	opts := gatehouse.ListOptions{Limit: gatehouse.MaxListLimit}
	for {
		var page []*gatehouse.Organization
		var next string
		if err := s.read(ctx, func(tx gatehouse.Tx) (err error) {
			page, next, err = tx.ListOrgs(ctx, opts)
			return err
		}); err != nil {
			return nil, err
		}
		for _, o := range page {
			ids = append(ids, o.ID)
		}
		if next == "" || len(page) == 0 {
			return ids, nil
		}
		opts.Continuation = next
	}
}
