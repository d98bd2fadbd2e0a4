package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gatehouse-iam/gatehouse"
)

const orgCols = "id, name, display_name, created, settings, revision FROM organizations"

func scanOrg(s scanner) (*gatehouse.Organization, error) {
	o := &gatehouse.Organization{}
	var created int64
	var settings string
	if err := s.Scan(&o.ID, &o.Name, &o.DisplayName, &created, &settings, &o.Revision); err != nil {
		return nil, err
	}
	o.Created = fromUS(created)
	if err := json.Unmarshal([]byte(settings), &o.Settings); err != nil {
		return nil, fmt.Errorf("organization %s settings: %w", o.ID, err)
	}
	return o, nil
}

func (t *tx) CreateOrg(ctx context.Context, o *gatehouse.Organization) error {
	if o.ID == "" {
		o.ID = gatehouse.NewID()
	}
	o.Created, o.Revision = t.stamp(), 1
	settings, err := jsonText(o.Settings)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, opWrite, "INSERT INTO organizations (id, name, display_name, created, settings, revision) VALUES (?, ?, ?, ?, ?, ?)",
		o.ID, o.Name, o.DisplayName, us(o.Created), settings, o.Revision)
	return conflictAs(err, "organization %q already exists", o.Name)
}

func (t *tx) GetOrg(ctx context.Context, id string) (*gatehouse.Organization, error) {
	return get(ctx, t, "organization", scanOrg, "SELECT "+orgCols+" WHERE id = ?", id)
}

func (t *tx) GetOrgByName(ctx context.Context, name string) (*gatehouse.Organization, error) {
	return get(ctx, t, "organization", scanOrg, "SELECT "+orgCols+" WHERE name = ?", name)
}

func (t *tx) ListOrgs(ctx context.Context, opts gatehouse.ListOptions) ([]*gatehouse.Organization, string, error) {
	return page[*gatehouse.Organization]{
		from: orgCols, where: "1 = 1", keyCol: "name", scan: scanOrg,
		key: func(o *gatehouse.Organization) cursor { return cursor{Key: o.Name, ID: o.ID} },
	}.run(ctx, t, opts)
}

// UpdateOrg writes the display name and settings; it affects access.
func (t *tx) UpdateOrg(ctx context.Context, o *gatehouse.Organization) error {
	settings, err := jsonText(o.Settings)
	if err != nil {
		return err
	}
	if err := t.execOne(ctx, opWrite, "organization", "UPDATE organizations SET display_name = ?, settings = ? WHERE id = ?",
		o.DisplayName, settings, o.ID); err != nil {
		return err
	}
	if err := t.bump(ctx, o.ID, key(gatehouse.ChangeOrg, o.ID)); err != nil {
		return err
	}
	o.Revision, err = t.Revision(ctx, o.ID)
	return err
}

func (t *tx) Revision(ctx context.Context, orgID string) (int64, error) {
	if c := t.bumped[orgID]; c != nil {
		return c.revision, nil // this transaction's write moved it there
	}
	return get(ctx, t, "organization", func(s scanner) (int64, error) {
		var r int64
		return r, s.Scan(&r)
	}, "SELECT revision FROM organizations WHERE id = ?", orgID)
}

// conflictAs rewrites a conflict error's message to name the record.
func conflictAs(err error, format string, args ...any) error {
	return gatehouse.Reword(err, gatehouse.ECONFLICT, format, args...)
}

// invalidAs rewrites an invalid-reference error's message.
func invalidAs(err error, format string, args ...any) error {
	return gatehouse.Reword(err, gatehouse.EINVALID, format, args...)
}
