package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/service"
)

func toIssuer(i *gatehouse.Issuer) wire.Issuer {
	return wire.Issuer{ID: i.ID, Name: i.Name, URL: i.URL, Issuer: i.Issuer, Thumbprints: i.Thumbprints, JWKS: i.JWKS,
		MaxExpiration: int64(i.MaxExpiration / time.Second), Created: stampOrEmpty(i.Created), Modified: stampOrEmpty(i.Modified),
		LastUsed: stampOrEmpty(i.LastUsed)}
}

// issuerInput is the service input of an issuer request.
func issuerInput(in wire.IssuerRequest) service.IssuerInput {
	out := service.IssuerInput{Name: in.Name, URL: in.URL, Thumbprints: in.Thumbprints, JWKS: present(in.JWKS)}
	if in.MaxExpiration != nil {
		d := time.Duration(*in.MaxExpiration) * time.Second
		out.MaxExpiration = &d
	}
	return out
}

func (s *Server) listIssuers(q *request) (any, error) {
	is, err := s.svc.Issuers(q.ctx(), q.org.ID)
	if err != nil {
		return nil, err
	}
	out := wire.ListIssuersResponse{OIDCIssuers: []wire.Issuer{}}
	for _, i := range is {
		out.OIDCIssuers = append(out.OIDCIssuers, toIssuer(i))
	}
	return out, nil
}

func (s *Server) createIssuer(q *request) (any, error) {
	var in wire.IssuerRequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	i, err := s.svc.RegisterIssuer(q.ctx(), s.verifier, q.org.ID, issuerInput(in))
	if err != nil {
		return nil, err
	}
	return toIssuer(i), nil
}

func (s *Server) getIssuer(q *request) (any, error) {
	i, err := s.svc.Issuer(q.ctx(), q.org.ID, q.r.PathValue("issuerID"))
	if err != nil {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "oidc issuer not found")
	}
	return toIssuer(i), nil
}

func (s *Server) updateIssuer(q *request) (any, error) {
	var in wire.IssuerRequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	if in.URL != "" {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "url: an issuer's URL cannot change; register a new issuer")
	}
	i, err := s.svc.UpdateIssuer(q.ctx(), q.org.ID, q.r.PathValue("issuerID"), issuerInput(in))
	if err != nil {
		return nil, err
	}
	return toIssuer(i), nil
}

func (s *Server) deleteIssuer(q *request) (any, error) {
	return nil, s.svc.DeleteIssuer(q.ctx(), q.org.ID, q.r.PathValue("issuerID"))
}

func (s *Server) regenerateThumbprints(q *request) (any, error) {
	i, err := s.svc.RegenerateThumbprints(q.ctx(), s.verifier, q.org.ID, q.r.PathValue("issuerID"))
	if err != nil {
		return nil, err
	}
	return toIssuer(i), nil
}

func toPolicy(p *gatehouse.AuthPolicy) (wire.AuthPolicy, error) {
	out := wire.AuthPolicy{ID: p.ID, Version: p.Version, Created: stampOrEmpty(p.Created), Modified: stampOrEmpty(p.Modified)}
	err := json.Unmarshal(p.Policies, &out.Policies)
	return out, err
}

func (s *Server) getIssuerPolicy(q *request) (any, error) {
	p, err := s.svc.IssuerPolicy(q.ctx(), q.org.ID, q.r.PathValue("issuerID"))
	if err != nil {
		return nil, err
	}
	return toPolicy(p)
}

func (s *Server) updatePolicy(q *request) (any, error) {
	var in wire.UpdateAuthPolicyRequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	p, err := s.svc.UpdatePolicy(q.ctx(), q.org.ID, q.r.PathValue("policyID"), in.Policies)
	if err != nil {
		return nil, err
	}
	return toPolicy(p)
}

// The RFC 8693 vocabulary of the token endpoint, as Pulumi speaks it.
const (
	grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	idTokenType        = "urn:ietf:params:oauth:token-type:id_token"
	jwtTokenType       = "urn:ietf:params:oauth:token-type:jwt"
	accessTokenPrefix  = "urn:pulumi:token-type:access_token:"
	audiencePrefix     = "urn:pulumi:org:"
)

// exchange is POST /api/oauth/token (RFC 8693), a raw route: its body is
// a form (or JSON) and its refusals answer in RFC 6749 §5.2's shape (with
// Pulumi's code and message too). It is unauthenticated: the subject token
// is the credential. Refusals count as failed authentications and are
// audited in the organization the audience names.
func (s *Server) exchange(q *request) (any, error) {
	q.w.Header().Set("Cache-Control", "no-store")
	get, err := exchangeForm(q)
	if err != nil {
		return nil, &oauthError{status: http.StatusBadRequest, OAuthError: &service.OAuthError{Code: "invalid_request", Description: err.Error()}}
	}
	ctx := gatehouse.WithActor(q.ctx(), gatehouse.Actor{SourceIP: s.clientIP(q.r), UserAgent: q.r.UserAgent(), RequestID: q.reqID,
		ClientRequestID: q.clientReqID})
	req, err := parseExchange(get)
	var res *service.ExchangeResult
	if err == nil {
		res, err = s.svc.Exchange(ctx, s.verifier, req)
	}
	var oe *service.OAuthError
	switch {
	case errors.As(err, &oe):
		return nil, s.exchangeRefused(ctx, q, get("audience"), oe)
	case err != nil:
		return nil, err
	}
	return map[string]any{"access_token": res.AccessToken, "issued_token_type": accessTokenPrefix + res.Kind,
		"token_type": "token", "expires_in": res.ExpiresIn, "scope": res.Scope, "refresh_token": ""}, nil
}

