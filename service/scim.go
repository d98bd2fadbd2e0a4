package service

import (
	"context"
	"crypto/subtle"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
)

// SCIM 2.0 provisioning (RFC 7643, 7644): an identity provider creates,
// changes, deactivates and deletes the users an organization manages, and
// its groups (SCIM-kind teams), with the organization's SCIM token. The
// protocol (JSON shapes, filters, PATCH paths) is the api's; the rules are
// here: who SCIM may see (users the organization manages and its SCIM
// teams), the last active admin, and deprovisioning, which revokes the
// user's personal tokens through the token path (so that every snapshot
// drops them) and ends their console sessions in the same transaction.

// CreateSCIMToken makes the organization's SCIM token, revoking the one it
// had, and returns its value, shown once.
func (s *Service) CreateSCIMToken(ctx context.Context, orgID, createdBy string) (string, *gatehouse.SCIMToken, error) {
	value := gatehouse.SCIMTokenPrefix + randomHex(20) // 160 bits, as access tokens
	t := &gatehouse.SCIMToken{OrgID: orgID, Digest: gatehouse.TokenDigest(value), CreatedBy: createdBy}
	err := s.write(ctx, orgID, func(tx gatehouse.Tx) error {
		if err := tx.CreateSCIMToken(ctx, t); err != nil {
			return err
		}
		return s.audit(ctx, tx, orgID, gatehouse.EventSCIMTokenCreated, t.ID, map[string]string{"id": t.ID},
			"created the SCIM provisioning token (any earlier one is revoked)")
	})
	if err != nil {
		return "", nil, err
	}
	return value, t, nil
}

// errSCIMToken is every refusal of a SCIM token: which check failed is
// the log's business, not the caller's.
var errSCIMToken = gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "unauthorized: a valid SCIM token of this organization is required")

// AuthenticateSCIM returns the organization named and its live SCIM token
// of the value: EUNAUTHORIZED for an unknown or revoked token, another
// organization's, or an organization that does not exist.
func (s *Service) AuthenticateSCIM(ctx context.Context, orgName, value string) (org *gatehouse.Organization, t *gatehouse.SCIMToken, err error) {
	if !strings.HasPrefix(value, gatehouse.SCIMTokenPrefix) || len(value) > 100 {
		return nil, nil, errSCIMToken
	}
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		if org, err = tx.GetOrgByName(ctx, orgName); err != nil {
			return err
		}
		t, err = tx.GetSCIMTokenByDigest(ctx, gatehouse.TokenDigest(value))
		return err
	})
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return nil, nil, errSCIMToken
	}
	if err != nil {
		return nil, nil, err
	}
	if t.Revoked || subtle.ConstantTimeCompare([]byte(t.OrgID), []byte(org.ID)) != 1 {
		return nil, nil, errSCIMToken
	}
	return org, t, nil
}

// SCIMUserPatch is a change to a provisioned user; nil fields stay as
// they are (a PUT sets them all).
type SCIMUserPatch struct {
	UserName   *string
	Name       *string // displayName, or name.formatted
	Email      *string
	ExternalID *string
	Active     *bool
}

// SCIMUsers lists the users the organization manages, filtered and paged.
func (s *Service) SCIMUsers(ctx context.Context, orgID string, f gatehouse.SCIMFilter) (us []*gatehouse.SCIMUser, total int, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		us, total, err = tx.ListSCIMUsers(ctx, orgID, f)
		return err
	})
	return us, total, err
}

// SCIMUser returns one provisioned user by id.
func (s *Service) SCIMUser(ctx context.Context, orgID, id string) (u *gatehouse.SCIMUser, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		u, err = scimUser(ctx, tx, orgID, id)
		return err
	})
	return u, err
}

func scimUser(ctx context.Context, tx gatehouse.Tx, orgID, id string) (*gatehouse.SCIMUser, error) {
	u, err := tx.GetSCIMUser(ctx, orgID, id)
	return u, gatehouse.Reword(err, gatehouse.ENOTFOUND, "user %q not found", ClientText(id))
}

