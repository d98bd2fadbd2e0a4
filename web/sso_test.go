package web_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlidp"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api"
	"github.com/gatehouse-iam/gatehouse/internal/ssotest"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/oidc"
	"github.com/gatehouse-iam/gatehouse/service"
	"github.com/gatehouse-iam/gatehouse/web"
)

// ssoEnv is Gatehouse over TLS on loopback with SSO on, a real OpenID
// provider (zitadel's) and a real SAML IdP (crewjam's samlidp), each over
// TLS on loopback too.
type ssoEnv struct {
	t    *testing.T
	te   *testenv.Env
	gh   *httptest.Server
	op   *ssotest.OP
	idp  *ssotest.IdP
	sidp *samlidp.Server // the IdP's own server
	// groups are the OP users' groups claim.
	groups map[string][]string
	// dialect is the store's, "sqlite" or "postgres".
	dialect string
}

// indirect lets a test server's handler be set once its URL is known.
type indirect struct{ h http.Handler }

func (i *indirect) ServeHTTP(w http.ResponseWriter, r *http.Request) { i.h.ServeHTTP(w, r) }

func newSSOEnv(t *testing.T, opts ...api.Options) *ssoEnv {
	t.Helper()
	return newSSOEnvOn(t, "sqlite", opts...)
}

// eachSSO runs a test on an SSO environment over SQLite and, with
// GATEHOUSE_TEST_POSTGRES_DSN, over PostgreSQL (skipped without it), the
// two at once.
func eachSSO(t *testing.T, test func(t *testing.T, e *ssoEnv), opts ...api.Options) {
	for _, dialect := range dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			test(t, newSSOEnvOn(t, dialect, opts...))
		})
	}
}

// newSSOEnvOn is newSSOEnv on the named store dialect, "sqlite" or
// "postgres".
func newSSOEnvOn(t *testing.T, dialect string, opts ...api.Options) *ssoEnv {
	t.Helper()
	var o api.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	e := &ssoEnv{t: t, dialect: dialect, te: testenv.New(t, dialectOptions(dialect)...)}
	ghH := &indirect{}
	e.gh = httptest.NewUnstartedServer(ghH)
	e.gh.StartTLS()
	t.Cleanup(e.gh.Close)
	e.newOP()
	e.newIdP()
	pool := x509.NewCertPool()
	pool.AddCert(e.gh.Certificate())
	a := api.New(e.te.Svc, e.te.Authz, o)
	t.Cleanup(a.Close)
	c := web.New(e.te.Svc, e.te.Authz, a, web.Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)), Secure: true, PublicURL: e.gh.URL,
		OIDC: oidc.NewLogin(oidc.Options{AllowInsecure: true, RootCAs: pool})})
	mux := http.NewServeMux()
	mux.Handle("/console/", c.Handler())
	mux.Handle("GET /cli-login", c.RootHandler())
	mux.Handle("GET /welcome/", c.RootHandler())
	mux.Handle("/", a.Handler())
	ghH.h = mux
	return e
}

// --- the providers

// newOP starts the OpenID provider: alice, bob, mallory and eve (whose
// address it has not verified); alice's groups claim is devs and a
// group no team has; the clients gatehouse and other.
func (e *ssoEnv) newOP() {
	var users []ssotest.User
	for _, n := range []string{"alice", "bob", "mallory", "eve"} {
		users = append(users, ssotest.User{Username: n, Email: n + "@example.com", EmailVerified: n != "eve"})
	}
	users[0].Groups = []string{"devs", "nosuchteam"}
	redirect := e.gh.URL + "/console/-/sso/acme/oidc/callback"
	e.op = ssotest.NewOP(e.t, users, []ssotest.Client{{ID: "gatehouse", Secret: "gatehouse-secret", RedirectURI: redirect},
		{ID: "other", Secret: "other-secret", RedirectURI: redirect}})
	e.groups = e.op.Groups
}

