package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/service"
)

// SCIM 2.0 (RFC 7643, RFC 7644) at /scim/v2/{org}: an identity provider
// provisions the organization's users and groups (SCIM teams) with the
// organization's SCIM token as a bearer token. These routes are not the
// Pulumi API's: they authenticate the SCIM token (never an access token,
// and a SCIM token opens no /api route, since the authorizer does not know
// it), and every answer, refusals included, is SCIM's
// (application/scim+json, RFC 7644 §3.12 errors). The rules are the
// service's (service/scim.go); this file and scimpatch.go read and write
// the protocol.

// scimBodyLimit bounds a SCIM request's body: a group PATCH adds members
// in batches of a few hundred.
const scimBodyLimit = 1 << 20

// scimHandler serves one SCIM route: the status and body, or an error.
type scimHandler func(q *scimRequest) (int, any, error)

// scimRequest is a SCIM request: the organization its token belongs to.
type scimRequest struct {
	*request
	token *gatehouse.SCIMToken
}

// base is the absolute URL of the organization's SCIM endpoint, for
// meta.location.
func (q *scimRequest) base() string {
	scheme := "http"
	if q.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + q.r.Host + "/scim/v2/" + url.PathEscape(q.org.Name)
}

func (s *Server) registerSCIM() {
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/scim/token", doc: doc{"CreateSCIMToken",
		"Make the organization's SCIM provisioning token (shown once; the previous one is revoked)", nil, "", "SCIMTokenResponse"},
		scopes: scopes("scim:update"), status: http.StatusCreated, noBody: true, h: s.createSCIMToken})
	const base = "/scim/v2/{orgName}"
	for _, r := range []struct {
		method, path string
		h            scimHandler
	}{
		{"GET", "/ServiceProviderConfig", s.scimSPConfig},
		{"GET", "/ResourceTypes", s.scimResourceTypes},
		{"GET", "/ResourceTypes/{id}", s.scimResourceType},
		{"GET", "/Schemas", s.scimSchemas},
		{"GET", "/Schemas/{id}", s.scimSchema},
		{"GET", "/Users", s.scimListUsers},
		{"POST", "/Users", s.scimCreateUser},
		{"GET", "/Users/{id}", s.scimGetUser},
		{"PUT", "/Users/{id}", s.scimReplaceUser},
		{"PATCH", "/Users/{id}", s.scimPatchUser},
		{"DELETE", "/Users/{id}", s.scimDeleteUser},
		{"GET", "/Groups", s.scimListGroups},
		{"POST", "/Groups", s.scimCreateGroup},
		{"GET", "/Groups/{id}", s.scimGetGroup},
		{"PUT", "/Groups/{id}", s.scimReplaceGroup},
		{"PATCH", "/Groups/{id}", s.scimPatchGroup},
		{"DELETE", "/Groups/{id}", s.scimDeleteGroup},
	} {
		s.scimRoutes = append(s.scimRoutes, r.method+" "+base+r.path)
		s.mux.Handle(r.method+" "+base+r.path, s.serveSCIM(base+r.path, r.h))
	}
	s.mux.Handle(base+"/{rest...}", s.serveSCIM(base+"/{rest...}", func(q *scimRequest) (int, any, error) {
		return 0, nil, scimErrorf(http.StatusNotFound, "", "no SCIM endpoint %s %s", q.r.Method, service.ClientText(q.r.URL.Path))
	}))
}

// SCIMRoutes returns "METHOD /pattern" for every SCIM route.
func (s *Server) SCIMRoutes() []string { return append([]string(nil), s.scimRoutes...) }

func (s *Server) createSCIMToken(q *request) (any, error) {
	value, t, err := s.svc.CreateSCIMToken(q.ctx(), q.org.ID, createdBy(q))
	if err != nil {
		return nil, err
	}
	return wire.SCIMTokenResponse{ID: t.ID, Token: value, Created: t.Created.Unix(), BaseURL: "/scim/v2/" + url.PathEscape(q.org.Name)}, nil
}

