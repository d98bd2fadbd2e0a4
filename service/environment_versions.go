package service

import (
	"context"
	"sort"

	"github.com/gatehouse-iam/gatehouse"
)

// Version tags and retracted versions (pulumi env version tag|retract).
// latest is not stored: it is always the current version. A retracted
// version still reads as it was, but opening it (by number, by a tag, or
// as an import) opens its replacement.

// LatestTag names the current version.
const LatestTag = "latest"

// author is who a change is recorded as: the user, or the actor.
func author(by *gatehouse.Identity) string {
	if by.User != nil {
		return by.User.ID
	}
	return by.Actor()
}

// checkRevisionTagName refuses latest (always the current version) and a
// name that would read as a version number.
func checkRevisionTagName(name string) error {
	if err := checkStackName("tag", name); err != nil {
		return err
	}
	if name == LatestTag {
		return gatehouse.Errorf(gatehouse.EINVALID, "tag: latest always names the current version; it cannot be set or deleted")
	}
	if name[0] >= '0' && name[0] <= '9' {
		return gatehouse.Errorf(gatehouse.EINVALID, "tag: %q starts with a digit, so it would read as a version number", name)
	}
	return nil
}

// RevisionTags lists an environment's version tags in name order,
// latest among them.
func (s *Service) RevisionTags(ctx context.Context, e *gatehouse.Environment) (tags []*gatehouse.EnvironmentRevisionTag, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		cur, err := tx.GetEnvironmentByID(ctx, e.ID)
		if err != nil {
			return err
		}
		if tags, err = tx.ListEnvironmentRevisionTags(ctx, e.ID); err != nil {
			return err
		}
		tags = append(tags, &gatehouse.EnvironmentRevisionTag{EnvironmentID: e.ID, Name: LatestTag, Version: cur.Version, Created: cur.Created, Modified: cur.Modified})
		return nil
	})
	sort.Slice(tags, func(i, j int) bool { return tags[i].Name < tags[j].Name })
	return tags, err
}

// RevisionTag returns one version tag (latest included).
func (s *Service) RevisionTag(ctx context.Context, e *gatehouse.Environment, name string) (*gatehouse.EnvironmentRevisionTag, error) {
	tags, err := s.RevisionTags(ctx, e)
	if err != nil {
		return nil, err
	}
	for _, t := range tags {
		if t.Name == name {
			return t, nil
		}
	}
	return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "environment %s/%s has no version tag %q", e.Project, e.Name, name)
}

// PutRevisionTag creates a version tag (409 if it exists) or, with
// update, moves one (404 if it does not) to version (0: the current one),
// which must not be retracted.
func (s *Service) PutRevisionTag(ctx context.Context, e *gatehouse.Environment, name string, version int, update bool, by *gatehouse.Identity) error {
	return s.envWrite(ctx, e.OrgID, func(tx gatehouse.Tx) error { return s.putRevisionTagTx(ctx, tx, e, name, version, update, by) })
}

// putRevisionTagTx is PutRevisionTag's core.
func (s *Service) putRevisionTagTx(ctx context.Context, tx gatehouse.Tx, e *gatehouse.Environment, name string, version int, update bool, by *gatehouse.Identity) error {
	if err := checkRevisionTagName(name); err != nil {
		return err
	}
	v, err := tx.GetEnvironmentVersion(ctx, e.ID, version)
	if err != nil {
		return gatehouse.Reword(err, gatehouse.ENOTFOUND, "environment %s/%s has no version %d", e.Project, e.Name, version)
	}
	if v.Retracted != nil {
		return gatehouse.Errorf(gatehouse.EINVALID, "version %d of environment %s/%s is retracted (replaced by %d)", v.Version, e.Project, e.Name, v.Retracted.Replacement)
	}
	tag := &gatehouse.EnvironmentRevisionTag{EnvironmentID: e.ID, Name: name, Version: v.Version, EditedBy: author(by)}
	if err := tx.PutEnvironmentRevisionTag(ctx, tag, update); err != nil {
		return gatehouse.Reword(err, gatehouse.ENOTFOUND, "environment %s/%s has no version tag %q", e.Project, e.Name, name)
	}
	return s.audit(ctx, tx, e.OrgID, gatehouse.EventEnvUpdated, e.ID, map[string]any{"versionTag": name, "version": v.Version},
		"tagged version %d of environment %s/%s %q", v.Version, e.Project, e.Name, name)
}

// DeleteRevisionTag deletes a version tag.
func (s *Service) DeleteRevisionTag(ctx context.Context, e *gatehouse.Environment, name string) error {
	return s.envWrite(ctx, e.OrgID, func(tx gatehouse.Tx) error { return s.deleteRevisionTagTx(ctx, tx, e, name) })
}

// deleteRevisionTagTx is DeleteRevisionTag's core.
func (s *Service) deleteRevisionTagTx(ctx context.Context, tx gatehouse.Tx, e *gatehouse.Environment, name string) error {
	if err := checkRevisionTagName(name); err != nil {
		return err
	}
	if err := tx.DeleteEnvironmentRevisionTag(ctx, e.ID, name); err != nil {
		return gatehouse.Reword(err, gatehouse.ENOTFOUND, "environment %s/%s has no version tag %q", e.Project, e.Name, name)
	}
	return s.audit(ctx, tx, e.OrgID, gatehouse.EventEnvUpdated, e.ID, map[string]any{"versionTag": name, "deleted": true},
		"deleted version tag %q of environment %s/%s", name, e.Project, e.Name)
}

