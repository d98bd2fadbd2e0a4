package gatehouse_test

import (
	"context"
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

func TestReword(t *testing.T) {
	plain := errors.New("connection refused")
	conflict := gatehouse.Errorf(gatehouse.ECONFLICT, "UNIQUE constraint failed")
	for _, tc := range []struct {
		name     string
		err      error
		code     string
		wantCode string
		wantMsg  string
		same     bool // returned as it is
	}{
		{"nil", nil, gatehouse.ENOTFOUND, "", "", true},
		{"matching code", conflict, gatehouse.ECONFLICT, gatehouse.ECONFLICT, `"bob" is already a member`, false},
		{"another code", conflict, gatehouse.ENOTFOUND, gatehouse.ECONFLICT, "UNIQUE constraint failed", true},
		{"a plain error stays internal", plain, gatehouse.ENOTFOUND, gatehouse.EINTERNAL, "internal error", true},
		{"a cancelled context stays internal", context.Canceled, gatehouse.ENOTFOUND, gatehouse.EINTERNAL, "internal error", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := gatehouse.Reword(tc.err, tc.code, "%q is already a member", "bob")
			if gatehouse.ErrorCode(got) != tc.wantCode || gatehouse.ErrorMessage(got) != tc.wantMsg {
				t.Errorf("gatehouse.Reword = %v (%s, %q), want %s, %q", got, gatehouse.ErrorCode(got), gatehouse.ErrorMessage(got), tc.wantCode, tc.wantMsg)
			}
			if tc.same && got != tc.err {
				t.Errorf("gatehouse.Reword = %v, want the error unchanged (%v)", got, tc.err)
			}
			if !tc.same && !errors.Is(got, tc.err) {
				t.Errorf("the reworded error does not wrap its cause")
			}
		})
	}
}

func TestErrorUnwrap(t *testing.T) {
	cause := errors.New("disk full")
	err := fmt.Errorf("saving: %w", &gatehouse.Error{Code: gatehouse.EINTERNAL, Message: "could not save", Err: cause})
	if !errors.Is(err, cause) {
		t.Error("errors.Is does not find the cause through Error")
	}
	if (&gatehouse.Error{Code: gatehouse.EINVALID}).Unwrap() != nil {
		t.Error("an Error without a cause unwraps to something")
	}
}

func TestRecode(t *testing.T) {
	plain := errors.New("connection refused")
	missing := gatehouse.Errorf(gatehouse.ENOTFOUND, `role "r" not found`)
	for _, tc := range []struct {
		name     string
		err      error
		wantCode string
		wantMsg  string
	}{
		{"nil", nil, "", ""},
		{"not found becomes the field's invalid", missing, gatehouse.EINVALID, `roleId: role "r" not found`},
		{"another code stays", gatehouse.Errorf(gatehouse.ECONFLICT, "taken"), gatehouse.ECONFLICT, "taken"},
		{"a plain error stays internal", plain, gatehouse.EINTERNAL, "internal error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := gatehouse.Recode(tc.err, gatehouse.ENOTFOUND, gatehouse.EINVALID, "roleId: role %q not found", "r")
			if gatehouse.ErrorCode(got) != tc.wantCode || gatehouse.ErrorMessage(got) != tc.wantMsg {
				t.Errorf("gatehouse.Recode = %v (%s, %q), want %s, %q", got, gatehouse.ErrorCode(got), gatehouse.ErrorMessage(got), tc.wantCode, tc.wantMsg)
			}
			if tc.err != nil && !errors.Is(got, tc.err) {
				t.Errorf("the recoded error does not wrap its cause")
			}
		})
	}
}
