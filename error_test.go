package gatehouse_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
)

func TestErrorCodeAndMessage(t *testing.T) {
	t.Parallel()
	base := gatehouse.Errorf(gatehouse.ECONFLICT, "role %q already exists", "ops")
	wrapped := fmt.Errorf("create role: %w", base)
	tests := []struct {
		name    string
		err     error
		code    string
		message string
	}{
		{"nil", nil, "", ""},
		{"direct", base, gatehouse.ECONFLICT, `role "ops" already exists`},
		{"wrapped", wrapped, gatehouse.ECONFLICT, `role "ops" already exists`},
		{"foreign error is internal and hidden", errors.New("disk on fire at /var/x"), gatehouse.EINTERNAL, "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := gatehouse.ErrorCode(tt.err); got != tt.code {
				t.Errorf("ErrorCode = %q, want %q", got, tt.code)
			}
			if got := gatehouse.ErrorMessage(tt.err); got != tt.message {
				t.Errorf("ErrorMessage = %q, want %q", got, tt.message)
			}
		})
	}
}

func TestEntityTypeText(t *testing.T) {
	t.Parallel()
	for i := 0; i < gatehouse.NumEntityTypes; i++ {
		et := gatehouse.EntityType(i)
		b, _ := et.MarshalText()
		var back gatehouse.EntityType
		if err := back.UnmarshalText(b); err != nil || back != et {
			t.Errorf("round trip of %v: got %v, %v", et, back, err)
		}
	}
	var et gatehouse.EntityType
	if err := et.UnmarshalText([]byte("stacks")); gatehouse.ErrorCode(err) != gatehouse.EINVALID {
		t.Errorf("unknown type: got %v, want an invalid error", err)
	}
}

func TestTagsFromMapSorted(t *testing.T) {
	t.Parallel()
	tags := gatehouse.TagsFromMap(map[string]string{"b": "2", "a": "1", "c": "3"})
	e := gatehouse.Entity{Type: gatehouse.EntityStack, Tags: tags}
	if len(tags) != 3 || tags[0].Key != "a" || tags[2].Key != "c" {
		t.Fatalf("tags not sorted: %v", tags)
	}
	if v, ok := e.Tag("b"); !ok || v != "2" {
		t.Errorf("Tag(b) = %q, %v", v, ok)
	}
	if _, ok := e.Tag("z"); ok {
		t.Errorf("Tag(z) found a missing tag")
	}
}