// RetractVersion retracts a version, as ESC does: not the current one;
// replaced by replacement (0: the newest version before it that is not
// retracted), which must exist and not be retracted; the tags naming it
// move to the replacement.
func (s *Service) RetractVersion(ctx context.Context, e *gatehouse.Environment, version, replacement int, reason string, by *gatehouse.Identity) (int, error) {
	var replaced int
	err := s.envWrite(ctx, e.OrgID, func(tx gatehouse.Tx) (err error) {
		replaced, err = s.retractVersionTx(ctx, tx, e, version, replacement, reason, by)
		return err
	})
	return replaced, err
}

// retractVersionTx is RetractVersion's core; it returns the replacement.
func (s *Service) retractVersionTx(ctx context.Context, tx gatehouse.Tx, e *gatehouse.Environment, version, replacement int, reason string, by *gatehouse.Identity) (int, error) {
	cur, err := tx.GetEnvironmentByID(ctx, e.ID)
	if err != nil {
		return 0, err
	}
	if version == cur.Version {
		return 0, gatehouse.Errorf(gatehouse.EINVALID, "version %d is the latest version of environment %s/%s: it cannot be retracted", version, e.Project, e.Name)
	}
	if replacement, err = s.replacementOf(ctx, tx, e, version, replacement); err != nil {
		return 0, err
	}
	r := gatehouse.EnvironmentRetraction{Replacement: replacement, By: author(by), Reason: reason}
	if err := tx.RetractEnvironmentVersion(ctx, e.ID, version, r); err != nil {
		return 0, gatehouse.Reword(err, gatehouse.ENOTFOUND, "environment %s/%s has no version %d", e.Project, e.Name, version)
	}
	if err := moveRevisionTags(ctx, tx, e.ID, version, replacement, r.By); err != nil {
		return 0, err
	}
	return replacement, s.audit(ctx, tx, e.OrgID, gatehouse.EventEnvUpdated, e.ID, map[string]any{"retracted": version, "replacement": replacement, "reason": reason},
		"retracted version %d of environment %s/%s (replaced by %d)", version, e.Project, e.Name, replacement)
}

// replacementOf checks a retraction's replacement, or finds the default.
func (s *Service) replacementOf(ctx context.Context, tx gatehouse.Tx, e *gatehouse.Environment, version, replacement int) (int, error) {
	if replacement == version {
		return 0, gatehouse.Errorf(gatehouse.EINVALID, "replacement: a version cannot replace itself")
	}
	if replacement > 0 {
		v, err := tx.GetEnvironmentVersion(ctx, e.ID, replacement)
		if err != nil {
			return 0, gatehouse.Reword(err, gatehouse.ENOTFOUND, "replacement: environment %s/%s has no version %d", e.Project, e.Name, replacement)
		}
		if v.Retracted != nil {
			return 0, gatehouse.Errorf(gatehouse.EINVALID, "replacement: version %d is retracted too", replacement)
		}
		return replacement, nil
	}
	for n := version - 1; n >= 1; n-- {
		v, err := tx.GetEnvironmentVersion(ctx, e.ID, n)
		if err != nil {
			return 0, err
		}
		if v.Retracted == nil {
			return n, nil
		}
	}
	return 0, gatehouse.Errorf(gatehouse.EINVALID, "version %d has no earlier version that is not retracted: name a replacement", version)
}

// moveRevisionTags points the tags naming version at replacement.
func moveRevisionTags(ctx context.Context, tx gatehouse.Tx, envID string, version, replacement int, by string) error {
	tags, err := tx.ListEnvironmentRevisionTags(ctx, envID)
	if err != nil {
		return err
	}
	for _, t := range tags {
		if t.Version == version {
			t.Version, t.EditedBy = replacement, by
			if err := tx.PutEnvironmentRevisionTag(ctx, t, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// openable is the version opening n opens: n, or the replacement of a
// retracted n (a replacement retracted later is followed in turn).
func (s *Service) openable(ctx context.Context, e *gatehouse.Environment, n int) (out int, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) (err error) {
		out, err = openableTx(ctx, tx, e, n)
		return err
	})
	return out, err
}

// openableTx is openable in a transaction.
func openableTx(ctx context.Context, tx gatehouse.Tx, e *gatehouse.Environment, n int) (int, error) {
	for range 64 {
		v, err := tx.GetEnvironmentVersion(ctx, e.ID, n)
		if err != nil {
			return 0, gatehouse.Reword(err, gatehouse.ENOTFOUND, "environment %s/%s has no version %d", e.Project, e.Name, n)
		}
		if v.Retracted == nil {
			return n, nil
		}
		n = v.Retracted.Replacement
	}
	return 0, gatehouse.Errorf(gatehouse.EINTERNAL, "environment %s/%s: retracted versions replace each other in a loop", e.Project, e.Name)
}
