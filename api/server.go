// Package api is Gatehouse's HTTP server: the IAM REST API in Pulumi
// Cloud's wire format, plus health, readiness and metrics. Every route
// declares the scopes it needs and how to find the entity they apply to;
// authentication and the decision happen in one place (serve) before the
// handler runs, through the authz package.
package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/service"
)

// Server serves the API.
type Server struct {
	svc     *service.Service
	az      *authz.Authorizer
	log     *slog.Logger
	metrics *metrics
	limiter *failureLimiter
	// trusted are the proxies whose X-Forwarded-For is believed.
	trusted []netip.Prefix
	// metricsElsewhere: /metrics is served on another listener.
	metricsElsewhere bool
	mux              *http.ServeMux
	routes           []*route
	scimRoutes       []string // scim.go
	ready            func(context.Context) error
	audit            *auditWriter
	// verifier checks ID tokens for registration and exchange.
	verifier gatehouse.IDTokenVerifier
	// cursorKey authenticates continuation tokens (continuation.go).
	cursorKey []byte
	// now is the clock of every decision and audit timestamp: the
	// service's, so that a token, an invitation or a lease expires at the
	// same instant in the service, the authorizer and here.
	now func() time.Time
	// draining is set once the server is shutting down: /readyz answers
	// 503 so that load balancers stop sending, while requests are still
	// served.
	draining atomic.Bool
}

// Options configure a Server.
type Options struct {
	Logger *slog.Logger
	// Ready reports whether the server can serve (the database answers).
	Ready func(context.Context) error
	// AuthFailuresPerMinute bounds failed authentications per source
	// address (an IPv6 /64) before 429s (default 60). Only failures are
	// limited: a valid token is never refused.
	AuthFailuresPerMinute int
	// TrustedProxies are the networks of the reverse proxies in front of
	// the server: from them, and only from them, X-Forwarded-For names
	// the client (for the failure limit, audit events and logs).
	TrustedProxies []netip.Prefix
	// MetricsElsewhere leaves /metrics off the server's handler: the
	// caller serves MetricsHandler on a listener of its own.
	MetricsElsewhere bool
	// AuditQueue bounds the queue of denial and authentication-failure
	// events waiting to be written (default 10,000).
	AuditQueue int
	// Verifier checks OIDC issuers and their ID tokens.
	Verifier gatehouse.IDTokenVerifier
	// ContinuationKey authenticates continuation tokens. Replicas must
	// share it (cmd derives it from the master key); without one, a
	// random key of this process's own is used.
	ContinuationKey []byte
	// Now is the clock of decisions (expired tokens and invitations, an
	// update's lease) and of audit timestamps; by default the service's
	// (Service.Now). Latency metrics, the failure limiter's refill and
	// log throttling keep the wall clock: they measure real time passing.
	Now func() time.Time
}

// New returns a Server.
func New(svc *service.Service, az *authz.Authorizer, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.AuthFailuresPerMinute <= 0 {
		opts.AuthFailuresPerMinute = 60
	}
	if opts.AuditQueue <= 0 {
		opts.AuditQueue = 10000
	}
	if opts.Now == nil {
		// The service's clock, read at each call: one clock even when the
		// service is given another after the server is made.
		opts.Now = func() time.Time { return svc.Now() }
	}
	s := &Server{svc: svc, az: az, log: opts.Logger, metrics: newMetrics(az), mux: http.NewServeMux(),
		limiter: newFailureLimiter(opts.AuthFailuresPerMinute, time.Minute), trusted: opts.TrustedProxies, metricsElsewhere: opts.MetricsElsewhere, ready: opts.Ready, verifier: opts.Verifier, now: opts.Now}
	s.cursorKey = continuationKey(opts.ContinuationKey)
	s.audit = newAuditWriter(svc.RecordAudit, opts.Logger, opts.AuditQueue, s.metrics)
	s.mux.Handle(unmatchedPattern, s.metrics.instrument("unmatched", http.HandlerFunc(s.serveUnmatched)))
	s.register()
	return s
}

