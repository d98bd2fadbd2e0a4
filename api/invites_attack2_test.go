package api_test

import (
	"testing"
	"time"
)

// TestAttack2InviteChangeWithinWhatTheCallerHolds: a caller that may
// change invitations (invites:create) but does not hold Admin must not
// prolong or revive an Admin invitation an Admin sent: the invitation that
// results grants Admin to whoever accepts it, whatever field changed.
func TestAttack2InviteChangeWithinWhatTheCallerHolds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	carol := e.newOrg("carols", "carol")
	adminID := e.roles("role")["Admin"].ID
	var inv struct{ ID string }
	e.must(e.admin, "POST", "/api/orgs/acme/invites", map[string]any{"userLogin": "carol", "roleId": adminID}, 201, &inv)
	// The admin's invitation lapses.
	if err := e.rawExec("UPDATE invitations SET expires = 1 WHERE id = ?", inv.ID); err != nil {
		t.Fatal(err)
	}
	held := []string{"invites:create", "invites:read"}
	tok := e.orgToken("inviter", e.customRole("inviter", allowDetails(held...)))
	later := time.Now().Add(24 * time.Hour).Unix()
	e.fails(tok, "PATCH", "/api/orgs/acme/invites/"+inv.ID, map[string]any{"expires": later}, 403, escalation(firstNotHeld(held...)))
	// The refused change changed nothing: the invitation is still expired.
	e.fails(carol, "POST", "/api/user/pending-invites/"+inv.ID+"/accept", nil, 400, "expired")
	// An Admin may revive it.
	e.must(e.admin, "PATCH", "/api/orgs/acme/invites/"+inv.ID, map[string]any{"expires": later}, 200, nil)
	e.must(carol, "POST", "/api/user/pending-invites/"+inv.ID+"/accept", nil, 200, nil)
}
