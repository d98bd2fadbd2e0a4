package service

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestHasTopLevelNumber(t *testing.T) {
	for _, tc := range []struct {
		json string
		want bool
	}{
		{`{"version":3}`, true},
		{` { "deployment" : {"version":"x"}, "version" : -1 } `, true},
		{`{"deployment":{"version":3}}`, false},
		{`{"a":"\"version\":3","b":1}`, false},
		{`{"version":"3"}`, false},
		{`{"x\"version":3}`, false},
		{`[{"version":3}]`, false},
		{`{"a":[{"version":1}],"version":2}`, true},
		{`{}`, false},
	} {
		if got := hasTopLevelNumber([]byte(tc.json), "version"); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.json, got, tc.want)
		}
	}
}

// FuzzHasTopLevelNumber checks the scanner against encoding/json on valid
// documents.
func FuzzHasTopLevelNumber(f *testing.F) {
	f.Add(`{"version":3,"deployment":{"version":"x"}}`)
	f.Add(`{"a":"\\","version":1}`)
	f.Fuzz(func(t *testing.T, doc string) {
		if !json.Valid([]byte(doc)) {
			return
		}
		var m map[string]json.RawMessage
		want := false
		if json.Unmarshal([]byte(doc), &m) == nil {
			var n json.Number
			if raw, ok := m["version"]; ok && json.Unmarshal(raw, &n) == nil {
				want = true
			}
		}
		// encoding/json matches keys case-insensitively and unescapes
		// them; the scanner wants the key spelt exactly: compare only
		// documents where that cannot differ.
		if got := hasTopLevelNumber([]byte(doc), "version"); got != want && !tricky(doc) {
			t.Fatalf("%s: %v, want %v", doc, got, want)
		}
	})
}

func tricky(doc string) bool {
	// A repeated key: encoding/json keeps the last, the scanner the first.
	if strings.Count(doc, `"version"`) > 1 {
		return true
	}
	for i := 0; i < len(doc); i++ {
		if doc[i] == '\\' || doc[i] >= 0x80 || (doc[i] >= 'A' && doc[i] <= 'Z') {
			return true
		}
	}
	var dup map[string]any
	if json.Unmarshal([]byte(doc), &dup) == nil {
		return false
	}
	return true
}
