package state_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/state"
)

func keyring(t testing.TB) *state.Keyring {
	t.Helper()
	k, err := state.NewKeyring(bytes.Repeat([]byte{7}, state.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestDataKeys(t *testing.T) {
	k := keyring(t)
	dk, wrapped, err := k.NewDataKey("stack-1")
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("s3cr3t value")
	sealed := dk.Encrypt(secret)
	if bytes.Contains(sealed, secret) {
		t.Fatal("the sealed value holds the plaintext")
	}
	if again := dk.Encrypt(secret); bytes.Equal(again, sealed) {
		t.Error("two seals of one value are equal: the nonce is not random")
	}
	// The wrapped key opens for its stack and decrypts what the key sealed.
	dk2, err := k.Unwrap("stack-1", wrapped)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := dk2.Decrypt(sealed); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Decrypt = %q, %v", got, err)
	}
	if got, err := dk2.Decrypt(dk2.Encrypt(nil)); err != nil || len(got) != 0 {
		t.Errorf("an empty secret: %q, %v", got, err)
	}

	cases := map[string]func() error{
		"a key wrapped for another stack": func() error { _, err := k.Unwrap("stack-2", wrapped); return err },
		"another master key": func() error {
			other, _ := state.NewKeyring(bytes.Repeat([]byte{8}, state.KeySize))
			_, err := other.Unwrap("stack-1", wrapped)
			return err
		},
		"a tampered wrapped key": func() error {
			w := bytes.Clone(wrapped)
			w[len(w)-1] ^= 1
			_, err := k.Unwrap("stack-1", w)
			return err
		},
		"a truncated value": func() error { _, err := dk.Decrypt(sealed[:10]); return err },
		"an unknown version": func() error {
			s := bytes.Clone(sealed)
			s[0] = 9
			_, err := dk.Decrypt(s)
			return err
		},
		"a tampered ciphertext": func() error {
			s := bytes.Clone(sealed)
			s[20] ^= 0x80
			_, err := dk.Decrypt(s)
			return err
		},
		"another stack's key": func() error {
			dk3, _, _ := k.NewDataKey("stack-1")
			_, err := dk3.Decrypt(sealed)
			return err
		},
		"a wrapped key used as a secret": func() error { _, err := dk.Decrypt(wrapped); return err },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			if err := f(); !errors.Is(err, state.ErrDecrypt) {
				t.Errorf("err = %v, want ErrDecrypt", err)
			}
		})
	}
	if _, err := state.NewKeyring(make([]byte, 16)); err == nil || !strings.Contains(err.Error(), "32 bytes") {
		t.Errorf("a 16-byte master key: %v", err)
	}
}

func TestMasterKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	key, created, err := state.LoadMasterKey(path)
	if err != nil || !created || len(key) != state.KeySize {
		t.Fatalf("first load: %d bytes, created %v, %v", len(key), created, err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the new key file: %v, %v", info.Mode(), err)
	}
	again, created, err := state.LoadMasterKey(path)
	if err != nil || created || !bytes.Equal(again, key) {
		t.Fatalf("second load: created %v, same %v, %v", created, bytes.Equal(again, key), err)
	}
	// Readable by others: refused, and the message names the fix.
	os.Chmod(path, 0o644)
	if _, _, err := state.LoadMasterKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a world-readable key file: %v", err)
	}
	os.Chmod(path, 0o600)
	// A file that is not a key is refused without echoing its content.
	os.WriteFile(path, []byte("not-a-key-but-a-secret!"), 0o600)
	if _, _, err := state.LoadMasterKey(path); err == nil || strings.Contains(err.Error(), "secret!") {
		t.Errorf("a bad key file: %v", err)
	}
	os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(make([]byte, 16))), 0o600)
	if _, _, err := state.LoadMasterKey(path); err == nil || !strings.Contains(err.Error(), "16 bytes") {
		t.Errorf("a short key: %v", err)
	}
	if _, _, err := state.LoadMasterKey(filepath.Join(t.TempDir(), "missing-dir", "k")); err == nil {
		t.Error("a key file in a missing directory was accepted")
	}
}

func TestParseMasterKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0xfb}, state.KeySize) // encodes differently in the two alphabets
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		got, err := state.ParseMasterKey(" " + enc.EncodeToString(raw) + "\n")
		if err != nil || !bytes.Equal(got, raw) {
			t.Errorf("%v: %x, %v", enc, got, err)
		}
	}
	if _, err := state.ParseMasterKey("%%%"); err == nil {
		t.Error("not base64 was accepted")
	}
}

// FuzzDecrypt: no input makes opening panic or succeed without the key's
// seal.
func FuzzDecrypt(f *testing.F) {
	k := keyring(f)
	dk, wrapped, _ := k.NewDataKey("s")
	f.Add(dk.Encrypt([]byte("x")))
	f.Add(wrapped)
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		if out, err := dk.Decrypt(b); err == nil {
			// Only a value sealed by this key opens: re-sealing is random,
			// so a successful open of fuzzer input means it came from the
			// seeds.
			if !bytes.Equal(out, []byte("x")) {
				t.Fatalf("opened %q from fuzzer input", out)
			}
		}
		k.Unwrap("s", b)
	})
}

func BenchmarkEncryptDecrypt(b *testing.B) {
	k := keyring(b)
	dk, _, _ := k.NewDataKey("s")
	secret := bytes.Repeat([]byte("a"), 64)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dk.Decrypt(dk.Encrypt(secret)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnwrap(b *testing.B) {
	k := keyring(b)
	_, wrapped, _ := k.NewDataKey("s")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Unwrap("s", wrapped); err != nil {
			b.Fatal(err)
		}
	}
}