// newIdP starts the SAML IdP: alice and bob, in group devs.
func (e *ssoEnv) newIdP() {
	e.idp = ssotest.NewIdP(e.t, []ssotest.User{{Username: "alice", Email: "alice@example.com", Groups: []string{"devs"}},
		{Username: "bob", Email: "bob@example.com", Groups: []string{"devs"}}})
	e.sidp = e.idp.SAML
}

var selfSigned = ssotest.SelfSigned

// registerSP gives the IdP Gatehouse's SP metadata, as an admin would.
func (e *ssoEnv) registerSP() {
	e.t.Helper()
	b := e.browser()
	status, _, body := b.do("GET", e.gh.URL+"/console/-/sso/acme/saml/metadata", nil)
	if status != 200 {
		e.t.Fatalf("SP metadata: %d %s", status, body)
	}
	var md saml.EntityDescriptor
	if err := xml.Unmarshal([]byte(body), &md); err != nil || md.EntityID != e.gh.URL+"/console/-/sso/acme/saml/metadata" {
		e.t.Fatalf("SP metadata: %v %q", err, md.EntityID)
	}
	e.idp.RegisterSP(e.t, "gatehouse", body)
}

// idpMetadata is the IdP's metadata XML.
func (e *ssoEnv) idpMetadata() string {
	e.t.Helper()
	return e.idp.Metadata(e.t)
}

// --- a browser over all three servers

type ssoBrowser struct {
	t *testing.T
	c *http.Client
	b *ssotest.Browser
}

func (e *ssoEnv) browser() *ssoBrowser {
	b := ssotest.NewBrowser(e.t, e.gh) // the three servers share httptest's certificate
	return &ssoBrowser{t: e.t, c: b.C, b: b}
}

func (b *ssoBrowser) do(method, u string, form url.Values) (int, http.Header, string) {
	b.t.Helper()
	return b.b.Do(method, u, form)
}

// follow GETs u and its redirects until a page that is not one, returning
// its URL, status and body.
func (b *ssoBrowser) follow(u string) (string, int, string) {
	b.t.Helper()
	return b.b.Follow(u)
}

// formOf reads a page's hidden inputs and its form's action.
var formOf = ssotest.FormOf

// --- set-up through the API

func (e *ssoEnv) api(method, path string, body, out any) int {
	e.t.Helper()
	return e.apiWith(e.te.Admin, method, path, body, out)
}

func (e *ssoEnv) apiAs(token, method, path string, out any) int {
	e.t.Helper()
	return e.apiWith(token, method, path, nil, out)
}

func (e *ssoEnv) apiWith(token, method, path string, body, out any) int {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, e.gh.URL+path, rd)
	req.Header.Set("Authorization", "token "+token)
	resp, err := e.gh.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		json.Unmarshal(data, out)
	}
	if resp.StatusCode >= 300 {
		e.t.Logf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	return resp.StatusCode
}

func (e *ssoEnv) configureOIDC(allowCreate bool, client string) {
	e.t.Helper()
	secret := client + "-secret"
	body := map[string]any{"issuer": e.op.URL, "clientId": client, "clientSecret": secret, "userClaim": "preferred_username",
		"groupsClaim": "groups", "allowCreate": allowCreate}
	if st := e.api("PATCH", "/api/orgs/acme/sso/oidc", body, nil); st != 200 {
		e.t.Fatalf("configure OIDC: %d", st)
	}
}

func (e *ssoEnv) configureSAML(allowCreate bool) {
	e.t.Helper()
	md := e.idpMetadata()
	body := map[string]any{"newIdpSsoDescriptor": md, "groupsAttribute": "eduPersonAffiliation", "allowCreate": allowCreate}
	if st := e.api("PATCH", "/api/orgs/acme/saml", body, nil); st != 200 {
		e.t.Fatalf("configure SAML: %d", st)
	}
	e.registerSP()
}

// --- the flows

