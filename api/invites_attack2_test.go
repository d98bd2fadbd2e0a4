package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

// TestAttack2InviteChangeWithinWhatTheCallerHolds: a caller that may
// change invitations (invites:create) but does not hold Admin must not
// prolong or revive an Admin invitation an Admin sent: the invitation that
// results grants Admin to whoever accepts it, whatever field changed.
func TestAttack2InviteChangeWithinWhatTheCallerHolds(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, e *env) {
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
	})
}

// TestAttack2TokensOfOneOrgStayThere: claims that held, kept as
// regressions. acme's organization and team tokens reach nothing of
// evil's (401 on its routes, on /api/user/stacks?organization= and on its
// authz/check); an invitation id of acme means nothing on evil's routes;
// neither kind of token answers a user's invitations.
func TestAttack2TokensOfOneOrgStayThere(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, e *env) {
		mallory := e.newOrg("evil", "mallory")
		orgTok := e.orgToken("ci", "")
		e.must(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]any{"name": "ops"}, 201, nil)
		var team struct{ TokenValue string }
		e.must(e.admin, "POST", "/api/orgs/acme/teams/ops/tokens", map[string]any{"name": "ops-ci", "description": "ci"}, 200, &team)
		for name, tok := range map[string]string{"organization": orgTok, "team": team.TokenValue} {
			for _, path := range []string{"/api/orgs/evil/members", "/api/orgs/evil/invites", "/api/user/stacks?organization=evil",
				"/api/esc/environments/evil"} {
				if status, body := e.call(tok, "GET", path, nil, nil); status != 401 {
					t.Errorf("%s token of acme: GET %s = %d %s, want 401", name, path, status, body)
				}
			}
			if status, body := e.call(tok, "POST", "/api/orgs/evil/authz/check", map[string]any{"checks": []any{}}, nil); status != 401 {
				t.Errorf("%s token of acme: evil's authz/check = %d %s, want 401", name, status, body)
			}
			if status, body := e.call(tok, "POST", "/api/orgs/evil/invites", map[string]any{"userLogin": "admin"}, nil); status != 401 {
				t.Errorf("%s token of acme invites into evil: %d %s, want 401", name, status, body)
			}
		}
		// An invitation of evil addressed on acme's routes is not found there.
		var inv struct{ ID string }
		e.must(mallory, "POST", "/api/orgs/evil/invites", map[string]any{"userLogin": "admin"}, 201, &inv)
		e.fails(e.admin, "PATCH", "/api/orgs/acme/invites/"+inv.ID, map[string]any{"role": "admin"}, 404, "not found")
		e.fails(e.admin, "DELETE", "/api/orgs/acme/invites/"+inv.ID, nil, 404, "not found")
		e.fails(orgTok, "POST", "/api/user/pending-invites/"+inv.ID+"/accept", nil, 403, "users")
		e.fails(team.TokenValue, "POST", "/api/user/pending-invites/"+inv.ID+"/accept", nil, 403, "users")
		// The invited user's own token accepts it once; a replay finds nothing.
		e.must(e.admin, "POST", "/api/user/pending-invites/"+inv.ID+"/accept", nil, 200, nil)
		e.fails(e.admin, "POST", "/api/user/pending-invites/"+inv.ID+"/accept", nil, 404, "not found")
	})
}

// daveInEvil makes organization evil (its admin mallory) and acme's
// member dave, who joins evil by accepting its invitation; it returns
// mallory's and dave's tokens.
func (e *env) daveInEvil() (mallory, dave string) {
	e.t.Helper()
	mallory = e.newOrg("evil", "mallory")
	dave = e.memberWithRole("dave", e.roles("role")["Member"].ID)
	var inv struct{ ID string }
	e.must(mallory, "POST", "/api/orgs/evil/invites", map[string]any{"userLogin": "dave"}, 201, &inv)
	e.must(dave, "POST", "/api/user/pending-invites/"+inv.ID+"/accept", nil, 200, nil)
	return mallory, dave
}

