package state

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/gatehouse-iam/gatehouse"
)

// An environment's definition is YAML, as in Pulumi ESC:
//
//	imports: [...]
//	values:
//	  db:
//	    password:
//	      fn::secret: hunter2
//
// Secrets are stored sealed: a plaintext fn::secret becomes
// fn::secret: {ciphertext: <base64>} under the environment's data key. The
// ciphertext is in ESC's envelope ("escx", version 1, the sealed bytes, a
// CRC-32: eval's decodeCiphertext), so that ESC's evaluator reads stored
// definitions as they are and asks a Decrypter (the environment's key) for
// a secret only when it reveals it. Definitions sealed before carry the
// bare sealed bytes; they open the same and are rewrapped (Envelope).

// MaxDefinition bounds an environment's definition.
const MaxDefinition = 1 << 20

const secretFn = "fn::secret"

// parseDefinition parses a definition and checks its shape: a mapping (or
// nothing) whose values, if any, are a mapping.
func parseDefinition(def []byte) (*yaml.Node, error) {
	if len(def) > MaxDefinition {
		return nil, fmt.Errorf("definition: %d bytes, over the limit of %d", len(def), MaxDefinition)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(def, &doc); err != nil {
		return nil, fmt.Errorf("definition: not YAML: %v", err)
	}
	if doc.Kind == 0 {
		return nil, nil // empty
	}
	// Aliases could expand a small document into a huge one (or into
	// itself): definitions do without them.
	err := walk(&doc, func(n *yaml.Node) error {
		if n.Kind == yaml.AliasNode || n.Anchor != "" {
			return fmt.Errorf("definition: line %d: YAML anchors and aliases are not supported", n.Line)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("definition: line %d: the top level must be a mapping (imports, values)", root.Line)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value == "values" && ((v.Kind != yaml.MappingNode && !(v.Kind == yaml.ScalarNode && v.Tag == "!!null")) || secretOf(v) != nil) {
			return nil, fmt.Errorf("definition: line %d: values must be a mapping of names", v.Line)
		}
	}
	return &doc, nil
}

// secretOf returns the value node of a {fn::secret: X} mapping.
func secretOf(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value == secretFn {
		return n.Content[1]
	}
	return nil
}

func sealedOf(n *yaml.Node) (string, bool) {
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value == "ciphertext" && n.Content[1].Kind == yaml.ScalarNode {
		return n.Content[1].Value, true
	}
	return "", false
}

func walk(n *yaml.Node, fn func(*yaml.Node) error) error {
	if err := fn(n); err != nil {
		return err
	}
	for _, c := range n.Content {
		if err := walk(c, fn); err != nil {
			return err
		}
	}
	return nil
}

func encode(doc *yaml.Node) ([]byte, error) {
	// An implicit null (`{a}`, `a:`) would be written as '' in a flow
	// mapping, a string: write it as null.
	walk(doc, func(n *yaml.Node) error {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" && n.Value == "" {
			n.Value = "null"
		}
		return nil
	})
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	enc.Close()
	return b.Bytes(), nil
}

// SealSecrets checks a definition and seals each plaintext fn::secret
// under the environment's key; sealed ones stay as they are.
func SealSecrets(def []byte, key gatehouse.DataKey) ([]byte, error) {
	doc, err := parseDefinition(def)
	if err != nil || doc == nil {
		return []byte{}, err
	}
	err = walk(doc, func(n *yaml.Node) error {
		v := secretOf(n)
		if v == nil {
			return nil
		}
		if c, ok := sealedOf(v); ok {
			v.Content[1].Value = rewrap(c)
			return nil
		}
		if v.Kind != yaml.ScalarNode {
			return fmt.Errorf("definition: line %d: fn::secret takes a string", v.Line)
		}
		sealed := envelope(key.Encrypt([]byte(v.Value)))
		n.Content[1] = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Tag: "!!str", Value: "ciphertext"},
			{Kind: yaml.ScalarNode, Tag: "!!str", Value: sealed},
		}}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return encode(doc)
}

// RevealSecrets opens the sealed secrets of a stored definition, for a
// caller who may see them.
func RevealSecrets(def []byte, key gatehouse.DataKey) ([]byte, error) {
	doc, err := parseDefinition(def)
	if err != nil || doc == nil {
		return def, err
	}
	err = walk(doc, func(n *yaml.Node) error {
		v := secretOf(n)
		if v == nil {
			return nil
		}
		plain, err := openSealed(v, key)
		if err != nil {
			return err
		}
		n.Content[1] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: plain}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return encode(doc)
}

func openSealed(v *yaml.Node, key gatehouse.DataKey) (string, error) {
	sealed, ok := sealedOf(v)
	if !ok {
		return "", fmt.Errorf("definition: line %d: an unsealed secret", v.Line)
	}
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return "", fmt.Errorf("definition: line %d: a sealed secret that is not base64", v.Line)
	}
	if inner, ok := unwrap(raw); ok {
		raw = inner
	}
	plain, err := key.Decrypt(raw)
	if err != nil {
		return "", errors.New("definition: a secret does not open under the environment's key")
	}
	return string(plain), nil
}

const (
	envelopeMagic   = "escx"
	envelopeVersion = 1
)

// envelopePrefix is how every envelope's base64 begins ("escx", then the
// version's first bytes).
const envelopePrefix = "ZXNjeAAAAA"

// envelope wraps sealed bytes in ESC's ciphertext envelope, base64.
func envelope(sealed []byte) string {
	b := make([]byte, 0, len(sealed)+12)
	b = append(b, envelopeMagic...)
	b = binary.BigEndian.AppendUint32(b, envelopeVersion)
	b = append(b, sealed...)
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	return base64.StdEncoding.EncodeToString(b)
}

// unwrap returns the sealed bytes of an envelope, or false for bytes that
// are not one (a definition sealed before envelopes).
func unwrap(b []byte) ([]byte, bool) {
	if len(b) < 12 || string(b[:4]) != envelopeMagic || binary.BigEndian.Uint32(b[4:8]) != envelopeVersion ||
		crc32.ChecksumIEEE(b[:len(b)-4]) != binary.BigEndian.Uint32(b[len(b)-4:]) {
		return nil, false
	}
	return b[8 : len(b)-4], true
}

// rewrap puts a stored ciphertext in the envelope if it is not in one.
func rewrap(c string) string {
	raw, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return c
	}
	if _, ok := unwrap(raw); ok {
		return c
	}
	return envelope(raw)
}

