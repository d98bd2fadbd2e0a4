// Package ssotest runs real identity providers in process for tests: an
// OpenID provider (zitadel's example OP) and a SAML IdP (crewjam's
// samlidp), each over TLS on loopback, and a browser (an HTTP client with
// cookies that stops at every redirect) that signs people in through
// them. Nothing here mocks a protocol: Gatehouse talks to the providers as
// it would to Okta or Keycloak.
package ssotest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"html"
	"io"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml/samlidp"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// User is a person at a provider. Their password is Password(Username).
type User struct {
	Username      string
	Email         string
	EmailVerified bool
	Groups        []string
}

// Password is a provider user's password.
func Password(username string) string { return "pw-" + username }

// Client is an OpenID client registered at the OP.
type Client struct {
	ID, Secret, RedirectURI string
}

// OP is an OpenID provider over TLS on loopback. Its users' groups claim
// (scope "groups") can be changed while it runs.
type OP struct {
	*httptest.Server
	Groups map[string][]string // by username
}

// NewOP starts an OpenID provider with users and clients.
func NewOP(t testing.TB, users []User, clients []Client) *OP {
	t.Helper()
	h := &indirect{}
	o := &OP{Server: httptest.NewUnstartedServer(h), Groups: map[string][]string{}}
	o.StartTLS()
	t.Cleanup(o.Close)
	us := opUsers{users: map[string]*storage.User{}}
	if len(clients) > 0 {
		us.example = clients[0].ID
	}
	for _, u := range users {
		first := strings.ToUpper(u.Username[:1]) + u.Username[1:]
		us.users[u.Username] = &storage.User{ID: u.Username, Username: u.Username, Password: Password(u.Username), FirstName: first,
			LastName: "Doe", Email: u.Email, EmailVerified: u.EmailVerified, PreferredLanguage: language.English}
		o.Groups[u.Username] = u.Groups
	}
	cs := map[string]*storage.Client{}
	for _, c := range clients {
		cs[c.ID] = storage.WebClient(c.ID, c.Secret, c.RedirectURI)
	}
	st := storage.NewStorageWithClients(us, cs)
	h.h = exampleop.SetupServer(o.URL, opStorage{st, o.Groups}, nil, false)
	return o
}

// SignIn signs username in at the OP's login page that start (a
// Gatehouse URL that begins a sign-in) leads to, and returns the URL the
// OP sends the browser back to (Gatehouse's callback), not yet followed.
func (o *OP) SignIn(b *Browser, start, username string) string {
	b.t.Helper()
	status, h, body := b.Do("GET", start, nil)
	if status != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), o.URL) {
		b.t.Fatalf("sign-in start %s: %d %s %.300s", start, status, h.Get("Location"), body)
	}
	loginURL, status, body := b.Follow(h.Get("Location"))
	if status != http.StatusOK {
		b.t.Fatalf("OP login page %s: %d %.300s", loginURL, status, body)
	}
	u, _ := url.Parse(loginURL)
	status, h, body = b.Do("POST", o.URL+"/login/username", url.Values{"username": {username}, "password": {Password(username)},
		"id": {u.Query().Get("authRequestID")}})
	if status != http.StatusFound {
		b.t.Fatalf("OP login: %d %.300s", status, body)
	}
	return b.FollowWithin(h.Get("Location"), o.URL)
}

// opUsers are the provider's people.
type opUsers struct {
	users   map[string]*storage.User
	example string // a client's id
}

func (u opUsers) GetUserByID(id string) *storage.User { return u.users[id] }
func (u opUsers) GetUserByUsername(name string) *storage.User {
	for _, x := range u.users {
		if x.Username == name {
			return x
		}
	}
	return nil
}
func (u opUsers) ExampleClientID() string { return u.example }

// opStorage is the example storage with a groups claim for the "groups"
// scope.
type opStorage struct {
	*storage.Storage
	groups map[string][]string
}

func (s opStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return groupsClient{c}, nil
}

func (s opStorage) SetUserinfoFromScopes(ctx context.Context, ui *zoidc.UserInfo, userID, clientID string, scopes []string) error {
	if err := s.Storage.SetUserinfoFromScopes(ctx, ui, userID, clientID, scopes); err != nil {
		return err
	}
	for _, sc := range scopes {
		if sc == "groups" {
			ui.AppendClaims("groups", s.groups[userID])
		}
	}
	return nil
}

type groupsClient struct{ op.Client }

func (groupsClient) IsScopeAllowed(s string) bool { return s == "groups" }

// IdP is a SAML identity provider over TLS on loopback.
type IdP struct {
	*httptest.Server
	// SAML is crewjam's IdP itself, for tests that change how it answers.
	SAML *samlidp.Server
}

// NewIdP starts a SAML IdP with users (NameID: their e-mail address;
// eduPersonAffiliation: their groups).
func NewIdP(t testing.TB, users []User) *IdP {
	t.Helper()
	h := &indirect{}
	i := &IdP{Server: httptest.NewUnstartedServer(h)}
	i.StartTLS()
	t.Cleanup(i.Close)
	key, cert := SelfSigned(t, "idp")
	u, _ := url.Parse(i.URL)
	s, err := samlidp.New(samlidp.Options{URL: *u, Key: key, Certificate: cert, Store: &samlidp.MemoryStore{}})
	if err != nil {
		t.Fatal(err)
	}
	i.SAML, h.h = s, s
	for _, u := range users {
		pw := Password(u.Username)
		body, _ := json.Marshal(samlidp.User{Name: u.Username, PlaintextPassword: &pw, Email: u.Email, Groups: u.Groups, CommonName: u.Username})
		if code, out := i.local("PUT", "/users/"+u.Username, body); code >= 300 {
			t.Fatalf("IdP user %s: %d %s", u.Username, code, out)
		}
	}
	return i
}

