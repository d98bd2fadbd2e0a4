package service_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
)

const testMetadata = `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example/metadata">
<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>MIIB</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example/sso"/>
</IDPSSODescriptor></EntityDescriptor>`

func TestUpdateSSO(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		bad := []struct {
			name string
			in   service.SSOInput
			want string
		}{
			{"plain http issuer", service.SSOInput{Issuer: ptr("http://idp.example"), ClientID: ptr("c")}, "issuer: "},
			{"issuer with credentials", service.SSOInput{Issuer: ptr("https://u:p@idp.example"), ClientID: ptr("c")}, "issuer: "},
			{"issuer without client", service.SSOInput{Issuer: ptr("https://idp.example")}, "clientId: required"},
			{"bad claim", service.SSOInput{UserClaim: ptr("e mail")}, "userClaim: "},
			{"not metadata", service.SSOInput{IdPMetadata: ptr("<html/>")}, "idpSsoDescriptor: not SAML metadata"},
			{"SP metadata", service.SSOInput{IdPMetadata: ptr(`<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>`)}, "no IDPSSODescriptor"},
			{"a set as role", service.SSOInput{DefaultRoleID: ptr(builtinID(t, e, "stack-read"))}, "not a role"},
			{"no such role", service.SSOInput{DefaultRoleID: ptr(gatehouse.NewID())}, "defaultRoleId: role"},
			{"bad domain", service.SSOInput{EmailDomains: &[]string{"example.com", "not a domain"}}, "emailDomains[1]: "},
			{"a URL as domain", service.SSOInput{EmailDomains: &[]string{"https://example.com"}}, "emailDomains[0]: "},
		}
		for _, c := range bad {
			_, err := e.Svc.UpdateSSO(ctx, e.Org.ID, c.in)
			wantCode(t, c.name, err, gatehouse.EINVALID, c.want)
		}
		if _, err := e.Svc.SSO(ctx, e.Org.ID); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			t.Fatalf("bad input stored something: %v", err)
		}
		v, err := e.Svc.UpdateSSO(ctx, e.Org.ID, service.SSOInput{Issuer: ptr("https://idp.example"), ClientID: ptr("c"),
			ClientSecret: ptr("top-secret-value"), IdPMetadata: ptr(testMetadata), AllowCreate: ptr(true)})
		if err != nil {
			t.Fatal(err)
		}
		if !v.HasSecret || v.SecretSealed != nil || v.IdP == nil || v.DefaultRole == nil || v.DefaultRole.ID != e.Org.Settings.DefaultRoleID {
			t.Errorf("view = %+v", v)
		}
		// The secret is stored sealed, and opens for the sign-in.
		e.DB.Read(ctx, func(tx gatehouse.Tx) error {
			c, err := tx.GetSSO(ctx, e.Org.ID)
			if err != nil || bytes.Contains(c.SecretSealed, []byte("top-secret-value")) || len(c.SecretKey) == 0 {
				t.Errorf("stored secret: %v %q", err, c.SecretSealed)
			}
			return nil
		})
		client, _, err := e.Svc.OIDCClient(ctx, e.Org.ID)
		if err != nil || client.ClientSecret != "top-secret-value" {
			t.Errorf("client = %+v, %v", client, err)
		}
		// The store counts it as sealed, so that serve refuses a new
		// master key over it.
		if sealed, err := e.DB.Sealed(ctx); err != nil || sealed.OIDCSecrets != 1 || !sealed.Any() {
			t.Errorf("Sealed = %+v, %v", sealed, err)
		}
		// A change of other fields keeps the secret.
		if _, err := e.Svc.UpdateSSO(ctx, e.Org.ID, service.SSOInput{UserClaim: ptr("preferred_username")}); err != nil {
			t.Fatal(err)
		}
		if client, _, _ := e.Svc.OIDCClient(ctx, e.Org.ID); client.ClientSecret != "top-secret-value" {
			t.Error("the secret was lost")
		}
	})
}

func builtinID(t *testing.T, e *testenv.Env, ident string) string {
	t.Helper()
	d, err := e.Svc.Builtin(context.Background(), e.Org.ID, ident)
	if err != nil {
		t.Fatal(err)
	}
	return d.ID
}