// TestAttack2DirectReAddAuditsPersonalTokens: acme created dave (it
// manages him) and removed him; meanwhile dave, who joined evil by
// invitation, made a personal token there. When acme adds dave back
// directly, that token acts in acme from then on: acme's log must name
// it, as an accepted invitation's member_added event does. Otherwise a
// token that acts in acme was never recorded there.
func TestAttack2DirectReAddAuditsPersonalTokens(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, e *env) {
		_, dave := e.daveInEvil()
		e.must(e.admin, "DELETE", "/api/orgs/acme/members/dave", nil, 204, nil)
		var tok struct{ ID string }
		e.must(dave, "POST", "/api/user/tokens", map[string]any{"description": "made-outside-acme"}, 200, &tok)
		if tok.ID == "" {
			t.Fatal("no token id")
		}
		// acme manages dave: it adds him back directly.
		e.must(e.admin, "POST", "/api/orgs/acme/members/dave", map[string]any{"role": "member"}, 200, nil)
		e.must(dave, "GET", "/api/orgs/acme/members", nil, 200, nil)

		ctx := context.Background()
		var recorded bool
		err := e.db.Read(ctx, func(tx gatehouse.Tx) error {
			es, _, err := tx.ListAudit(ctx, e.orgID(), gatehouse.AuditFilter{}, gatehouse.ListOptions{Limit: 1000})
			for _, ev := range es {
				if strings.Contains(string(ev.Data), tok.ID) {
					recorded = true
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if !recorded {
			t.Fatalf("dave's personal token %s acts in acme but acme's audit log never names it", tok.ID)
		}
	})
}

// TestAttack2JoiningDoesNotMoveTheDefaultOrganization: the default
// organization (where the pulumi CLI puts stacks named without one) is the
// user's oldest membership, not the oldest organization. Otherwise acme,
// which manages dave and adds him back directly after he left and joined
// evil, silently becomes his default: his next `pulumi stack init` lands
// in acme, whose admins read its state.
func TestAttack2JoiningDoesNotMoveTheDefaultOrganization(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, e *env) {
		_, dave := e.daveInEvil()
		var inv struct{ ID string }
		e.must(e.admin, "DELETE", "/api/orgs/acme/members/dave", nil, 204, nil)
		var def struct{ GitHubLogin string }
		e.must(dave, "GET", "/api/user/organizations/default", nil, 200, &def)
		if def.GitHubLogin != "evil" {
			t.Fatalf("dave's default organization = %q, want evil", def.GitHubLogin)
		}
		e.must(e.admin, "POST", "/api/orgs/acme/members/dave", map[string]any{"role": "member"}, 200, nil)
		e.must(dave, "GET", "/api/user/organizations/default", nil, 200, &def)
		if def.GitHubLogin != "evil" {
			t.Errorf("after acme added dave back without his consent, his default organization is %q, want evil (his oldest membership)", def.GitHubLogin)
		}
		// A consented join elsewhere does not move it either.
		carol := e.newOrg("carols", "carol")
		e.must(e.admin, "POST", "/api/orgs/acme/invites", map[string]any{"userLogin": "carol"}, 201, &inv)
		e.must(carol, "POST", "/api/user/pending-invites/"+inv.ID+"/accept", nil, 200, nil)
		e.must(carol, "GET", "/api/user/organizations/default", nil, 200, &def)
		if def.GitHubLogin != "carols" {
			t.Errorf("after joining acme, carol's default organization is %q, want carols", def.GitHubLogin)
		}
	})
}

