package web_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api"
)

// oidcAuthorize starts an OIDC sign-in and returns the provider's
// authorize URL, which passes through the browser (and so an attacker).
func (e *ssoEnv) oidcAuthorize(b *ssoBrowser) *url.URL {
	e.t.Helper()
	status, h, body := b.do("GET", e.gh.URL+"/console/-/sso/acme", nil)
	if status != 303 {
		e.t.Fatalf("start: %d %s", status, body)
	}
	u, err := url.Parse(h.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// oidcCallback logs user in at the provider from an authorize URL and
// returns Gatehouse's callback URL with the code and state.
func (e *ssoEnv) oidcCallback(b *ssoBrowser, authorize *url.URL, user string) *url.URL {
	e.t.Helper()
	loginURL, status, body := b.follow(authorize.String())
	if status != 200 {
		e.t.Fatalf("OP login page: %d %s", status, body)
	}
	lu, _ := url.Parse(loginURL)
	status, h, body := b.do("POST", e.op.URL+"/login/username", url.Values{"username": {user}, "password": {"pw-" + user},
		"id": {lu.Query().Get("authRequestID")}})
	if status != 302 {
		e.t.Fatalf("OP login: %d %s", status, body)
	}
	cb, _ := url.Parse(e.followTo(b, h.Get("Location"), e.op.URL))
	return cb
}

func TestOIDCAttacks(t *testing.T) {
	eachSSO(t, func(t *testing.T, e *ssoEnv) {
		e.configureOIDC(true, "gatehouse")
		refused := func(t *testing.T, b *ssoBrowser, cb *url.URL, status int, want string) {
			t.Helper()
			got, _, body := b.do("GET", cb.String(), nil)
			if got != status || !strings.Contains(body, want) {
				t.Errorf("callback: %d, want %d with %q\n%.400s", got, status, want, body)
			}
			if signedIn(b, e.gh.URL) {
				t.Error("the refused sign-in has a session")
			}
		}
		tamper := func(u *url.URL, key, value string) *url.URL {
			q := u.Query()
			q.Set(key, value)
			v := *u
			v.RawQuery = q.Encode()
			return &v
		}
		t.Run("wrong state", func(t *testing.T) {
			b := e.browser()
			cb := e.oidcCallback(b, e.oidcAuthorize(b), "alice")
			refused(t, b, tamper(cb, "state", strings.Repeat("0", 64)), 400, "not started in this browser")
		})
		t.Run("another browser's callback", func(t *testing.T) {
			victim, attacker := e.browser(), e.browser()
			cb := e.oidcCallback(attacker, e.oidcAuthorize(attacker), "mallory")
			// Login CSRF: the victim is made to open the attacker's callback.
			refused(t, victim, cb, 400, "not started in this browser")
		})
		t.Run("replayed callback", func(t *testing.T) {
			b := e.browser()
			cb := e.oidcCallback(b, e.oidcAuthorize(b), "alice")
			if status, _, body := b.do("GET", cb.String(), nil); status != 200 {
				t.Fatalf("first use: %d %s", status, body)
			}
			refused(t, e.browser(), cb, 400, "not started in this browser")
			// Even with the state's cookie: the state is good once.
			again := e.browser()
			e.setState(again, cb.Query().Get("state"))
			refused(t, again, cb, 400, "used already")
		})
		t.Run("wrong nonce", func(t *testing.T) {
			b := e.browser()
			cb := e.oidcCallback(b, tamper(e.oidcAuthorize(b), "nonce", "attacker-chosen-nonce"), "alice")
			refused(t, b, cb, 401, "could not be verified")
		})
		t.Run("PKCE verifier mismatch", func(t *testing.T) {
			b := e.browser()
			// The challenge of a verifier the attacker holds.
			cb := e.oidcCallback(b, tamper(e.oidcAuthorize(b), "code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"), "alice")
			refused(t, b, cb, 401, "could not be verified")
		})
		t.Run("a code for another client", func(t *testing.T) {
			b := e.browser()
			cb := e.oidcCallback(b, tamper(e.oidcAuthorize(b), "client_id", "other"), "alice")
			refused(t, b, cb, 401, "could not be verified")
		})
		t.Run("a code from another sign-in", func(t *testing.T) {
			// The attacker's code, injected into the victim's own flow: the
			// victim's PKCE verifier and nonce do not fit it.
			attacker, victim := e.browser(), e.browser()
			stolen := e.oidcCallback(attacker, e.oidcAuthorize(attacker), "mallory")
			mine := e.oidcCallback(victim, e.oidcAuthorize(victim), "alice")
			refused(t, victim, tamper(mine, "code", stolen.Query().Get("code")), 401, "could not be verified")
		})
		t.Run("audited", func(t *testing.T) {
			// The failures so far are authentication failures in acme's audit
			// log (written in the background).
			if n := e.waitEvents(gatehouse.EventAuthFailure, "single sign-on failed", 5); n < 5 {
				t.Errorf("%d SSO failures audited, want at least 5", n)
			}
		})
		t.Run("provider error", func(t *testing.T) {
			b := e.browser()
			a := e.oidcAuthorize(b)
			cb, _ := url.Parse(e.gh.URL + "/console/-/sso/acme/oidc/callback?error=access_denied&state=" + a.Query().Get("state"))
			refused(t, b, cb, 401, "access_denied")
		})
	})
}

// misbehaving is an IdP that changes its assertions before signing them.
type misbehaving struct{ change func(*saml.Assertion) }

func (m misbehaving) MakeAssertion(req *saml.IdpAuthnRequest, s *saml.Session) error {
	if err := (saml.DefaultAssertionMaker{}).MakeAssertion(req, s); err != nil {
		return err
	}
	if m.change != nil {
		m.change(req.Assertion)
	}
	return nil
}

var signatureRE = regexp.MustCompile(`(?s)<ds:Signature.*?</ds:Signature>`)

// samlAssertionAttacks are assertions the IdP signs that Gatehouse must
// refuse, in plain (TestSAMLAttacks) and encrypted
// (TestSAMLEncryptedAttacks).
var samlAssertionAttacks = []struct {
	name   string
	change func(*saml.Assertion)
}{
	{"wrong audience", func(a *saml.Assertion) {
		a.Conditions.AudienceRestrictions = []saml.AudienceRestriction{{Audience: saml.Audience{Value: "https://another.example/sp"}}}
	}},
	{"expired", func(a *saml.Assertion) {
		past := time.Now().Add(-time.Hour)
		a.Conditions.NotOnOrAfter = past
		for i := range a.Subject.SubjectConfirmations {
			a.Subject.SubjectConfirmations[i].SubjectConfirmationData.NotOnOrAfter = past
		}
	}},
	{"not yet valid", func(a *saml.Assertion) { a.Conditions.NotBefore = time.Now().Add(time.Hour) }},
	{"transient NameID", func(a *saml.Assertion) {
		a.Subject.NameID.Format = string(saml.TransientNameIDFormat)
		a.Subject.NameID.Value = "_8f2a0c"
	}},
	{"wrong recipient", func(a *saml.Assertion) {
		for i := range a.Subject.SubjectConfirmations {
			a.Subject.SubjectConfirmations[i].SubjectConfirmationData.Recipient = "https://another.example/acs"
		}
	}},
}

// runAssertionAttacks has the IdP make each of samlAssertionAttacks and
// checks that Gatehouse refuses it.
func (e *ssoEnv) runAssertionAttacks(t *testing.T) {
	idpSays := func(change func(*saml.Assertion)) {
		e.sidp.IDP.AssertionMaker = misbehaving{change}
	}
	t.Cleanup(func() { idpSays(nil) })
	for _, c := range samlAssertionAttacks {
		t.Run(c.name, func(t *testing.T) {
			idpSays(c.change)
			defer idpSays(nil)
			b := e.browser()
			acs, form := e.samlResponse(b, "alice")
			want := "could not be verified"
			if c.name == "transient NameID" {
				want = "transient NameID"
			}
			e.refusedPost(t, b, acs, form, 401, want)
		})
	}
}

func TestSAMLAttacks(t *testing.T) {
	eachSSO(t, func(t *testing.T, e *ssoEnv) {
		e.configureSAML(true)
		// These attacks edit the response's XML, so the IdP is given the SP
		// metadata without its encryption certificate and sends plain
		// assertions; TestSAMLEncryptedAttacks runs them on encrypted ones.
		e.registerSPAs(withoutEncryption)
		post := e.refusedPost
		e.runAssertionAttacks(t)
		t.Run("unsigned", func(t *testing.T) {
			b := e.browser()
			acs, form := e.samlResponse(b, "alice")
			xmlDoc, err := base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
			if err != nil {
				t.Fatal(err)
			}
			stripped := signatureRE.ReplaceAllString(string(xmlDoc), "")
			if stripped == string(xmlDoc) {
				t.Fatal("the response had no signature to strip")
			}
			form.Set("SAMLResponse", base64.StdEncoding.EncodeToString([]byte(stripped)))
			post(t, b, acs, form, 401, "could not be verified")
		})
		t.Run("tampered NameID", func(t *testing.T) {
			b := e.browser()
			acs, form := e.samlResponse(b, "bob")
			xmlDoc, _ := base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
			evil := strings.ReplaceAll(string(xmlDoc), "bob@example.com", "admin")
			form.Set("SAMLResponse", base64.StdEncoding.EncodeToString([]byte(evil)))
			post(t, b, acs, form, 401, "could not be verified")
		})
	})
}

// setState gives a browser a sign-in's state cookie, as the browser that
// started it holds.
func (e *ssoEnv) setState(b *ssoBrowser, state string) {
	u, _ := url.Parse(e.gh.URL + "/console/-/sso/acme/")
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "gatehouse_sso", Value: state, Path: "/console/-/sso/acme", Secure: true}})
}

