package service

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/pulumi/esc"

	"github.com/gatehouse-iam/gatehouse/state"
)

// FuzzEvaluateSealed feeds definitions through the sealing and ESC's
// evaluator: nothing panics, and a definition that evaluates evaluates to
// the same values, secrets the same, once sealed at rest (in ESC's
// envelope, opened by the environment's key as the evaluator's
// Decrypter).
func FuzzEvaluateSealed(f *testing.F) {
	for _, def := range []string{
		"values:\n  a:\n    fn::secret: x\n  b: ${a}-y\n",
		"values:\n  j:\n    fn::toJSON: {k: [1, {fn::secret: s}]}\n  s:\n    fn::toString: 3\n",
		"values:\n  b:\n    fn::fromBase64: aGk=\n  c:\n    fn::join: [\"-\", [a, b]]\n  d:\n    fn::fromJSON: '{\"x\": 1}'\n",
		"imports: [x]\nvalues:\n  a: ${nope}\n",
		"values: {environmentVariables: {A: '1'}, pulumiConfig: {b: {fn::secret: z}}}",
	} {
		f.Add([]byte(def))
	}
	ring, err := state.NewKeyring(bytes.Repeat([]byte{1}, state.KeySize))
	if err != nil {
		f.Fatal(err)
	}
	key, _, _ := ring.NewDataKey("env")
	s := &Service{}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, def []byte) {
		plain, err := s.Evaluate(ctx, "", "fuzz", def, nil, nil, false, true)
		if err != nil || plain.Diagnostics.HasErrors() {
			return
		}
		sealed, err := state.SealSecrets(def, key)
		if err != nil {
			return // the sealing's own limits (anchors, shapes)
		}
		sealed, err = state.Envelope(sealed)
		if err != nil {
			t.Fatalf("a sealed definition does not rewrap: %v", err)
		}
		opened, err := s.Evaluate(ctx, "", "fuzz", sealed, keyDecrypter{key}, nil, false, true)
		if err != nil || opened.Diagnostics.HasErrors() {
			t.Fatalf("evaluates plain but not sealed: %v %v\n%s", err, opened.diagnostics(), sealed)
		}
		if a, b := values(plain.Env), values(opened.Env); a != b {
			t.Fatalf("plain %s\nsealed %s", a, b)
		}
	})
}

// values are an evaluation's properties as JSON, secrets marked.
func values(env *esc.Environment) string {
	m := map[string]any{}
	for k, v := range env.Properties {
		m[k] = []any{v.ToJSON(false), v.Secret}
	}
	b, _ := json.Marshal(m)
	return string(b)
}
