package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

const issuerCols = "id, org_id, name, url, issuer, thumbprints, jwks, max_expiration, created, modified, last_used FROM issuers"

func scanIssuer(s scanner) (*gatehouse.Issuer, error) {
	i := &gatehouse.Issuer{}
	var thumbs, jwks string
	var maxExp, created, modified, lastUsed int64
	if err := s.Scan(&i.ID, &i.OrgID, &i.Name, &i.URL, &i.Issuer, &thumbs, &jwks, &maxExp, &created, &modified, &lastUsed); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(thumbs), &i.Thumbprints); err != nil {
		return nil, err
	}
	if jwks != "" {
		i.JWKS = json.RawMessage(jwks)
	}
	i.MaxExpiration = time.Duration(maxExp) * time.Second
	i.Created, i.Modified, i.LastUsed = fromUS(created), fromUS(modified), fromUS(lastUsed)
	return i, nil
}

func (t *tx) CreateIssuer(ctx context.Context, i *gatehouse.Issuer, p *gatehouse.AuthPolicy) error {
	if i.ID == "" {
		i.ID = gatehouse.NewID()
	}
	i.Created = t.stamp()
	i.Modified = i.Created
	thumbs, err := jsonText(nonNil(i.Thumbprints))
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, opWrite, "INSERT INTO issuers (id, org_id, name, url, issuer, thumbprints, jwks, max_expiration, created, modified, last_used) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		i.ID, i.OrgID, i.Name, i.URL, i.Issuer, thumbs, string(i.JWKS), int64(i.MaxExpiration/time.Second), us(i.Created), us(i.Modified), us(i.LastUsed))
	if err != nil {
		return invalidAs(conflictAs(err, "issuer %q is already registered", i.Issuer), "organization %q does not exist", i.OrgID)
	}
	if p.ID == "" {
		p.ID = gatehouse.NewID()
	}
	if len(p.Policies) == 0 {
		p.Policies = json.RawMessage(`[]`)
	}
	p.OrgID, p.IssuerID, p.Version, p.Created, p.Modified = i.OrgID, i.ID, 1, i.Created, i.Created
	_, err = t.exec(ctx, opWrite, "INSERT INTO auth_policies (id, org_id, issuer_id, version, policies, created, modified) VALUES (?, ?, ?, ?, ?, ?, ?)",
		p.ID, p.OrgID, p.IssuerID, p.Version, string(p.Policies), us(p.Created), us(p.Modified))
	if err != nil {
		return err
	}
	return t.bump(ctx, i.OrgID, key(gatehouse.ChangeIssuer, i.ID))
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (t *tx) GetIssuer(ctx context.Context, orgID, id string) (*gatehouse.Issuer, error) {
	return get(ctx, t, "oidc issuer", scanIssuer, "SELECT "+issuerCols+" WHERE org_id = ? AND id = ?", orgID, id)
}

func (t *tx) FindIssuer(ctx context.Context, orgID, issuer string) (*gatehouse.Issuer, error) {
	return get(ctx, t, "oidc issuer", scanIssuer, "SELECT "+issuerCols+" WHERE org_id = ? AND issuer = ?", orgID, issuer)
}

func (t *tx) ListIssuers(ctx context.Context, orgID string) ([]*gatehouse.Issuer, error) {
	return all(ctx, t, scanIssuer, "SELECT "+issuerCols+" WHERE org_id = ? ORDER BY name, id", orgID)
}

// UpdateIssuer writes the name, thumbprints, static key set, maximum
// expiration and last use; the URL and issuer never change.
func (t *tx) UpdateIssuer(ctx context.Context, i *gatehouse.Issuer) error {
	thumbs, err := jsonText(nonNil(i.Thumbprints))
	if err != nil {
		return err
	}
	i.Modified = t.stamp()
	if err := t.execOne(ctx, opWrite, "oidc issuer", "UPDATE issuers SET name = ?, thumbprints = ?, jwks = ?, max_expiration = ?, modified = ?, last_used = ? WHERE org_id = ? AND id = ?",
		i.Name, thumbs, string(i.JWKS), int64(i.MaxExpiration/time.Second), us(i.Modified), us(i.LastUsed), i.OrgID, i.ID); err != nil {
		return err
	}
	return t.bump(ctx, i.OrgID, key(gatehouse.ChangeIssuer, i.ID))
}

func (t *tx) TouchIssuer(ctx context.Context, orgID, id string, at time.Time) error {
	return t.execOne(ctx, opWrite, "oidc issuer", "UPDATE issuers SET last_used = ? WHERE org_id = ? AND id = ?", us(at), orgID, id)
}

func (t *tx) DeleteIssuer(ctx context.Context, orgID, id string) error {
	if err := t.execOne(ctx, opDelete, "oidc issuer", "DELETE FROM issuers WHERE org_id = ? AND id = ?", orgID, id); err != nil {
		return err
	}
	return t.bump(ctx, orgID, key(gatehouse.ChangeIssuer, id))
}

const policyCols = "id, org_id, issuer_id, version, policies, created, modified FROM auth_policies"

func scanPolicy(s scanner) (*gatehouse.AuthPolicy, error) {
	p := &gatehouse.AuthPolicy{}
	var policies string
	var created, modified int64
	err := s.Scan(&p.ID, &p.OrgID, &p.IssuerID, &p.Version, &policies, &created, &modified)
	p.Policies = json.RawMessage(policies)
	p.Created, p.Modified = fromUS(created), fromUS(modified)
	return p, err
}

func (t *tx) GetAuthPolicy(ctx context.Context, orgID, id string) (*gatehouse.AuthPolicy, error) {
	return get(ctx, t, "auth policy", scanPolicy, "SELECT "+policyCols+" WHERE org_id = ? AND id = ?", orgID, id)
}

func (t *tx) GetIssuerPolicy(ctx context.Context, orgID, issuerID string) (*gatehouse.AuthPolicy, error) {
	return get(ctx, t, "auth policy", scanPolicy, "SELECT "+policyCols+" WHERE org_id = ? AND issuer_id = ?", orgID, issuerID)
}

func (t *tx) UpdateAuthPolicy(ctx context.Context, p *gatehouse.AuthPolicy, expectVersion int) error {
	cur, err := t.GetAuthPolicy(ctx, p.OrgID, p.ID)
	if err != nil {
		return err
	}
	if cur.Version != expectVersion {
		return gatehouse.Errorf(gatehouse.ECONFLICT, "the auth policy was changed meanwhile: it is at version %d, not %d; read it again", cur.Version, expectVersion)
	}
	modified := t.stamp()
	res, err := t.exec(ctx, opWrite, "UPDATE auth_policies SET policies = ?, version = version + 1, modified = ? WHERE id = ? AND version = ?",
		string(p.Policies), us(modified), p.ID, expectVersion)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return gatehouse.Errorf(gatehouse.ECONFLICT, "the auth policy was changed meanwhile; read it again")
	}
	p.Version, p.Modified, p.IssuerID, p.Created = expectVersion+1, modified, cur.IssuerID, cur.Created
	return t.bump(ctx, p.OrgID, key(gatehouse.ChangeIssuer, p.IssuerID))
}
