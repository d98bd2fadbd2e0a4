package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

const ssoColumns = "org_id, issuer, client_id, secret_key, secret_sealed, user_claim, groups_claim, idp_metadata, groups_attribute, allow_create, default_role_id, email_domains, updated"

func (t *tx) GetSSO(ctx context.Context, orgID string) (*gatehouse.SSO, error) {
	s := &gatehouse.SSO{}
	var role sql.NullString
	var domains string
	var updated int64
	err := t.queryRow(ctx, "SELECT "+ssoColumns+" FROM sso WHERE org_id = ?", orgID).
		Scan(&s.OrgID, &s.Issuer, &s.ClientID, &s.SecretKey, &s.SecretSealed, &s.UserClaim, &s.GroupsClaim, &s.IdPMetadata,
			&s.GroupsAttribute, &s.AllowCreate, &role, &domains, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("single sign-on settings")
	}
	if err != nil {
		return nil, t.d.mapErr(err, opWrite)
	}
	s.DefaultRoleID, s.Updated = role.String, fromUS(updated)
	if domains != "" {
		s.EmailDomains = strings.Split(domains, ",")
	}
	return s, nil
}

func (t *tx) PutSSO(ctx context.Context, s *gatehouse.SSO) error {
	s.Updated = t.stamp()
	_, err := t.exec(ctx, opWrite, "INSERT INTO sso ("+ssoColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "+
		"ON CONFLICT (org_id) DO UPDATE SET issuer = excluded.issuer, client_id = excluded.client_id, secret_key = excluded.secret_key, "+
		"secret_sealed = excluded.secret_sealed, user_claim = excluded.user_claim, groups_claim = excluded.groups_claim, "+
		"idp_metadata = excluded.idp_metadata, groups_attribute = excluded.groups_attribute, allow_create = excluded.allow_create, "+
		"default_role_id = excluded.default_role_id, email_domains = excluded.email_domains, updated = excluded.updated",
		s.OrgID, s.Issuer, s.ClientID, s.SecretKey, s.SecretSealed, s.UserClaim, s.GroupsClaim, s.IdPMetadata, s.GroupsAttribute,
		s.AllowCreate, nullable(s.DefaultRoleID), strings.Join(s.EmailDomains, ","), us(s.Updated))
	return invalidAs(err, "organization %q or role %q does not exist", s.OrgID, s.DefaultRoleID)
}

func (t *tx) DeleteSSO(ctx context.Context, orgID string) error {
	_, err := t.exec(ctx, opDelete, "DELETE FROM sso WHERE org_id = ?", orgID)
	return err
}

func (t *tx) CreateSSOLogin(ctx context.Context, l *gatehouse.SSOLogin, maxPending int) error {
	if len(l.Digest) != 32 {
		return gatehouse.Errorf(gatehouse.EINVALID, "a sign-in needs its state's digest")
	}
	if _, err := t.exec(ctx, opDelete, "DELETE FROM sso_logins WHERE expires < ?", us(t.now())); err != nil {
		return err
	}
	// Counted up to the bound only: the check costs at most maxPending
	// index entries (sso_logins_org, migration 00021), whatever the flood.
	var n int
	if err := t.queryRow(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM sso_logins WHERE org_id = ? LIMIT ?) AS pending", l.OrgID, maxPending).Scan(&n); err != nil {
		return t.d.mapErr(err, opWrite)
	}
	if n >= maxPending {
		return gatehouse.Errorf(gatehouse.ETOOMANYREQUESTS, "the organization has %d sign-ins under way, the most it may; retry in a few minutes", n)
	}
	_, err := t.exec(ctx, opWrite, "INSERT INTO sso_logins (digest, org_id, protocol, nonce, verifier, request_id, next, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		l.Digest, l.OrgID, l.Protocol, l.Nonce, l.Verifier, l.RequestID, l.Next, us(l.Expires))
	return invalidAs(conflictAs(err, "the sign-in exists already"), "organization %q does not exist", l.OrgID)
}

