package store

import (
	"context"
	"encoding/json"

	"github.com/gatehouse-iam/gatehouse"
)

const accountCols = "id, org_id, name, tags, created_by, details, created, modified FROM accounts"

func scanAccount(s scanner) (*gatehouse.Account, error) {
	a := &gatehouse.Account{}
	var tags, details string
	var created, modified int64
	if err := s.Scan(&a.ID, &a.OrgID, &a.Name, &tags, &a.CreatedBy, &details, &created, &modified); err != nil {
		return nil, err
	}
	a.Details = json.RawMessage(details)
	var err error
	a.Tags, err = parseTags(tags)
	a.Created, a.Modified = fromUS(created), fromUS(modified)
	return a, err
}

func (t *tx) CreateAccount(ctx context.Context, a *gatehouse.Account) error {
	if a.ID == "" {
		a.ID = gatehouse.NewID()
	}
	tags, err := tagsText(a.Tags)
	if err != nil {
		return err
	}
	a.Created = t.stamp()
	a.Modified = a.Created
	if len(a.Details) == 0 {
		a.Details = json.RawMessage(`{}`)
	}
	_, err = t.exec(ctx, opWrite, "INSERT INTO accounts (id, org_id, name, tags, created_by, details, created, modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		a.ID, a.OrgID, a.Name, tags, a.CreatedBy, string(a.Details), us(a.Created), us(a.Modified))
	if err != nil {
		return invalidAs(conflictAs(err, "account %q already exists", a.Name), "organization %q does not exist", a.OrgID)
	}
	return t.bump(ctx, a.OrgID, key(gatehouse.ChangeAccount, a.ID))
}

func (t *tx) GetAccount(ctx context.Context, orgID, name string) (*gatehouse.Account, error) {
	return get(ctx, t, "account", scanAccount, "SELECT "+accountCols+" WHERE org_id = ? AND name = ?", orgID, name)
}

func (t *tx) GetAccountByID(ctx context.Context, id string) (*gatehouse.Account, error) {
	return get(ctx, t, "account", scanAccount, "SELECT "+accountCols+" WHERE id = ?", id)
}

func (t *tx) ListAccounts(ctx context.Context, orgID string, opts gatehouse.ListOptions) ([]*gatehouse.Account, string, error) {
	return page[*gatehouse.Account]{
		from: accountCols, where: "org_id = ?", args: []any{orgID}, keyCol: "name", scan: scanAccount,
		key: func(a *gatehouse.Account) cursor { return cursor{Key: a.Name, ID: a.ID} },
	}.run(ctx, t, opts)
}

func (t *tx) UpdateAccount(ctx context.Context, a *gatehouse.Account) error {
	tags, err := tagsText(a.Tags)
	if err != nil {
		return err
	}
	a.Modified = t.stamp()
	if len(a.Details) == 0 {
		a.Details = json.RawMessage(`{}`)
	}
	err = t.execOne(ctx, opWrite, "account", "UPDATE accounts SET name = ?, tags = ?, details = ?, modified = ? WHERE org_id = ? AND id = ?",
		a.Name, tags, string(a.Details), us(a.Modified), a.OrgID, a.ID)
	if err != nil {
		return conflictAs(err, "account %q already exists", a.Name)
	}
	return t.bump(ctx, a.OrgID, key(gatehouse.ChangeAccount, a.ID))
}

func (t *tx) DeleteAccount(ctx context.Context, id string) error {
	return t.deleteEntity(ctx, "account", "accounts", id)
}