// CreateSCIMUser provisions a user: a new user managed by the
// organization, or one it manages that left, joins with the default role.
// A login taken by a user the organization does not manage, or by a
// member, is ECONFLICT.
func (s *Service) CreateSCIMUser(ctx context.Context, orgID string, p SCIMUserPatch) (out *gatehouse.SCIMUser, err error) {
	if p.UserName == nil || *p.UserName == "" {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "userName: required")
	}
	err = s.write(ctx, orgID, func(tx gatehouse.Tx) error {
		out, err = s.createSCIMUserTx(ctx, tx, orgID, p)
		return err
	})
	return out, err
}

func (s *Service) createSCIMUserTx(ctx context.Context, tx gatehouse.Tx, orgID string, p SCIMUserPatch) (*gatehouse.SCIMUser, error) {
	login := *p.UserName
	if err := checkSCIMUserFields(p); err != nil {
		return nil, err
	}
	if same, _, err := tx.ListSCIMUsers(ctx, orgID, gatehouse.SCIMFilter{Attr: gatehouse.SCIMAttrUserName, Value: login, Limit: 1}); err != nil {
		return nil, err
	} else if len(same) > 0 {
		return nil, gatehouse.Errorf(gatehouse.ECONFLICT, "userName: %q is provisioned already (id %s)", login, same[0].User.ID)
	}
	u, err := tx.GetUserByLogin(ctx, login)
	switch gatehouse.ErrorCode(err) {
	case gatehouse.ENOTFOUND:
		u = &gatehouse.User{Login: login, Name: deref(p.Name, login), Email: deref(p.Email, ""), ManagedBy: orgID}
		err = tx.CreateUser(ctx, u)
	case "":
		if u.ManagedBy != orgID {
			return nil, gatehouse.Errorf(gatehouse.ECONFLICT, "userName: %q belongs to a user this organization does not manage", login)
		}
		u.Name, u.Email = deref(p.Name, u.Name), deref(p.Email, u.Email)
		err = tx.UpdateUser(ctx, u)
	}
	if err != nil {
		return nil, err
	}
	roleID, err := memberRoleID(ctx, tx, orgID, "")
	if err != nil {
		return nil, err
	}
	m := &gatehouse.Membership{OrgID: orgID, UserID: u.ID, RoleID: roleID, Suspended: p.Active != nil && !*p.Active}
	if err := tx.AddMember(ctx, m); err != nil {
		return nil, gatehouse.Reword(err, gatehouse.ECONFLICT, "userName: %q is a member already", login)
	}
	if err := tx.PutSCIMUser(ctx, orgID, u.ID, deref(p.ExternalID, ""), s.Now()); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, tx, orgID, gatehouse.EventSCIMUserCreated, u.ID, map[string]any{"login": login, "externalId": deref(p.ExternalID, ""),
		"roleId": roleID, "active": !m.Suspended}, "SCIM provisioned user %q", login); err != nil {
		return nil, err
	}
	return scimUser(ctx, tx, orgID, u.ID)
}

func checkSCIMUserFields(p SCIMUserPatch) error {
	if p.UserName != nil {
		if err := checkLogin("userName", *p.UserName); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"displayName", p.Name, 200}, {"emails", p.Email, 320}, {"externalId", p.ExternalID, 200}} {
		if f.v != nil {
			if err := checkText(f.name, *f.v, f.max); err != nil {
				return err
			}
		}
	}
	return nil
}

func deref(p *string, or string) string {
	if p == nil {
		return or
	}
	return *p
}

// UpdateSCIMUser changes a provisioned user (PUT and PATCH). Active false
// suspends the membership, revokes every personal token of the user and
// ends their console sessions, all in one transaction, and the snapshots
// of every organization of the user drop them before it returns; the last
// active admin cannot be deactivated.
func (s *Service) UpdateSCIMUser(ctx context.Context, orgID, id string, p SCIMUserPatch) (out *gatehouse.SCIMUser, err error) {
	if err := checkSCIMUserFields(p); err != nil {
		return nil, err
	}
	err = s.scimUserWrite(ctx, orgID, id, func(tx gatehouse.Tx) ([]*gatehouse.Token, error) {
		var revoked []*gatehouse.Token
		out, revoked, err = s.updateSCIMUserTx(ctx, tx, orgID, id, p)
		return revoked, err
	})
	return out, err
}