func TestSignInSSO(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		who := service.SSOIdentity{Protocol: service.ProtocolOIDC, Subject: "carol@example.com", Email: "carol@example.com"}
		_, err := e.Svc.SignInSSO(ctx, e.Org.ID, who, time.Hour)
		wantCode(t, "no SSO settings", err, gatehouse.ENOTFOUND, "")
		if _, err := e.Svc.UpdateSSO(ctx, e.Org.ID, service.SSOInput{IdPMetadata: ptr(testMetadata)}); err != nil {
			t.Fatal(err)
		}
		_, err = e.Svc.SignInSSO(ctx, e.Org.ID, who, time.Hour)
		wantCode(t, "a stranger", err, gatehouse.EFORBIDDEN, "does not let a first sign-in create members")
		_, err = e.Svc.SignInSSO(ctx, e.Org.ID, service.SSOIdentity{Subject: "bad login!"}, time.Hour)
		wantCode(t, "a subject that makes no login", err, gatehouse.EINVALID, "does not make a valid login")
		// A user of another organization is not taken over by this one's
		// provider, even with first sign-ins allowed.
		if _, err := e.Svc.CreateOrgWithAdmin(ctx, "beta", "dave", false); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.UpdateSSO(ctx, e.Org.ID, service.SSOInput{AllowCreate: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		_, err = e.Svc.SignInSSO(ctx, e.Org.ID, service.SSOIdentity{Subject: "dave"}, time.Hour)
		wantCode(t, "another organization's user", err, gatehouse.EFORBIDDEN, "must invite them")
		// Limited to a domain, a first sign-in needs a verified address
		// there.
		if _, err := e.Svc.UpdateSSO(ctx, e.Org.ID, service.SSOInput{EmailDomains: &[]string{" Example.com ", "example.com"}}); err != nil {
			t.Fatal(err)
		}
		if v, _ := e.Svc.SSO(ctx, e.Org.ID); len(v.EmailDomains) != 1 || v.EmailDomains[0] != "example.com" {
			t.Errorf("domains = %q", v.EmailDomains)
		}
		_, err = e.Svc.SignInSSO(ctx, e.Org.ID, service.SSOIdentity{Subject: "frank@evil.example", Email: "frank@evil.example", EmailVerified: true}, time.Hour)
		wantCode(t, "another domain", err, gatehouse.EFORBIDDEN, "in example.com")
		_, err = e.Svc.SignInSSO(ctx, e.Org.ID, service.SSOIdentity{Subject: "frank@example.com", Email: "frank@example.com"}, time.Hour)
		wantCode(t, "an unverified address", err, gatehouse.EFORBIDDEN, "in example.com")
		_, err = e.Svc.SignInSSO(ctx, e.Org.ID, service.SSOIdentity{Subject: "frank"}, time.Hour)
		wantCode(t, "no verified address", err, gatehouse.EFORBIDDEN, "in example.com")
		if out, err := e.Svc.SignInSSO(ctx, e.Org.ID, service.SSOIdentity{Subject: "grace@example.com", Email: "grace@Example.com", EmailVerified: true}, time.Hour); err != nil || !out.Created {
			t.Errorf("a first sign-in in the domain: %+v %v", out, err)
		}
		// An existing member signs in as themselves.
		out, err := e.Svc.SignInSSO(ctx, e.Org.ID, service.SSOIdentity{Subject: "admin"}, time.Hour)
		if err != nil || out.Created || out.User.Login != "admin" {
			t.Fatalf("member sign-in: %+v %v", out, err)
		}
		id, err := e.Authz.AuthenticateDigest(out.Session.TokenDigest)
		if err != nil || id.Token.OrgID != e.Org.ID || id.Token.Kind != gatehouse.TokenPersonal {
			t.Errorf("session token: %+v %v", id, err)
		}
	})
}

// TestSignInSSOConcurrent: a first sign-in that many requests make at once
// (a user double-clicking, replicas behind a balancer) creates the user and
// the membership once; every request gets a session.
func TestSignInSSOConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		if _, err := e.Svc.UpdateSSO(ctx, e.Org.ID, service.SSOInput{IdPMetadata: ptr(testMetadata), AllowCreate: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		created, ok := 0, 0
		for range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := e.Svc.SignInSSO(ctx, e.Org.ID, service.SSOIdentity{Protocol: service.ProtocolSAML, Subject: "erin@example.com"}, time.Hour)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("sign-in: %v", err)
					return
				}
				ok++
				if out.Created {
					created++
				}
			}()
		}
		wg.Wait()
		if ok != 12 || created != 1 {
			t.Errorf("%d sign-ins, %d created the user; want 12 and 1", ok, created)
		}
		if _, err := e.Svc.Member(ctx, e.Org.ID, "erin_example.com"); err != nil {
			t.Error(err)
		}
	})
}

