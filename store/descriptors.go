package store

import (
	"context"
	"slices"
	"strconv"

	"github.com/gatehouse-iam/gatehouse"
)

const descCols = "id, org_id, name, description, resource_type, purpose, details, version, default_identifier, created, modified FROM descriptors"

func scanDesc(s scanner) (*gatehouse.Descriptor, error) {
	d := &gatehouse.Descriptor{}
	var rt, details string
	var created, modified int64
	if err := s.Scan(&d.ID, &d.OrgID, &d.Name, &d.Description, &rt, &d.Purpose, &details, &d.Version,
		&d.DefaultIdentifier, &created, &modified); err != nil {
		return nil, err
	}
	if err := d.ResourceType.UnmarshalText([]byte(rt)); err != nil {
		return nil, err
	}
	d.Details = []byte(details)
	d.Created, d.Modified = fromUS(created), fromUS(modified)
	return d, nil
}

func (t *tx) CreateDescriptor(ctx context.Context, d *gatehouse.Descriptor) error {
	if d.ID == "" {
		d.ID = gatehouse.NewID()
	}
	d.Version = 1
	d.Created = t.stamp()
	d.Modified = d.Created
	_, err := t.exec(ctx, opWrite, "INSERT INTO descriptors (id, org_id, name, description, resource_type, purpose, details, version, default_identifier, created, modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		d.ID, d.OrgID, d.Name, d.Description, d.ResourceType.String(), d.Purpose, string(d.Details), d.Version,
		d.DefaultIdentifier, us(d.Created), us(d.Modified))
	if err != nil {
		return invalidAs(conflictAs(err, "a %s named %q already exists", gatehouse.PurposeNoun(d.Purpose), d.Name), "organization %q does not exist", d.OrgID)
	}
	if err := t.writeRefs(ctx, d); err != nil {
		return err
	}
	return t.bump(ctx, d.OrgID, key(gatehouse.ChangeDescriptor, d.ID))
}

// writeRefs records the descriptors d composes; each must exist in d's
// organization.
func (t *tx) writeRefs(ctx context.Context, d *gatehouse.Descriptor) error {
	for _, ref := range d.Refs {
		if ref == d.ID {
			return gatehouse.Errorf(gatehouse.EINVALID, "a descriptor cannot compose itself")
		}
		if err := t.roleInOrg(ctx, d.OrgID, ref); err != nil {
			return gatehouse.Errorf(gatehouse.EINVALID, "composed descriptor %q does not exist in the organization", ref)
		}
		if _, err := t.exec(ctx, opWrite, "INSERT INTO descriptor_refs (descriptor_id, ref_id) VALUES (?, ?) ON CONFLICT DO NOTHING", d.ID, ref); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) GetDescriptor(ctx context.Context, orgID, id string) (*gatehouse.Descriptor, error) {
	d, err := get(ctx, t, "descriptor", scanDesc, "SELECT "+descCols+" WHERE org_id = ? AND id = ?", orgID, id)
	if err != nil {
		return nil, err
	}
	d.Refs, err = all(ctx, t, scanString, "SELECT ref_id FROM descriptor_refs WHERE descriptor_id = ? ORDER BY ref_id", id)
	return d, err
}

// ListDescriptors lists one purpose (or all, with ""), by name. Refs are
// not filled in.
func (t *tx) ListDescriptors(ctx context.Context, orgID, purpose string, opts gatehouse.ListOptions) ([]*gatehouse.Descriptor, string, error) {
	where, args := "org_id = ?", []any{orgID}
	if purpose != "" {
		where += " AND purpose = ?"
		args = append(args, purpose)
	}
	return page[*gatehouse.Descriptor]{
		from: descCols, where: where, args: args, keyCol: "name", scan: scanDesc,
		key: func(d *gatehouse.Descriptor) cursor { return cursor{Key: d.Name, ID: d.ID} },
	}.run(ctx, t, opts)
}

func (t *tx) UpdateDescriptor(ctx context.Context, d *gatehouse.Descriptor, expectVersion int) error {
	cur, err := t.GetDescriptor(ctx, d.OrgID, d.ID)
	if err != nil {
		return err
	}
	if cur.Version != expectVersion {
		return gatehouse.Errorf(gatehouse.ECONFLICT, "%s %q was changed meanwhile: it is at version %d, not %d; read it again",
			gatehouse.PurposeNoun(cur.Purpose), cur.Name, cur.Version, expectVersion)
	}
	modified := t.stamp()
	res, err := t.exec(ctx, opWrite, "UPDATE descriptors SET name = ?, description = ?, details = ?, version = version + 1, modified = ? WHERE id = ? AND version = ?",
		d.Name, d.Description, string(d.Details), us(modified), d.ID, expectVersion)
	if err != nil {
		return conflictAs(err, "a %s named %q already exists", gatehouse.PurposeNoun(cur.Purpose), d.Name)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return gatehouse.Errorf(gatehouse.ECONFLICT, "%s %q was changed meanwhile; read it again", gatehouse.PurposeNoun(cur.Purpose), cur.Name)
	}
	if !slices.Equal(cur.Refs, sortedCopy(d.Refs)) {
		if _, err := t.exec(ctx, opDelete, "DELETE FROM descriptor_refs WHERE descriptor_id = ?", d.ID); err != nil {
			return err
		}
		if err := t.writeRefs(ctx, d); err != nil {
			return err
		}
	}
	d.Version, d.Modified = expectVersion+1, modified
	d.Purpose, d.ResourceType, d.DefaultIdentifier, d.Created = cur.Purpose, cur.ResourceType, cur.DefaultIdentifier, cur.Created
	return t.bump(ctx, d.OrgID, key(gatehouse.ChangeDescriptor, d.ID))
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return slices.Compact(c)
}

// DeleteDescriptor refuses, with ECONFLICT naming what holds on to it, a
// descriptor in use.
func (t *tx) DeleteDescriptor(ctx context.Context, orgID, id string) error {
	// Lock the row before reading what uses it: a token, member or team
	// being bound to it concurrently commits first (and is seen below) or
	// waits and then fails its reference check. Without the lock, a token
	// bound meanwhile would have its role_id set to NULL by the foreign
	// key and fall back to the organization's default role.
	if err := t.lockDescriptor(ctx, orgID, id); err != nil {
		return err
	}
	u, err := t.DescriptorUsage(ctx, orgID, id)
	if err != nil {
		return err
	}
	if u.InUse() {
		return gatehouse.Errorf(gatehouse.ECONFLICT, "descriptor %q is in use: %s", id, usageText(u))
	}
	if err := t.execOne(ctx, opDelete, "descriptor", "DELETE FROM descriptors WHERE org_id = ? AND id = ?", orgID, id); err != nil {
		return err
	}
	return t.bump(ctx, orgID, key(gatehouse.ChangeDescriptor, id))
}

// lockDescriptor takes a row lock on a descriptor that conflicts with the
// key-share lock a referencing insert takes (PostgreSQL's FOR UPDATE;
// SQLite serializes writers anyway).
func (t *tx) lockDescriptor(ctx context.Context, orgID, id string) error {
	q := "SELECT id FROM descriptors WHERE org_id = ? AND id = ?"
	if t.d == postgresDialect {
		q += " FOR UPDATE"
	}
	_, err := get(ctx, t, "descriptor", scanString, q, orgID, id)
	return err
}

func usageText(u *gatehouse.DescriptorUsage) string {
	var parts []string
	add := func(n int, what string) {
		if n == 1 {
			parts = append(parts, "1 "+what)
		} else if n > 1 {
			parts = append(parts, strconv.Itoa(n)+" "+what+"s")
		}
	}
	add(len(u.Descriptors), "descriptor composes it")
	add(len(u.Members), "member holds it")
	add(len(u.Teams), "team holds it")
	add(len(u.Tokens), "token is bound to it")
	add(len(u.Grants), "entity grant uses it")
	if u.OrgDefault {
		parts = append(parts, "it is the organization's default role")
	}
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += ", "
		}
		out += p
	}
	return out
}