// serveSCIM runs a SCIM request: the request id, recovery, the log line,
// the SCIM token, the handler and SCIM's answer.
func (s *Server) serveSCIM(pattern string, h scimHandler) http.Handler {
	return s.metrics.instrument(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now() // latency: the wall clock, not the service's
		q := &request{r: r, w: w, srv: s, reqID: newRequestID(), clientReqID: clientRequestID(r.Header.Get("X-Request-ID")), maxBytes: scimBodyLimit}
		w.Header().Set("X-Request-ID", q.reqID)
		status := 0
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic", "request_id", q.reqID, "route", pattern, "panic", fmt.Sprint(p))
				status = s.writeSCIMError(w, q.reqID, errors.New("panic"))
			}
			s.log.Info("request", "request_id", q.reqID, "client_request_id", q.clientReqID, "method", r.Method, "path", r.URL.Path,
				"status", status, "duration_ms", time.Since(start).Milliseconds(), "actor", "scim", "remote", s.clientIP(r))
		}()
		sq := &scimRequest{request: q}
		err := s.scimAuthenticate(sq)
		var body any
		if err == nil {
			status, body, err = h(sq)
		}
		if err != nil {
			if errors.Is(r.Context().Err(), context.Canceled) {
				status = statusClientClosed
				w.WriteHeader(status)
				return
			}
			status = s.writeSCIMError(w, q.reqID, err)
			return
		}
		writeSCIM(w, status, body)
	}))
}

func writeSCIM(w http.ResponseWriter, status int, body any) {
	if body == nil {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", wire.SCIMContentType)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(body)
}

// scimAuthenticate takes `Authorization: Bearer <SCIM token>` of the
// organization in the path. A failure is charged to the failure limiter
// and audited in the organization, as the API's are.
func (s *Server) scimAuthenticate(q *scimRequest) error {
	ip := s.clientIP(q.r)
	h := q.r.Header.Get("Authorization")
	scheme, value, _ := strings.Cut(h, " ")
	var err error
	if strings.EqualFold(scheme, "Bearer") {
		q.org, q.token, err = s.svc.AuthenticateSCIM(q.r.Context(), q.r.PathValue("orgName"), strings.TrimSpace(value))
	} else {
		err = gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "unauthorized: want Authorization: Bearer <SCIM token>")
	}
	if gatehouse.ErrorCode(err) == gatehouse.EUNAUTHORIZED {
		if e := s.authFailed(q.request, ip, err, 1); errors.Is(e, errTooManyFailures) {
			return e
		}
		q.w.Header().Set("WWW-Authenticate", `Bearer realm="scim"`)
		return err
	}
	if err != nil {
		return err
	}
	actor := gatehouse.Actor{Login: "SCIM token", TokenID: q.token.ID, TokenName: "scim", SourceIP: ip, UserAgent: q.r.UserAgent(),
		RequestID: q.reqID, ClientRequestID: q.clientReqID}
	q.r = q.r.WithContext(gatehouse.WithActor(q.r.Context(), actor))
	return nil
}

// scimTypes are the scimType of a service error's code.
var scimTypes = map[string]string{
	gatehouse.EINVALID:  "invalidValue",
	gatehouse.ECONFLICT: "uniqueness",
}

// writeSCIMError answers an error in RFC 7644 §3.12's shape: a protocol
// problem as it is, a service error with its status and scimType.
// Internal errors show only the request id.
func (s *Server) writeSCIMError(w http.ResponseWriter, reqID string, err error) int {
	body := wire.SCIMError{Schemas: []string{wire.SCIMMessageError}}
	var status int
	if p := (*scimProblem)(nil); errors.As(err, &p) {
		status, body.ScimType, body.Detail = p.status, p.scimType, p.detail
	} else {
		code := gatehouse.ErrorCode(err)
		status, body.ScimType, body.Detail = statusOf(code), scimTypes[code], gatehouse.ErrorMessage(err)
		if errors.Is(err, service.ErrLastActiveAdmin) {
			body.ScimType = ""
		}
		switch code {
		case gatehouse.EINTERNAL:
			s.log.Error("internal error", "request_id", reqID, "err", err.Error())
			body.Detail = "internal error (request id " + reqID + ")"
		case gatehouse.EUNAVAILABLE:
			s.log.Warn("database unavailable", "request_id", reqID, "err", err.Error())
			w.Header().Set("Retry-After", retryAfter)
		}
	}
	body.Status = strconv.Itoa(status)
	w.Header().Set("Content-Type", wire.SCIMContentType)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(body)
	return status
}