func (t *tx) TakeSSOLogin(ctx context.Context, digest []byte) (*gatehouse.SSOLogin, error) {
	l := &gatehouse.SSOLogin{}
	var expires int64
	err := t.queryRow(ctx, "SELECT digest, org_id, protocol, nonce, verifier, request_id, next, expires FROM sso_logins WHERE digest = ?", digest).
		Scan(&l.Digest, &l.OrgID, &l.Protocol, &l.Nonce, &l.Verifier, &l.RequestID, &l.Next, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("sign-in")
	}
	if err != nil {
		return nil, t.d.mapErr(err, opWrite)
	}
	// The delete decides who took it: of two concurrent takers on
	// PostgreSQL, the second deletes nothing.
	if err := t.execOne(ctx, opDelete, "sign-in", "DELETE FROM sso_logins WHERE digest = ?", digest); err != nil {
		return nil, err
	}
	l.Expires = fromUS(expires)
	return l, nil
}

func (t *tx) UseAssertion(ctx context.Context, orgID, id string, expires, now time.Time) error {
	if _, err := t.exec(ctx, opDelete, "DELETE FROM sso_assertions WHERE expires < ?", us(now)); err != nil {
		return err
	}
	_, err := t.exec(ctx, opWrite, "INSERT INTO sso_assertions (org_id, assertion_id, expires) VALUES (?, ?, ?)", orgID, id, us(expires))
	return invalidAs(conflictAs(err, "assertion %q was used already", id), "organization %q does not exist", orgID)
}

const spKeyColumns = "id, org_id, certificate, key_wrapped, key_sealed, created, activated"

func scanSPKey(r scanner) (*gatehouse.SPKey, error) {
	k := &gatehouse.SPKey{}
	var created, activated int64
	if err := r.Scan(&k.ID, &k.OrgID, &k.Certificate, &k.KeyWrapped, &k.KeySealed, &created, &activated); err != nil {
		return nil, err
	}
	k.Created, k.Activated = fromUS(created), fromUS(activated)
	return k, nil
}

func (t *tx) ListSPKeys(ctx context.Context, orgID string) ([]*gatehouse.SPKey, error) {
	return all(ctx, t, scanSPKey, "SELECT "+spKeyColumns+" FROM sso_sp_keys WHERE org_id = ? ORDER BY created, id", orgID)
}

func (t *tx) CreateSPKey(ctx context.Context, k *gatehouse.SPKey) error {
	if k.ID == "" || len(k.Certificate) == 0 || len(k.KeyWrapped) == 0 || len(k.KeySealed) == 0 {
		return gatehouse.Errorf(gatehouse.EINVALID, "an SP key needs its id, certificate and sealed private key")
	}
	if k.Created.IsZero() {
		k.Created = t.stamp()
	}
	_, err := t.exec(ctx, opWrite, "INSERT INTO sso_sp_keys ("+spKeyColumns+") VALUES (?, ?, ?, ?, ?, ?, ?)",
		k.ID, k.OrgID, k.Certificate, k.KeyWrapped, k.KeySealed, us(k.Created), us(k.Activated))
	return invalidAs(conflictAs(err, "SP key %q exists already", k.ID), "organization %q does not exist", k.OrgID)
}

func (t *tx) ActivateSPKey(ctx context.Context, orgID, id string, at time.Time) error {
	if at.IsZero() {
		return gatehouse.Errorf(gatehouse.EINVALID, "an SP key is activated at a time")
	}
	return t.execOne(ctx, opWrite, "SP key", "UPDATE sso_sp_keys SET activated = ? WHERE org_id = ? AND id = ?", us(at), orgID, id)
}

func (t *tx) DeleteSPKey(ctx context.Context, orgID, id string) error {
	return t.execOne(ctx, opDelete, "SP key", "DELETE FROM sso_sp_keys WHERE org_id = ? AND id = ?", orgID, id)
}
