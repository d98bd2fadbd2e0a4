package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/service"
)

const issuerTime = "2006-01-02 15:04:05.000"

func stampOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(issuerTime)
}

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

// exchange is POST /api/oauth/token (RFC 8693). It is unauthenticated: the
// subject token is the credential. Failures answer in RFC 6749 §5.2's shape
// (with Pulumi's code and message too), count as failed authentications
// and are audited in the organization the audience names.
func (s *Server) exchange(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	w.Header().Set("X-Request-ID", reqID)
	ip := s.clientIP(r)
	writeOAuth := func(status int, code, desc string) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"error": code, "error_description": desc, "code": status, "message": code + ": " + desc})
	}
	req, err := parseExchange(w, r)
	if err != nil {
		writeOAuth(http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	ctx := gatehouse.WithActor(r.Context(), gatehouse.Actor{SourceIP: ip, UserAgent: r.UserAgent(), RequestID: reqID,
		ClientRequestID: clientRequestID(r.Header.Get("X-Request-ID"))})
	res, err := s.svc.Exchange(ctx, s.verifier, req)
	var oe *service.OAuthError
	switch {
	case errors.As(err, &oe):
		// Only a refused exchange is limited: a valid ID token is never
		// refused because others failed from the same address.
		s.metrics.authFailures.WithLabelValues("exchange").Inc()
		if s.limitFailures(w, reqID, ip, 1) {
			writeOAuth(http.StatusTooManyRequests, "invalid_request", "too many failed exchanges from this address; retry later")
			return
		}
		s.log.Info("token exchange refused", "request_id", reqID, "remote", ip, "error", oe.Code, "why", oe.Description)
		if orgName, ok := strings.CutPrefix(req.Audience, "urn:pulumi:org:"); ok {
			if org, err := s.az.Org(r.Context(), orgName); err == nil {
				s.audit.add(service.NewAuditEvent(ctx, time.Now(), org.ID, gatehouse.EventAuthFailure,
					"token exchange refused: "+oe.Description, "", map[string]string{"error": oe.Code, "reason": oe.Description}))
			}
		}
		writeOAuth(http.StatusBadRequest, oe.Code, oe.Description)
		return
	case err != nil:
		writeError(w, reqID, err, s.log)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]any{"access_token": res.AccessToken, "issued_token_type": res.IssuedTokenType,
		"token_type": "token", "expires_in": res.ExpiresIn, "scope": res.Scope, "refresh_token": ""})
}

// parseExchange reads a JSON or form-encoded exchange request.
func parseExchange(w http.ResponseWriter, r *http.Request) (service.ExchangeRequest, error) {
	var req service.ExchangeRequest
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var get func(string) string
	switch ct {
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return req, fmt.Errorf("request body: %v", err)
		}
		get = r.PostForm.Get
	default:
		var m map[string]any
		dec := json.NewDecoder(r.Body)
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			return req, fmt.Errorf("request body: want a JSON object or a form: %v", err)
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
				return req, fmt.Errorf("%s: want a string", k)
			}
		}
		get = vals.Get
	}
	req = service.ExchangeRequest{GrantType: get("grant_type"), Audience: get("audience"), SubjectToken: get("subject_token"),
		SubjectTokenType: get("subject_token_type"), RequestedTokenType: get("requested_token_type"), Scope: get("scope")}
	if e := get("expiration"); e != "" {
		n, err := strconv.ParseInt(e, 10, 64)
		if err != nil {
			return req, fmt.Errorf("expiration: %q is not a number of seconds", e)
		}
		req.Expiration = n
	}
	return req, nil
}

// registerOIDC registers the routes of OIDC issuers, their policies and the token exchange.
func (s *Server) registerOIDC() {
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/oidc/issuers", scopes: scopes("oidc_issuers:read"), h: s.listIssuers})
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/oidc/issuers", scopes: scopes("oidc_issuers:create"), h: s.createIssuer})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/oidc/issuers/{issuerID}", scopes: scopes("oidc_issuers:read"), h: s.getIssuer})
	s.handle(&route{method: "PATCH", pattern: "/api/orgs/{orgName}/oidc/issuers/{issuerID}", scopes: scopes("oidc_issuers:update"), h: s.updateIssuer})
	s.handle(&route{method: "DELETE", pattern: "/api/orgs/{orgName}/oidc/issuers/{issuerID}", scopes: scopes("oidc_issuers:delete"), h: s.deleteIssuer})
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/oidc/issuers/{issuerID}/regenerate-thumbprints", scopes: scopes("oidc_issuers:regenerate_thumbprints"), noBody: true, h: s.regenerateThumbprints})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/auth/policies/oidcissuers/{issuerID}", scopes: scopes("auth_policies:read"), h: s.getIssuerPolicy})
	s.handle(&route{method: "PATCH", pattern: "/api/orgs/{orgName}/auth/policies/{policyID}", scopes: scopes("auth_policies:update"), h: s.updatePolicy})
	s.routes = append(s.routes, &route{method: "POST", pattern: "/api/oauth/token", public: true})
	s.mux.Handle("POST /api/oauth/token", s.metrics.instrument("/api/oauth/token", http.HandlerFunc(s.exchange)))
}
