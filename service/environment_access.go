package service

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"

	"github.com/gatehouse-iam/gatehouse"
)

// A clone's access (pulumi env clone --preserve-access). Access to an
// environment comes from roles, sets and policies: by its tags (which
// preserveEnvironmentTags copies) or by its identity. Preserving access
// makes every descriptor that names the source by identity name the clone
// alongside it: a set of environments gains the clone's id, and an
// equality with the source becomes "the source or the clone". Each
// changed descriptor is updated as an edit of it would be (checked,
// versioned, recorded), in the clone's transaction.

// preserveAccessTx extends every descriptor of the organization naming
// src by identity to name c too.
func (s *Service) preserveAccessTx(ctx context.Context, tx gatehouse.Tx, src, c *gatehouse.Environment) error {
	var changed []*gatehouse.Descriptor
	opts := gatehouse.ListOptions{Limit: gatehouse.MaxListLimit}
	for {
		page, next, err := tx.ListDescriptors(ctx, src.OrgID, "", opts)
		if err != nil {
			return err
		}
		for _, d := range page {
			if d.DefaultIdentifier == "" && bytes.Contains(d.Details, []byte(src.ID)) {
				changed = append(changed, d)
			}
		}
		if next == "" {
			break
		}
		opts.Continuation = next
	}
	for _, d := range changed {
		var tree any
		if err := json.Unmarshal(d.Details, &tree); err != nil {
			return gatehouse.Errorf(gatehouse.EINTERNAL, "descriptor %s: %v", d.ID, err)
		}
		tree, ok := nameClone(tree, src.ID, c.ID)
		if !ok {
			continue
		}
		details, err := json.Marshal(tree)
		if err != nil {
			return gatehouse.Errorf(gatehouse.EINTERNAL, "descriptor %s: %v", d.ID, err)
		}
		if _, err := s.updateDescriptorTx(ctx, tx, src.OrgID, d.ID, DescriptorInput{Details: details}); err != nil {
			return err
		}
	}
	return nil
}

const (
	envSetType     = "PermissionSetExpressionEnvironment"
	envLiteralType = "PermissionLiteralExpressionEnvironment"
)

// nameClone rewrites a descriptor's JSON tree so that where it names the
// environment src it names clone too; it says whether it changed.
func nameClone(v any, src, clone string) (any, bool) {
	switch x := v.(type) {
	case []any:
		changed := false
		for i, item := range x {
			var ok bool
			if x[i], ok = nameClone(item, src, clone); ok {
				changed = true
			}
		}
		return x, changed
	case map[string]any:
		if x["__type"] == envSetType {
			ids, _ := x["identities"].([]any)
			if slices.Contains(ids, any(src)) && !slices.Contains(ids, any(clone)) {
				x["identities"] = append(ids, clone)
				return x, true
			}
			return x, false
		}
		if x["__type"] == "PermissionExpressionEqual" && (isEnvLiteral(x["left"], src) || isEnvLiteral(x["right"], src)) {
			other := map[string]any{}
			for k, val := range x {
				other[k] = val
			}
			for _, side := range []string{"left", "right"} {
				if isEnvLiteral(x[side], src) {
					other[side] = map[string]any{"__type": envLiteralType, "identity": clone}
				}
			}
			return map[string]any{"__type": "PermissionExpressionOr", "left": x, "right": other}, true
		}
		changed := false
		for k, val := range x {
			var ok bool
			if x[k], ok = nameClone(val, src, clone); ok {
				changed = true
			}
		}
		return x, changed
	}
	return v, false
}

// isEnvLiteral says whether v is the literal naming environment id.
func isEnvLiteral(v any, id string) bool {
	m, ok := v.(map[string]any)
	return ok && m["__type"] == envLiteralType && m["identity"] == id
}