// local calls the IdP's own (unauthenticated) management API.
func (i *IdP) local(method, path string, body []byte) (int, string) {
	w := httptest.NewRecorder()
	i.SAML.ServeHTTP(w, httptest.NewRequest(method, path, bytes.NewReader(body)))
	return w.Code, w.Body.String()
}

// RegisterSP gives the IdP a service provider's metadata, as an admin
// pastes it into Okta.
func (i *IdP) RegisterSP(t testing.TB, name, metadata string) {
	t.Helper()
	if code, out := i.local("PUT", "/services/"+name, []byte(metadata)); code >= 300 {
		t.Fatalf("register SP %s: %d %s", name, code, out)
	}
}

// Metadata is the IdP's metadata XML.
func (i *IdP) Metadata(t testing.TB) string {
	t.Helper()
	code, out := i.local("GET", "/metadata", nil)
	if code != http.StatusOK {
		t.Fatalf("IdP metadata: %d %.300s", code, out)
	}
	return out
}

// SignIn signs username in at the IdP (a session there), then follows
// start (a Gatehouse URL that begins a SAML sign-in) to it, and returns the
// form the IdP's page would post to the service provider: its action (the
// ACS) and its fields. (The IdP's login form would repost the AuthnRequest
// without its signature, which samlidp then refuses: it checks the
// signatures an SP's metadata promises.)
func (i *IdP) SignIn(b *Browser, start, username string) (string, url.Values) {
	b.t.Helper()
	if status, _, body := b.Do("POST", i.URL+"/login", url.Values{"user": {username}, "password": {Password(username)}}); status != http.StatusOK {
		b.t.Fatalf("IdP login: %d %.300s", status, body)
	}
	status, h, body := b.Do("GET", start, nil)
	if status != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), i.URL) {
		b.t.Fatalf("sign-in start %s: %d %s %.300s", start, status, h.Get("Location"), body)
	}
	if _, status, body = b.Follow(h.Get("Location")); status != http.StatusOK || !strings.Contains(body, "SAMLResponse") {
		b.t.Fatalf("IdP: %d %.300s", status, body)
	}
	return FormOf(body)
}

// CAFile writes the PEM of the certificate the providers serve (all
// httptest servers share one) to a file in dir, for Gatehouse's
// --sso-ca-file.
func CAFile(t testing.TB, s *httptest.Server, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "sso-ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// SelfSigned makes an RSA key and a self-signed certificate for it.
func SelfSigned(t testing.TB, cn string) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return key, cert
}

// Browser is an HTTP client with cookies that trusts the providers'
// certificate and stops at every redirect, so that a test sees each hop.
type Browser struct {
	t testing.TB
	C *http.Client
	// SameOrigin sends form posts with the Origin header of the page
	// they go to, as a browser posts a form of that page (the console
	// wants it on some).
	SameOrigin bool
}

// NewBrowser makes a browser that trusts s's certificate (and so every
// httptest TLS server's).
func NewBrowser(t testing.TB, s *httptest.Server) *Browser {
	jar, _ := cookiejar.New(nil)
	tr := s.Client().Transport.(*http.Transport).Clone()
	return &Browser{t: t, C: &http.Client{Jar: jar, Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Do sends a request (a form when form is not nil) and returns the
// status, headers and body.
func (b *Browser) Do(method, u string, form url.Values) (int, http.Header, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if b.SameOrigin {
			req.Header.Set("Origin", req.URL.Scheme+"://"+req.URL.Host)
		}
	}
	resp, err := b.C.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(data)
}

// Follow GETs u and its redirects until a page that is not one, returning
// its URL, status and body.
func (b *Browser) Follow(u string) (string, int, string) {
	b.t.Helper()
	for range 10 {
		status, h, body := b.Do("GET", u, nil)
		if status < 300 || status >= 400 {
			return u, status, body
		}
		u = resolve(b.t, u, h.Get("Location"))
	}
	b.t.Fatalf("too many redirects from %s", u)
	return "", 0, ""
}

// FollowWithin follows redirects from u while they stay under base, and
// returns the first URL that leaves it.
func (b *Browser) FollowWithin(u, base string) string {
	b.t.Helper()
	for range 10 {
		u = resolve(b.t, base+"/", u)
		if !strings.HasPrefix(u, base) {
			return u
		}
		status, h, body := b.Do("GET", u, nil)
		if status < 300 || status >= 400 {
			b.t.Fatalf("%s: %d %.300s", u, status, body)
		}
		u = resolve(b.t, u, h.Get("Location"))
	}
	b.t.Fatalf("too many redirects under %s", base)
	return ""
}

func resolve(t testing.TB, from, loc string) string {
	base, err := url.Parse(from)
	if err != nil {
		t.Fatal(err)
	}
	next, err := base.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return next.String()
}

var (
	inputRE  = regexp.MustCompile(`<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"`)
	actionRE = regexp.MustCompile(`<form[^>]*action="([^"]*)"`)
)

// FormOf reads a page's first form: its action and its inputs' values.
func FormOf(body string) (string, url.Values) {
	v := url.Values{}
	for _, m := range inputRE.FindAllStringSubmatch(body, -1) {
		v.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	action := ""
	if m := actionRE.FindStringSubmatch(body); m != nil {
		action = html.UnescapeString(m[1])
	}
	return action, v
}

// indirect lets a test server's handler be set once its URL is known.
type indirect struct{ h http.Handler }

func (i *indirect) ServeHTTP(w http.ResponseWriter, r *http.Request) { i.h.ServeHTTP(w, r) }
