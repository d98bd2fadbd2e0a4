package web

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/service"
)

// Single sign-on. /console/-/sso/{org} starts the organization's flow (OIDC
// when it has an OpenID provider, else SAML; ?protocol= picks), the
// provider answers at /console/-/sso/{org}/oidc/callback or
// /console/-/sso/{org}/saml/acs, and the service provider's SAML metadata is
// at /console/-/sso/{org}/saml/metadata (its current certificate, as PEM,
// at .../saml/certificate). A sign-in's state is recorded in the
// database (good once, on every replica) and held by the browser in a
// cookie, so that a response started in another browser is refused.
//
// The service provider signs its AuthnRequests (HTTP-Redirect: SigAlg and
// Signature, RSA-SHA256) with the organization's current SP key, and
// decrypts EncryptedAssertions with any of its SP keys (the service's
// SPKeys: the current one, and the next or previous one of a rollover,
// all published in the metadata for signing and for encryption). An
// encrypted assertion must still be signed, by itself or by the Response
// around it; one encrypted with AES-CBC needs the Response signed, since
// nothing else authenticates the ciphertext before it is decrypted.

const ssoCookie = "gatehouse_sso"

func (c *Console) ssoRoutes() {
	m := c.mux
	m.HandleFunc("GET /console/-/sso", c.ssoPick)
	m.HandleFunc("GET /console/-/sso/{org}", c.ssoStart)
	m.HandleFunc("GET /console/-/sso/{org}/oidc/callback", c.oidcCallback)
	m.HandleFunc("GET /console/-/sso/{org}/saml/metadata", c.samlMetadata)
	m.HandleFunc("GET /console/-/sso/{org}/saml/certificate", c.samlCertificate)
	m.HandleFunc("POST /console/-/sso/{org}/saml/acs", c.samlACS)
	m.HandleFunc("GET /console/{org}/sso", c.authed(c.ssoSettings))
	m.HandleFunc("POST /console/{org}/sso/oidc", c.authed(c.saveOIDCSSO))
	m.HandleFunc("POST /console/{org}/sso/saml", c.authed(c.saveSAML))
	m.HandleFunc("POST /console/{org}/sso/saml/keys", c.authed(c.createSPKey))
	m.HandleFunc("POST /console/{org}/sso/saml/keys/{id}/{action}", c.authed(c.changeSPKey))
}

// ssoURLs are an organization's SSO endpoints at this server.
type ssoURLs struct{ SignIn, Redirect, Metadata, ACS, Certificate string }

func (c *Console) ssoURLs(org string) ssoURLs {
	base := c.publicURL + "/console/-/sso/" + url.PathEscape(org)
	return ssoURLs{SignIn: base, Redirect: base + "/oidc/callback", Metadata: base + "/saml/metadata", ACS: base + "/saml/acs",
		Certificate: base + "/saml/certificate"}
}

type ssoPage struct {
	Title, Error, Next string
	Status             int
}

