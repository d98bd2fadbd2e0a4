package state

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func testKey(t *testing.T) *DataKey {
	t.Helper()
	k, err := NewKeyring(bytes.Repeat([]byte{1}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	dk, _, err := k.NewDataKey("env")
	if err != nil {
		t.Fatal(err)
	}
	return dk
}

func TestEnvironmentSecrets(t *testing.T) {
	key := testKey(t)
	def := []byte("imports: []\nvalues:\n  region: us-west-2\n  port: 5432\n  debug: true\n  db:\n    password:\n      fn::secret: hunter2\n  list: [a, {fn::secret: s2}]\n")
	sealed, err := SealSecrets(def, key)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("hunter2")) || bytes.Contains(sealed, []byte("s2\n")) || !bytes.Contains(sealed, []byte("ciphertext:")) {
		t.Fatalf("sealed definition holds a plaintext secret:\n%s", sealed)
	}
	// Sealing again changes nothing sealed.
	again, err := SealSecrets(sealed, key)
	if err != nil || !bytes.Equal(again, sealed) {
		t.Errorf("resealing changed the definition: %v\n%s", err, again)
	}
	revealed, err := RevealSecrets(sealed, key)
	if err != nil || !bytes.Contains(revealed, []byte("fn::secret: hunter2")) {
		t.Errorf("revealed:\n%s\n%v", revealed, err)
	}
	vals, err := Open(sealed, key)
	if err != nil {
		t.Fatal(err)
	}
	db := vals["db"].Value.(map[string]Value)
	if db["password"] != (Value{Value: "hunter2", Secret: true}) || vals["region"].Value != "us-west-2" || vals["port"].Value != 5432.0 || vals["debug"].Value != true {
		t.Errorf("opened values = %#v", vals)
	}
	if l := vals["list"].Value.([]Value); l[1] != (Value{Value: "s2", Secret: true}) {
		t.Errorf("list = %#v", l)
	}
	// Another environment's key does not open them.
	if _, err := Open(sealed, testKey(t)); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("opened under another key: %v", err)
	}
}

func TestEnvironmentBadDefinitions(t *testing.T) {
	key := testKey(t)
	for _, tc := range []struct{ def, want string }{
		{"values: [1, 2]", "values must be a mapping"},
		{"- a\n- b", "top level must be a mapping"},
		{"values: {a: {fn::secret: {x: 1}}}", "fn::secret takes a string"},
		{"values: {a: [}", "not YAML"},
		{"values: {a: &x [1, 2], b: *x}", "anchors and aliases"},
		{strings.Repeat("#", MaxDefinition+1), "over the limit"},
	} {
		if _, err := SealSecrets([]byte(tc.def), key); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.def, err, tc.want)
		}
	}
	if out, err := SealSecrets(nil, key); err != nil || len(out) != 0 {
		t.Errorf("empty definition: %q %v", out, err)
	}
}

// FuzzSealSecrets: no definition panics, and what seals opens again with
// no plaintext secret left behind.
func FuzzSealSecrets(f *testing.F) {
	f.Add([]byte("values:\n  a:\n    fn::secret: x\n"))
	f.Add([]byte("values: {b: [1, {fn::secret: y}], c: &a {d: 1}, e: *a}"))
	key, err := NewKeyring(bytes.Repeat([]byte{1}, KeySize))
	if err != nil {
		f.Fatal(err)
	}
	dk, _, _ := key.NewDataKey("env")
	f.Fuzz(func(t *testing.T, def []byte) {
		sealed, err := SealSecrets(def, dk)
		if err != nil {
			return
		}
		if _, err := Open(sealed, dk); err != nil {
			t.Fatalf("sealed definition does not open: %v\n%s", err, sealed)
		}
	})
}

// Secrets are sealed in ESC's envelope; a definition sealed before
// envelopes (bare sealed bytes) still opens, and Envelope rewraps it
// without opening it.
func TestSecretEnvelope(t *testing.T) {
	key := testKey(t)
	sealed, err := SealSecrets([]byte("values:\n  s:\n    fn::secret: hunter2\n  n: {a}\n"), key)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := parseDefinition(sealed)
	var c string
	walk(doc, func(n *yaml.Node) error {
		if v := secretOf(n); v != nil {
			c, _ = sealedOf(v)
		}
		return nil
	})
	raw, _ := base64.StdEncoding.DecodeString(c)
	inner, ok := unwrap(raw)
	if !ok || string(raw[:4]) != "escx" {
		t.Fatalf("ciphertext %q is not in ESC's envelope", c)
	}
	if !bytes.Contains(sealed, []byte("a: null")) {
		t.Errorf("an implicit null became a string:\n%s", sealed)
	}
	legacy := bytes.Replace(sealed, []byte(c), []byte(base64.StdEncoding.EncodeToString(inner)), 1)
	vals, err := Open(legacy, key)
	if err != nil || vals["s"].Value != "hunter2" {
		t.Fatalf("a legacy ciphertext: %v %v", vals, err)
	}
	rewrapped, err := Envelope(legacy)
	if err != nil || !bytes.Contains(rewrapped, []byte(c[:8])) || bytes.Contains(rewrapped, []byte("hunter2")) {
		t.Fatalf("Envelope: %v\n%s", err, rewrapped)
	}
	if again, _ := Envelope(sealed); !bytes.Equal(again, sealed) {
		t.Error("Envelope changed a definition already in envelopes")
	}
	if _, ok := unwrap(append(raw[:len(raw)-1:len(raw)-1], raw[len(raw)-1]^1)); ok {
		t.Error("an envelope with a bad checksum unwraps")
	}
}