// decodeSCIM reads a SCIM body into v: unknown attributes are ignored (an
// identity provider sends the whole schema), attribute names match in any
// case (encoding/json's rule), trailing data and null are refused.
func (q *scimRequest) decode(v any) error {
	data, err := q.readBody()
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return scimErrorf(400, "invalidSyntax", "request body: missing; want a JSON object")
	}
	if refuseNull(data) != nil {
		return scimErrorf(400, "invalidSyntax", "request body: null; want a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return scimErrorf(400, "invalidValue", "request body: %s", jsonProblem(err))
		}
		return scimErrorf(400, "invalidSyntax", "request body: %s", jsonProblem(err))
	}
	if dec.More() {
		return scimErrorf(400, "invalidSyntax", "request body: unexpected data after the JSON object")
	}
	return nil
}

// page reads startIndex (1-based; less than 1 is 1) and count (default
// and most scimMaxResults; negative is 0), RFC 7644 §3.4.2.4.
func (q *scimRequest) page() (start, count int, err error) {
	start, count = 1, scimMaxResults
	for _, p := range []struct {
		name string
		dst  *int
	}{{"startIndex", &start}, {"count", &count}} {
		v := q.r.URL.Query().Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, 0, scimErrorf(400, "invalidValue", "%s: %q is not an integer", p.name, service.ClientText(v))
		}
		*p.dst = n
	}
	return max(start, 1), min(max(count, 0), scimMaxResults), nil
}

// list answers a list request: filter and page read, then fetch.
func (q *scimRequest) list(schema string, filters map[string]string, fetch func(f gatehouse.SCIMFilter) ([]any, int, error)) (int, any, error) {
	f, err := parseSCIMFilter(q.r.URL.Query().Get("filter"), schema, filters)
	if err != nil {
		return 0, nil, err
	}
	start, count, err := q.page()
	if err != nil {
		return 0, nil, err
	}
	f.Offset, f.Limit = start-1, count
	items, total, err := fetch(f)
	if err != nil {
		return 0, nil, err
	}
	if items == nil {
		items = []any{}
	}
	return http.StatusOK, wire.SCIMList{Schemas: []string{wire.SCIMMessageList}, TotalResults: total, StartIndex: start,
		ItemsPerPage: len(items), Resources: items}, nil
}

func scimTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (s *Server) scimSPConfig(q *scimRequest) (int, any, error) {
	return http.StatusOK, scimSPConfig(q.base()), nil
}

func (s *Server) scimResourceTypes(q *scimRequest) (int, any, error) {
	rts := scimResourceTypes(q.base())
	items := make([]any, len(rts))
	for i, rt := range rts {
		items[i] = rt
	}
	return http.StatusOK, wire.SCIMList{Schemas: []string{wire.SCIMMessageList}, TotalResults: len(items), StartIndex: 1, ItemsPerPage: len(items), Resources: items}, nil
}

func (s *Server) scimResourceType(q *scimRequest) (int, any, error) {
	for _, rt := range scimResourceTypes(q.base()) {
		if rt.ID == q.r.PathValue("id") {
			return http.StatusOK, rt, nil
		}
	}
	return 0, nil, scimErrorf(http.StatusNotFound, "", "resource type %q not found", service.ClientText(q.r.PathValue("id")))
}

func (s *Server) scimSchemas(q *scimRequest) (int, any, error) {
	sc := scimSchemas(q.base())
	items := make([]any, len(sc))
	for i, x := range sc {
		items[i] = x
	}
	return http.StatusOK, wire.SCIMList{Schemas: []string{wire.SCIMMessageList}, TotalResults: len(items), StartIndex: 1, ItemsPerPage: len(items), Resources: items}, nil
}

func (s *Server) scimSchema(q *scimRequest) (int, any, error) {
	for _, x := range scimSchemas(q.base()) {
		if x.ID == q.r.PathValue("id") {
			return http.StatusOK, x, nil
		}
	}
	return 0, nil, scimErrorf(http.StatusNotFound, "", "schema %q not found", service.ClientText(q.r.PathValue("id")))
}
