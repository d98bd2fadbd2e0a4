// Package oidc talks to OpenID Connect issuers for token exchange: it
// fetches their discovery documents and key sets over HTTPS with pinned
// certificates, caches keys as Cache-Control allows, and verifies ID tokens
// with go-jose. It implements gatehouse.IDTokenVerifier.
//
// Outbound requests are guarded: HTTPS only; loopback, private and
// link-local addresses refused (checked on the address actually dialed, so
// DNS cannot be used to slip past) unless AllowInsecure; bounded sizes,
// times and redirects.
package oidc

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse-iam/gatehouse"
)

// Options configure a Verifier.
type Options struct {
	// AllowInsecure permits issuers on loopback and private addresses and
	// trusts a certificate on first use (pinning its thumbprint) without a
	// trusted chain: for local testing only.
	AllowInsecure bool
	// RootCAs verify issuers' certificates at registration; nil means the
	// system's.
	RootCAs *x509.CertPool
	// Now is the clock.
	Now func() time.Time
	// RefetchInterval is the least time between two key-set fetches of one
	// issuer (default 10 seconds): a token with an unknown key id fetches
	// the keys again at most that often, so that a flood of such tokens
	// costs the issuer one request per interval, and a real rotation is
	// honoured within it.
	RefetchInterval time.Duration
}

// Limits of outbound fetches and of tokens.
const (
	maxDocument  = 1 << 20
	fetchTimeout = 10 * time.Second
	maxRedirects = 3
	// MaxTokenSize bounds an ID token.
	MaxTokenSize = 16 << 10
	// ClockSkew is the leeway for exp, nbf and iat.
	ClockSkew = time.Minute
	minKeyTTL = time.Minute
	maxKeyTTL = 24 * time.Hour
	defKeyTTL = time.Hour
	// DefaultRefetchInterval is Options.RefetchInterval's default.
	DefaultRefetchInterval = 10 * time.Second
)

// Algorithms are the signature algorithms accepted: asymmetric only, so
// that no token can be signed with a public key or with "none".
var Algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA}

// Verifier implements gatehouse.IDTokenVerifier.
type Verifier struct {
	opts Options
	mu   sync.Mutex
	keys map[string]*keyCache // by issuer id
}

var _ gatehouse.IDTokenVerifier = (*Verifier)(nil)

// New returns a Verifier.
func New(opts Options) *Verifier {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RefetchInterval <= 0 {
		opts.RefetchInterval = DefaultRefetchInterval
	}
	return &Verifier{opts: opts, keys: map[string]*keyCache{}}
}

// keyCache holds an issuer's fetched key set.
type keyCache struct {
	mu      sync.Mutex
	keys    jose.JSONWebKeySet
	expires time.Time
	// lastForced is when an unknown key id last caused a fetch, and
	// lastFailed when a fetch last failed: each kind happens at most once
	// per refetch interval, so that neither a flood of unknown kids nor an
	// issuer that is down turns every request into a fetch.
	lastForced time.Time
	lastFailed time.Time
	lastErr    error  // the last failure, answered until the next fetch may run
	version    string // invalidates the cache when the issuer's registration changes
}

// Thumbprint is the SHA-256 thumbprint of a certificate, lower-case hex.
func Thumbprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return hex.EncodeToString(sum[:])
}

// guardedDialer refuses addresses an issuer must not have.
func (v *Verifier) dialer() *net.Dialer {
	return &net.Dialer{Timeout: fetchTimeout, Control: func(network, address string, _ syscall.RawConn) error {
		if v.opts.AllowInsecure {
			return nil
		}
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		ip := net.ParseIP(host)
		if ip == nil || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
			ip.IsUnspecified() || ip.IsMulticast() {
			return fmt.Errorf("issuer address %s is loopback, private or link-local; refused (start the server with --allow-insecure-issuers to test locally)", host)
		}
		return nil
	}}
}

