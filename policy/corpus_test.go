package policy

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/corpus")

// corpusFile is one case of the golden corpus: descriptors, the roles a
// principal holds, and checks with their hand-written expected decision.
type corpusFile struct {
	Description string `json:"description"`
	Descriptors []struct {
		ID           string          `json:"id"`
		Name         string          `json:"name"`
		UXPurpose    string          `json:"uxPurpose"`
		ResourceType string          `json:"resourceType"`
		Details      json.RawMessage `json:"details"`
	} `json:"descriptors"`
	Roles  []string `json:"roles"`
	Checks []struct {
		Scope  string `json:"scope"`
		Entity struct {
			Type string            `json:"type"`
			ID   string            `json:"id"`
			Tags map[string]string `json:"tags"`
		} `json:"entity"`
		Allow bool `json:"allow"`
	} `json:"checks"`
}

type corpusCase struct {
	name        string
	file        corpusFile
	descriptors []*Descriptor
	roles       []*Descriptor
}

func loadCorpus(tb testing.TB) []corpusCase {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.json"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no corpus files: %v", err)
	}
	var out []corpusCase
	for _, file := range files {
		c := corpusCase{name: strings.TrimSuffix(filepath.Base(file), ".json")}
		b, err := os.ReadFile(file)
		if err != nil {
			tb.Fatal(err)
		}
		if err := json.Unmarshal(b, &c.file); err != nil {
			tb.Fatalf("%s: %v", file, err)
		}
		for _, d := range c.file.Descriptors {
			rt, ok := gatehouse.ParseEntityType(d.ResourceType)
			if !ok {
				tb.Fatalf("%s: descriptor %s: bad resourceType %q", file, d.ID, d.ResourceType)
			}
			n, err := Decode(d.Details)
			if err != nil {
				tb.Fatalf("%s: descriptor %s: %v", file, d.ID, err)
			}
			c.descriptors = append(c.descriptors, &Descriptor{ID: d.ID, Name: d.Name, Purpose: d.UXPurpose, ResourceType: rt, Details: n})
		}
		lookup := MapLookup(c.descriptors...)
		for _, id := range c.file.Roles {
			r, ok := lookup(id)
			if !ok {
				tb.Fatalf("%s: unknown role %s", file, id)
			}
			c.roles = append(c.roles, r)
		}
		out = append(out, c)
	}
	return out
}

// TestCorpus checks every case of the golden corpus: the descriptors
// validate, the compiled engine returns the hand-written decision, the
// reference and Explain agree, and the explanations match the golden file.
func TestCorpus(t *testing.T) {
	for _, c := range loadCorpus(t) {
		t.Run(c.name, func(t *testing.T) {
			lookup := MapLookup(c.descriptors...)
			for _, d := range c.descriptors {
				if err := Validate(d.Details, Options{Purpose: d.Purpose, ResourceType: d.ResourceType, Lookup: lookup, SelfID: d.ID}); err != nil {
					t.Errorf("descriptor %s does not validate: %v", d.ID, err)
				}
			}
			var compiled []*Compiled
			for _, r := range c.roles {
				compiled = append(compiled, Compile(r.Details, lookup))
			}
			grants := Union(compiled...)
			var golden strings.Builder
			fmt.Fprintf(&golden, "# %s\n", c.file.Description)
			for i, chk := range c.file.Checks {
				sc, ok := catalog.Lookup(chk.Scope)
				if !ok {
					t.Fatalf("check %d: unknown scope %s", i, chk.Scope)
				}
				et, _ := gatehouse.ParseEntityType(chk.Entity.Type)
				e := &gatehouse.Entity{Type: et, ID: chk.Entity.ID, Tags: gatehouse.TagsFromMap(chk.Entity.Tags)}
				got := grants.Decide(sc, e)
				if got != chk.Allow {
					t.Errorf("check %d: %s on %s %v: got %v, want %v", i, chk.Scope, et, chk.Entity.Tags, got, chk.Allow)
				}
				var ref catalog.Set
				for _, r := range c.roles {
					s := Evaluate(r.Details, lookup, e)
					ref.Union(&s)
				}
				ex := Explain(c.roles, lookup, sc, e)
				if ref.Has(sc) != got || ex.Allowed != got {
					t.Errorf("check %d: decide %v, reference %v, explain %v", i, got, ref.Has(sc), ex.Allowed)
				}
				writeExplanation(&golden, chk.Scope, e, ex)
			}
			path := filepath.Join("testdata", "corpus", c.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(golden.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./policy -run TestCorpus -update)", err)
			}
			if string(want) != golden.String() {
				t.Errorf("explanations differ from %s (run with -update if intended):\n%s", path, golden.String())
			}
		})
	}
}

func writeExplanation(b *strings.Builder, scope string, e *gatehouse.Entity, ex Explanation) {
	tags := make([]string, 0, len(e.Tags))
	for _, t := range e.Tags {
		tags = append(tags, t.Key+"="+t.Value)
	}
	sort.Strings(tags)
	verdict := "deny"
	if ex.Allowed {
		verdict = "allow"
	}
	fmt.Fprintf(b, "\n%s on %s %s {%s}: %s\n  reason: %s\n", scope, e.Type, e.ID, strings.Join(tags, ","), verdict, ex.Reason)
	for _, g := range ex.Grants {
		fmt.Fprintf(b, "  granted by %q at %s\n", g.Role, g.Path)
	}
	for _, u := range ex.Unmet {
		fmt.Fprintf(b, "  unmet in %q at %s: %s; %s\n", u.Role, u.Path, u.Condition, u.Because)
	}
}