// Envelope rewrites a stored definition's ciphertexts into ESC's envelope
// where they are not (definitions sealed before envelopes), without
// opening them: what ESC's evaluator reads.
func Envelope(def []byte) ([]byte, error) {
	// What the sealing wrote is in block style, one "ciphertext: <base64>"
	// a secret: when each is an envelope already, nothing needs parsing.
	if bytes.Count(def, []byte("ciphertext: ")) == bytes.Count(def, []byte("ciphertext: "+envelopePrefix)) {
		return def, nil
	}
	doc, err := parseDefinition(def)
	if err != nil || doc == nil {
		return def, err
	}
	changed := false
	walk(doc, func(n *yaml.Node) error {
		if v := secretOf(n); v != nil {
			if c, ok := sealedOf(v); ok && rewrap(c) != c {
				v.Content[1].Value, changed = rewrap(c), true
			}
		}
		return nil
	})
	if !changed {
		return def, nil
	}
	return encode(doc)
}

// Value is an opened environment value in ESC's shape: the value (a
// string, number, boolean, null, list of Values or map of Values) and
// whether it is secret.
type Value struct {
	Value  any  `json:"value"`
	Secret bool `json:"secret,omitempty"`
}

// Open evaluates a stored definition's values, opening its secrets.
// Functions other than fn::secret, imports and interpolations are left as
// written: Gatehouse runs no providers.
func Open(def []byte, key gatehouse.DataKey) (map[string]Value, error) {
	doc, err := parseDefinition(def)
	if err != nil {
		return nil, err
	}
	out := map[string]Value{}
	if doc == nil {
		return out, nil
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "values" || root.Content[i+1].Kind != yaml.MappingNode {
			continue
		}
		v, err := valueOf(root.Content[i+1], key, false)
		if err != nil {
			return nil, err
		}
		m, ok := v.Value.(map[string]Value)
		if !ok {
			return nil, fmt.Errorf("definition: line %d: values must be a mapping of names", root.Content[i+1].Line)
		}
		return m, nil
	}
	return out, nil
}

func valueOf(n *yaml.Node, key gatehouse.DataKey, secret bool) (Value, error) {
	if s := secretOf(n); s != nil {
		plain, err := openSealed(s, key)
		return Value{Value: plain, Secret: true}, err
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]Value{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := valueOf(n.Content[i+1], key, secret)
			if err != nil {
				return Value{}, err
			}
			m[n.Content[i].Value] = v
		}
		return Value{Value: m, Secret: secret}, nil
	case yaml.SequenceNode:
		l := make([]Value, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := valueOf(c, key, secret)
			if err != nil {
				return Value{}, err
			}
			l = append(l, v)
		}
		return Value{Value: l, Secret: secret}, nil
	}
	switch n.Tag {
	case "!!null":
		return Value{Value: nil, Secret: secret}, nil
	case "!!bool":
		b, _ := strconv.ParseBool(n.Value)
		return Value{Value: b, Secret: secret}, nil
	case "!!int", "!!float":
		f, err := strconv.ParseFloat(n.Value, 64)
		if err == nil {
			return Value{Value: f, Secret: secret}, nil
		}
	}
	return Value{Value: n.Value, Secret: secret}, nil
}