func (s *Service) updateSCIMUserTx(ctx context.Context, tx gatehouse.Tx, orgID, id string, p SCIMUserPatch) (*gatehouse.SCIMUser, []*gatehouse.Token, error) {
	cur, err := scimUser(ctx, tx, orgID, id)
	if err != nil {
		return nil, nil, err
	}
	u, changed := *cur.User, map[string]any{}
	set := func(field string, dst *string, v *string) {
		if v != nil && *v != *dst {
			changed[field] = map[string]string{"before": *dst, "after": *v}
			*dst = *v
		}
	}
	set("userName", &u.Login, p.UserName)
	set("displayName", &u.Name, p.Name)
	set("email", &u.Email, p.Email)
	if len(changed) > 0 {
		if err := tx.UpdateUser(ctx, &u); err != nil {
			return nil, nil, gatehouse.Reword(err, gatehouse.ECONFLICT, "userName: %q is taken", u.Login)
		}
	}
	ext := cur.ExternalID
	set("externalId", &ext, p.ExternalID)
	var revoked []*gatehouse.Token
	if p.Active != nil && *p.Active == cur.Member.Suspended {
		if revoked, err = s.setSCIMActive(ctx, tx, cur, *p.Active); err != nil {
			return nil, nil, err
		}
		changed["active"] = *p.Active
	}
	if err := tx.PutSCIMUser(ctx, orgID, id, ext, s.Now()); err != nil {
		return nil, nil, err
	}
	if len(changed) > 0 {
		err = s.audit(ctx, tx, orgID, gatehouse.EventSCIMUserUpdated, id, map[string]any{"login": u.Login, "changed": changed},
			"SCIM changed user %q (%s)", u.Login, strings.Join(slices.Sorted(maps.Keys(changed)), ", "))
		if err != nil {
			return nil, nil, err
		}
	}
	out, err := scimUser(ctx, tx, orgID, id)
	return out, revoked, err
}

// setSCIMActive suspends (deprovisions) or reactivates a membership;
// deprovisioning revokes the user's personal tokens and ends their
// sessions, and returns the tokens revoked.
func (s *Service) setSCIMActive(ctx context.Context, tx gatehouse.Tx, cur *gatehouse.SCIMUser, active bool) ([]*gatehouse.Token, error) {
	m := *cur.Member
	if !active {
		if err := lastActiveAdmin(ctx, tx, &m); err != nil {
			return nil, err
		}
	}
	m.Suspended = !active
	if err := tx.UpdateMember(ctx, &m); err != nil {
		return nil, err
	}
	if active {
		return nil, nil
	}
	return s.deprovision(ctx, tx, m.OrgID, cur.User)
}

