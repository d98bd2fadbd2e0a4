// Package state keeps what the pulumi CLI stores in Gatehouse. It holds,
// so far, the secrets crypto: each stack's secrets are sealed with
// AES-256-GCM under a data key of its own, and data keys are stored only
// wrapped (sealed) by the master key, bound to their stack. Key material
// never appears in an error.
package state

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
)

// KeySize is the size of master and data keys: AES-256.
const KeySize = 32

// version is the first byte of every sealed value, so that the format can
// change without guessing.
const version = 1

const (
	wrapAAD   = "gatehouse/data-key/v1\x00" // followed by the stack id
	secretAAD = "gatehouse/secret/v1"
)

// ErrDecrypt is the one answer to a value that does not open: wrong key,
// wrong stack, tampered or truncated.
var ErrDecrypt = errors.New("state: the value does not decrypt under this key (wrong key or stack, or tampered)")

// Keyring wraps and unwraps data keys under the master key.
type Keyring struct {
	aead cipher.AEAD
}

// NewKeyring returns a keyring over a 32-byte master key.
func NewKeyring(master []byte) (*Keyring, error) {
	aead, err := newGCM(master)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return &Keyring{aead: aead}, nil
}

// NewDataKey makes a stack's data key and returns it with its wrapped form,
// the only form to store.
func (k *Keyring) NewDataKey(stackID string) (*DataKey, []byte, error) {
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return nil, nil, err
	}
	dk, err := newDataKey(raw)
	if err != nil {
		return nil, nil, err
	}
	return dk, seal(k.aead, raw, []byte(wrapAAD+stackID)), nil
}

// Unwrap opens a stack's wrapped data key. A key wrapped for another stack
// does not open.
func (k *Keyring) Unwrap(stackID string, wrapped []byte) (*DataKey, error) {
	raw, err := open(k.aead, wrapped, []byte(wrapAAD+stackID))
	if err != nil {
		return nil, err
	}
	return newDataKey(raw)
}

// NewStackKey is NewDataKey as a gatehouse.Keyring.
func (k *Keyring) NewStackKey(stackID string) (gatehouse.DataKey, []byte, error) {
	dk, wrapped, err := k.NewDataKey(stackID)
	if err != nil {
		return nil, nil, err
	}
	return dk, wrapped, nil
}

// OpenStackKey is Unwrap as a gatehouse.Keyring.
func (k *Keyring) OpenStackKey(stackID string, wrapped []byte) (gatehouse.DataKey, error) {
	dk, err := k.Unwrap(stackID, wrapped)
	if err != nil {
		return nil, err
	}
	return dk, nil
}

var _ gatehouse.Keyring = (*Keyring)(nil)

// DataKey seals and opens one stack's secrets.
type DataKey struct {
	aead cipher.AEAD
}

func newDataKey(raw []byte) (*DataKey, error) {
	aead, err := newGCM(raw)
	if err != nil {
		return nil, err
	}
	return &DataKey{aead: aead}, nil
}

// Encrypt seals a secret: version, random nonce, ciphertext and tag.
func (d *DataKey) Encrypt(plaintext []byte) []byte {
	return seal(d.aead, plaintext, []byte(secretAAD))
}

// Decrypt opens what Encrypt sealed.
func (d *DataKey) Decrypt(ciphertext []byte) ([]byte, error) {
	return open(d.aead, ciphertext, []byte(secretAAD))
}

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("a key must be %d bytes, not %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func seal(aead cipher.AEAD, plaintext, aad []byte) []byte {
	n := aead.NonceSize()
	out := make([]byte, 1+n, 1+n+len(plaintext)+aead.Overhead())
	out[0] = version
	if _, err := rand.Read(out[1:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return aead.Seal(out, out[1:], plaintext, aad)
}

func open(aead cipher.AEAD, sealed, aad []byte) ([]byte, error) {
	n := aead.NonceSize()
	if len(sealed) < 1+n+aead.Overhead() || sealed[0] != version {
		return nil, ErrDecrypt
	}
	out, err := aead.Open(nil, sealed[1:1+n], sealed[1+n:], aad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return out, nil
}

// ParseMasterKey reads a master key given as base64 (standard or URL
// alphabet, padded or not), as in configuration.
func ParseMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("master key: %d bytes after base64 decoding; it must be %d", len(b), KeySize)
			}
			return b, nil
		}
	}
	return nil, errors.New("master key: not base64")
}

// LoadMasterKey reads the master key file at path, creating it with a new
// random key (mode 0600) when it does not exist. A file that others may
// read or write is refused, as ssh refuses such private keys.
func LoadMasterKey(path string) (key []byte, created bool, err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		key = make([]byte, KeySize)
		if _, err := rand.Read(key); err != nil {
			f.Close()
			return nil, false, err
		}
		_, err = f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
		if err == nil {
			err = f.Sync()
		}
		if e := f.Close(); err == nil {
			err = e
		}
		if err != nil {
			os.Remove(path)
			return nil, false, fmt.Errorf("create master key file %s: %w", path, err)
		}
		return key, true, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return nil, false, fmt.Errorf("master key file %s: %w", path, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, false, fmt.Errorf("master key file %s: %w", path, err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("master key file %s: mode %04o lets others read or write it; chmod 600 %s", path, info.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("master key file %s: %w", path, err)
	}
	key, err = ParseMasterKey(string(b))
	if err != nil {
		return nil, false, fmt.Errorf("master key file %s: %w", path, err)
	}
	return key, false, nil
}

// Labels of the keys derived from the master key, one per purpose, so that
// no key serves two.
const (
	LabelAuditChain      = "gatehouse/audit-chain/v1"
	LabelAuditCheckpoint = "gatehouse/audit-checkpoint/v1"
	LabelContinuation    = "gatehouse/continuation-token/v1"
)

// DeriveKey derives a 32-byte key for one purpose (its label) from the
// master key with HKDF-SHA256. The master key stays outside the database,
// and so do the keys derived from it; every replica sharing the master key
// derives the same ones.
func DeriveKey(master []byte, label string) ([]byte, error) {
	if len(master) != KeySize {
		return nil, fmt.Errorf("master key: %d bytes; it must be %d", len(master), KeySize)
	}
	return hkdf.Key(sha256.New, master, nil, label, KeySize)
}
