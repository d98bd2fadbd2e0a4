package oidc

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-iam/gatehouse"
)

// Login signs people in with an organization's OpenID provider: the
// authorization code flow with PKCE (S256), state and nonce, over
// github.com/coreos/go-oidc and golang.org/x/oauth2. Every fetch (discovery,
// keys, the token and userinfo endpoints) goes through the guarded client:
// HTTPS only, a trusted certificate chain (RootCAs; a sign-in provider has
// no pinned thumbprints, and is never trusted on first use), loopback and
// private addresses refused unless AllowInsecure, bounded times and
// redirects. It implements gatehouse.OIDCLogin.
type Login struct {
	v      *Verifier
	client *http.Client
	mu     sync.Mutex
	cache  map[string]cachedProvider // by issuer URL
}

type cachedProvider struct {
	p       *gooidc.Provider
	fetched time.Time
}

// providerTTL is how long a provider's discovery is reused.
const providerTTL = 10 * time.Minute

var _ gatehouse.OIDCLogin = (*Login)(nil)

// NewLogin returns a Login whose fetches follow opts (AllowInsecure only
// lifts the address guard here: certificates are always verified against
// RootCAs, or the system's).
func NewLogin(opts Options) *Login {
	v := New(opts)
	c := v.client(nil, nil)
	t := c.Transport.(*http.Transport)
	t.TLSClientConfig = &tls.Config{RootCAs: opts.RootCAs, MinVersion: tls.VersionTLS12}
	return &Login{v: v, client: c, cache: map[string]cachedProvider{}}
}

// provider returns the issuer's discovered provider, discovering it at
// most once per providerTTL.
func (l *Login) provider(ctx context.Context, issuer string) (*gooidc.Provider, error) {
	l.mu.Lock()
	c, ok := l.cache[issuer]
	l.mu.Unlock()
	if ok && l.v.opts.Now().Sub(c.fetched) < providerTTL {
		return c.p, nil
	}
	// The provider keeps the context for its later key fetches: the
	// guarded client without the request's cancellation.
	pctx := gooidc.ClientContext(context.WithoutCancel(ctx), l.client)
	p, err := gooidc.NewProvider(pctx, issuer)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", issuer, err)
	}
	l.mu.Lock()
	l.cache[issuer] = cachedProvider{p: p, fetched: l.v.opts.Now()}
	l.mu.Unlock()
	return p, nil
}

func (l *Login) config(p *gooidc.Provider, c gatehouse.OIDCClient, redirectURL string) *oauth2.Config {
	return &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Endpoint: p.Endpoint(), RedirectURL: redirectURL,
		Scopes: c.Scopes}
}

// AuthCodeURL implements gatehouse.OIDCLogin.
func (l *Login) AuthCodeURL(ctx context.Context, c gatehouse.OIDCClient, redirectURL, state, nonce, verifier string) (string, error) {
	p, err := l.provider(ctx, c.Issuer)
	if err != nil {
		return "", err
	}
	return l.config(p, c, redirectURL).AuthCodeURL(state, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// Exchange implements gatehouse.OIDCLogin.
func (l *Login) Exchange(ctx context.Context, c gatehouse.OIDCClient, redirectURL, code, verifier, nonce string) (map[string]any, error) {
	p, err := l.provider(ctx, c.Issuer)
	if err != nil {
		return nil, err
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, l.client)
	tok, err := l.config(p, c, redirectURL).Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("redeem the code: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, errors.New("the token response has no id_token")
	}
	if len(raw) > MaxTokenSize {
		return nil, fmt.Errorf("the ID token is over %d bytes", MaxTokenSize)
	}
	idt, err := p.VerifierContext(gooidc.ClientContext(ctx, l.client), &gooidc.Config{ClientID: c.ClientID,
		SupportedSigningAlgs: algNames(), Now: l.v.opts.Now}).Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("verify the ID token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 || nonce == "" {
		return nil, errors.New("verify the ID token: its nonce is not this sign-in's")
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("read the ID token's claims: %w", err)
	}
	// With several audiences, the token must have been issued to this
	// client (OIDC Core 3.1.3.7, items 4 and 5).
	if azp, ok := claims["azp"].(string); (ok && azp != c.ClientID) || (!ok && len(idt.Audience) > 1) {
		return nil, errors.New("verify the ID token: it was issued to another client (azp)")
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, fmt.Errorf("verify the ID token: %w", err)
		}
	}
	if err := l.addUserInfo(ctx, p, tok, idt.Subject, claims); err != nil {
		return nil, err
	}
	return claims, nil
}

// addUserInfo adds the userinfo endpoint's claims that the ID token lacks
// (many providers put the profile and e-mail only there); its subject must
// be the ID token's.
func (l *Login) addUserInfo(ctx context.Context, p *gooidc.Provider, tok *oauth2.Token, sub string, claims map[string]any) error {
	var doc struct {
		UserInfoURL string `json:"userinfo_endpoint"`
	}
	if err := p.Claims(&doc); err != nil || doc.UserInfoURL == "" {
		return nil
	}
	ui, err := p.UserInfo(gooidc.ClientContext(ctx, l.client), oauth2.StaticTokenSource(tok))
	if err != nil {
		return fmt.Errorf("fetch userinfo: %w", err)
	}
	if ui.Subject != sub {
		return errors.New("the userinfo subject is not the ID token's")
	}
	more := map[string]any{}
	if err := ui.Claims(&more); err != nil {
		return fmt.Errorf("read userinfo: %w", err)
	}
	for k, v := range more {
		if _, ok := claims[k]; !ok {
			claims[k] = v
		}
	}
	return nil
}

func algNames() []string {
	out := make([]string, 0, len(Algorithms))
	for _, a := range Algorithms {
		out = append(out, string(a))
	}
	return slices.Clip(out)
}
