// Package web is Gatehouse's console: server-rendered pages (html/template,
// embedded) under /console for the stacks, environments and Insights
// accounts a user may read, each with who holds access to it and why, and
// for Organization Settings — permissions, roles, access tokens, teams,
// members, OIDC issuers, the audit log and an access explorer. Signing in
// with a personal access token opens a server-side session; every page and
// action goes through the API in process (api.Server.ServeAs), so the
// console allows exactly what the API does and records the same audit
// events, and it shows each control as the user may use it (controls.go).
// Forms work without JavaScript and carry a CSRF token; a
// Content-Security-Policy allows no inline script.
package web

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/service"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// SessionLifetime is how long a console session lasts.
const SessionLifetime = 12 * time.Hour

const cookieName = "gatehouse_session"

// csp allows only the console's own scripts, styles and images.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'"

// Console serves the web console.
type Console struct {
	svc  *service.Service
	az   *authz.Authorizer
	api  *api.Server
	log  *slog.Logger
	tmpl *template.Template
	mux  *http.ServeMux
	// secure marks cookies Secure (the server speaks TLS).
	secure bool
	// oidc runs OIDC sign-ins; publicURL is the server's address as
	// browsers and identity providers reach it (SSO's redirect URIs and
	// SAML's entity id): without it SSO is off.
	oidc      gatehouse.OIDCLogin
	publicURL string
}

// Options configure a Console.
type Options struct {
	Logger *slog.Logger
	// Secure is set when the server speaks TLS: cookies are then Secure.
	Secure bool
	// OIDC runs organizations' OIDC sign-ins (nil: OIDC sign-in is off).
	OIDC gatehouse.OIDCLogin
	// PublicURL is the server's base URL as browsers reach it, such as
	// https://gatehouse.example.com (empty: SSO is off).
	PublicURL string
}

// New returns the console over the service, the authorizer and the API.
func New(svc *service.Service, az *authz.Authorizer, apiSrv *api.Server, opts Options) *Console {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Console{svc: svc, az: az, api: apiSrv, log: opts.Logger, secure: opts.Secure, mux: http.NewServeMux(), oidc: opts.OIDC,
		publicURL: strings.TrimSuffix(opts.PublicURL, "/")}
	// "unix" is the former name of "when", kept so that templates written
	// with it render times the one way too.
	c.tmpl = template.Must(template.New("").Funcs(funcs).Funcs(template.FuncMap{"when": c.when, "unix": c.when}).
		ParseFS(templateFS, "templates/*.html"))
	c.routes()
	return c
}

// Handler serves /console and its pages.
func (c *Console) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		c.mux.ServeHTTP(w, r)
	})
}