// TestAttack2BoundTokenStaysInItsOrg: claims that held, kept as
// regressions. A personal token evil's issuer minted for dave (a member of
// both organizations, by consent) is refused on every acme route tried,
// answers none of dave's invitations, and lists only evil's stacks.
func TestAttack2BoundTokenStaysInItsOrg(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, e *env) {
		mallory, _ := e.daveInEvil()
		status, res := e.mintPersonal(mallory, "evil", "dave")
		if status != 200 {
			t.Fatalf("exchange: %d %+v", status, res)
		}
		bound := res.AccessToken
		e.createStack("p", "s", nil, "")
		for _, c := range []struct{ method, path string }{
			{"GET", "/api/esc/environments/acme"},
			{"GET", "/api/stacks/acme/p/s"},
			{"GET", "/api/user/stacks?organization=acme"},
			{"GET", "/api/orgs/acme/invites"},
			{"GET", "/api/orgs/acme/auditlogs/v2"},
		} {
			if st, body := e.call(bound, c.method, c.path, nil, nil); st != 401 {
				t.Errorf("evil-bound token: %s %s = %d %s, want 401", c.method, c.path, st, body)
			}
		}
		if st, body := e.call(bound, "POST", "/api/orgs/acme/authz/check", map[string]any{"checks": []any{}}, nil); st != 401 {
			t.Errorf("evil-bound token: acme's authz/check = %d %s, want 401", st, body)
		}
		// Without an organization it lists evil's stacks, not acme's.
		var stacks struct{ Stacks []struct{ OrgName string } }
		e.must(bound, "GET", "/api/user/stacks", nil, 200, &stacks)
		for _, s := range stacks.Stacks {
			if s.OrgName != "evil" {
				t.Errorf("evil-bound token lists a stack of %q", s.OrgName)
			}
		}
		// It answers none of dave's invitations.
		e.must(e.admin, "DELETE", "/api/orgs/acme/members/dave", nil, 204, nil)
		e.fails(bound, "GET", "/api/user/pending-invites", nil, 403, "exchanged")
	})
}

// TestAttack2AddingAnOutsiderNeedsInvitesCreate: adding a login this
// organization does not manage sends an invitation, so it needs the scope
// that sends invitations. A role given org_member:add but not
// invites:create (its author chose not to let it invite) must not invite
// through the members route.
func TestAttack2AddingAnOutsiderNeedsInvitesCreate(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, e *env) {
		e.newOrg("carols", "carol")
		rid := e.customRole("adder", allowDetails("org_member:add", "org_member:read"))
		adder := e.orgToken("adder", rid)
		// The invitation's role (the default) is the adder's own: within what
		// it holds, so only the missing scope can refuse it.
		e.must(e.admin, "PATCH", "/api/orgs/acme/roles/"+rid+"/default", nil, 204, nil)
		e.fails(adder, "POST", "/api/orgs/acme/members/carol", nil, 403, "invites:create")
		var list struct{ Invites []struct{ ID string } }
		e.must(e.admin, "GET", "/api/orgs/acme/invites", nil, 200, &list)
		if len(list.Invites) != 0 {
			t.Fatalf("the refused add left invitations: %+v", list)
		}
		// With invites:create as well it invites (202).
		e.must(e.admin, "PATCH", "/api/orgs/acme/roles/"+rid, map[string]any{"details": allowDetails("org_member:add", "org_member:read", "invites:create")}, 200, nil)
		e.must(adder, "POST", "/api/orgs/acme/members/carol", nil, 202, nil)
	})
}

// TestAttack2AcceptInviteURLIsTheInvitationsPage: the link an invitation
// carries is the console's invitations page (/console/-/invites), not
// /console/invites, which is the overview of an organization named
// "invites" (that anyone may create).
func TestAttack2AcceptInviteURLIsTheInvitationsPage(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, e *env) {
		e.newOrg("carols", "carol")
		var inv struct {
			AcceptInviteURL string `json:"acceptInviteUrl"`
		}
		e.must(e.admin, "POST", "/api/orgs/acme/invites", map[string]any{"userLogin": "carol"}, 201, &inv)
		if inv.AcceptInviteURL != "/console/-/invites" {
			t.Fatalf("acceptInviteUrl = %q, want /console/-/invites", inv.AcceptInviteURL)
		}
	})
}
