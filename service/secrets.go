package service

import (
	"context"
	"sync"

	"github.com/gatehouse-iam/gatehouse"
)

// keyCache holds opened data keys, so that encrypting and decrypting skip
// the database and the unwrap; bounded, it starts over when full.
type keyCache struct {
	mu   sync.Mutex
	keys map[string]gatehouse.DataKey
}

const maxCachedKeys = 10000

// dataKey opens a stack's data key. A stack from before keys existed gets
// one now.
func (s *Service) dataKey(ctx context.Context, stackID string) (gatehouse.DataKey, error) {
	return s.openKey(ctx, stackID, "stack", func(tx gatehouse.Tx) ([]byte, error) { return tx.GetStackKey(ctx, stackID) },
		func(tx gatehouse.Tx, wrapped []byte) error { return tx.PutStackKey(ctx, stackID, wrapped) })
}

// openKey opens the data key wrapped for keyID (the owner it is bound to),
// from the cache or as load reads it. When there is none and create is
// given, a new key is stored; a racing writer's key wins and is read back.
func (s *Service) openKey(ctx context.Context, keyID, owner string, load func(gatehouse.Tx) ([]byte, error), create func(gatehouse.Tx, []byte) error) (gatehouse.DataKey, error) {
	s.keys.mu.Lock()
	k := s.keys.keys[keyID]
	s.keys.mu.Unlock()
	if k != nil {
		return k, nil
	}
	if s.Keys == nil {
		return nil, gatehouse.Errorf(gatehouse.EINTERNAL, "no master key is configured")
	}
	var wrapped []byte
	read := func() (err error) {
		return s.read(ctx, func(tx gatehouse.Tx) (err error) { wrapped, err = load(tx); return err })
	}
	err := read()
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND && create != nil {
		var fresh []byte
		if _, fresh, err = s.Keys.NewStackKey(keyID); err != nil {
			return nil, err
		}
		err = s.store.Write(ctx, func(tx gatehouse.Tx) error { return create(tx, fresh) })
		if err == nil || gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
			err = read()
		}
	}
	if err != nil {
		return nil, err
	}
	if k, err = s.Keys.OpenStackKey(keyID, wrapped); err != nil {
		// Never the key or the error's details: a wrong master key.
		return nil, gatehouse.Errorf(gatehouse.EINTERNAL, "the %s's data key does not open under the configured master key", owner)
	}
	s.keys.mu.Lock()
	if s.keys.keys == nil || len(s.keys.keys) >= maxCachedKeys {
		s.keys.keys = map[string]gatehouse.DataKey{}
	}
	s.keys.keys[keyID] = k
	s.keys.mu.Unlock()
	return k, nil
}

func (s *Service) forgetKey(keyID string) {
	s.keys.mu.Lock()
	delete(s.keys.keys, keyID)
	s.keys.mu.Unlock()
}

// MaxSecrets bounds a batch of values to encrypt or decrypt.
const MaxSecrets = 10000

// Encrypt seals values under the stack's data key.
func (s *Service) Encrypt(ctx context.Context, st *gatehouse.Stack, plaintexts [][]byte) ([][]byte, error) {
	if len(plaintexts) > MaxSecrets {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "plaintexts: %d values, over the limit of %d", len(plaintexts), MaxSecrets)
	}
	k, err := s.dataKey(ctx, st.ID)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(plaintexts))
	for i, p := range plaintexts {
		out[i] = k.Encrypt(p)
	}
	return out, nil
}

// Decrypt opens values sealed under the stack's data key. A value that does
// not open (another stack's, tampered) is an error naming its position.
// Every successful call is audited (stack_secrets_decrypted, with the
// count), whoever the caller.
func (s *Service) Decrypt(ctx context.Context, st *gatehouse.Stack, ciphertexts [][]byte) ([][]byte, error) {
	if len(ciphertexts) > MaxSecrets {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "ciphertexts: %d values, over the limit of %d", len(ciphertexts), MaxSecrets)
	}
	k, err := s.dataKey(ctx, st.ID)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(ciphertexts))
	for i, c := range ciphertexts {
		if out[i], err = k.Decrypt(c); err != nil {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "ciphertext %d: does not decrypt under this stack's key (another stack's value, or changed)", i)
		}
	}
	if err := s.auditSecretsRead(ctx, st, len(out)); err != nil {
		return nil, err
	}
	return out, nil
}

// auditSecretsRead records that secrets of a stack were read, how many and
// never which or what, in a transaction of its own: no plaintext leaves
// the service unless its reading is in the audit log.
func (s *Service) auditSecretsRead(ctx context.Context, st *gatehouse.Stack, n int) error {
	return s.store.Write(ctx, func(tx gatehouse.Tx) error {
		return s.audit(ctx, tx, st.OrgID, gatehouse.EventSecretsDecrypted, st.ID, map[string]int{"count": n},
			"decrypted %d secret(s) of stack %s/%s", n, st.Project, st.Name)
	})
}

// RecordClientDecryption records what a client says it decrypted itself,
// with a secrets provider of its own. The service did not see it happen,
// so it is never the service's stack_secrets_decrypted event: it is
// recorded as client-reported, the client's words bounded (ClientText) and
// kept under clientReported.
func (s *Service) RecordClientDecryption(ctx context.Context, st *gatehouse.Stack, secretName, commandName string) error {
	return s.store.Write(ctx, func(tx gatehouse.Tx) error {
		return s.audit(ctx, tx, st.OrgID, gatehouse.EventClientReportedDecryption, st.ID,
			map[string]any{"clientReported": map[string]string{"secretName": ClientText(secretName), "commandName": ClientText(commandName)}},
			"the client reported decrypting secrets of stack %s/%s with its own secrets provider", st.Project, st.Name)
	})
}