// Close writes the audit events still queued. Call it after the HTTP
// server has stopped taking requests; an event added after Close (by a
// request that outlived the shutdown timeout) is dropped and counted.
func (s *Server) Close() { s.audit.close() }

// Drain marks the server as shutting down: /readyz answers 503 from now
// on, and everything else is served as before.
func (s *Server) Drain() { s.draining.Store(true) }

// Draining reports whether Drain was called.
func (s *Server) Draining() bool { return s.draining.Load() }

// asKey carries an identity a caller in this process authenticated.
type asKey struct{}

// ServeAs serves r for an identity the caller authenticated itself (the
// console, by its session): routing, the routes' scopes and entities,
// denials, handlers and audit events are the API's own, so that the
// console allows exactly what the API does.
func (s *Server) ServeAs(id *gatehouse.Identity, w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, yamlOpenRewrite(r.WithContext(context.WithValue(r.Context(), asKey{}, id))))
}

// Handler returns the server's root handler. A request no route matches
// is answered, logged and counted as unmatched (unmatched.go).
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, yamlOpenRewrite(r)) })
}

// MetricsHandler serves the server's Prometheus metrics (also on Handler
// at /metrics unless Options.MetricsElsewhere).
func (s *Server) MetricsHandler() http.Handler { return s.metrics.handler() }

// Routes returns "METHOD /pattern" for every registered API route.
func (s *Server) Routes() []string {
	out := make([]string, len(s.routes))
	for i, r := range s.routes {
		out[i] = r.method + " " + r.pattern
	}
	return out
}

// request is what a handler gets: the authenticated identity, the
// organization and entity the route resolved, and the raw request.
type request struct {
	r        *http.Request
	w        http.ResponseWriter
	id       *gatehouse.Identity
	org      *gatehouse.Organization
	entity   *gatehouse.Entity
	reqID    string
	srv      *Server
	maxBytes int64
	// body is a request body an entity resolver already read.
	body any
	// stack is the stack of stack routes; update, the update of routes
	// authenticated by an update's lease.
	stack   *gatehouse.Stack
	update  *gatehouse.StackUpdate
	env     *gatehouse.Environment
	account *gatehouse.Account

	// clientReqID is the client's X-Request-ID, sanitized; never reqID.
	clientReqID string
}

// handler serves one route; it returns the response body (nil for 204) or
// an error.
type handler func(q *request) (any, error)

// route is one API route and what it requires.
type route struct {
	method, pattern string
	// doc describes the route in the OpenAPI document.
	doc doc

	// public routes need no token.
	public bool
	// lease routes are an update's own requests, authenticated by its
	// lease token instead of an access token.
	lease bool
	// scopes must all be granted on the entity (the organization for
	// organization routes). None: any authenticated caller.
	scopes []catalog.Scope
	// scopeFor, when set, picks the scope by the entity's type (the
	// access scopes differ per entity type).
	scopeFor func(gatehouse.EntityType) catalog.Scope
	// perEntity are scopes the handler decides on each of the entities
	// its body names (a batch): documented with the route, decided by
	// the handler, not before it.
	perEntity []catalog.Scope
	// entity finds the entity the scopes apply to; nil means the
	// organization in the path, or nothing for routes without one.
	entity func(q *request) (*gatehouse.Entity, error)
	// maxBytes bounds the request body (default 64 KiB).
	maxBytes int64
	// noBody marks a POST or PATCH route that takes no body (see
	// takesNoBody).
	noBody bool
	// status is the success status (default 200, or 204 for a nil body).
	status int
	// raw routes read their body themselves (not JSON) and answer
	// refusals in their protocol's shape (oauthError); other errors are
	// Pulumi's {code, message}.
	raw bool
	h   handler
}