func (c *Console) routes() {
	m := c.mux
	m.Handle("GET /console/-/static/{file...}", staticHandler())
	m.HandleFunc("GET /console/login", c.loginPage)
	m.HandleFunc("POST /console/login", c.login)
	m.HandleFunc("POST /console/logout", c.authed(func(q *req) error {
		if err := c.signOut(q.w, q.r); err != nil {
			return err
		}
		http.Redirect(q.w, q.r, "/console/login?signedout=1", http.StatusSeeOther)
		return nil
	}))
	m.HandleFunc("GET /console/{$}", c.authed(c.home))
	m.HandleFunc("GET /console/{org}/{$}", c.authed(c.overview))

	m.HandleFunc("GET /console/{org}/permissions", c.authed(c.permissions))
	m.HandleFunc("GET /console/{org}/permissions/new", c.authed(c.permissionForm))
	m.HandleFunc("POST /console/{org}/permissions", c.authed(c.savePermission))
	m.HandleFunc("GET /console/{org}/permissions/{id}", c.authed(c.permissionForm))
	m.HandleFunc("POST /console/{org}/permissions/{id}", c.authed(c.savePermission))
	m.HandleFunc("POST /console/{org}/permissions/{id}/delete", c.authed(c.deleteDescriptor("permissions")))

	m.HandleFunc("GET /console/{org}/roles", c.authed(c.roles))
	m.HandleFunc("GET /console/{org}/roles/new", c.authed(c.roleForm))
	m.HandleFunc("POST /console/{org}/roles", c.authed(c.saveRole))
	m.HandleFunc("GET /console/{org}/roles/{id}", c.authed(c.roleForm))
	m.HandleFunc("POST /console/{org}/roles/{id}", c.authed(c.saveRole))
	m.HandleFunc("POST /console/{org}/roles/{id}/delete", c.authed(c.deleteDescriptor("roles")))
	m.HandleFunc("POST /console/{org}/roles/{id}/default", c.authed(c.defaultRole))

	m.HandleFunc("GET /console/{org}/tokens", c.authed(c.tokens))
	m.HandleFunc("POST /console/{org}/tokens", c.authed(c.createToken))
	m.HandleFunc("POST /console/{org}/tokens/{kind}/{id}/revoke", c.authed(c.revokeToken))

	m.HandleFunc("GET /console/{org}/teams", c.authed(c.teams))
	m.HandleFunc("POST /console/{org}/teams", c.authed(c.createTeam))
	m.HandleFunc("GET /console/{org}/teams/{team}", c.authed(c.team))
	m.HandleFunc("POST /console/{org}/teams/{team}/members", c.authed(c.teamMember))
	m.HandleFunc("POST /console/{org}/teams/{team}/roles", c.authed(c.teamRole))
	m.HandleFunc("POST /console/{org}/teams/{team}/grants", c.authed(c.teamGrant))
	m.HandleFunc("POST /console/{org}/teams/{team}/delete", c.authed(c.deleteTeam))

	c.inviteRoutes()
	c.profileRoutes()
	m.HandleFunc("GET /console/{org}/members", c.authed(c.members))
	m.HandleFunc("POST /console/{org}/members", c.authed(c.addMember))
	m.HandleFunc("POST /console/{org}/members/{login}", c.authed(c.updateMember))

	m.HandleFunc("GET /console/{org}/oidc", c.authed(c.issuers))
	m.HandleFunc("POST /console/{org}/oidc", c.authed(c.addIssuer))
	m.HandleFunc("GET /console/{org}/oidc/{id}", c.authed(c.issuer))
	m.HandleFunc("POST /console/{org}/oidc/{id}/policy", c.authed(c.savePolicy))
	m.HandleFunc("POST /console/{org}/oidc/{id}/delete", c.authed(c.deleteIssuer))

	c.ssoRoutes()
	c.cliRoutes()
	m.HandleFunc("GET /console/{org}/audit", c.authed(c.audit))
	m.HandleFunc("GET /console/{org}/audit/export", c.authed(c.auditExport))
	m.HandleFunc("GET /console/{org}/access", c.authed(c.access))
	m.HandleFunc("POST /console/{org}/access", c.authed(c.access))

	c.entityRoutes()
	// Any other URL under /console: a page, not Go's bare 404.
	m.HandleFunc("/console/", c.notFound)
}

var funcs = template.FuncMap{
	"join": strings.Join,
	"json": func(v any) string {
		b, _ := json.MarshalIndent(v, "", "  ")
		return string(b)
	},
	"raw": func(b json.RawMessage) string {
		var out bytes.Buffer
		if json.Indent(&out, b, "", "  ") != nil {
			return string(b)
		}
		return out.String()
	},
	"has": func(list []string, v string) bool {
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	},
	"add":   func(a, b int) int { return a + b },
	"time":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"list3": func() []string { return []string{"stack", "environment", "insights-account"} },
	"list4": func() []string { return []string{"stack", "environment", "insights-account", "global"} },
}

// --- sessions

// session is a signed-in request: who, for which token, and the form token.
type session struct {
	rec *gatehouse.Session
	id  *gatehouse.Identity
}

// signIn checks a personal access token and opens a session for it.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request, token string) error {
	id, err := c.az.Authenticate("token " + strings.TrimSpace(token))
	if err != nil {
		return &badToken{why: err}
	}
	if id.User == nil {
		c.log.Info("console sign-in refused: not a personal token", "remote", c.api.ClientIP(r), "token", id.Token.Kind+" token "+id.Token.Name)
		return fmt.Errorf("sign in with a personal access token: organization and team tokens have no user")
	}
	if id.Token.OrgID != "" {
		// An exchanged personal token speaks for the organization whose
		// OIDC issuer minted it, not for the user everywhere.
		return fmt.Errorf("sign in with a personal access token you created: this one was exchanged through an organization's OIDC issuer and acts only there")
	}
	value, s, err := c.svc.Sessions().Open(r.Context(), id.User.ID, id.Token.Digest, SessionLifetime)
	if err != nil {
		return err
	}
	c.setSession(w, value, s.Expires)
	c.log.Info("console sign-in", "user", id.User.Login, "remote", c.api.ClientIP(r))
	return nil
}