// waitEvents waits for at least n audit events of a type whose
// description holds want, and returns how many there are.
func (e *ssoEnv) waitEvents(typ, want string, n int) int {
	e.t.Helper()
	count := 0
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		es, _, err := e.te.Svc.AuditEvents(context.Background(), e.te.Org.ID, gatehouse.AuditFilter{Types: []string{typ}}, gatehouse.ListOptions{Limit: 500})
		if err != nil {
			e.t.Fatal(err)
		}
		count = 0
		for _, ev := range es {
			if strings.Contains(ev.Description, want) {
				count++
			}
		}
		if count >= n {
			break
		}
	}
	return count
}

// TestSSOFailureLimit: failed SSO sign-ins count against the client
// address's failure limit, like failed token sign-ins.
func TestSSOFailureLimit(t *testing.T) {
	eachSSO(t, func(t *testing.T, e *ssoEnv) {
		e.configureOIDC(true, "gatehouse")
		b := e.browser()
		last := 0
		for range 6 {
			last, _, _ = b.do("GET", e.gh.URL+"/console/-/sso/acme/oidc/callback?state=forged&code=x", nil)
		}
		if last != 429 {
			t.Errorf("the 6th forged callback: %d, want 429", last)
		}
	}, api.Options{AuthFailuresPerMinute: 3})
}