// client returns an HTTPS client that checks the served certificate: a
// pin when thumbprints are given, else a trusted chain (or, with
// AllowInsecure, anything). seen receives the leaf's thumbprint.
func (v *Verifier) client(thumbprints []string, seen *string) *http.Client {
	tlsConf := &tls.Config{RootCAs: v.opts.RootCAs, MinVersion: tls.VersionTLS12}
	pinned := len(thumbprints) > 0
	if pinned || v.opts.AllowInsecure {
		// The pin (or first use, for local testing) replaces the chain.
		tlsConf.InsecureSkipVerify = true
	}
	tlsConf.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("issuer presented no certificate")
		}
		tp := Thumbprint(cs.PeerCertificates[0])
		if seen != nil {
			*seen = tp
		}
		if pinned && !slices.Contains(thumbprints, tp) {
			return fmt.Errorf("issuer's TLS certificate %s matches none of the pinned thumbprints; regenerate them if the issuer rotated its certificate", tp)
		}
		return nil
	}
	return &http.Client{
		Timeout: fetchTimeout,
		Transport: &http.Transport{DialContext: v.dialer().DialContext, TLSClientConfig: tlsConf,
			TLSHandshakeTimeout: fetchTimeout, ResponseHeaderTimeout: fetchTimeout, MaxResponseHeaderBytes: 64 << 10},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("more than %d redirects", maxRedirects)
			}
			if req.URL.Scheme != "https" {
				return errors.New("redirect away from HTTPS refused")
			}
			return nil
		},
	}
}

// get fetches a JSON document.
func (v *Verifier) get(ctx context.Context, c *http.Client, u string, out any) (http.Header, error) {
	parsed, err := url.Parse(u)
	if err != nil || parsed.Scheme != "https" || parsed.Host == "" {
		return nil, fmt.Errorf("%q is not an https:// URL", u)
	}
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch %s: status %d", u, resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", u, err)
	}
	if len(data) > maxDocument {
		return nil, fmt.Errorf("fetch %s: document over %d bytes", u, maxDocument)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return nil, fmt.Errorf("fetch %s: not JSON: %v", u, err)
	}
	return resp.Header, nil
}

type discoveryDoc struct {
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri"`
}

func configURL(issuerURL string) string {
	return strings.TrimRight(issuerURL, "/") + "/.well-known/openid-configuration"
}

// Discover implements gatehouse.IDTokenVerifier.
func (v *Verifier) Discover(ctx context.Context, issuerURL string, thumbprints []string) (*gatehouse.Discovery, error) {
	var seen string
	c := v.client(thumbprints, &seen)
	var doc discoveryDoc
	if _, err := v.get(ctx, c, configURL(issuerURL), &doc); err != nil {
		return nil, err
	}
	if doc.Issuer == "" || doc.JWKSURI == "" {
		return nil, fmt.Errorf("%s lacks issuer or jwks_uri", configURL(issuerURL))
	}
	if err := sameIssuer(issuerURL, doc.Issuer); err != nil {
		return nil, err
	}
	var keys jose.JSONWebKeySet
	if _, err := v.get(ctx, c, doc.JWKSURI, &keys); err != nil {
		return nil, err
	}
	if len(keys.Keys) == 0 {
		return nil, fmt.Errorf("%s holds no keys", doc.JWKSURI)
	}
	d := &gatehouse.Discovery{Issuer: doc.Issuer, JWKSURI: doc.JWKSURI, Thumbprints: thumbprints}
	if len(thumbprints) == 0 {
		d.Thumbprints = []string{seen}
	}
	return d, nil
}

// sameIssuer checks OpenID Connect Discovery §4.3: the issuer a discovery
// document names must be identical to the URL it was fetched for, or
// anyone serving a discovery document could claim another issuer's name
// (and its tokens' "iss").
func sameIssuer(url, claimed string) error {
	if claimed != url {
		return fmt.Errorf("%s names issuer %q, not %q: OpenID Connect Discovery requires them identical (register the issuer by the URL its tokens name)",
			configURL(url), claimed, url)
	}
	return nil
}