// TestSignInSSOProvisionedUser: a person SCIM provisioned under their
// address (Okta's and Entra ID's userName) signs in as that user when the
// provider names them by it, rather than as a new "_" login; a subject no
// login matches still takes the "_" form.
func TestSignInSSOProvisionedUser(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		if _, err := e.Svc.UpdateSSO(ctx, e.Org.ID, service.SSOInput{IdPMetadata: ptr(testMetadata), AllowCreate: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		provisioned, err := e.Svc.CreateSCIMUser(ctx, e.Org.ID, service.SCIMUserPatch{UserName: ptr("alice@example.com"), Active: ptr(true)})
		if err != nil {
			t.Fatal(err)
		}
		for _, protocol := range []string{service.ProtocolOIDC, service.ProtocolSAML} {
			out, err := e.Svc.SignInSSO(ctx, e.Org.ID, service.SSOIdentity{Protocol: protocol, Subject: "alice@example.com", Email: "alice@example.com"}, time.Hour)
			if err != nil || out.Created || out.User.ID != provisioned.User.ID {
				t.Fatalf("%s sign-in of the provisioned user: %+v %v", protocol, out, err)
			}
		}
		if _, err := e.Svc.Member(ctx, e.Org.ID, "alice_example.com"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			t.Errorf("a second user was made for the provisioned one: %v", err)
		}
		out, err := e.Svc.SignInSSO(ctx, e.Org.ID, service.SSOIdentity{Protocol: service.ProtocolSAML, Subject: "bob@example.com"}, time.Hour)
		if err != nil || !out.Created || out.User.Login != "bob_example.com" {
			t.Errorf("a new subject: %+v %v", out, err)
		}
		// Deprovisioned, the provisioned user is refused.
		if _, err := e.Svc.UpdateSCIMUser(ctx, e.Org.ID, provisioned.User.ID, service.SCIMUserPatch{Active: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		_, err = e.Svc.SignInSSO(ctx, e.Org.ID, service.SSOIdentity{Protocol: service.ProtocolOIDC, Subject: "alice@example.com"}, time.Hour)
		wantCode(t, "a deprovisioned user", err, gatehouse.EFORBIDDEN, "deactivated the user")
	})
}

// TestSignInSSODeactivated: a member SCIM deactivated signs in through SSO
// no more, nor mints a CLI token from a session opened before: the
// deprovisioning revoked every token of theirs, and one made after it
// would come back to life when SCIM activates them again. A user that
// another organization manages and deactivated is refused too, as
// personal tokens are.
func TestSignInSSODeactivated(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := scimCtx(context.Background())
		if _, err := e.Svc.UpdateSSO(ctx, e.Org.ID, service.SSOInput{IdPMetadata: ptr(testMetadata), AllowCreate: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		dana, err := e.Svc.CreateSCIMUser(ctx, e.Org.ID, service.SCIMUserPatch{UserName: ptr("dana")})
		if err != nil {
			t.Fatal(err)
		}
		who := service.SSOIdentity{Protocol: service.ProtocolSAML, Subject: "dana"}
		before, err := e.Svc.SignInSSO(ctx, e.Org.ID, who, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		id, err := e.Authz.AuthenticateDigest(before.Session.TokenDigest)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.UpdateSCIMUser(ctx, e.Org.ID, dana.User.ID, service.SCIMUserPatch{Active: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		_, err = e.Svc.SignInSSO(ctx, e.Org.ID, who, time.Hour)
		wantCode(t, "signing in deactivated", err, gatehouse.EFORBIDDEN, "dana cannot sign in: the organization's provisioning (SCIM) has deactivated the user")
		// A request that authenticated the session before the
		// deprovisioning mints nothing after it.
		_, err = e.Svc.CLIToken(ctx, id, "pulumi login")
		wantCode(t, "a CLI token of a session from before", err, gatehouse.EFORBIDDEN, "deactivated")
		if _, err := e.Svc.UpdateSCIMUser(ctx, e.Org.ID, dana.User.ID, service.SCIMUserPatch{Active: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Authz.AuthenticateDigest(before.Session.TokenDigest); err == nil {
			t.Error("the session opened before the deprovisioning works again")
		}
		live, _, err := e.Svc.Tokens(ctx, service.TokenFilter{TokenFilter: gatehouse.TokenFilter{UserID: dana.User.ID, Kind: gatehouse.TokenPersonal}})
		if err != nil || len(live) != 0 {
			t.Errorf("%d live personal tokens of dana after the deprovisioning, want 0 (%v)", len(live), err)
		}
		if _, err := e.Svc.SignInSSO(ctx, e.Org.ID, who, time.Hour); err != nil {
			t.Errorf("signing in activated again: %v", err)
		}

		// hank is beta's, a member of acme by invitation; beta deactivates
		// him.
		beta, err := e.Svc.CreateOrgWithAdmin(ctx, "beta", "boss", false)
		if err != nil {
			t.Fatal(err)
		}
		hank, err := e.Svc.CreateSCIMUser(ctx, beta.Org.ID, service.SCIMUserPatch{UserName: ptr("hank")})
		if err != nil {
			t.Fatal(err)
		}
		inv, err := e.Svc.Invite(ctx, e.Org.ID, service.InviteInput{Login: "hank"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.AcceptInvite(ctx, hank.User, inv.Invite.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.UpdateSCIMUser(ctx, beta.Org.ID, hank.User.ID, service.SCIMUserPatch{Active: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		_, err = e.Svc.SignInSSO(ctx, e.Org.ID, service.SSOIdentity{Protocol: service.ProtocolSAML, Subject: "hank"}, time.Hour)
		wantCode(t, "signing in deactivated by the managing organization", err, gatehouse.EFORBIDDEN, "manages this user has deactivated them")
	})
}
