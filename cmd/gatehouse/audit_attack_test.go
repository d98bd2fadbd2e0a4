package main

import (
	"strings"
	"testing"
)

// TestAuditTamperNotResealed: an attacker with write access to the
// database cuts the newest events (pointing the head at the last one
// kept) or the oldest (moving the anchor), and then simply waits: the
// server's next event, or its next retention prune, used to reseal the
// head's MAC over the tampered head, so `audit verify` found nothing as
// soon as anything else happened. The server must never seal a head whose
// MAC does not hold.
func TestAuditTamperNotResealed(t *testing.T) {
	attacks := []struct {
		name   string
		attack func(t *testing.T, db *rawDB, chain []chainRow)
	}{
		{"cut the tail, fix the head, wait for the next event", cutTail},
		{"cut the oldest, move the anchor, wait for the next event", cutOldest},
	}
	for _, d := range dialects {
		for _, a := range attacks {
			t.Run(d+"/"+a.name, func(t *testing.T) {
				x := auditDB(t, d, 6)
				db := x.raw(t)
				chain := rawChain(t, db)
				if len(chain) < 8 {
					t.Fatalf("only %d events", len(chain))
				}
				a.attack(t, db, chain)
				hostEvents(t, x, 2) // the server carries on
				code, out := verifyOut(t, x)
				if code != exitDeny || !strings.Contains(out, "broken") {
					t.Errorf("after the attack and two more events: exit %d, %q; want broken", code, out)
				}
				t.Log(out)
			})
		}
	}
}