// deprovision revokes every live personal token of a user, through the
// token path (each revocation audited in every organization of the user),
// and ends the user's console sessions.
func (s *Service) deprovision(ctx context.Context, tx gatehouse.Tx, orgID string, u *gatehouse.User) ([]*gatehouse.Token, error) {
	var revoked []*gatehouse.Token
	for {
		ts, _, err := tx.ListTokens(ctx, gatehouse.TokenFilter{UserID: u.ID, Kind: gatehouse.TokenPersonal}, gatehouse.ListOptions{Limit: gatehouse.MaxListLimit})
		if err != nil {
			return nil, err
		}
		if len(ts) == 0 {
			break
		}
		for _, t := range ts {
			rt, err := s.revokeTokenTx(ctx, tx, t.ID, func(*gatehouse.Token) error { return nil })
			if err != nil {
				return nil, err
			}
			revoked = append(revoked, rt)
		}
	}
	n, err := tx.DeleteUserSessions(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return revoked, s.audit(ctx, tx, orgID, gatehouse.EventSCIMUserDeprovisioned, u.ID, map[string]any{"login": u.Login, "tokensRevoked": len(revoked),
		"sessionsEnded": n}, "SCIM deprovisioned user %q: %d personal tokens revoked, %d console sessions ended", u.Login, len(revoked), n)
}

// checkNotDeprovisioned refuses a personal token to a user whose managing
// organization has suspended them (SCIM's active=false): a request that
// authenticated just before the deprovisioning must not mint a token that
// outlives it.
func checkNotDeprovisioned(ctx context.Context, tx gatehouse.Tx, userID string) error {
	u, err := tx.GetUser(ctx, userID)
	if err != nil || u.ManagedBy == "" {
		return err
	}
	m, err := tx.GetMember(ctx, u.ManagedBy, userID)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	if m.Suspended {
		return gatehouse.Errorf(gatehouse.EFORBIDDEN, "forbidden: the organization that manages this user has deactivated them")
	}
	return nil
}

// DeleteSCIMUser removes a provisioned user from the organization (the
// user record stays, as audit events name it) and deprovisions them.
func (s *Service) DeleteSCIMUser(ctx context.Context, orgID, id string) error {
	return s.scimUserWrite(ctx, orgID, id, func(tx gatehouse.Tx) ([]*gatehouse.Token, error) {
		cur, err := scimUser(ctx, tx, orgID, id)
		if err != nil {
			return nil, err
		}
		if err := lastActiveAdmin(ctx, tx, cur.Member); err != nil {
			return nil, err
		}
		if err := tx.RemoveMember(ctx, orgID, id); err != nil {
			return nil, err
		}
		if err := s.audit(ctx, tx, orgID, gatehouse.EventSCIMUserDeleted, id, map[string]string{"login": cur.User.Login},
			"SCIM removed user %q from the organization", cur.User.Login); err != nil {
			return nil, err
		}
		return s.deprovision(ctx, tx, orgID, cur.User)
	})
}

// scimUserWrite runs a change of a user that may revoke their personal
// tokens, which bumps every organization of the user: it takes those
// organizations' locks in id order first (the order of every personal
// token write, lockOrgs), then drops the revoked tokens from the snapshots
// and refreshes each organization.
func (s *Service) scimUserWrite(ctx context.Context, orgID, userID string, fn func(tx gatehouse.Tx) ([]*gatehouse.Token, error)) error {
	var revoked []*gatehouse.Token
	var orgs []string
	err := s.store.Write(ctx, func(tx gatehouse.Tx) (err error) {
		if orgs, err = userOrgs(ctx, tx, userID); err != nil {
			return err
		}
		if !slices.Contains(orgs, orgID) {
			orgs = append(orgs, orgID)
		}
		if err := lockOrgs(ctx, tx, orgs); err != nil {
			return err
		}
		revoked, err = fn(tx)
		return err
	})
	if err != nil {
		return err
	}
	for _, t := range revoked {
		s.az.RemoveToken(t)
	}
	for _, o := range orgs {
		if err := s.az.Refresh(ctx, o); err != nil {
			return err
		}
	}
	return nil
}

// SCIMGroupView is a SCIM group with its members.
type SCIMGroupView struct {
	*gatehouse.SCIMGroup
	Members []*gatehouse.User
}

// SCIMGroupPatch is a change to a group; nil fields stay as they are.
// Members, when set, replaces the members; Add and Remove (user ids) apply
// after it.
type SCIMGroupPatch struct {
	DisplayName *string
	ExternalID  *string
	Members     *[]string
	Add, Remove []string
}

// SCIMGroups lists the organization's SCIM groups, filtered and paged,
// with their members unless withoutMembers.
func (s *Service) SCIMGroups(ctx context.Context, orgID string, f gatehouse.SCIMFilter, withoutMembers bool) (out []*SCIMGroupView, total int, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		gs, n, err := tx.ListSCIMGroups(ctx, orgID, f)
		if err != nil {
			return err
		}
		out, total = nil, n
		for _, g := range gs {
			v := &SCIMGroupView{SCIMGroup: g}
			if !withoutMembers {
				if v.Members, err = teamUsers(ctx, tx, g.Team.ID); err != nil {
					return err
				}
			}
			out = append(out, v)
		}
		return nil
	})
	return out, total, err
}

