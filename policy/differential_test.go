package policy

import (
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

// TestCompiledAgreesWithReference generates random trees, descriptor
// libraries (with dangling references and cycles) and entities, and checks
// that the compiled fast path, the reference evaluator and Explain agree on
// every scope.
func TestCompiledAgreesWithReference(t *testing.T) {
	t.Parallel()
	trees := 3000
	if testing.Short() {
		trees = 300
	}
	for i := 0; i < trees; i++ {
		checkAgreement(t, uint64(i), 0xdecade, 12)
		if t.Failed() {
			return
		}
	}
}

// checkAgreement builds one random case from the seeds and compares the
// engines on it.
func checkAgreement(t *testing.T, seed1, seed2 uint64, entities int) {
	t.Helper()
	g := newGen(seed1, seed2)
	lib := g.library()
	lookup := MapLookup(lib...)
	roles := []*Descriptor{
		{ID: "r1", Name: "role one", Details: g.node()},
		{ID: "r2", Name: "role two", Details: g.node()},
	}
	compiled := make([]*Compiled, len(roles))
	for i, r := range roles {
		compiled[i] = Compile(r.Details, lookup)
	}
	grants := Union(compiled...)
	for j := 0; j < entities; j++ {
		e := g.entity()
		var want catalog.Set
		for _, r := range roles {
			s := Evaluate(r.Details, lookup, e)
			want.Union(&s)
		}
		if got := grants.Allowed(e); got != want {
			t.Errorf("seed %d/%d entity %+v:\ncompiled  %v\nreference %v\nroles:\n%s\n%s", seed1, seed2, *e,
				got.Names(), want.Names(), mustEncode(roles[0].Details), mustEncode(roles[1].Details))
			return
		}
		for _, name := range []string{"stack:read", "environment:open", "audit_logs:read", "change_gate:create"} {
			sc := catalog.MustLookup(name)
			ex := Explain(roles, lookup, sc, e)
			if ex.Allowed != want.Has(sc) || grants.Decide(sc, e) != want.Has(sc) {
				t.Errorf("seed %d/%d entity %+v scope %s: explain %v, decide %v, reference %v (%s)",
					seed1, seed2, *e, name, ex.Allowed, grants.Decide(sc, e), want.Has(sc), ex.Reason)
				return
			}
			if ex.Allowed && len(ex.Grants) == 0 || !ex.Allowed && ex.Reason == "" {
				t.Errorf("explanation without substance: %+v", ex)
			}
		}
	}
}

func mustEncode(n Node) string {
	b, err := Encode(n)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// TestEncodeDecodeRandom checks the round trip on random trees.
func TestEncodeDecodeRandom(t *testing.T) {
	t.Parallel()
	for i := uint64(0); i < 500; i++ {
		g := newGen(i, 7)
		n := g.node()
		b, err := Encode(n)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(b)
		if err != nil {
			// Random trees may break decode-time limits only by depth,
			// which the generator keeps far below MaxDepth.
			t.Fatalf("seed %d: %v\n%s", i, err, b)
		}
		b2, _ := Encode(back)
		if string(b) != string(b2) {
			t.Fatalf("seed %d: encode(decode(encode(x))) != encode(x)", i)
		}
	}
}

func TestDecideScopeTypeMismatch(t *testing.T) {
	t.Parallel()
	g := Union(Compile(&Allow{Permissions: []string{"stack:read", "audit_logs:read"}}, nil))
	stack := &gatehouse.Entity{Type: gatehouse.EntityStack, ID: genID(gatehouse.EntityStack, 1)}
	org := &gatehouse.Entity{Type: gatehouse.EntityGlobal, ID: "org"}
	if !g.Decide(catalog.MustLookup("stack:read"), stack) || !g.Decide(catalog.MustLookup("audit_logs:read"), org) {
		t.Fatal("unconditional grants not granted")
	}
	if g.Decide(catalog.MustLookup("stack:read"), org) || g.Decide(catalog.MustLookup("audit_logs:read"), stack) {
		t.Fatal("a scope was granted on an entity type it does not apply to")
	}
}
