package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/state"
)

// Export returns a version of the stack's deployment (0: the current one),
// as stored. The export is audited (stack_exported) in the transaction that
// reads it, whoever the caller.
func (s *Service) Export(ctx context.Context, st *gatehouse.Stack, version int) ([]byte, error) {
	var data []byte
	err := s.store.Write(ctx, func(tx gatehouse.Tx) (err error) {
		if data, err = exportTx(ctx, tx, st, version); err != nil {
			return err
		}
		return s.audit(ctx, tx, st.OrgID, gatehouse.EventStackExported, st.ID, map[string]int{"version": version},
			"exported stack %s/%s", st.Project, st.Name)
	})
	return data, err
}

// exportTx reads a version of the stack's deployment (0: the current one).
func exportTx(ctx context.Context, tx gatehouse.Tx, st *gatehouse.Stack, version int) ([]byte, error) {
	cur, err := tx.GetStackByID(ctx, st.ID)
	if err != nil {
		return nil, err
	}
	if version < 0 || version > cur.Version {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "stack %s/%s has no version %d", cur.Project, cur.Name, version)
	}
	if cur.Version == 0 {
		return []byte(`{"version":3,"deployment":{}}`), nil
	}
	cp, err := tx.GetCheckpoint(ctx, st.ID, version)
	if err != nil {
		return nil, err
	}
	return cp.Data, nil
}

// checkDeployment checks that data is an untyped deployment: valid JSON,
// an object with a schema version. It scans the text twice at most: once to
// validate it (json.Valid), once to find the top-level version.
func checkDeployment(field string, data []byte, limit int) error {
	if len(data) > limit {
		return gatehouse.Errorf(gatehouse.ETOOLARGE, "%s: %d bytes, over the checkpoint limit of %d", field, len(data), limit)
	}
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v) // for the message only
		return gatehouse.Errorf(gatehouse.EINVALID, "%s: not a deployment: %v", field, err)
	}
	if !hasTopLevelNumber(data, "version") {
		return gatehouse.Errorf(gatehouse.EINVALID, "%s: a deployment is a JSON object with its schema version", field)
	}
	return nil
}

// hasTopLevelNumber reports whether valid JSON data is an object whose
// member key (spelt without escapes) is a number.
func hasTopLevelNumber(data []byte, key string) bool {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return false
	}
	depth, inString, escaped, keyStart := 0, false, false, -1
	expectKey := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
				if keyStart >= 0 {
					if string(data[keyStart:i]) == key {
						rest := bytes.TrimLeft(data[i+1:], " \t\r\n")
						rest = bytes.TrimLeft(bytes.TrimPrefix(rest, []byte(":")), " \t\r\n")
						return len(rest) > 0 && (rest[0] == '-' || (rest[0] >= '0' && rest[0] <= '9'))
					}
					keyStart = -1
				}
			}
			continue
		}
		switch c {
		case '"':
			inString = true
			if depth == 1 && expectKey {
				keyStart = i + 1
				expectKey = false
			}
		case '{', '[':
			depth++
			expectKey = depth == 1 && c == '{'
		case '}', ']':
			depth--
		case ',':
			expectKey = depth == 1
		}
	}
	return false
}

// Import stores a deployment as the stack's next version, through an
// update of kind import that completes at once; it waits for no lease but
// refuses while another update holds one.
func (s *Service) Import(ctx context.Context, st *gatehouse.Stack, by *gatehouse.Identity, data []byte) (*gatehouse.StackUpdate, error) {
	if err := checkDeployment("deployment", data, s.CheckpointLimit()); err != nil {
		return nil, err
	}
	now := s.Now()
	u := &gatehouse.StackUpdate{StackID: st.ID, Kind: gatehouse.UpdateKindImport, Status: gatehouse.UpdateSucceeded,
		StarterDigest: by.Token.Digest, Started: now, Finished: now}
	err := s.store.Write(ctx, func(tx gatehouse.Tx) error {
		u.ID = gatehouse.NewID()
		if err := tx.AcquireStackLease(ctx, st.ID, u.ID, now.Add(time.Minute), now); err != nil {
			return err
		}
		cur, err := tx.GetStackByID(ctx, st.ID)
		if err != nil {
			return err
		}
		u.Version = cur.Version + 1
		u.Info, _ = json.Marshal(UpdateInfo{Message: "import", ResourceCount: resourceCount(data)})
		if err := tx.CreateUpdate(ctx, u); err != nil {
			return err
		}
		if err := tx.SaveCheckpoint(ctx, &gatehouse.Checkpoint{StackID: st.ID, Version: u.Version, Data: data}); err != nil {
			return err
		}
		if err := tx.ReleaseStackLease(ctx, st.ID, u.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, st.OrgID, gatehouse.EventStackImported, st.ID, map[string]int{"version": u.Version},
			"imported a deployment into stack %s/%s as version %d", cur.Project, cur.Name, u.Version)
	})
	return u, err
}