// ssoFail shows why a sign-in did not happen; the details go to the log
// only when they could help an attacker.
func (c *Console) ssoFail(w http.ResponseWriter, r *http.Request, status int, msg string, cause error) {
	if cause != nil {
		c.log.Warn("console SSO sign-in refused", "path", r.URL.Path, "remote", c.api.ClientIP(r), "why", msg, "err", cause.Error())
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.tmpl.ExecuteTemplate(w, "ssoerror", ssoPage{Title: "Single sign-on failed", Error: msg, Status: status}); err != nil {
		c.log.Error("console SSO page", "err", err.Error())
	}
}

// ssoRefuse answers a failed sign-in, which the API counts against the
// client address's failure limit (429 past it) and audits in the
// organization.
func (c *Console) ssoRefuse(w http.ResponseWriter, r *http.Request, org *gatehouse.Organization, protocol string, status int, msg string, cause error) {
	if !c.api.SSOFailed(w, r, org.ID, protocol, msg) {
		c.ssoFail(w, r, http.StatusTooManyRequests, "too many failed sign-ins from this address; try again later", nil)
		return
	}
	c.ssoFail(w, r, status, msg, cause)
}

// ssoPick is the sign-in page's "organization" form.
func (c *Console) ssoPick(w http.ResponseWriter, r *http.Request) {
	org := strings.TrimSpace(r.URL.Query().Get("org"))
	if org == "" {
		c.renderLogin(w, http.StatusBadRequest, loginData{Next: r.URL.Query().Get("next"), Error: "name your organization to sign in with its identity provider"})
		return
	}
	u := "/console/-/sso/" + url.PathEscape(org)
	if next := safeNext(r.URL.Query().Get("next")); next != "/console/" {
		u += "?next=" + url.QueryEscape(next)
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
}

// safeNext keeps only the console's own pages, never another site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/console/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") ||
		strings.ContainsAny(next, "\r\n") {
		return "/console/"
	}
	return next
}

// ssoOrg resolves the organization of an SSO request, answering the
// browser itself when it cannot.
func (c *Console) ssoOrg(w http.ResponseWriter, r *http.Request) (*gatehouse.Organization, *gatehouse.SSO, bool) {
	if c.publicURL == "" {
		c.ssoFail(w, r, http.StatusNotFound, "single sign-on is off: the server was started without --public-url, which the identity provider's redirect URIs need", nil)
		return nil, nil, false
	}
	org, cfg, err := c.svc.SSOOrg(r.Context(), r.PathValue("org"))
	if err != nil {
		if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			c.log.Error("console SSO", "err", err.Error())
			c.ssoFail(w, r, http.StatusInternalServerError, "internal error", nil)
			return nil, nil, false
		}
		c.ssoFail(w, r, http.StatusNotFound, fmt.Sprintf("organization %q has no single sign-on", r.PathValue("org")), nil)
		return nil, nil, false
	}
	return org, cfg, true
}

func (c *Console) ssoStart(w http.ResponseWriter, r *http.Request) {
	org, cfg, ok := c.ssoOrg(w, r)
	if !ok {
		return
	}
	// A start writes a row before anyone is authenticated: it is charged
	// to the address first (and bounded per organization by the service).
	if !c.api.SignInStarted(w, r) {
		c.ssoFail(w, r, http.StatusTooManyRequests, "too many sign-ins from this address; try again later", nil)
		return
	}
	next := safeNext(r.URL.Query().Get("next"))
	protocol := r.URL.Query().Get("protocol")
	if protocol == "" {
		protocol = service.ProtocolSAML
		if cfg.Issuer != "" {
			protocol = service.ProtocolOIDC
		}
	}
	switch {
	case protocol == service.ProtocolOIDC && cfg.Issuer != "" && c.oidc != nil:
		c.startOIDC(w, r, org, next)
	case protocol == service.ProtocolSAML && cfg.IdPMetadata != "":
		c.startSAML(w, r, org, cfg, next)
	default:
		c.ssoFail(w, r, http.StatusNotFound, fmt.Sprintf("organization %q has no %s sign-in", org.Name, strings.ToUpper(protocol)), nil)
	}
}

// beginFailed answers a sign-in the service would not record: 429 when
// the organization has as many under way as it may.
func (c *Console) beginFailed(w http.ResponseWriter, r *http.Request, err error) {
	if gatehouse.ErrorCode(err) == gatehouse.ETOOMANYREQUESTS {
		w.Header().Set("Retry-After", "60")
		c.ssoFail(w, r, http.StatusTooManyRequests, "too many sign-ins under way for this organization; try again in a few minutes", nil)
		return
	}
	c.ssoFail(w, r, http.StatusInternalServerError, "internal error", err)
}

// setState gives the browser the sign-in's state. The SAML response
// arrives as a cross-site POST, which carries only a SameSite=None
// cookie (and that only over TLS).
func (c *Console) setState(w http.ResponseWriter, org, state string, sameSite http.SameSite) {
	if sameSite == http.SameSiteNoneMode && !c.secure {
		sameSite = http.SameSiteLaxMode
	}
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: state, Path: "/console/-/sso/" + url.PathEscape(org), HttpOnly: true,
		Secure: c.secure, SameSite: sameSite, MaxAge: int(service.SSOLoginLifetime / time.Second)})
}

// stateMatches checks the browser's state cookie against the state the
// provider sent back. required is false only for a SAML response over
// plain HTTP, whose cross-site POST carries no cookie.
func stateMatches(r *http.Request, state string, required bool) bool {
	ck, err := r.Cookie(ssoCookie)
	if err != nil || ck.Value == "" {
		return !required
	}
	return subtle.ConstantTimeCompare([]byte(ck.Value), []byte(state)) == 1
}