func teamUsers(ctx context.Context, tx gatehouse.Tx, teamID string) ([]*gatehouse.User, error) {
	ms, err := tx.ListTeamMembers(ctx, teamID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.UserID
	}
	return tx.GetUsers(ctx, ids)
}

// SCIMGroup returns one SCIM group by id, with its members.
func (s *Service) SCIMGroup(ctx context.Context, orgID, id string) (v *SCIMGroupView, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		v, err = scimGroup(ctx, tx, orgID, id)
		return err
	})
	return v, err
}

func scimGroup(ctx context.Context, tx gatehouse.Tx, orgID, id string) (*SCIMGroupView, error) {
	g, err := tx.GetSCIMGroup(ctx, orgID, id)
	if err != nil {
		return nil, gatehouse.Reword(err, gatehouse.ENOTFOUND, "group %q not found", ClientText(id))
	}
	ms, err := teamUsers(ctx, tx, id)
	return &SCIMGroupView{SCIMGroup: g, Members: ms}, err
}

// teamSlugRE is what a team name may not hold.
var teamSlugRE = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// teamName is the team name of a group's display name: runs of other
// characters become '-', and it starts with a letter or digit.
func teamName(displayName string) string {
	n := strings.Trim(teamSlugRE.ReplaceAllString(displayName, "-"), "-._")
	if len(n) > 100 {
		n = strings.TrimRight(n[:100], "-._")
	}
	if n == "" {
		n = "group"
	}
	return n
}

// CreateSCIMGroup creates a SCIM-kind team named after the display name,
// with its members.
func (s *Service) CreateSCIMGroup(ctx context.Context, orgID string, p SCIMGroupPatch) (out *SCIMGroupView, err error) {
	if p.DisplayName == nil || strings.TrimSpace(*p.DisplayName) == "" {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "displayName: required")
	}
	err = s.write(ctx, orgID, func(tx gatehouse.Tx) error {
		t := &gatehouse.Team{OrgID: orgID, Kind: gatehouse.TeamSCIM, Name: teamName(*p.DisplayName), DisplayName: *p.DisplayName}
		if err := checkSCIMGroupFields(p); err != nil {
			return err
		}
		if err := tx.CreateTeam(ctx, t); err != nil {
			return gatehouse.Reword(err, gatehouse.ECONFLICT, "displayName: a team named %q exists already", t.Name)
		}
		if err := s.audit(ctx, tx, orgID, gatehouse.EventSCIMGroupCreated, t.ID, map[string]string{"name": t.Name, "displayName": t.DisplayName,
			"externalId": deref(p.ExternalID, "")}, "SCIM created group %q (team %q)", t.DisplayName, t.Name); err != nil {
			return err
		}
		p.DisplayName = nil
		out, err = s.updateSCIMGroupTx(ctx, tx, orgID, t.ID, p)
		return err
	})
	return out, err
}

func checkSCIMGroupFields(p SCIMGroupPatch) error {
	if p.DisplayName != nil {
		if err := checkText("displayName", *p.DisplayName, 100); err != nil {
			return err
		}
	}
	if p.ExternalID != nil {
		return checkText("externalId", *p.ExternalID, 200)
	}
	return nil
}

// UpdateSCIMGroup changes a group (PUT and PATCH) under the
// organization's lock, so that concurrent member changes all land.
func (s *Service) UpdateSCIMGroup(ctx context.Context, orgID, id string, p SCIMGroupPatch) (out *SCIMGroupView, err error) {
	if err := checkSCIMGroupFields(p); err != nil {
		return nil, err
	}
	err = s.write(ctx, orgID, func(tx gatehouse.Tx) error {
		out, err = s.updateSCIMGroupTx(ctx, tx, orgID, id, p)
		return err
	})
	return out, err
}