func (s *Server) handle(rt *route) {
	s.routes = append(s.routes, rt)
	s.mux.Handle(rt.method+" "+rt.pattern, s.metrics.instrument(rt.pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serve(rt, w, r)
	})))
}

func (rt *route) scopeNames() []string {
	out := make([]string, 0, len(rt.scopes)+3)
	for _, sc := range rt.scopes {
		out = append(out, sc.Name())
	}
	if rt.lease {
		// The update's starter must still hold stack:write (stack:read
		// for a preview).
		out = append(out, "stack:write", "stack:read")
	}
	if rt.scopeFor != nil {
		for _, t := range []gatehouse.EntityType{gatehouse.EntityStack, gatehouse.EntityEnvironment, gatehouse.EntityInsightsAccount} {
			out = append(out, rt.scopeFor(t).Name())
		}
	}
	for _, sc := range rt.perEntity {
		out = append(out, sc.Name())
	}
	return out
}

func scopes(names ...string) []catalog.Scope {
	out := make([]catalog.Scope, len(names))
	for i, n := range names {
		out[i] = catalog.MustLookup(n)
	}
	return out
}

func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// clientRequestID keeps what a client sent as X-Request-ID for logs and
// audit events: at most 64 characters, each a letter, digit or one of
// "-_.:/+=", any other replaced by '_'.
func clientRequestID(v string) string {
	if len(v) > 64 {
		v = v[:64]
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("-_.:/+=", r):
			return r
		}
		return '_'
	}, v)
}

// serve runs one request through recovery, authentication, organization
// and entity resolution, the decision, the handler, and the response.
func (s *Server) serve(rt *route, w http.ResponseWriter, r *http.Request) {
	start := time.Now() // latency: the wall clock, not the service's
	// The request id is always the server's: a client's X-Request-ID is
	// kept apart (sanitized), so that no client can pass its id off as one
	// the server gave, or forge a log line or audit event that matches
	// another request's.
	q := &request{r: r, w: w, srv: s, reqID: newRequestID(), clientReqID: clientRequestID(r.Header.Get("X-Request-ID")), maxBytes: rt.maxBytes}
	w.Header().Set("X-Request-ID", q.reqID)
	if q.maxBytes == 0 {
		q.maxBytes = defaultBodyLimit
	}
	status := http.StatusOK
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic", "request_id", q.reqID, "route", rt.pattern, "panic", fmt.Sprint(p))
			status = writeError(w, q.reqID, errors.New("panic"), s.log)
		}
		s.log.Info("request", "request_id", q.reqID, "client_request_id", q.clientReqID, "method", r.Method, "path", r.URL.Path, "status", status,
			"duration_ms", time.Since(start).Milliseconds(), "actor", q.id.Actor(), "remote", s.clientIP(r))
	}()
	body, err := s.authorize(rt, q)
	if err == nil && rt.takesNoBody() {
		err = q.noBody()
	}
	if err == nil {
		err = q.openContinuation()
	}
	if err == nil {
		body, err = rt.h(q)
	}
	if err != nil {
		status = s.fail(rt, q, err)
		return
	}
	status = rt.status
	if sb, ok := body.(statusBody); ok {
		status, body = sb.status, sb.body
	}
	if status == 0 {
		status = http.StatusOK
		if body == nil {
			status = http.StatusNoContent
		}
	}
	if body == nil {
		w.WriteHeader(status)
		return
	}
	if raw, ok := body.(rawBody); ok {
		w.Header().Set("Content-Type", raw.contentType)
		w.WriteHeader(status)
		w.Write(raw.data)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(body)
}

// statusClientClosed is the status logged and counted for a request whose
// client disconnected before the answer (nginx's 499): it is never sent.
const statusClientClosed = 499