// refusedPost posts a SAML response that must be refused.
func (e *ssoEnv) refusedPost(t *testing.T, b *ssoBrowser, acs string, form url.Values, status int, want string) {
	t.Helper()
	got, _, body := b.do("POST", acs, form)
	if got != status || !strings.Contains(body, want) {
		t.Errorf("ACS: %d, want %d with %q\n%.400s", got, status, want, body)
	}
	if signedIn(b, e.gh.URL) {
		t.Error("the refused sign-in has a session")
	}
}

// TestSAMLReplay: a response is good once, in its browser, for its own
// request; identity-provider-initiated responses are refused.
func TestSAMLReplay(t *testing.T) {
	eachSSO(t, func(t *testing.T, e *ssoEnv) {
		e.configureSAML(true)
		post := e.refusedPost
		t.Run("replayed", func(t *testing.T) {
			b := e.browser()
			acs, form := e.samlResponse(b, "alice")
			if status, _, body := b.do("POST", acs, form); status != 200 {
				t.Fatalf("first use: %d %s", status, body)
			}
			// The same response again, in a fresh browser, and in a fresh
			// sign-in of its own whose state the response is given.
			post(t, e.browser(), acs, form, 400, "not started in this browser")
			again := e.browser()
			e.setState(again, form.Get("RelayState"))
			post(t, again, acs, form, 400, "used already")
			b2 := e.browser()
			status, h, _ := b2.do("GET", e.gh.URL+"/console/-/sso/acme?protocol=saml", nil)
			if status != 303 {
				t.Fatal(status)
			}
			loc, _ := url.Parse(h.Get("Location"))
			form.Set("RelayState", loc.Query().Get("RelayState"))
			post(t, b2, acs, form, 401, "could not be verified")
		})
		t.Run("IdP-initiated", func(t *testing.T) {
			b := e.browser()
			acs, form := e.samlResponse(b, "alice")
			form.Del("RelayState")
			post(t, b, acs, form, 400, "not started in this browser")
		})
	})
}

// TestSSOStartLimit: a start records a sign-in under way before anyone is
// authenticated, so a flood of starts from one address is refused (429)
// once past the address's limit, and the refused starts write nothing.
func TestSSOStartLimit(t *testing.T) {
	eachSSO(t, func(t *testing.T, e *ssoEnv) {
		e.configureOIDC(true, "gatehouse")
		b := e.browser()
		var got []int
		for range 6 {
			st, _, _ := b.do("GET", e.gh.URL+"/console/-/sso/acme", nil)
			got = append(got, st)
		}
		if fmt.Sprint(got) != "[303 303 303 429 429 429]" {
			t.Errorf("six starts from one address answered %v, want three redirects then 429s", got)
		}
		if n := e.count("SELECT COUNT(*) FROM sso_logins"); n != 3 {
			t.Errorf("%d sign-ins recorded, want the 3 within the limit", n)
		}
	}, api.Options{AuthFailuresPerMinute: 3})
}

// count runs a counting query on the database itself, past the store.
func (e *ssoEnv) count(query string) int {
	e.t.Helper()
	driver, dsn := "sqlite", "file:"+e.te.DSN+"?mode=ro"
	if e.dialect == "postgres" {
		driver, dsn = "pgx", e.te.DSN
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(query).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}