// saveCheckpoint writes the update's checkpoint: the first makes the
// stack's next version, later ones replace it; each in one transaction,
// so that a crash leaves the previous one whole.
func saveCheckpoint(ctx context.Context, tx gatehouse.Tx, u *gatehouse.StackUpdate, st *gatehouse.Stack, data []byte) error {
	cp := &gatehouse.Checkpoint{StackID: st.ID, Version: u.Version, Data: data}
	switch st.Version {
	case u.Version - 1:
		return tx.SaveCheckpoint(ctx, cp)
	case u.Version:
		return tx.ReplaceCheckpoint(ctx, cp)
	}
	return gatehouse.Errorf(gatehouse.ECONFLICT, "the stack is at version %d; this update writes version %d", st.Version, u.Version)
}

// saveCheckpoint is saveCheckpoint for an update's own checkpoint writes:
// the first, which makes the stack's new version, is audited, so that an
// update that never completes is in the audit log too; later ones replace
// that version and are not (one event per update and version, not one per
// checkpoint).
func (s *Service) saveCheckpoint(ctx context.Context, tx gatehouse.Tx, u *gatehouse.StackUpdate, st *gatehouse.Stack, data []byte) error {
	first := st.Version == u.Version-1
	if err := saveCheckpoint(ctx, tx, u, st, data); err != nil {
		return err
	}
	if !first {
		return nil
	}
	return s.audit(ctx, tx, st.OrgID, gatehouse.EventStackCheckpoint, st.ID, map[string]any{"update": u.ID, "kind": u.Kind, "version": u.Version},
		"%s %s of stack %s/%s wrote its first checkpoint (version %d)", u.Kind, u.ID, st.Project, st.Name, u.Version)
}

// PatchCheckpoint stores a whole checkpoint of a running update. sequence
// (0 when the CLI sends none) orders them: a retry of one already stored
// is accepted and changes nothing.
func (s *Service) PatchCheckpoint(ctx context.Context, updateID string, sequence int, data []byte) error {
	if err := checkDeployment("untypedDeployment", data, s.CheckpointLimit()); err != nil {
		return err
	}
	return s.store.Write(ctx, func(tx gatehouse.Tx) error {
		u, st, err := s.holding(ctx, tx, updateID)
		if err != nil {
			return err
		}
		if u.Kind == gatehouse.UpdateKindPreview {
			// The CLI sends a preview's snapshot too; a preview changes no
			// state, so it is accepted and not stored.
			return nil
		}
		if sequence > 0 && sequence <= u.Sequence {
			return nil
		}
		if err := s.saveCheckpoint(ctx, tx, u, st, data); err != nil {
			return err
		}
		if sequence > 0 {
			u.Sequence = sequence
			return tx.SaveUpdate(ctx, u)
		}
		return nil
	})
}

// PatchCheckpointDelta rebuilds the update's next checkpoint from the last
// one it stored and a delta, verified by the checksum of the result.
func (s *Service) PatchCheckpointDelta(ctx context.Context, updateID string, sequence int, hash string, delta []byte) error {
	return s.store.Write(ctx, func(tx gatehouse.Tx) error {
		u, st, err := s.holding(ctx, tx, updateID)
		if err != nil {
			return err
		}
		if u.Kind == gatehouse.UpdateKindPreview || sequence <= u.Sequence {
			return nil // a preview's snapshot, or a retry of a delta already applied
		}
		if sequence != u.Sequence+1 {
			return gatehouse.Errorf(gatehouse.EINVALID, "sequenceNumber: %d does not follow the last checkpoint's %d", sequence, u.Sequence)
		}
		if u.Sequence == 0 || st.Version != u.Version {
			return gatehouse.Errorf(gatehouse.EINVALID, "deploymentDelta: this update has stored no checkpoint to apply a delta to")
		}
		base, err := tx.GetCheckpoint(ctx, st.ID, u.Version)
		if err != nil {
			return err
		}
		data, err := state.ApplyDelta(base.Data, delta, hash, s.CheckpointLimit())
		if errors.Is(err, state.ErrTooLarge) {
			return gatehouse.Errorf(gatehouse.ETOOLARGE, "%s", err.Error())
		}
		if err != nil {
			return gatehouse.Errorf(gatehouse.EINVALID, "%s", err.Error())
		}
		if err := s.saveCheckpoint(ctx, tx, u, st, data); err != nil {
			return err
		}
		u.Sequence = sequence
		return tx.SaveUpdate(ctx, u)
	})
}