// oidcSignIn runs the OIDC flow as user and returns the Gatehouse
// callback's status and page.
func (e *ssoEnv) oidcSignIn(b *ssoBrowser, user string) (int, string) {
	e.t.Helper()
	status, h, body := b.do("GET", e.gh.URL+"/console/-/sso/acme", nil)
	if status != 303 || !strings.HasPrefix(h.Get("Location"), e.op.URL) {
		e.t.Fatalf("start: %d %s %s", status, h.Get("Location"), body)
	}
	loginURL, status, body := b.follow(h.Get("Location"))
	if status != 200 {
		e.t.Fatalf("OP login page %s: %d %s", loginURL, status, body)
	}
	u, _ := url.Parse(loginURL)
	id := u.Query().Get("authRequestID")
	status, h, body = b.do("POST", e.op.URL+"/login/username", url.Values{"username": {user}, "password": {"pw-" + user}, "id": {id}})
	if status != 302 {
		e.t.Fatalf("OP login: %d %s", status, body)
	}
	callback := e.followTo(b, h.Get("Location"), e.op.URL)
	status, _, body = b.do("GET", callback, nil)
	return status, body
}

// followTo follows redirects on the provider at base until one leaves it,
// and returns that URL.
func (e *ssoEnv) followTo(b *ssoBrowser, u, base string) string {
	e.t.Helper()
	for range 10 {
		if !strings.HasPrefix(u, "http") {
			u = base + u
		}
		if !strings.HasPrefix(u, base) {
			return u
		}
		status, h, body := b.do("GET", u, nil)
		if status < 300 || status >= 400 {
			e.t.Fatalf("%s: %d %s", u, status, body)
		}
		u = h.Get("Location")
	}
	e.t.Fatalf("too many redirects")
	return ""
}

// samlResponse runs the SAML flow as user up to the IdP's auto-posted
// form, returning the ACS URL and the form. The user signs in at the IdP
// first: its login form would post the request back without the
// HTTP-Redirect binding's signature, which the IdP then refuses (the SP
// metadata says its requests are signed).
func (e *ssoEnv) samlResponse(b *ssoBrowser, user string) (string, url.Values) {
	e.t.Helper()
	if status, _, body := b.do("POST", e.idp.URL+"/login", url.Values{"user": {user}, "password": {"pw-" + user}}); status != 200 {
		e.t.Fatalf("IdP login: %d %s", status, body)
	}
	status, h, body := b.do("GET", e.gh.URL+"/console/-/sso/acme?protocol=saml", nil)
	if status != 303 || !strings.HasPrefix(h.Get("Location"), e.idp.URL) {
		e.t.Fatalf("start: %d %s %s", status, h.Get("Location"), body)
	}
	_, status, body = b.follow(h.Get("Location"))
	if status != 200 || !strings.Contains(body, "SAMLResponse") {
		e.t.Fatalf("IdP: %d %s", status, body)
	}
	action, resp := formOf(body)
	return action, resp
}

// signedIn reports whether the browser's console session works in acme.
func signedIn(b *ssoBrowser, base string) bool {
	status, _, _ := b.do("GET", base+"/console/acme/", nil)
	return status == 200
}

func (e *ssoEnv) member(login string) (*service.MemberView, error) {
	return e.te.Svc.Member(context.Background(), e.te.Org.ID, login)
}

var _ = slog.Default
var _ gatehouse.SSO

var csrfInput = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// cliLogin runs pulumi login's browser flow from /cli-login on a signed-in
// browser and returns the token handed to the CLI.
func (e *ssoEnv) cliLogin(b *ssoBrowser) string {
	e.t.Helper()
	q := url.Values{"cliSessionPort": {"4567"}, "cliSessionNonce": {"0123456789abcdef0123"}, "cliSessionDescription": {"pulumi login"}}
	_, status, body := b.follow(e.gh.URL + "/cli-login?" + q.Encode())
	m := csrfInput.FindStringSubmatch(body)
	if status != 200 || m == nil {
		e.t.Fatalf("cli-login page: %d %s", status, body)
	}
	q.Set("csrf", m[1])
	q.Set("action", "authorize")
	req, _ := http.NewRequest("POST", e.gh.URL+"/console/-/cli-login", strings.NewReader(q.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.gh.URL)
	resp, err := b.c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 303 || loc.Host != "localhost:4567" {
		e.t.Fatalf("cli-login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query().Get("accessToken")
}
