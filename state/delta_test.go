package state

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
)

type edit struct {
	start, end int
	text       string
}

func deltaOf(edits ...edit) []byte {
	type point struct {
		Line   int `json:"line"`
		Column int `json:"column"`
		Offset int `json:"offset"`
	}
	type span struct {
		URI   string `json:"uri"`
		Start point  `json:"start"`
		End   point  `json:"end"`
	}
	type te struct {
		Span    span
		NewText string
	}
	out := []te{}
	for _, e := range edits {
		out = append(out, te{Span: span{Start: point{1, 0, e.start}, End: point{1, 0, e.end}}, NewText: e.text})
	}
	b, _ := json.Marshal(out)
	return b
}

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestApplyDelta(t *testing.T) {
	base := []byte(`{"version":3,"deployment":{"resources":[{"urn":"a"},{"urn":"b"}]}}`)
	want := `{"version":3,"deployment":{"resources":[{"urn":"a"},{"urn":"c"},{"urn":"d"}]}}`
	i := strings.Index(string(base), `{"urn":"b"}`)
	// Edits out of order apply in offset order.
	delta := deltaOf(edit{i, i + len(`{"urn":"b"}`), `{"urn":"c"},{"urn":"d"}`}, edit{0, 0, ""})
	got, err := ApplyDelta(base, delta, hashOf(want), 0)
	if err != nil || string(got) != want {
		t.Fatalf("ApplyDelta = %s, %v", got, err)
	}
	if got, err := ApplyDelta(base, []byte(`[]`), hashOf(string(base)), 0); err != nil || string(got) != string(base) {
		t.Errorf("empty delta = %s, %v", got, err)
	}

	for _, tc := range []struct {
		name, delta, hash, want string
	}{
		{"wrong hash", string(delta), hashOf("other"), "checkpointHash"},
		{"not JSON", `{`, hashOf(want), "not a list of text edits"},
		{"past the end", string(deltaOf(edit{0, len(base) + 1, ""})), hashOf(want), "outside"},
		{"negative", string(deltaOf(edit{-1, 0, ""})), hashOf(want), "outside"},
		{"backwards", string(deltaOf(edit{5, 4, ""})), hashOf(want), "outside"},
		{"overlapping", string(deltaOf(edit{0, 10, "x"}, edit{5, 12, "y"})), hashOf(want), "overlaps"},
		{"no offsets", `[{"Span":{"start":{},"end":{}},"NewText":"x"}]`, hashOf(want), "no start or end offset"},
	} {
		if _, err := ApplyDelta(base, []byte(tc.delta), tc.hash, 0); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
}

// FuzzApplyDelta: no delta panics, and whatever applies has the hash asked.
func FuzzApplyDelta(f *testing.F) {
	f.Add([]byte(`{"a":[1,2,3]}`), []byte(deltaOf(edit{6, 7, "9"})), "")
	f.Add([]byte(`abc`), []byte(`[{"Span":{"start":{"offset":1},"end":{"offset":2}},"NewText":"zz"}]`), hashOf("azzc"))
	f.Fuzz(func(t *testing.T, base, delta []byte, hash string) {
		out, err := ApplyDelta(base, delta, hash, 0)
		if err == nil && !strings.EqualFold(hashOf(string(out)), hash) {
			t.Fatalf("applied with hash %s, asked %s", hashOf(string(out)), hash)
		}
	})
}