func (c *Console) startOIDC(w http.ResponseWriter, r *http.Request, org *gatehouse.Organization, next string) {
	client, _, err := c.svc.OIDCClient(r.Context(), org.ID)
	if err != nil {
		c.ssoFail(w, r, http.StatusInternalServerError, "the organization's OIDC sign-in cannot start", err)
		return
	}
	state, l, err := c.svc.BeginSSO(r.Context(), org.ID, service.ProtocolOIDC, "", next)
	if err != nil {
		c.beginFailed(w, r, err)
		return
	}
	u, err := c.oidc.AuthCodeURL(r.Context(), *client, c.ssoURLs(org.Name).Redirect, state, l.Nonce, l.Verifier)
	if err != nil {
		c.ssoFail(w, r, http.StatusBadGateway, "the organization's OpenID provider cannot be reached or discovered", err)
		return
	}
	c.setState(w, org.Name, state, http.SameSiteLaxMode)
	http.Redirect(w, r, u, http.StatusSeeOther)
}

func (c *Console) oidcCallback(w http.ResponseWriter, r *http.Request) {
	org, _, ok := c.ssoOrg(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		c.ssoRefuse(w, r, org, service.ProtocolOIDC, http.StatusUnauthorized, "the identity provider refused the sign-in: "+truncate(e+" "+q.Get("error_description"), 300), nil)
		return
	}
	state := q.Get("state")
	if !stateMatches(r, state, true) {
		c.ssoRefuse(w, r, org, service.ProtocolOIDC, http.StatusBadRequest, "this sign-in was not started in this browser (its state does not match); start again", errors.New("state cookie mismatch"))
		return
	}
	l, err := c.svc.TakeSSO(r.Context(), state, service.ProtocolOIDC)
	if err != nil || l.OrgID != org.ID {
		c.ssoRefuse(w, r, org, service.ProtocolOIDC, http.StatusBadRequest, "this sign-in is unknown, used already or expired; start again", err)
		return
	}
	client, cfg, err := c.svc.OIDCClient(r.Context(), org.ID)
	if err != nil {
		c.ssoFail(w, r, http.StatusInternalServerError, "the organization's OIDC sign-in is not configured", err)
		return
	}
	claims, err := c.oidc.Exchange(r.Context(), *client, c.ssoURLs(org.Name).Redirect, q.Get("code"), l.Verifier, l.Nonce)
	if err != nil {
		c.ssoRefuse(w, r, org, service.ProtocolOIDC, http.StatusUnauthorized, "the identity provider's answer could not be verified", err)
		return
	}
	who, err := oidcIdentity(cfg, claims)
	if err != nil {
		c.ssoRefuse(w, r, org, service.ProtocolOIDC, http.StatusUnauthorized, err.Error(), err)
		return
	}
	c.finishSSO(w, r, org, who, l.Next)
}

// oidcIdentity reads who signed in from an ID token's claims.
func oidcIdentity(cfg *gatehouse.SSO, claims map[string]any) (service.SSOIdentity, error) {
	claim := cfg.UserClaim
	if claim == "" {
		claim = service.DefaultUserClaim
	}
	who := service.SSOIdentity{Protocol: service.ProtocolOIDC}
	who.Subject, _ = claims[claim].(string)
	if who.Subject == "" {
		return who, fmt.Errorf("the identity provider's ID token has no %q claim to name the user by", claim)
	}
	if v, ok := claims["email_verified"].(bool); claim == "email" && ok && !v {
		return who, errors.New("the identity provider has not verified the user's e-mail address, which names the user")
	}
	who.Email, _ = claims["email"].(string)
	verified, ok := claims["email_verified"].(bool)
	if ok && !verified {
		who.Email = "" // an address the provider says it has not verified says nothing
	}
	who.EmailVerified = verified && who.Email != ""
	who.Name, _ = claims["name"].(string)
	if cfg.GroupsClaim != "" {
		who.Groups = []string{}
		switch g := claims[cfg.GroupsClaim].(type) {
		case string:
			who.Groups = append(who.Groups, g)
		case []any:
			for _, x := range g {
				if s, ok := x.(string); ok {
					who.Groups = append(who.Groups, s)
				}
			}
		}
	}
	return who, nil
}

