package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/service"
)

// TestExchangeRefusesDeactivatedUser: an OIDC exchange for a personal
// token of a member SCIM deactivated is refused, naming why; the member
// stays a member (deactivation is soft), so only the active check stops
// a token that would wake when SCIM activates them again.
func TestExchangeRefusesDeactivatedUser(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		u, err := e.svc.CreateSCIMUser(ctx, e.orgID(), service.SCIMUserPatch{UserName: ptrTo("kit"), Active: ptrTo(true)})
		if err != nil {
			t.Fatal(err)
		}
		si := e.personalIssuer(e.admin, "acme", "kit")
		exchange := func() (int, exchangeResult) {
			return e.exchange(si.sign(t, "acme", "ci"), "personal", "user:kit", false, map[string]string{"audience": "urn:pulumi:org:acme"})
		}
		if st, res := exchange(); st != 200 || res.AccessToken == "" {
			t.Fatalf("an active member's exchange: %d %+v", st, res)
		}
		if _, err := e.svc.UpdateSCIMUser(ctx, e.orgID(), u.User.ID, service.SCIMUserPatch{Active: ptrTo(false)}); err != nil {
			t.Fatal(err)
		}
		st, res := exchange()
		if st != 400 || res.Error != "invalid_scope" || !strings.Contains(res.Description, "deactivated") {
			t.Errorf("a deactivated member's exchange: %d %+v", st, res)
		}
	})
}

func ptrTo[T any](v T) *T { return &v }
