package policy

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

// FuzzDecode feeds arbitrary bytes to Decode and Validate: no input may
// panic, every error has a path under "details" and a message, and a
// document that decodes survives an encode/decode round trip and is decided
// the same by the compiled and reference engines.
func FuzzDecode(f *testing.F) {
	for _, doc := range []string{consoleRole, everyType, `{}`, `[]`, `null`, `{"__type":"PermissionDescriptorAllow","permissions":["stack:read"]}`} {
		f.Add([]byte(doc))
	}
	for _, c := range loadCorpus(f) {
		for _, d := range c.file.Descriptors {
			f.Add([]byte(d.Details))
		}
	}
	lookup := testLibrary()
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := Decode(data)
		if err != nil {
			checkErrors(t, err)
			return
		}
		if err := Validate(n, Options{Lookup: lookup}); err != nil {
			checkErrors(t, err)
		}
		enc, err := Encode(n)
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		back, err := Decode(enc)
		if err != nil {
			t.Fatalf("decoding the encoding failed: %v\n%s", err, enc)
		}
		if !reflect.DeepEqual(n, back) {
			t.Fatalf("round trip changed the tree:\n%s", enc)
		}
		g := Union(Compile(n, lookup))
		for _, e := range fuzzEntities {
			want := Evaluate(n, lookup, e)
			if got := g.Allowed(e); got != want {
				t.Fatalf("entity %+v: compiled %v, reference %v", *e, got.Names(), want.Names())
			}
		}
	})
}

var fuzzEntities = []*gatehouse.Entity{
	{Type: gatehouse.EntityGlobal, ID: "org"},
	{Type: gatehouse.EntityStack, ID: "20dede8f-0000-4000-8000-000000000001", Tags: []gatehouse.Tag{{Key: "Owner", Value: "DevTeam"}, {Key: "team", Value: "x"}}},
	{Type: gatehouse.EntityStack, ID: "00000000-0000-4000-8000-000000000005", Tags: []gatehouse.Tag{{Key: "env", Value: "prod"}, {Key: "tier", Value: "1"}}},
	{Type: gatehouse.EntityEnvironment, ID: "00000000-0000-4000-8000-000000000004", Tags: []gatehouse.Tag{{Key: "k", Value: "a"}}},
	{Type: gatehouse.EntityEnvironment, ID: "00000000-0000-4000-8000-000000000007"},
	{Type: gatehouse.EntityInsightsAccount, ID: "00000000-0000-4000-8000-000000000002", Tags: []gatehouse.Tag{{Key: "env", Value: "dev"}}},
}

func checkErrors(t *testing.T, err error) {
	t.Helper()
	es, ok := err.(Errors)
	if !ok || len(es) == 0 || len(es) > maxErrors {
		t.Fatalf("error %T (%d problems), want 1 to %d Errors: %v", err, len(es), maxErrors, err)
	}
	for _, e := range es {
		if !strings.HasPrefix(e.Path, "details") || e.Message == "" {
			t.Fatalf("malformed error %q", e.Error())
		}
	}
}

// FuzzDecide drives the random tree generator from the fuzzer's seeds and
// checks the compiled fast path, the reference evaluator and Explain agree.
func FuzzDecide(f *testing.F) {
	for i := uint64(0); i < 16; i++ {
		f.Add(i, uint64(0xdecade))
	}
	f.Fuzz(func(t *testing.T, seed1, seed2 uint64) {
		checkAgreement(t, seed1, seed2, 8)
	})
}

// FuzzDecideEntity fuzzes the entity: its type, id and tags, against the
// golden corpus's roles.
func FuzzDecideEntity(f *testing.F) {
	f.Add(uint8(1), "20dede8f-0000-4000-8000-000000000001", "env", "prod", "team", "")
	f.Add(uint8(2), "00000000-0000-4000-8000-000000000004", "k", "a", "k", "b")
	f.Add(uint8(9), "", "", "", "", "")
	cases := loadCorpus(f)
	f.Fuzz(func(t *testing.T, typ uint8, id, k1, v1, k2, v2 string) {
		e := &gatehouse.Entity{Type: gatehouse.EntityType(typ), ID: id}
		if k1 != "" {
			e.Tags = append(e.Tags, gatehouse.Tag{Key: k1, Value: v1})
		}
		if k2 != "" && k2 != k1 {
			e.Tags = append(e.Tags, gatehouse.Tag{Key: k2, Value: v2})
		}
		for _, c := range cases {
			lookup := MapLookup(c.descriptors...)
			var compiled []*Compiled
			var want catalog.Set
			for _, r := range c.roles {
				compiled = append(compiled, Compile(r.Details, lookup))
				if int(e.Type) < gatehouse.NumEntityTypes {
					s := Evaluate(r.Details, lookup, e)
					want.Union(&s)
				}
			}
			if got := Union(compiled...).Allowed(e); got != want {
				t.Fatalf("%s: entity %+v: compiled %v, reference %v", c.name, *e, got.Names(), want.Names())
			}
		}
	})
}