// finishSSO signs the user in and sends the browser on.
func (c *Console) finishSSO(w http.ResponseWriter, r *http.Request, org *gatehouse.Organization, who service.SSOIdentity, next string) {
	ctx := gatehouse.WithActor(r.Context(), gatehouse.Actor{SourceIP: c.api.ClientIP(r), UserAgent: r.UserAgent()})
	out, err := c.svc.SignInSSO(ctx, org.ID, who, SessionLifetime)
	if err != nil {
		switch gatehouse.ErrorCode(err) {
		case gatehouse.EFORBIDDEN, gatehouse.EINVALID:
			c.ssoRefuse(w, r, org, who.Protocol, http.StatusForbidden, gatehouse.ErrorMessage(err), err)
		default:
			c.ssoFail(w, r, http.StatusInternalServerError, "internal error", err)
		}
		return
	}
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: "", Path: "/console/-/sso/" + url.PathEscape(org.Name), MaxAge: -1, HttpOnly: true, Secure: c.secure})
	c.setSession(w, out.Value, out.Session.Expires)
	c.log.Info("console sign-in", "user", out.User.Login, "via", who.Protocol, "org", org.Name, "created", out.Created, "remote", c.api.ClientIP(r))
	// A page, not a redirect: the provider's cross-site redirect or POST
	// would not carry the new SameSite=Strict cookie to the next page.
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := c.tmpl.ExecuteTemplate(w, "ssodone", ssoPage{Title: "Signed in", Next: next}); err != nil {
		c.log.Error("console SSO page", "err", err.Error())
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// --- SAML

// serviceProvider is the organization's SAML service provider. The
// replay cache remembers assertions in the database through the service.
func (c *Console) serviceProvider(ctx context.Context, org *gatehouse.Organization, cfg *gatehouse.SSO) (*saml.ServiceProvider, error) {
	u := c.ssoURLs(org.Name)
	md, _ := url.Parse(u.Metadata)
	acs, _ := url.Parse(u.ACS)
	sp := &saml.ServiceProvider{EntityID: u.Metadata, MetadataURL: *md, AcsURL: *acs,
		AssertionConsumerServiceBindings: []string{saml.HTTPPostBinding}, RejectSHA1Signatures: true,
		// The NameID names the user: an e-mail address, never a transient id.
		AuthnNameIDFormat: saml.EmailAddressNameIDFormat,
		ReplayCache:       replayCache{ctx: ctx, svc: c.svc, orgID: org.ID},
		// Requests are signed (Entra ID verifies RSA-SHA256 only), and an
		// assertion encrypted with a CBC cipher is decrypted only inside
		// a signed Response (padding oracles need unauthenticated CBC).
		SignatureMethod: dsig.RSASHA256SignatureMethod, RequireSignedResponseForCBC: true}
	if cfg != nil && cfg.IdPMetadata != "" {
		ed, err := service.ParseIdPMetadata(cfg.IdPMetadata)
		if err != nil {
			return nil, err
		}
		sp.IDPMetadata = ed
	}
	return sp, nil
}

// withKeys gives a service provider the organization's SP key pairs: the
// current one signs and decrypts, the others (a rollover's next or
// previous one) decrypt.
func (c *Console) withKeys(ctx context.Context, sp *saml.ServiceProvider, org *gatehouse.Organization) error {
	pairs, err := c.svc.OpenSPKeys(ctx, org.ID)
	if err != nil {
		return err
	}
	sp.Key, sp.Certificate = pairs[0].Key, pairs[0].Certificate
	for _, p := range pairs[1:] {
		sp.DecryptionKeys = append(sp.DecryptionKeys, p.Key)
	}
	return nil
}

// spMetadata is the service provider's metadata with every SP key's
// certificate: crewjam publishes the current one (Certificate) for
// encryption and signing, first, so that an identity provider that
// encrypts to the first it finds picks it; the others follow, for both
// uses too.
func spMetadata(sp *saml.ServiceProvider, keys []service.SPKeyView) *saml.EntityDescriptor {
	sp.Certificate = keys[0].Certificate
	md := sp.Metadata()
	d := &md.SPSSODescriptors[0]
	var methods []saml.EncryptionMethod
	for _, k := range d.KeyDescriptors {
		if k.Use == "encryption" {
			methods = k.EncryptionMethods
		}
	}
	for _, k := range keys[1:] {
		info := saml.KeyInfo{X509Data: saml.X509Data{X509Certificates: []saml.X509Certificate{{Data: base64.StdEncoding.EncodeToString(k.Certificate.Raw)}}}}
		d.KeyDescriptors = append(d.KeyDescriptors, saml.KeyDescriptor{Use: "encryption", KeyInfo: info, EncryptionMethods: methods},
			saml.KeyDescriptor{Use: "signing", KeyInfo: info})
	}
	return md
}

// replayCache is saml.AssertionReplayCache over the database.
type replayCache struct {
	ctx   context.Context
	svc   *service.Service
	orgID string
}

func (rc replayCache) Consume(id string, expires time.Time) error {
	err := rc.svc.UseAssertion(rc.ctx, rc.orgID, id, expires)
	if gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
		return saml.ErrAssertionReplayed
	}
	return err
}

