package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/service"
)

// errTooManyFailures answers a failed authentication beyond the source's
// limit.
var errTooManyFailures = gatehouse.Errorf(gatehouse.ETOOMANYREQUESTS, "too many failed authentications from this address; retry later")

// limitFailures charges n failed authentications to the client's address.
// Beyond the limit it sets Retry-After and reports true: the caller then
// answers 429 and skips the failure's log line and audit event, so that a
// flood costs a map update per request and nothing more. The first refusal
// of an episode is logged, once.
func (s *Server) limitFailures(w http.ResponseWriter, reqID, ip string, n int) bool {
	wait, first := s.limiter.fail(limitKey(ip), n)
	if wait == 0 {
		return false
	}
	s.metrics.authLimited.Add(float64(n))
	if first {
		s.log.Warn("failed authentications over the limit; refusing this address's failures", "request_id", reqID, "remote", ip)
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
	return true
}

// authFailed handles n failed authentications of a request (its token, or
// the tokens an authz/check asks about): counted, limited per address, and
// within the limit logged and audited in the organization the path names.
func (s *Server) authFailed(q *request, ip string, why error, n int) error {
	s.metrics.authFailures.WithLabelValues(failureReason(why)).Add(float64(n))
	if s.limitFailures(q.w, q.reqID, ip, n) {
		return errTooManyFailures
	}
	s.log.Info("authentication failed", "request_id", q.reqID, "remote", ip, "why", why.Error())
	s.auditAuthFailure(q, ip, why)
	return authz.ErrUnauthenticated
}

// ClientIP is the address of the client that made r: the connection's
// peer, or what the trusted proxies forwarded.
func (s *Server) ClientIP(r *http.Request) string { return s.clientIP(r) }

// SignInStarted charges an unauthenticated sign-in start (a console SSO
// start records a sign-in under way before the browser reaches the
// provider) to the client's address, against the per-address limit of
// failed authentications: a flood of starts from one address is refused
// before it writes anything. It returns false over the limit: the caller
// answers 429 (Retry-After is set on w).
func (s *Server) SignInStarted(w http.ResponseWriter, r *http.Request) bool {
	return !s.limitFailures(w, newRequestID(), s.clientIP(r), 1)
}

// SignInFailed records a failed sign-in made outside the API's routes (the
// console's form) exactly as the API records a failed authentication: it
// counts against the same per-address limit, and within the limit it is
// logged and audited in the organization orgName names (when it exists;
// failures against no organization are only counted). It returns false
// when the address is over the limit: the caller answers 429 (Retry-After
// is set on w).
func (s *Server) SignInFailed(w http.ResponseWriter, r *http.Request, orgName string, why error) bool {
	ip := s.clientIP(r)
	reqID := newRequestID()
	s.metrics.authFailures.WithLabelValues("console").Inc()
	if s.limitFailures(w, reqID, ip, 1) {
		return false
	}
	s.log.Info("console sign-in failed", "request_id", reqID, "remote", ip, "why", why.Error())
	if orgName == "" {
		return true
	}
	org, err := s.az.Org(r.Context(), orgName)
	if err != nil {
		return true
	}
	ctx := gatehouse.WithActor(r.Context(), gatehouse.Actor{SourceIP: ip, UserAgent: r.UserAgent(), RequestID: reqID})
	s.audit.add(service.NewAuditEvent(ctx, s.now(), org.ID, gatehouse.EventAuthFailure,
		fmt.Sprintf("console sign-in failed (%s token)", failureReason(why)), "",
		map[string]string{"reason": failureReason(why), "method": r.Method, "path": r.URL.Path}))
	return true
}