// exchangeRefused counts, limits, logs and audits a refused exchange. Only
// a refused exchange is limited: a valid ID token is never refused because
// others failed from the same address.
func (s *Server) exchangeRefused(ctx context.Context, q *request, audience string, oe *service.OAuthError) error {
	s.metrics.authFailures.WithLabelValues("exchange").Inc()
	ip := s.clientIP(q.r)
	if s.limitFailures(q.w, q.reqID, ip, 1) {
		return &oauthError{status: http.StatusTooManyRequests, OAuthError: &service.OAuthError{Code: "invalid_request",
			Description: "too many failed exchanges from this address; retry later"}}
	}
	why := oe.Description
	if oe.Detail != "" {
		why = oe.Detail
	}
	s.log.Info("token exchange refused", "request_id", q.reqID, "remote", ip, "error", oe.Code, "why", why)
	if orgName, ok := strings.CutPrefix(audience, audiencePrefix); ok {
		if org, err := s.az.Org(q.ctx(), orgName); err == nil {
			// The organization's admins read what the presenter was not
			// told: the patterns the policy expected.
			s.audit.add(service.NewAuditEvent(ctx, s.now(), org.ID, gatehouse.EventAuthFailure,
				"token exchange refused: "+why, "", map[string]string{"error": oe.Code, "reason": oe.Description, "detail": oe.Detail}))
		}
	}
	return &oauthError{status: http.StatusBadRequest, OAuthError: oe}
}

// oauthError is a refusal of the token endpoint with its HTTP status,
// written in RFC 6749 §5.2's shape (writeOAuth). Which refusal it is
// (invalid_grant, invalid_scope, ...) is service's decision, so the code
// and description are service.OAuthError; the status and the wire shape
// are this layer's.
type oauthError struct {
	status int
	*service.OAuthError
}

// writeOAuth writes a raw route's refusal: RFC 6749's error and
// error_description, and Pulumi's code and message.
func writeOAuth(w http.ResponseWriter, oe *oauthError) int {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(oe.status)
	json.NewEncoder(w).Encode(map[string]any{"error": oe.Code, "error_description": oe.Description, "code": oe.status,
		"message": oe.Code + ": " + oe.Description})
	return oe.status
}

// exchangeForm reads a JSON or form-encoded exchange request's fields.
func exchangeForm(q *request) (func(string) string, error) {
	r := q.r
	r.Body = http.MaxBytesReader(q.w, r.Body, q.maxBytes)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/x-www-form-urlencoded" {
		if err := r.ParseForm(); err != nil {
			return nil, fmt.Errorf("request body: %v", err)
		}
		return r.PostForm.Get, nil
	}
	var m map[string]any
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("request body: want a JSON object or a form: %v", err)
	}
	vals := url.Values{}
	for k, v := range m {
		switch x := v.(type) {
		case string:
			vals.Set(k, x)
		case json.Number:
			vals.Set(k, x.String())
		case nil:
		default:
			return nil, fmt.Errorf("%s: want a string", k)
		}
	}
	return vals.Get, nil
}

// parseExchange reads an RFC 8693 request's URNs into what it asks for:
// a refusal is a *service.OAuthError, as the service's are.
func parseExchange(get func(string) string) (service.ExchangeRequest, error) {
	req := service.ExchangeRequest{Audience: get("audience"), SubjectToken: get("subject_token"), Scope: get("scope"),
		Kind: gatehouse.TokenOrganization}
	if gt := get("grant_type"); gt != grantTokenExchange {
		return req, oauthErr("unsupported_grant_type", "grant_type: %q is not %s", gt, grantTokenExchange)
	}
	if req.SubjectToken == "" {
		return req, oauthErr("invalid_request", "subject_token: missing")
	}
	if tt := get("subject_token_type"); tt != idTokenType && tt != jwtTokenType {
		return req, oauthErr("invalid_request", "subject_token_type: %q is not %s", tt, idTokenType)
	}
	if rt := get("requested_token_type"); rt != "" {
		k, ok := strings.CutPrefix(rt, accessTokenPrefix)
		if !ok || !slices.Contains(exchangeKinds, k) {
			return req, oauthErr("invalid_request", "requested_token_type: %q is not %s followed by organization, team, personal or runner", rt, accessTokenPrefix)
		}
		req.Kind = k
	}
	var ok bool
	if req.OrgName, ok = strings.CutPrefix(req.Audience, audiencePrefix); !ok || req.OrgName == "" {
		return req, oauthErr("invalid_target", "audience: %q is not %sORGANIZATION", req.Audience, audiencePrefix)
	}
	if err := exchangeScope(&req); err != nil {
		return req, err
	}
	// The expiration's sign is the service's to judge, after the policy.
	if e := get("expiration"); e != "" {
		n, err := strconv.ParseInt(e, 10, 64)
		if err != nil {
			return req, oauthErr("invalid_request", "expiration: %q is not a number of seconds", e)
		}
		req.Expiration = n
	}
	return req, nil
}

