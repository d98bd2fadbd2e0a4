package main

import (
	"strings"
	"testing"
)

func TestLogBuffer(t *testing.T) {
	var out lockedBuffer
	b := newLogBuffer(&out)
	log := newLogger(b, "text", "info")
	log.Info("first")
	log.Warn("careful")
	// A warning writes through at once, with what came before it.
	if s := out.String(); !strings.Contains(s, "msg=first") || !strings.Contains(s, "msg=careful") {
		t.Fatalf("after a warning the log holds:\n%s", s)
	}
	log.With("k", "v").Error("broken")
	if s := out.String(); !strings.Contains(s, "msg=broken k=v") {
		t.Fatalf("an error from a derived logger was not written through:\n%s", s)
	}
	log.Info("last")
	b.Close()
	if s := out.String(); !strings.Contains(s, "msg=last") {
		t.Fatalf("Close lost a line:\n%s", s)
	}
}