// fail answers a handler's error: in the route's protocol, or, when the
// client has already gone (its connection closed, which cancels the
// request's context), with a disconnect in the log and statusClientClosed
// in the metrics, since the error is then the client's leaving rather
// than the server's fault.
func (s *Server) fail(rt *route, q *request, err error) int {
	if errors.Is(q.r.Context().Err(), context.Canceled) {
		s.log.Info("client disconnected", "request_id", q.reqID, "method", q.r.Method, "path", q.r.URL.Path, "err", err.Error())
		q.w.WriteHeader(statusClientClosed)
		return statusClientClosed
	}
	if oe := (*oauthError)(nil); rt.raw && errors.As(err, &oe) {
		return writeOAuth(q.w, oe)
	}
	return writeError(q.w, q.reqID, err, s.log)
}

// rawBody is a response that is not JSON.
type rawBody struct {
	contentType string
	data        []byte
}

// authorize authenticates the caller, resolves the organization and
// entity, and decides every scope the route requires.
func (s *Server) authorize(rt *route, q *request) (any, error) {
	if rt.public {
		return nil, nil
	}
	if rt.lease {
		return nil, s.authorizeLease(q)
	}
	ip := s.clientIP(q.r)
	id, _ := q.r.Context().Value(asKey{}).(*gatehouse.Identity)
	if id == nil {
		// Authentication comes first (a map lookup), and only a failure
		// consults the failure limiter: a valid token is never refused
		// because others guessed from the same address.
		var err error
		if id, err = s.az.Authenticate(q.r.Header.Get("Authorization")); err != nil {
			return nil, s.authFailed(q, ip, err, 1)
		}
	}
	q.id = id
	actor := gatehouse.Actor{SourceIP: ip, UserAgent: q.r.UserAgent(), RequestID: q.reqID, ClientRequestID: q.clientReqID, TokenID: id.Token.ID}
	if id.User != nil {
		actor.UserID, actor.Login = id.User.ID, id.User.Login
	} else {
		actor.TokenName = id.Token.Name
		actor.Login = id.Token.Kind + " token " + id.Token.Name
	}
	q.r = q.r.WithContext(service.WithCaller(gatehouse.WithActor(q.r.Context(), actor), id))
	if name := q.r.PathValue("orgName"); name != "" {
		org, err := s.az.Org(q.r.Context(), name)
		if err == nil && id.Token.BoundElsewhere(org.ID) {
			return nil, s.boundElsewhere(q, ip, org)
		}
		if err != nil || !s.az.Member(q.r.Context(), id, org.ID) {
			// Whether an organization exists is not the caller's business
			// unless they belong to it.
			return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "organization %q not found", name)
		}
		q.org = org
	}
	if len(rt.scopes) == 0 && rt.scopeFor == nil {
		return nil, nil
	}
	if q.org == nil {
		return nil, fmt.Errorf("route %s declares scopes but has no organization", rt.pattern)
	}
	if rt.entity != nil {
		var err error
		if q.entity, err = rt.entity(q); err != nil {
			return nil, err
		}
	} else {
		q.entity = &gatehouse.Entity{Type: gatehouse.EntityGlobal, ID: q.org.ID}
	}
	required := rt.scopes
	if rt.scopeFor != nil {
		required = append(required[:len(required):len(required)], rt.scopeFor(q.entity.Type))
	}
	for _, sc := range required {
		if err := s.require(q, sc); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// require decides one scope for the request's identity on its entity
// (authz.Authorize), counts the decision, and answers a denial: the one
// way a route or a handler checks a scope.
func (s *Server) require(q *request, sc catalog.Scope) error {
	d, err := s.az.Authorize(q.r.Context(), q.id, q.org.ID, sc, q.entity)
	if err != nil {
		return err
	}
	s.metrics.decision(sc, d.Allowed)
	if !d.Allowed {
		return s.denied(q, sc, d)
	}
	return nil
}

// denied logs, audits and answers a denial. A caller who may not even read
// an entity learns nothing about it: 404, as Pulumi does.
func (s *Server) denied(q *request, sc catalog.Scope, d authz.Decision) error {
	ctx := q.r.Context()
	if !d.MayRead {
		s.audit.add(service.NewAuditEvent(ctx, s.now(), q.org.ID, gatehouse.EventAccessDenied,
			fmt.Sprintf("denied %s %s: missing %s", q.r.Method, q.auditPath(), sc.Name()), q.entity.ID,
			map[string]string{"scope": sc.Name(), "reason": "the caller may not read the " + q.entity.Type.String(), "method": q.r.Method, "path": q.auditPath()}))
		if q.stack != nil {
			return stackNotFound(q)
		}
		return gatehouse.Errorf(gatehouse.ENOTFOUND, "%s not found", q.entity.Type)
	}
	ex := d.Explanation
	s.log.Info("denied", "request_id", q.reqID, "actor", q.id.Actor(), "scope", sc.Name(), "reason", ex.Reason)
	s.audit.add(service.NewAuditEvent(ctx, s.now(), q.org.ID, gatehouse.EventAccessDenied,
		fmt.Sprintf("denied %s %s: missing %s", q.r.Method, q.auditPath(), sc.Name()), q.entity.ID,
		map[string]string{"scope": sc.Name(), "reason": ex.Reason, "method": q.r.Method, "path": q.auditPath()}))
	return gatehouse.Errorf(gatehouse.EFORBIDDEN, "forbidden: this requires the %s scope, which the caller does not hold: %s", sc.Name(), ex.Reason)
}

// failureReasons labels each authentication failure for the
// authentication-failure metric and audit events, in the order they are
// tested. A deleted organization's token counts as unknown, as a token of
// no organization, and a personal token whose user left counts as other.
var failureReasons = []struct {
	err    error
	reason string
}{
	{authz.ErrCheckedToken, "checked"},
	{authz.ErrUnknownToken, "unknown"},
	{authz.ErrUnknownOrg, "unknown"},
	{authz.ErrRevoked, "revoked"},
	{authz.ErrExpired, "expired"},
	{authz.ErrLifetime, "lifetime"},
	{authz.ErrNoToken, "no token"},
}

// failureReason is the metric label and audit reason of a failed
// authentication: "other" for a reason without its own label.
func failureReason(err error) string {
	for _, r := range failureReasons {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return "other"
}

// clientIP is the client's address: the connection's, or what trusted
// proxies forwarded (see clientAddr).
func (s *Server) clientIP(r *http.Request) string { return clientAddr(r, s.trusted) }

// codeStatus maps the domain's error codes to HTTP statuses: the one
// table both the server and the client read.
var codeStatus = map[string]int{
	gatehouse.EINVALID:         http.StatusBadRequest,
	gatehouse.ENOTFOUND:        http.StatusNotFound,
	gatehouse.ECONFLICT:        http.StatusConflict,
	gatehouse.EUNAUTHORIZED:    http.StatusUnauthorized,
	gatehouse.EFORBIDDEN:       http.StatusForbidden,
	gatehouse.ETOOMANYREQUESTS: http.StatusTooManyRequests,
	gatehouse.ETOOLARGE:        http.StatusRequestEntityTooLarge,
	gatehouse.EUNAVAILABLE:     http.StatusServiceUnavailable,
}

// retryAfter is the Retry-After, in seconds, of a 503: the database is
// unwell, and a client that waits this long finds it back more often than
// not (a restart recovers in well under a second, a failover in seconds).
const retryAfter = "2"

// statusOf is the HTTP status of an error code; anything else is a 500.
func statusOf(code string) int {
	if s, ok := codeStatus[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// writeError writes Pulumi's error body {code, message}. Internal errors
// show only the request id; their cause goes to the log. An unavailable
// database is a 503 with Retry-After, its cause logged as a warning.
func writeError(w http.ResponseWriter, reqID string, err error, log *slog.Logger) int {
	code := gatehouse.ErrorCode(err)
	status := statusOf(code)
	msg := gatehouse.ErrorMessage(err)
	if code == gatehouse.EINTERNAL {
		log.Error("internal error", "request_id", reqID, "err", err.Error())
		msg = "internal error (request id " + reqID + ")"
	}
	if code == gatehouse.EUNAVAILABLE {
		cause := err
		if e := (*gatehouse.Error)(nil); errors.As(err, &e) && e.Err != nil {
			cause = e.Err
		}
		log.Warn("database unavailable", "request_id", reqID, "err", cause.Error())
		w.Header().Set("Retry-After", retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(wire.Error{Code: status, Message: msg})
	return status
}

// decode reads a JSON body into v, refusing unknown fields, trailing data
// and bodies over the route's limit.
func (q *request) decode(v any) error {
	data, err := q.readBody() // body.go: limits, 413
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return gatehouse.Errorf(gatehouse.EINVALID, "request body: missing; want a JSON object")
	}
	if err := refuseNull(data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return gatehouse.Errorf(gatehouse.EINVALID, "request body: %s", jsonProblem(err))
	}
	if dec.More() {
		return gatehouse.Errorf(gatehouse.EINVALID, "request body: unexpected data after the JSON object")
	}
	return nil
}

// noBody refuses a body on a request that takes none, rather than ignore
// what the caller meant.
func (q *request) noBody() error {
	data, err := io.ReadAll(io.LimitReader(q.r.Body, 1))
	if err == nil && len(data) == 0 {
		return nil
	}
	return gatehouse.Errorf(gatehouse.EINVALID, "request body: this request takes none")
}

func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s: want %s, got %s", te.Field, te.Type, te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func (q *request) ctx() context.Context { return q.r.Context() }

// listOptions reads continuationToken and maxResults.
func (q *request) listOptions() (gatehouse.ListOptions, error) {
	opts := gatehouse.ListOptions{Continuation: q.r.URL.Query().Get("continuationToken")}
	if v := q.r.URL.Query().Get("maxResults"); v != "" {
		var n int
		if _, err := fmt.Sscanf(v, "%d", &n); err != nil || n < 1 || n > gatehouse.MaxListLimit {
			return opts, gatehouse.Errorf(gatehouse.EINVALID, "maxResults: %q is not a number from 1 to %d", v, gatehouse.MaxListLimit)
		}
		opts.Limit = n
	}
	return opts, nil
}

func (q *request) boolParam(name string) (bool, error) {
	switch v := q.r.URL.Query().Get(name); v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, gatehouse.Errorf(gatehouse.EINVALID, "%s: %q is not true or false", name, v)
	}
}

// auditAuthFailure records a failed authentication in the organization the
// request named, when there is one: failures against no organization are
// only counted.
// auditPath is the request's path as audit events record it: the
// client's words, so without control characters and bounded (ClientText),
// or a path with a newline or terminal escapes would forge lines in what
// `gatehouse audit list` prints.
func (q *request) auditPath() string { return service.ClientText(q.r.URL.Path) }

func (s *Server) auditAuthFailure(q *request, ip string, why error) {
	name := q.r.PathValue("orgName")
	if name == "" {
		return
	}
	org, err := s.az.Org(q.r.Context(), name)
	if err != nil {
		return
	}
	ctx := gatehouse.WithActor(q.r.Context(), gatehouse.Actor{SourceIP: ip, UserAgent: q.r.UserAgent(), RequestID: q.reqID, ClientRequestID: q.clientReqID})
	s.audit.add(service.NewAuditEvent(ctx, s.now(), org.ID, gatehouse.EventAuthFailure,
		fmt.Sprintf("authentication failed for %s %s (%s token)", q.r.Method, q.auditPath(), failureReason(why)), "",
		map[string]string{"reason": failureReason(why), "method": q.r.Method, "path": q.auditPath()}))
}