func (t *tx) DescriptorUsage(ctx context.Context, orgID, id string) (*gatehouse.DescriptorUsage, error) {
	if _, err := get(ctx, t, "descriptor", scanString, "SELECT id FROM descriptors WHERE org_id = ? AND id = ?", orgID, id); err != nil {
		return nil, err
	}
	u := &gatehouse.DescriptorUsage{}
	var err error
	if u.Descriptors, err = all(ctx, t, scanString, "SELECT descriptor_id FROM descriptor_refs WHERE ref_id = ? ORDER BY descriptor_id", id); err != nil {
		return nil, err
	}
	if u.Members, err = all(ctx, t, scanString, "SELECT user_id FROM memberships WHERE role_id = ? ORDER BY user_id", id); err != nil {
		return nil, err
	}
	if u.Teams, err = all(ctx, t, scanString, "SELECT team_id FROM team_roles WHERE role_id = ? ORDER BY team_id", id); err != nil {
		return nil, err
	}
	if u.Tokens, err = all(ctx, t, scanString, "SELECT id FROM tokens WHERE role_id = ? AND deleted = ? ORDER BY id", id, false); err != nil {
		return nil, err
	}
	if u.Grants, err = all(ctx, t, scanString, "SELECT id FROM grants WHERE set_id = ? ORDER BY id", id); err != nil {
		return nil, err
	}
	o, err := t.GetOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	u.OrgDefault = o.Settings.DefaultRoleID == id
	return u, nil
}

func (t *tx) RoleHolders(ctx context.Context, orgID, id string) ([]*gatehouse.User, []*gatehouse.Team, error) {
	if _, err := get(ctx, t, "descriptor", scanString, "SELECT id FROM descriptors WHERE org_id = ? AND id = ?", orgID, id); err != nil {
		return nil, nil, err
	}
	users, err := all(ctx, t, scanUser, "SELECT "+userCols+" WHERE id IN (SELECT user_id FROM memberships WHERE org_id = ? AND role_id = ?) ORDER BY id", orgID, id)
	if err != nil {
		return nil, nil, err
	}
	teams, err := all(ctx, t, scanTeam, "SELECT "+teamCols+" WHERE org_id = ? AND id IN (SELECT team_id FROM team_roles WHERE role_id = ?) ORDER BY id", orgID, id)
	return users, teams, err
}

// roleInOrg checks that descriptor id exists in the organization: a
// reference across organizations is as invalid as one to nothing.
func (t *tx) roleInOrg(ctx context.Context, orgID, id string) error {
	_, err := get(ctx, t, "descriptor", scanString, "SELECT id FROM descriptors WHERE org_id = ? AND id = ?", orgID, id)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return gatehouse.Errorf(gatehouse.EINVALID, "role %q does not exist in the organization", id)
	}
	return err
}
