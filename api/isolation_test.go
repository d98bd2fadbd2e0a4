package api_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
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
	si := newStaticIssuer(e.t, "https://idp.invalid/"+org)
	var iss issuerResp
	e.must(orgToken, "POST", "/api/orgs/"+org+"/oidc/issuers", map[string]any{"name": "own", "url": si.url, "jwks": si.jwks()}, 200, &iss)
	var pol struct{ ID string }
	e.must(orgToken, "GET", "/api/orgs/"+org+"/auth/policies/oidcissuers/"+iss.ID, nil, 200, &pol)
	e.must(orgToken, "PATCH", "/api/orgs/"+org+"/auth/policies/"+pol.ID, map[string]any{"policies": []any{
		map[string]any{"decision": "allow", "tokenType": "personal", "userLogin": login, "rules": map[string]string{"sub": "*"}}}}, 200, nil)
	return e.exchange(si.sign(e.t, org, "ci"), "personal", "user:"+login, false, map[string]string{"audience": "urn:pulumi:org:" + org})
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