// exchangeKinds are the kinds of token an exchange may ask for.
var exchangeKinds = []string{gatehouse.TokenOrganization, gatehouse.TokenTeam, gatehouse.TokenPersonal, gatehouse.TokenRunner}

// exchangeScope reads the scope: empty or admin for an organization
// token, KIND:NAME for the others.
func exchangeScope(req *service.ExchangeRequest) error {
	if req.Kind == gatehouse.TokenOrganization {
		switch req.Scope {
		case "":
		case "admin":
			req.Admin = true
		default:
			return oauthErr("invalid_scope", "scope: %q; organization tokens take an empty scope or admin", req.Scope)
		}
		return nil
	}
	prefix := map[string]string{gatehouse.TokenTeam: "team:", gatehouse.TokenPersonal: "user:", gatehouse.TokenRunner: "runner:"}[req.Kind]
	var ok bool
	if req.Subject, ok = strings.CutPrefix(req.Scope, prefix); !ok || req.Subject == "" {
		return oauthErr("invalid_scope", "scope: %s tokens need scope %sNAME, not %q", req.Kind, prefix, req.Scope)
	}
	return nil
}

func oauthErr(code, format string, args ...any) error {
	return &service.OAuthError{Code: code, Description: fmt.Sprintf(format, args...)}
}

// registerOIDC registers the routes of OIDC issuers, their policies and the token exchange.
func (s *Server) registerOIDC() {
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/oidc/issuers", doc: doc{"ListOidcIssuers", "List OIDC issuers", nil, "", "ListOidcIssuersResponse"}, scopes: scopes("oidc_issuers:read"), h: s.listIssuers})
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/oidc/issuers", doc: doc{"RegisterOidcIssuer", "Register an OIDC issuer (its policy starts as deny-all)", nil, "OidcIssuerRegistrationRequest", "OidcIssuerRegistrationResponse"}, scopes: scopes("oidc_issuers:create"), h: s.createIssuer})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/oidc/issuers/{issuerID}", doc: doc{"GetOidcIssuer", "Get an OIDC issuer", nil, "", "OidcIssuerRegistrationResponse"}, scopes: scopes("oidc_issuers:read"), h: s.getIssuer})
	s.handle(&route{method: "PATCH", pattern: "/api/orgs/{orgName}/oidc/issuers/{issuerID}", doc: doc{"UpdateOidcIssuer", "Change an OIDC issuer", nil, "OidcIssuerUpdateRequest", "OidcIssuerRegistrationResponse"}, scopes: scopes("oidc_issuers:update"), h: s.updateIssuer})
	s.handle(&route{method: "DELETE", pattern: "/api/orgs/{orgName}/oidc/issuers/{issuerID}", doc: doc{"DeleteOidcIssuer", "Delete an OIDC issuer and its policy", nil, "", ""}, scopes: scopes("oidc_issuers:delete"), h: s.deleteIssuer})
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/oidc/issuers/{issuerID}/regenerate-thumbprints", doc: doc{"RegenerateOidcIssuerThumbprints", "Pin the certificate the issuer serves now", nil, "", "OidcIssuerRegistrationResponse"}, scopes: scopes("oidc_issuers:regenerate_thumbprints"), noBody: true, h: s.regenerateThumbprints})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/auth/policies/oidcissuers/{issuerID}", doc: doc{"GetAuthPolicy", "An OIDC issuer's authorization policy", nil, "", "AuthPolicy"}, scopes: scopes("auth_policies:read"), h: s.getIssuerPolicy})
	s.handle(&route{method: "PATCH", pattern: "/api/orgs/{orgName}/auth/policies/{policyID}", doc: doc{"UpdateAuthPolicy", "Replace an authorization policy's rules", nil, "AuthPolicyUpdateRequest", "AuthPolicy"}, scopes: scopes("auth_policies:update"), h: s.updatePolicy})
	s.handle(&route{method: "POST", pattern: "/api/oauth/token", doc: doc{"ExchangeToken", "RFC 8693 token exchange: an OIDC ID token for a short-lived access token", nil, "TokenExchangeRequest", "TokenExchangeGrantResponse"}, public: true, raw: true, h: s.exchange})
}