// cacheTTL reads Cache-Control's max-age, bounded.
func cacheTTL(h http.Header) time.Duration {
	for _, part := range strings.Split(h.Get("Cache-Control"), ",") {
		part = strings.TrimSpace(part)
		if part == "no-store" || part == "no-cache" {
			return minKeyTTL
		}
		if v, ok := strings.CutPrefix(part, "max-age="); ok {
			if n, err := strconv.Atoi(v); err == nil {
				return min(max(time.Duration(n)*time.Second, minKeyTTL), maxKeyTTL)
			}
		}
	}
	return defKeyTTL
}

func registration(iss *gatehouse.Issuer) string {
	return iss.URL + "|" + strings.Join(iss.Thumbprints, ",") + "|" + string(iss.JWKS)
}

// keySet returns the issuer's keys: its static set, or the cached fetched
// set, fetched again when stale or when force (an unknown key id), but
// never twice within the refetch interval: in between, the cached set (or
// the last fetch's error) is the answer.
func (v *Verifier) keySet(ctx context.Context, iss *gatehouse.Issuer, force bool) (jose.JSONWebKeySet, error) {
	if len(iss.JWKS) > 0 {
		var ks jose.JSONWebKeySet
		if err := json.Unmarshal(iss.JWKS, &ks); err != nil {
			return ks, fmt.Errorf("issuer %q's static key set is not a JWKS: %v", iss.Name, err)
		}
		return ks, nil
	}
	v.mu.Lock()
	kc := v.keys[iss.ID]
	if kc == nil || kc.version != registration(iss) {
		kc = &keyCache{version: registration(iss)}
		v.keys[iss.ID] = kc
	}
	v.mu.Unlock()
	kc.mu.Lock()
	defer kc.mu.Unlock()
	now := v.opts.Now()
	stale := now.After(kc.expires)
	if !stale && !force {
		return kc.keys, nil
	}
	recent := func(at time.Time) bool { return !at.IsZero() && now.Sub(at) < v.opts.RefetchInterval }
	if recent(kc.lastFailed) || (!stale && recent(kc.lastForced)) {
		if kc.lastErr != nil && len(kc.keys.Keys) == 0 {
			return kc.keys, kc.lastErr
		}
		return kc.keys, nil
	}
	if !stale {
		kc.lastForced = now
	}
	ks, ttl, err := v.fetchKeys(ctx, iss)
	if err != nil {
		kc.lastFailed, kc.lastErr = now, err
		return kc.keys, err
	}
	kc.keys, kc.expires, kc.lastErr = ks, now.Add(ttl), nil
	return ks, nil
}

// fetchKeys fetches an issuer's discovery document, checks that it still
// names the registered issuer, and fetches the key set it points to.
func (v *Verifier) fetchKeys(ctx context.Context, iss *gatehouse.Issuer) (jose.JSONWebKeySet, time.Duration, error) {
	var ks jose.JSONWebKeySet
	c := v.client(iss.Thumbprints, nil)
	var doc discoveryDoc
	if _, err := v.get(ctx, c, configURL(iss.URL), &doc); err != nil {
		return ks, 0, err
	}
	if doc.Issuer != iss.Issuer {
		return ks, 0, fmt.Errorf("%s now names issuer %q, not the registered %q; refusing its keys", configURL(iss.URL), doc.Issuer, iss.Issuer)
	}
	h, err := v.get(ctx, c, doc.JWKSURI, &ks)
	if err != nil {
		return ks, 0, err
	}
	return ks, cacheTTL(h), nil
}

// VerifyError is a failed check of an ID token; Check names it.
type VerifyError struct {
	Check  string
	Detail string
}

func (e *VerifyError) Error() string { return e.Check + ": " + e.Detail }

func fail(check, format string, args ...any) error {
	return &VerifyError{Check: check, Detail: fmt.Sprintf(format, args...)}
}

