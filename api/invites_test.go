package api_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
)

// TestInviteAnsweredConcurrent: the invited user accepts one invitation
// many times at once (a double-click, two tabs, a retried request) and
// declines it at once too, while an admin revokes it: exactly one answer
// wins, every other finds no invitation (404, never a 409 or a 500), the
// log records the winner only, and an accepted invitation makes one
// membership with its role. On PostgreSQL, without the organization's
// lock before the invitation is taken, an accept (the invitation's row,
// then the organization's) and a revoke (the other order) deadlock, a
// 500; without the take being one DELETE ... RETURNING as well, two
// accepts both read the invitation and the second fails to add the
// member again, a 409.
func TestInviteAnsweredConcurrent(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, e *env) {
		carol := e.newOrg("carols", "carol")
		reader := e.roles("role")["Reader"].ID
		const accepts, rounds = 8, 6
		type answer struct {
			kind, token, method, path string
			ok                        int
		}
		won := map[string]int{}
		for round := range rounds {
			var inv struct{ ID string }
			e.must(e.admin, "POST", "/api/orgs/acme/invites", map[string]any{"userLogin": "carol", "roleId": reader}, 201, &inv)
			var answers []answer
			for range accepts {
				answers = append(answers, answer{"accept", carol, "POST", "/api/user/pending-invites/" + inv.ID + "/accept", http.StatusOK})
			}
			answers = append(answers, answer{"decline", carol, "POST", "/api/user/pending-invites/" + inv.ID + "/decline", http.StatusNoContent},
				answer{"revoke", e.admin, "DELETE", "/api/orgs/acme/invites/" + inv.ID, http.StatusNoContent})
			var mu sync.Mutex
			var winners []string
			var wg sync.WaitGroup
			for _, a := range answers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					switch st, body := e.call(a.token, a.method, a.path, nil, nil); st {
					case a.ok:
						mu.Lock()
						winners = append(winners, a.kind)
						mu.Unlock()
					case http.StatusNotFound:
					default:
						t.Errorf("round %d: %s: %d %s, want %d or 404", round, a.kind, st, body, a.ok)
					}
				}()
			}
			wg.Wait()
			if len(winners) != 1 {
				t.Fatalf("round %d: %d answers of one invitation won, want 1: %v", round, len(winners), winners)
			}
			won[winners[0]]++
			var members struct {
				Members []struct {
					User    struct{ GitHubLogin string }
					FGARole struct{ ID string } `json:"fgaRole"`
				}
			}
			e.must(e.admin, "GET", "/api/orgs/acme/members", nil, 200, &members)
			carols := 0
			for _, m := range members.Members {
				if m.User.GitHubLogin == "carol" {
					carols++
					if m.FGARole.ID != reader {
						t.Errorf("round %d: carol joined with role %q, not the invitation's", round, m.FGARole.ID)
					}
				}
			}
			want := 0
			if winners[0] == "accept" {
				want = 1
			}
			if carols != want {
				t.Fatalf("round %d: %s won and carol is a member %d times, want %d", round, winners[0], carols, want)
			}
			if winners[0] == "accept" {
				e.must(e.admin, "DELETE", "/api/orgs/acme/members/carol", nil, 204, nil)
			}
		}
		got := fmt.Sprint(e.countEvents(gatehouse.EventInviteAccepted), e.countEvents(gatehouse.EventInviteDeclined), e.countEvents(gatehouse.EventInviteRevoked))
		if want := fmt.Sprint(won["accept"], won["decline"], won["revoke"]); got != want {
			t.Errorf("invite_accepted, invite_declined and invite_revoked events: %s, want %s (the winners)", got, want)
		}
	})
}