// setSession gives the browser a session's cookie.
func (c *Console) setSession(w http.ResponseWriter, value string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: value, Path: "/console", Expires: expires, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.secure})
}

// badToken is a sign-in with a token that does not authenticate: a failed
// authentication, which the API counts, limits and audits.
type badToken struct{ why error }

func (e *badToken) Error() string { return "that token is not a valid access token" }

// sameOrigin refuses a form posted from another site: a browser sends
// Origin with every POST, and it must name this server.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return o == ""
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// session returns the request's session, if its cookie names a live one
// whose token is still valid.
func (c *Console) session(r *http.Request) *session {
	ck, err := r.Cookie(cookieName)
	if err != nil || ck.Value == "" {
		return nil
	}
	rec, err := c.svc.Sessions().Get(r.Context(), ck.Value)
	if err != nil {
		if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			c.log.Error("console session", "err", err.Error())
		}
		return nil
	}
	// A session opened through an organization's SSO acts through a
	// personal token bound to that organization, which stops
	// authenticating when the user stops being a member there; a session
	// opened with a token acts through that token (signIn refuses bound
	// ones), so a bound token here is always SSO's.
	id, err := c.az.AuthenticateDigest(rec.TokenDigest)
	if err != nil || id.User == nil || id.User.ID != rec.UserID || id.Token.Kind != gatehouse.TokenPersonal {
		return nil
	}
	if err := c.svc.Sessions().Touch(r.Context(), rec); err != nil {
		c.log.Warn("console session: recording last seen", "err", err.Error())
	}
	return &session{rec: rec, id: id}
}

