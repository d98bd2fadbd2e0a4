package api_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse-iam/gatehouse"
)

// staticIssuer is an issuer an organization's admin invents: a URL that
// serves nothing and a key set of its own, registered statically.
type staticIssuer struct {
	url string
	key *rsa.PrivateKey
}

func newStaticIssuer(t testing.TB, url string) *staticIssuer {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &staticIssuer{url: url, key: k}
}

func (si *staticIssuer) jwks() json.RawMessage {
	b, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &si.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	return b
}

func (si *staticIssuer) sign(t testing.TB, aud, sub string) string {
	t.Helper()
	now := time.Now()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: si.key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := jwt.Signed(signer).Claims(map[string]any{"iss": si.url, "aud": aud, "sub": sub, "iat": now.Unix(),
		"nbf": now.Unix() - 5, "exp": now.Add(5 * time.Minute).Unix()}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// newOrg creates another organization with its own admin (a user the
// organization manages, as `gatehouse admin org create` makes them) and
// returns the admin's personal token.
func (e *env) newOrg(name, admin string) string {
	e.t.Helper()
	res, err := e.svc.CreateOrgWithAdmin(context.Background(), name, admin, false)
	if err != nil {
		e.t.Fatal(err)
	}
	if res.Token == "" {
		e.t.Fatalf("org create %s: no token for %s", name, admin)
	}
	return res.Token
}

// mintPersonal registers a static issuer in org, allows personal tokens
// for login and exchanges a signed ID token for one.
func (e *env) mintPersonal(orgToken, org, login string) (int, exchangeResult) {
	e.t.Helper()
	si := e.personalIssuer(orgToken, org, login)
	return e.exchange(si.sign(e.t, org, "ci"), "personal", "user:"+login, false, map[string]string{"audience": "urn:pulumi:org:" + org})
}

// personalIssuer registers an issuer in org whose policy allows personal
// tokens of login.
func (e *env) personalIssuer(orgToken, org, login string) *staticIssuer {
	e.t.Helper()
	si := newStaticIssuer(e.t, "https://idp.invalid/"+org)
	var iss issuerResp
	e.must(orgToken, "POST", "/api/orgs/"+org+"/oidc/issuers", map[string]any{"name": "own", "url": si.url, "jwks": si.jwks()}, 200, &iss)
	var pol struct{ ID string }
	e.must(orgToken, "GET", "/api/orgs/"+org+"/auth/policies/oidcissuers/"+iss.ID, nil, 200, &pol)
	e.must(orgToken, "PATCH", "/api/orgs/"+org+"/auth/policies/"+pol.ID, map[string]any{"policies": []any{
		map[string]any{"decision": "allow", "tokenType": "personal", "userLogin": login, "rules": map[string]string{"sub": "*"}}}}, 200, nil)
	return si
}

// TestAttackOtherOrgAdminMintsPersonalToken is issue 12's scenario: the
// admin of org B adds org A's admin to B, registers an issuer of its own
// in B, allows personal tokens for that login and exchanges one. The token
// must never act in org A, and adding an existing login must not make it a
// member without its consent.
func TestAttackOtherOrgAdminMintsPersonalToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mallory := e.newOrg("evil", "mallory")

	// Adding acme's admin to evil invites them: no membership yet.
	e.must(mallory, "POST", "/api/orgs/evil/members/admin", map[string]any{"role": "admin"}, 202, nil)
	var members struct {
		Members []struct{ User struct{ GitHubLogin string } }
	}
	e.must(mallory, "GET", "/api/orgs/evil/members", nil, 200, &members)
	for _, m := range members.Members {
		if m.User.GitHubLogin == "admin" {
			t.Fatalf("adding an existing login made it a member without its consent")
		}
	}
	// So the exchange finds no member to mint for.
	if status, res := e.mintPersonal(mallory, "evil", "admin"); status == 200 {
		e.fails(res.AccessToken, "GET", "/api/orgs/acme/members", nil, 401, "unauthorized")
		t.Fatalf("evil minted a personal token for a login that is not its member")
	}
	// acme's admin still reaches acme, and evil is not among its orgs.
	var u struct {
		Organizations []struct{ GitHubLogin string }
	}
	e.must(e.admin, "GET", "/api/user", nil, 200, &u)
	if len(u.Organizations) != 1 || u.Organizations[0].GitHubLogin != "acme" {
		t.Fatalf("acme's admin is in %+v", u.Organizations)
	}
}

// TestExchangedPersonalTokenStaysInItsOrg: even for a user who really is a
// member of both organizations, a personal token minted by org B's issuer
// and policy acts in B only: 401 in A, and it cannot make itself a token
// that would reach A.
func TestExchangedPersonalTokenStaysInItsOrg(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mallory := e.newOrg("evil", "mallory")
	// acme's admin joins evil for real (with consent, as a member).
	ctx := context.Background()
	err := e.db.Write(ctx, func(tx gatehouse.Tx) error {
		org, err := tx.GetOrgByName(ctx, "evil")
		if err != nil {
			return err
		}
		u, err := tx.GetUserByLogin(ctx, "admin")
		if err != nil {
			return err
		}
		return tx.AddMember(ctx, &gatehouse.Membership{OrgID: org.ID, UserID: u.ID, RoleID: org.Settings.DefaultRoleID})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.az.LoadAll(ctx); err != nil {
		t.Fatal(err)
	}
	status, res := e.mintPersonal(mallory, "evil", "admin")
	if status != 200 {
		t.Fatalf("exchange: %d %+v", status, res)
	}
	tok := res.AccessToken
	// It acts in evil, as the user.
	e.must(tok, "GET", "/api/orgs/evil/members", nil, 200, nil)
	// Nowhere in acme.
	for _, path := range []string{"/api/orgs/acme/members", "/api/orgs/acme/roles?uxPurpose=role", "/api/orgs/acme/tokens",
		"/api/user/stacks?organization=acme"} {
		e.fails(tok, "GET", path, nil, 401, "unauthorized")
	}
	e.fails(tok, "POST", "/api/orgs/acme/members/mallory", map[string]any{"role": "admin"}, 401, "unauthorized")
	// It cannot mint an unbound personal token, nor manage the user's.
	e.fails(tok, "POST", "/api/user/tokens", map[string]any{"description": "escape"}, 403, "exchanged")
	e.fails(tok, "GET", "/api/user/tokens", nil, 403, "exchanged")
	// It sees only its organization.
	var u struct {
		Organizations []struct{ GitHubLogin string }
	}
	e.must(tok, "GET", "/api/user", nil, 200, &u)
	if len(u.Organizations) != 1 || u.Organizations[0].GitHubLogin != "evil" {
		t.Errorf("an evil-bound token lists organizations %+v", u.Organizations)
	}
	var def struct{ GitHubLogin string }
	e.must(tok, "GET", "/api/user/organizations/default", nil, 200, &def)
	if def.GitHubLogin != "evil" {
		t.Errorf("default organization of an evil-bound token = %q", def.GitHubLogin)
	}
	// acme's audit log records nothing of evil's token; evil's records it.
	// And the user's own token still works in both.
	e.must(e.admin, "GET", "/api/orgs/acme/members", nil, 200, nil)
	e.must(e.admin, "GET", "/api/orgs/evil/members", nil, 200, nil)
}

// TestInvitations: an invitation carries its role, only its user answers
// it, once, and every step is in the organization's audit log.
func TestInvitations(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, e *env) {
		carol := e.newOrg("carols", "carol")
		dave := e.newOrg("daves", "dave")
		roles := e.roles("role")

		// A user acme manages (created under a new login) is added directly.
		e.must(e.admin, "POST", "/api/orgs/acme/members/bob", nil, 200, nil)
		// An unknown login cannot be invited; bad input changes nothing.
		e.fails(e.admin, "POST", "/api/orgs/acme/invites", map[string]any{"userLogin": "nobody"}, 404, "not found")
		e.fails(e.admin, "POST", "/api/orgs/acme/invites", map[string]any{"userLogin": "carol", "roleId": "nope"}, 400, "roleId")
		e.fails(e.admin, "POST", "/api/orgs/acme/invites", map[string]any{"userLogin": "carol", "expires": time.Now().Add(-time.Hour).Unix()}, 400, "expires")
		e.fails(e.admin, "POST", "/api/orgs/acme/invites", map[string]any{"userLogin": "bob"}, 409, "already a member")

		var inv struct {
			ID, Role, RoleID, Organization, Status string
			User                                   struct{ GitHubLogin string }
		}
		e.must(e.admin, "POST", "/api/orgs/acme/invites", map[string]any{"userLogin": "carol", "roleId": roles["Reader"].ID}, 201, &inv)
		if inv.RoleID != roles["Reader"].ID || inv.User.GitHubLogin != "carol" || inv.Organization != "acme" || inv.Status != "pending" {
			t.Fatalf("invite = %+v", inv)
		}
		e.fails(e.admin, "POST", "/api/orgs/acme/invites", map[string]any{"userLogin": "carol"}, 409, "pending invitation")
		var list struct{ Invites []struct{ ID string } }
		e.must(e.admin, "GET", "/api/orgs/acme/invites", nil, 200, &list)
		if len(list.Invites) != 1 || list.Invites[0].ID != inv.ID {
			t.Fatalf("invites = %+v", list)
		}
		// Until carol accepts she is no member of acme.
		e.fails(carol, "GET", "/api/orgs/acme/members", nil, 404, "not found")
		// Only carol sees and answers it; dave cannot, nor a bad id.
		var pending struct {
			Invites []struct{ ID, Organization string }
		}
		e.must(dave, "GET", "/api/user/pending-invites", nil, 200, &pending)
		if len(pending.Invites) != 0 {
			t.Fatalf("dave sees %+v", pending)
		}
		e.fails(dave, "POST", "/api/user/pending-invites/"+inv.ID+"/accept", nil, 404, "not found")
		e.must(carol, "GET", "/api/user/pending-invites", nil, 200, &pending)
		if len(pending.Invites) != 1 || pending.Invites[0].Organization != "acme" {
			t.Fatalf("carol's pending invites = %+v", pending)
		}
		// An organization token of acme cannot accept for anyone.
		orgTok := e.orgToken("ci", "")
		e.fails(orgTok, "POST", "/api/user/pending-invites/"+inv.ID+"/accept", nil, 403, "users")
		// The admin changes the role before carol accepts.
		e.must(e.admin, "PATCH", "/api/orgs/acme/invites/"+inv.ID, map[string]any{"role": "member"}, 200, nil)
		e.must(carol, "POST", "/api/user/pending-invites/"+inv.ID+"/accept", nil, 200, nil)
		var members struct {
			Members []struct {
				User    struct{ GitHubLogin string }
				FGARole struct{ ID string } `json:"fgaRole"`
			}
		}
		e.must(carol, "GET", "/api/orgs/acme/members", nil, 200, &members)
		found := false
		for _, m := range members.Members {
			if m.User.GitHubLogin == "carol" {
				found = m.FGARole.ID == roles["Member"].ID
			}
		}
		if !found {
			t.Errorf("carol did not join with the invitation's role: %+v", members)
		}
		// Once: a second accept finds nothing.
		e.fails(carol, "POST", "/api/user/pending-invites/"+inv.ID+"/accept", nil, 404, "not found")

		// Dave declines; a revoked invitation cannot be accepted.
		var d struct{ ID string }
		e.must(e.admin, "POST", "/api/orgs/acme/invites", map[string]any{"userLogin": "dave"}, 201, &d)
		e.must(dave, "POST", "/api/user/pending-invites/"+d.ID+"/decline", nil, 204, nil)
		e.fails(dave, "POST", "/api/user/pending-invites/"+d.ID+"/accept", nil, 404, "not found")
		e.must(e.admin, "POST", "/api/orgs/acme/invites", map[string]any{"userLogin": "dave"}, 201, &d)
		e.must(e.admin, "DELETE", "/api/orgs/acme/invites/"+d.ID, nil, 204, nil)
		e.fails(dave, "POST", "/api/user/pending-invites/"+d.ID+"/accept", nil, 404, "not found")
		e.fails(dave, "GET", "/api/orgs/acme/members", nil, 404, "not found")
		// Another organization's admin cannot see or revoke acme's invitations.
		e.must(e.admin, "POST", "/api/orgs/acme/invites", map[string]any{"userLogin": "dave"}, 201, &d)
		e.fails(carol, "DELETE", "/api/orgs/carols/invites/"+d.ID, nil, 404, "not found")

		// An expired invitation cannot be accepted.
		if err := e.rawExec("UPDATE invitations SET expires = 1 WHERE id = ?", d.ID); err != nil {
			t.Fatal(err)
		}
		e.fails(dave, "POST", "/api/user/pending-invites/"+d.ID+"/accept", nil, 400, "expired")
		// ... and gives way to a new one.
		e.must(e.admin, "POST", "/api/orgs/acme/invites", map[string]any{"userLogin": "dave"}, 201, nil)

		for _, typ := range []string{gatehouse.EventInviteCreated, gatehouse.EventInviteUpdated, gatehouse.EventInviteAccepted,
			gatehouse.EventInviteDeclined, gatehouse.EventInviteRevoked} {
			if e.countEvents(typ) == 0 {
				t.Errorf("no %s event", typ)
			}
		}
	})
}

// TestPersonalTokensAuditedInEachOrg: a personal token is recorded in
// every organization of its user when it is made, and organization and
// team tokens in theirs.
func TestPersonalTokensAuditedInEachOrg(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	carol := e.newOrg("carols", "carol")
	var inv struct{ ID string }
	e.must(e.admin, "POST", "/api/orgs/acme/invites", map[string]any{"userLogin": "carol"}, 201, &inv)
	e.must(carol, "POST", "/api/user/pending-invites/"+inv.ID+"/accept", nil, 200, nil)
	var tok struct{ ID string }
	e.must(carol, "POST", "/api/user/tokens", map[string]any{"description": "laptop"}, 200, &tok)
	for _, org := range []string{"acme", "carols"} {
		var out struct {
			AuditLogEvents []struct{ Event, Description string } `json:"auditLogEvents"`
		}
		token := e.admin
		if org == "carols" {
			token = carol
		}
		e.must(token, "GET", "/api/orgs/"+org+"/auditlogs/v2?eventFilter="+gatehouse.EventTokenCreated, nil, 200, &out)
		found := false
		for _, ev := range out.AuditLogEvents {
			if ev.Event == gatehouse.EventTokenCreated && strings.Contains(ev.Description, "laptop") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s's audit log does not record carol's new personal token: %+v", org, out.AuditLogEvents)
		}
	}
}