// Verify implements gatehouse.IDTokenVerifier.
func (v *Verifier) Verify(ctx context.Context, iss *gatehouse.Issuer, raw string, audiences []string) (map[string]any, error) {
	if len(raw) > MaxTokenSize {
		return nil, fail("size", "the token is %d bytes, over the limit of %d", len(raw), MaxTokenSize)
	}
	tok, err := jwt.ParseSigned(raw, Algorithms)
	if err != nil {
		return nil, fail("format", "not a signed JWT with an accepted algorithm (%v)", err)
	}
	if len(tok.Headers) != 1 {
		return nil, fail("format", "want exactly one signature")
	}
	kid := tok.Headers[0].KeyID
	if len(iss.JWKS) == 0 && strings.TrimRight(iss.Issuer, "/") != strings.TrimRight(iss.URL, "/") {
		// Registered before discovery's issuer had to equal the URL (the
		// trailing slash aside, which registration used to strip).
		return nil, fail("issuer", "issuer %q was registered at %s but names itself %q; delete it and re-register it by the URL its tokens name", iss.Name, iss.URL, iss.Issuer)
	}
	keys, err := v.keySet(ctx, iss, false)
	if err != nil {
		return nil, fail("keys", "%v", err)
	}
	candidates := keys.Key(kid)
	if len(candidates) == 0 {
		// Perhaps the issuer rotated its keys: fetch again, at most once per
		// interval, so that a flood of bad tokens does not hammer it.
		if keys, err = v.keySet(ctx, iss, true); err != nil {
			return nil, fail("keys", "%v", err)
		}
		if candidates = keys.Key(kid); len(candidates) == 0 {
			return nil, fail("kid", "no key %q in issuer %q's key set", kid, iss.Name)
		}
	}
	var claims map[string]any
	var std jwt.Claims
	var verr error
	for _, k := range candidates {
		if verr = tok.Claims(k.Key, &claims, &std); verr == nil {
			break
		}
	}
	if verr != nil {
		return nil, fail("signature", "the signature does not verify with issuer %q's key %q", iss.Name, kid)
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: iss.Issuer, Time: v.opts.Now()}, ClockSkew); err != nil {
		switch {
		case errors.Is(err, jwt.ErrInvalidIssuer):
			return nil, fail("iss", "the token's issuer %q is not %q", std.Issuer, iss.Issuer)
		case errors.Is(err, jwt.ErrExpired):
			return nil, fail("exp", "the token expired at %s", std.Expiry.Time().UTC().Format(time.RFC3339))
		case errors.Is(err, jwt.ErrNotValidYet):
			return nil, fail("nbf", "the token is not valid before %s", std.NotBefore.Time().UTC().Format(time.RFC3339))
		case errors.Is(err, jwt.ErrIssuedInTheFuture):
			return nil, fail("iat", "the token was issued in the future")
		}
		return nil, fail("claims", "%v", err)
	}
	if std.Expiry == nil {
		return nil, fail("exp", "the token has no expiry")
	}
	ok := false
	for _, a := range audiences {
		ok = ok || std.Audience.Contains(a)
	}
	if !ok {
		return nil, fail("aud", "the token's audience %v is none of %v", []string(std.Audience), audiences)
	}
	return claims, nil
}

// PeekIssuer returns the unverified "iss" of a token, to find which
// registered issuer must verify it.
func (v *Verifier) PeekIssuer(raw string) (string, error) {
	if len(raw) > MaxTokenSize {
		return "", fail("size", "the token is %d bytes, over the limit of %d", len(raw), MaxTokenSize)
	}
	tok, err := jwt.ParseSigned(raw, Algorithms)
	if err != nil {
		return "", fail("format", "not a signed JWT with an accepted algorithm (%v)", err)
	}
	var c jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil || c.Issuer == "" {
		return "", fail("iss", "the token names no issuer")
	}
	return c.Issuer, nil
}