// signOut ends the request's session and clears its cookie; when the
// session cannot be ended the cookie stays, so that signing out can be
// tried again.
func (c *Console) signOut(w http.ResponseWriter, r *http.Request) error {
	if ck, err := r.Cookie(cookieName); err == nil {
		if err := c.svc.Sessions().End(r.Context(), ck.Value); err != nil {
			return fmt.Errorf("sign out: %w", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/console", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.secure})
	return nil
}

// --- pages

// page is what every template gets.
type page struct {
	Title  string
	Org    string
	Orgs   []string
	User   string
	CSRF   string
	Nav    string
	Error  string
	Notice string
	Data   any

	q *req
}

// req is one console request with its session.
type req struct {
	c    *Console
	w    http.ResponseWriter
	r    *http.Request
	sess *session
	org  string
	// entity is the stack, environment or account the page shows: the
	// page's controls are decided on it.
	entity *gatehouse.Entity
	// orgRec is the organization in the path, once looked up.
	orgRec *gatehouse.Organization
}

type handlerFunc func(q *req) error

// authed wraps a page: it needs a session (else to sign-in), checks the
// CSRF token of every POST, and resolves the organization in the path.
func (c *Console) authed(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := c.session(r)
		if s == nil {
			next := r.URL.Path
			if r.Method == http.MethodGet {
				next = r.URL.RequestURI() // a page's query too (the CLI's sign-in)
			}
			http.Redirect(w, r, "/console/login?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		q := &req{c: c, w: w, r: r, sess: s, org: r.PathValue("org")}
		if r.Method == http.MethodPost {
			if !sameOrigin(r) {
				http.Error(w, "this form was posted from another site", http.StatusForbidden)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, 2<<20)
			if err := r.ParseForm(); err != nil {
				http.Error(w, "bad form: "+err.Error(), http.StatusBadRequest)
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(s.rec.CSRF)) != 1 {
				http.Error(w, "the form's CSRF token is missing or stale: reload the page and try again", http.StatusForbidden)
				return
			}
		}
		if q.org != "" && q.organization() == nil {
			// Not an organization of the user's: the API would say it
			// does not exist, and so does the console.
			if err := q.notFoundPage("Page not found", notFoundData{Path: r.URL.Path}); err != nil {
				c.log.Error("console page", "path", r.URL.Path, "err", err.Error())
			}
			return
		}
		if err := h(q); err != nil {
			c.log.Error("console page", "path", r.URL.Path, "err", err.Error())
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
	}
}

// render writes a page with the layout.
func (q *req) render(status int, name, title, nav string, data any, errMsg, notice string) error {
	p := page{Title: title, Org: q.org, User: q.sess.id.User.Login, CSRF: q.sess.rec.CSRF, Nav: nav, Error: errMsg, Notice: notice,
		Data: data, q: q}
	if orgs, err := q.c.svc.UserOrgs(q.r.Context(), q.sess.id.User.ID); err == nil {
		for _, o := range orgs {
			// A session of an organization's SSO acts there only.
			if bound := q.sess.id.Token.OrgID; bound == "" || bound == o.ID {
				p.Orgs = append(p.Orgs, o.Name)
			}
		}
		sort.Strings(p.Orgs)
	}
	var b bytes.Buffer
	if err := q.c.tmpl.ExecuteTemplate(&b, name, p); err != nil {
		return err
	}
	q.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	q.w.WriteHeader(status)
	_, err := q.w.Write(b.Bytes())
	return err
}

// apiError is the API's error body.
type apiError wire.Error

func (e *apiError) Error() string { return e.Message }

// recorder collects an in-process API response.
type recorder struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.h }
func (r *recorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	return r.body.Write(b)
}

// call makes an API request as the session's user, in process, and decodes
// a JSON response into out. A 4xx or 5xx is an *apiError.
func (q *req) call(method, path string, body, out any) error {
	rec, err := q.serve(method, path, body)
	if err != nil {
		return err
	}
	if out != nil && rec.body.Len() > 0 {
		return json.Unmarshal(rec.body.Bytes(), out)
	}
	return nil
}

// callRaw makes a GET request as call does and returns the body as the
// API sent it (an environment's YAML).
func (q *req) callRaw(path string) ([]byte, error) {
	rec, err := q.serve("GET", path, nil)
	if err != nil {
		return nil, err
	}
	return rec.body.Bytes(), nil
}

// serve makes an in-process API request as the session's user.
func (q *req) serve(method, path string, body any) (*recorder, error) {
	var rd io.Reader = http.NoBody
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(data)
	}
	r, err := http.NewRequestWithContext(context.WithoutCancel(q.r.Context()), method, path, rd)
	if err != nil {
		return nil, err
	}
	r.RemoteAddr = q.r.RemoteAddr
	// The API finds the client's address as for its own requests (through
	// trusted proxies), for its audit events and logs.
	if xff := q.r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		r.Header["X-Forwarded-For"] = xff
	}
	r.Header.Set("User-Agent", q.r.UserAgent()+" (gatehouse console)")
	r.Header.Set("Content-Type", "application/json")
	rec := &recorder{h: http.Header{}}
	q.c.api.ServeAs(q.sess.id, rec, r)
	if rec.status >= 300 && rec.status < 400 {
		// The API's router redirects a path it does not serve as written
		// (a "." or ".." segment, which names may hold): nothing was done
		// there, and nothing by that name can be reached.
		return nil, &apiError{Code: http.StatusNotFound, Message: "not found: the name cannot be used in a path (\".\" or \"..\")"}
	}
	if rec.status >= 400 {
		e := &apiError{Code: rec.status}
		if json.Unmarshal(rec.body.Bytes(), e) != nil || e.Message == "" {
			e.Message = strings.TrimSpace(rec.body.String())
		}
		return nil, e
	}
	return rec, nil
}

// redirect sends the browser on after a change, with a notice to show.
// The notice travels in the URL with a MAC under the session's secret, so
// that a link made elsewhere cannot put words on a console page.
func (q *req) redirect(path, notice string) error {
	if notice != "" {
		path += "?notice=" + url.QueryEscape(notice) + "&ns=" + q.noticeMAC(notice)
	}
	http.Redirect(q.w, q.r, path, http.StatusSeeOther)
	return nil
}

func (q *req) noticeMAC(notice string) string {
	m := hmac.New(sha256.New, []byte(q.sess.rec.CSRF))
	m.Write([]byte(notice))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// notice is the request's notice, if this session's console wrote it.
func (q *req) notice() string {
	n := q.r.URL.Query().Get("notice")
	if n == "" || !hmac.Equal([]byte(q.r.URL.Query().Get("ns")), []byte(q.noticeMAC(n))) {
		return ""
	}
	return n
}

// fail shows an API error on the page it came from: 4xx errors are the
// user's to fix; anything else is the server's.
func (q *req) fail(err error, show func(msg string) error) error {
	if e, ok := err.(*apiError); ok && e.Code < 500 {
		return show(e.Message)
	}
	return err
}

func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	return http.StripPrefix("/console/-/static/", http.FileServer(http.FS(sub)))
}