func (s *Service) updateSCIMGroupTx(ctx context.Context, tx gatehouse.Tx, orgID, id string, p SCIMGroupPatch) (*SCIMGroupView, error) {
	cur, err := scimGroup(ctx, tx, orgID, id)
	if err != nil {
		return nil, err
	}
	add, remove, err := memberDelta(ctx, tx, orgID, cur, p)
	if err != nil {
		return nil, err
	}
	for _, uid := range add {
		if err := tx.PutTeamMember(ctx, &gatehouse.TeamMember{TeamID: id, UserID: uid, Role: gatehouse.TeamRoleMember}); err != nil {
			return nil, err
		}
	}
	for _, uid := range remove {
		if err := tx.RemoveTeamMember(ctx, id, uid); err != nil {
			return nil, err
		}
	}
	t, ext := *cur.Team, cur.ExternalID
	changed := map[string]any{}
	if p.DisplayName != nil && *p.DisplayName != t.DisplayName {
		changed["displayName"] = map[string]string{"before": t.DisplayName, "after": *p.DisplayName}
		t.DisplayName = *p.DisplayName
		if err := tx.UpdateTeam(ctx, &t); err != nil {
			return nil, err
		}
	}
	if p.ExternalID != nil && *p.ExternalID != ext {
		changed["externalId"] = map[string]string{"before": ext, "after": *p.ExternalID}
		ext = *p.ExternalID
	}
	if err := tx.PutSCIMGroup(ctx, orgID, id, ext, s.Now()); err != nil {
		return nil, err
	}
	if len(add) > 0 || len(remove) > 0 || len(changed) > 0 {
		changed["membersAdded"], changed["membersRemoved"] = add, remove
		err := s.audit(ctx, tx, orgID, gatehouse.EventSCIMGroupUpdated, id, changed, "SCIM changed group %q: %d members added, %d removed",
			t.DisplayName, len(add), len(remove))
		if err != nil {
			return nil, err
		}
	}
	return scimGroup(ctx, tx, orgID, id)
}

// memberDelta is what a patch does to a group's members: the user ids to
// add (each a user the organization provisions) and to remove. Removing
// someone who is not a member does nothing, as RFC 7644 §3.5.2.2 allows.
func memberDelta(ctx context.Context, tx gatehouse.Tx, orgID string, cur *SCIMGroupView, p SCIMGroupPatch) (add, remove []string, err error) {
	in := map[string]bool{}
	for _, u := range cur.Members {
		in[u.ID] = true
	}
	want := maps.Clone(in)
	if p.Members != nil {
		want = map[string]bool{}
		for _, id := range *p.Members {
			want[id] = true
		}
	}
	for _, id := range p.Add {
		want[id] = true
	}
	for _, id := range p.Remove {
		delete(want, id)
	}
	if len(want) > maxSCIMGroupMembers {
		return nil, nil, gatehouse.Errorf(gatehouse.EINVALID, "members: %d, over the limit of %d", len(want), maxSCIMGroupMembers)
	}
	for _, id := range slices.Sorted(maps.Keys(want)) {
		if in[id] {
			continue
		}
		if _, err := tx.GetSCIMUser(ctx, orgID, id); err != nil {
			return nil, nil, gatehouse.Recode(err, gatehouse.ENOTFOUND, gatehouse.EINVALID, "members: %q is not a user this organization provisions", ClientText(id))
		}
		add = append(add, id)
	}
	for _, id := range slices.Sorted(maps.Keys(in)) {
		if !want[id] {
			remove = append(remove, id)
		}
	}
	return add, remove, nil
}

// maxSCIMGroupMembers bounds a group's members.
const maxSCIMGroupMembers = 10000

// DeleteSCIMGroup deletes a SCIM group's team (its tokens are revoked with
// it), audited as every SCIM change is.
func (s *Service) DeleteSCIMGroup(ctx context.Context, orgID, id string) error {
	return s.write(ctx, orgID, func(tx gatehouse.Tx) error {
		g, err := tx.GetSCIMGroup(ctx, orgID, id)
		if err != nil {
			return gatehouse.Reword(err, gatehouse.ENOTFOUND, "group %q not found", ClientText(id))
		}
		if err := tx.DeleteTeam(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, orgID, gatehouse.EventSCIMGroupDeleted, id, map[string]string{"name": g.Team.Name, "displayName": g.Team.DisplayName},
			"SCIM deleted group %q (team %q) and revoked its tokens", g.Team.DisplayName, g.Team.Name)
	})
}