func (c *Console) startSAML(w http.ResponseWriter, r *http.Request, org *gatehouse.Organization, cfg *gatehouse.SSO, next string) {
	sp, err := c.serviceProvider(r.Context(), org, cfg)
	if err != nil {
		c.ssoFail(w, r, http.StatusInternalServerError, "the organization's SAML metadata no longer parses", err)
		return
	}
	if err := c.withKeys(r.Context(), sp, org); err != nil {
		c.ssoFail(w, r, http.StatusInternalServerError, "the organization's SAML service provider key cannot be opened", err)
		return
	}
	req, err := sp.MakeAuthenticationRequest(sp.GetSSOBindingLocation(saml.HTTPRedirectBinding), saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		c.ssoFail(w, r, http.StatusInternalServerError, "internal error", err)
		return
	}
	state, _, err := c.svc.BeginSSO(r.Context(), org.ID, service.ProtocolSAML, req.ID, next)
	if err != nil {
		c.beginFailed(w, r, err)
		return
	}
	u, err := req.Redirect(state, sp)
	if err != nil {
		c.ssoFail(w, r, http.StatusInternalServerError, "internal error", err)
		return
	}
	c.setState(w, org.Name, state, http.SameSiteNoneMode)
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

func (c *Console) samlMetadata(w http.ResponseWriter, r *http.Request) {
	if c.publicURL == "" {
		http.NotFound(w, r)
		return
	}
	org, cfg, err := c.svc.SSOOrg(r.Context(), r.PathValue("org"))
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND && org != nil {
		err = nil // an organization setting SSO up: its SP metadata comes first
	}
	if err != nil {
		http.NotFound(w, r)
		return
	}
	sp, err := c.serviceProvider(r.Context(), org, cfg)
	if err != nil {
		sp, _ = c.serviceProvider(r.Context(), org, nil)
	}
	keys, err := c.svc.SPKeys(r.Context(), org.ID)
	if err != nil {
		c.log.Error("console SAML metadata: the SP keys", "org", org.Name, "err", err.Error())
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	b, err := xml.MarshalIndent(spMetadata(sp, keys), "", "  ")
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Write([]byte(xml.Header))
	w.Write(b)
}

// samlCertificate serves an SP key's certificate as PEM, for identity
// providers that take a certificate file rather than the metadata (Okta's
// signature and encryption certificates, Entra ID's verification and
// token encryption certificates): the current key's, or ?id='s.
func (c *Console) samlCertificate(w http.ResponseWriter, r *http.Request) {
	if c.publicURL == "" {
		http.NotFound(w, r)
		return
	}
	org, _, err := c.svc.SSOOrg(r.Context(), r.PathValue("org"))
	if org == nil || (err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND) {
		http.NotFound(w, r)
		return
	}
	keys, err := c.svc.SPKeys(r.Context(), org.ID)
	if err != nil {
		c.log.Error("console SAML certificate: the SP keys", "org", org.Name, "err", err.Error())
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	k := keys[0]
	if id := r.URL.Query().Get("id"); id != "" {
		i := slices.IndexFunc(keys, func(k service.SPKeyView) bool { return k.ID == id })
		if i < 0 {
			http.Error(w, fmt.Sprintf("id: the organization has no SAML SP key %q", truncate(id, 64)), http.StatusNotFound)
			return
		}
		k = keys[i]
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("Content-Disposition", `attachment; filename="`+url.PathEscape(org.Name)+`-saml-sp.pem"`)
	pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: k.Certificate.Raw})
}

func (c *Console) samlACS(w http.ResponseWriter, r *http.Request) {
	org, cfg, ok := c.ssoOrg(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		c.ssoFail(w, r, http.StatusBadRequest, "bad form", err)
		return
	}
	state := r.PostForm.Get("RelayState")
	if !stateMatches(r, state, c.secure) {
		c.ssoRefuse(w, r, org, service.ProtocolSAML, http.StatusBadRequest, "this sign-in was not started in this browser (its state does not match); start again", errors.New("state cookie mismatch"))
		return
	}
	l, err := c.svc.TakeSSO(r.Context(), state, service.ProtocolSAML)
	if err != nil || l.OrgID != org.ID {
		c.ssoRefuse(w, r, org, service.ProtocolSAML, http.StatusBadRequest, "this sign-in is unknown, used already or expired; start again (sign-ins the identity provider starts are not accepted)", err)
		return
	}
	sp, err := c.serviceProvider(r.Context(), org, cfg)
	if err != nil || sp.IDPMetadata == nil {
		c.ssoFail(w, r, http.StatusInternalServerError, "the organization's SAML sign-in is not configured", err)
		return
	}
	if err := c.withKeys(r.Context(), sp, org); err != nil {
		c.ssoFail(w, r, http.StatusInternalServerError, "the organization's SAML service provider key cannot be opened", err)
		return
	}
	a, err := sp.ParseResponse(r, []string{l.RequestID})
	if err != nil {
		var ire *saml.InvalidResponseError
		if errors.As(err, &ire) {
			err = ire.PrivateErr
		}
		msg := "the identity provider's answer could not be verified"
		if errors.Is(err, saml.ErrDecryptionFailed) {
			// Most likely the IdP holds a certificate the organization
			// no longer (or never) had: say so, it is the admin's to fix.
			msg = "the identity provider encrypted the assertion to a key this organization's service provider does not hold: " +
				"give the identity provider the current SP certificate (" + c.ssoURLs(org.Name).Metadata + ")"
		}
		c.ssoRefuse(w, r, org, service.ProtocolSAML, http.StatusUnauthorized, msg, err)
		return
	}
	who, err := samlIdentity(cfg, a)
	if err != nil {
		c.ssoRefuse(w, r, org, service.ProtocolSAML, http.StatusUnauthorized, err.Error(), err)
		return
	}
	c.finishSSO(w, r, org, who, l.Next)
}

// samlIdentity reads who signed in from a verified assertion: the NameID
// names the user.
func samlIdentity(cfg *gatehouse.SSO, a *saml.Assertion) (service.SSOIdentity, error) {
	who := service.SSOIdentity{Protocol: service.ProtocolSAML}
	if a.Subject == nil || a.Subject.NameID == nil || a.Subject.NameID.Value == "" {
		return who, errors.New("the assertion has no NameID to name the user by")
	}
	if a.Subject.NameID.Format == string(saml.TransientNameIDFormat) {
		return who, errors.New("the identity provider sent a transient NameID, which names no one for long: configure it to send the user's e-mail address")
	}
	who.Subject = a.Subject.NameID.Value
	if cfg.GroupsAttribute != "" {
		who.Groups = []string{}
	}
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			is := func(names ...string) bool {
				for _, n := range names {
					if strings.EqualFold(at.Name, n) || strings.EqualFold(at.FriendlyName, n) {
						return true
					}
				}
				return false
			}
			for _, v := range at.Values {
				switch {
				case cfg.GroupsAttribute != "" && is(cfg.GroupsAttribute):
					who.Groups = append(who.Groups, v.Value)
				case who.Email == "" && is("email", "mail", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"):
					who.Email = v.Value
				case who.Name == "" && is("name", "displayName", "cn", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"):
					who.Name = v.Value
				}
			}
		}
	}
	if who.Email == "" && strings.Contains(who.Subject, "@") {
		who.Email = who.Subject
	}
	// The organization's own identity provider vouches for its users.
	who.EmailVerified = who.Email != ""
	return who, nil
}

// --- the settings page

type ssoSettingsData struct {
	OIDC      wire.OIDCSSO
	SAML      wire.SAMLOrganization
	SPKeys    wire.SAMLSPKeys
	URLs      ssoURLs
	Roles     []wire.Role
	CanUpdate bool
	Off       bool // no --public-url
}

func (c *Console) ssoSettings(q *req) error { return c.ssoSettingsPage(q, http.StatusOK, "") }

func (c *Console) ssoSettingsPage(q *req, status int, errMsg string) error {
	d := ssoSettingsData{URLs: c.ssoURLs(q.org), CanUpdate: q.may("saml:update"), Off: c.publicURL == ""}
	if err := q.call("GET", "/api/orgs/"+url.PathEscape(q.org)+"/sso/oidc", nil, &d.OIDC); err != nil {
		return q.fail(err, func(msg string) error {
			return q.render(http.StatusForbidden, "sso", "Single sign-on", "sso", nil, msg, "")
		})
	}
	if err := q.call("GET", "/api/orgs/"+url.PathEscape(q.org)+"/saml", nil, &d.SAML); err != nil {
		return err
	}
	if err := q.call("GET", "/api/orgs/"+url.PathEscape(q.org)+"/saml/sp-keys", nil, &d.SPKeys); err != nil {
		return err
	}
	d.Roles, _ = q.descriptors("role")
	return q.render(status, "sso", "Single sign-on", "sso", d, errMsg, q.notice())
}

// formPolicy reads the first sign-in policy fields of a settings form.
func formPolicy(f url.Values) (allow *bool, role *string, domains *[]string) {
	a := f.Get("allowCreate") == "on"
	r := f.Get("defaultRoleId")
	d := strings.FieldsFunc(f.Get("emailDomains"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' })
	return &a, &r, &d
}

func (c *Console) saveOIDCSSO(q *req) error {
	f := q.r.PostForm
	in := wire.UpdateOIDCSSORequest{}
	for _, x := range []struct {
		dst  **string
		name string
	}{{&in.Issuer, "issuer"}, {&in.ClientID, "clientId"}, {&in.UserClaim, "userClaim"}, {&in.GroupsClaim, "groupsClaim"}} {
		v := f.Get(x.name)
		*x.dst = &v
	}
	if secret := f.Get("clientSecret"); secret != "" || f.Get("clearSecret") == "on" {
		in.ClientSecret = &secret // empty only when asked to clear: a blank field keeps the secret
	}
	in.AllowCreate, in.DefaultRoleID, in.EmailDomains = formPolicy(f)
	if err := q.call("PATCH", "/api/orgs/"+url.PathEscape(q.org)+"/sso/oidc", in, nil); err != nil {
		return q.fail(err, func(msg string) error { return c.ssoSettingsPage(q, http.StatusBadRequest, msg) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/sso", "OIDC sign-in saved.")
}

func (c *Console) saveSAML(q *req) error {
	f := q.r.PostForm
	md, groups := f.Get("idpSsoDescriptor"), f.Get("groupsAttribute")
	in := wire.UpdateSAMLOrganizationRequest{GroupsAttribute: &groups}
	if strings.TrimSpace(md) != "" {
		in.NewIdPSSODescriptor = &md
	}
	in.AllowCreate, in.DefaultRoleID, in.EmailDomains = formPolicy(f)
	if err := q.call("PATCH", "/api/orgs/"+url.PathEscape(q.org)+"/saml", in, nil); err != nil {
		return q.fail(err, func(msg string) error { return c.ssoSettingsPage(q, http.StatusBadRequest, msg) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/sso", "SAML sign-in saved.")
}

// createSPKey starts a rollover of the SAML service provider's key pair.
func (c *Console) createSPKey(q *req) error {
	if err := q.call("POST", "/api/orgs/"+url.PathEscape(q.org)+"/saml/sp-keys", nil, nil); err != nil {
		return q.fail(err, func(msg string) error { return c.ssoSettingsPage(q, http.StatusBadRequest, msg) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/sso",
		"New SAML service provider key published beside the current one: give its certificate to the identity provider, then activate it.")
}

// changeSPKey activates or deletes one of the SAML service provider's key
// pairs.
func (c *Console) changeSPKey(q *req) error {
	path := "/api/orgs/" + url.PathEscape(q.org) + "/saml/sp-keys/" + url.PathEscape(q.r.PathValue("id"))
	var err error
	notice := ""
	switch q.r.PathValue("action") {
	case "activate":
		err, notice = q.call("POST", path+"/activate", nil, nil), "SAML service provider key activated: it signs the requests from now on."
	case "delete":
		err, notice = q.call("DELETE", path, nil, nil), "SAML service provider key deleted."
	default:
		http.NotFound(q.w, q.r)
		return nil
	}
	if err != nil {
		return q.fail(err, func(msg string) error { return c.ssoSettingsPage(q, http.StatusBadRequest, msg) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/sso", notice)
}
