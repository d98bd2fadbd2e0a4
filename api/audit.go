package api

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
)

func toAuditEvent(e *gatehouse.AuditEvent) wire.AuditEvent {
	j := wire.AuditEvent{Timestamp: e.Time.Unix(), SourceIP: e.SourceIP, Event: e.Type, Description: e.Description,
		User: wire.UserInfo{Name: e.ActorLogin, GitHubLogin: e.ActorLogin}, TokenID: e.TokenID, TokenName: e.TokenName,
		ReqOrgAdmin: e.ReqOrgAdmin, ReqStackAdmin: e.ReqStackAdmin, AuthFailure: e.AuthFailure, ActorName: e.ActorLogin,
		Entity: e.Entity, RequestID: e.RequestID, ClientRequestID: e.ClientRequestID, UserAgent: e.UserAgent, Hash: fmt.Sprintf("%x", e.Hash)}
	if len(e.Data) > 0 {
		j.Details = json.RawMessage(e.Data)
	}
	return j
}

// auditQuery reads the filters. In v1, startTime is the upper bound
// ("entries older than this") and endTime the lower; in v2, startTime is the
// lower bound and endTime the upper. Both list the newest events first.
//
// class (a Gatehouse addition) keeps one class of events: change (reads
// left out), read (exports, decryptions, environments opened) or all;
// defaultClass applies without it: change for lists, all for exports.
func (q *request) auditQuery(v2 bool, defaultClass string) (gatehouse.AuditFilter, gatehouse.ListOptions, error) {
	query := q.r.URL.Query()
	f := gatehouse.AuditFilter{Descending: true, Types: query["eventFilter"], ActorLogins: query["userFilter"]}
	opts := gatehouse.ListOptions{Continuation: query.Get("continuationToken")}
	unixParam := func(name string) (time.Time, error) {
		v := query.Get(name)
		if v == "" {
			return time.Time{}, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return time.Time{}, gatehouse.Errorf(gatehouse.EINVALID, "%s: %q is not a unix time in seconds", name, v)
		}
		return time.Unix(n, 0), nil
	}
	start, err := unixParam("startTime")
	if err != nil {
		return f, opts, err
	}
	end, err := unixParam("endTime")
	if err != nil {
		return f, opts, err
	}
	if v2 {
		f.From = start
		if !end.IsZero() {
			f.To = end.Add(time.Second) // inclusive of the end second
		}
	} else {
		if start.IsZero() && opts.Continuation == "" {
			return f, opts, gatehouse.Errorf(gatehouse.EINVALID, "startTime or continuationToken: one is required")
		}
		f.To, f.From = start, end
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, opts, gatehouse.Errorf(gatehouse.EINVALID, "startTime and endTime: the range is empty")
	}
	if f.Class, err = auditClass(query.Get("class"), defaultClass); err != nil {
		return f, opts, err
	}
	if v := query.Get("format"); v != "" && v != "json" && v != "csv" && v != "cef" {
		return f, opts, gatehouse.Errorf(gatehouse.EINVALID, "format: %q is not json, csv or cef", v)
	}
	if v := query.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > gatehouse.MaxListLimit {
			return f, opts, gatehouse.Errorf(gatehouse.EINVALID, "pageSize: %q is not a number from 1 to %d", v, gatehouse.MaxListLimit)
		}
		opts.Limit = n
	}
	return f, opts, nil
}

// auditClass reads the class parameter.
func auditClass(v, def string) (string, error) {
	switch v {
	case "":
		return def, nil
	case gatehouse.AuditClassChange, gatehouse.AuditClassRead, gatehouse.AuditClassAll:
		return v, nil
	}
	return "", gatehouse.Errorf(gatehouse.EINVALID, "class: %q is not change, read or all", v)
}

func (s *Server) listAudit(v2 bool) handler {
	return func(q *request) (any, error) {
		f, opts, err := q.auditQuery(v2, gatehouse.AuditClassChange)
		if err != nil {
			return nil, err
		}
		events, next, err := s.svc.AuditEvents(q.ctx(), q.org.ID, f, opts)
		if err != nil {
			return nil, err
		}
		out := wire.ListAuditEventsResponse{ContinuationToken: q.next(next), AuditLogEvents: []wire.AuditEvent{}}
		for _, e := range events {
			out.AuditLogEvents = append(out.AuditLogEvents, toAuditEvent(e))
		}
		return out, nil
	}
}

// maxExport bounds one export; a larger range needs several.
const maxExport = 1_000_000

// exportAudit writes the matching events as CSV (the default) or CEF,
// gzip-compressed, as Pulumi does.
func (s *Server) exportAudit(v2 bool) handler {
	return func(q *request) (any, error) {
		f, opts, err := q.auditQuery(v2, gatehouse.AuditClassAll)
		if err != nil {
			return nil, err
		}
		format := q.r.URL.Query().Get("format")
		if format == "" || format == "json" {
			format = "csv"
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		aw, err := gatehouse.NewAuditWriter(zw, format)
		if err != nil {
			return nil, err
		}
		opts.Limit = gatehouse.MaxListLimit
		for n := 0; n < maxExport; {
			events, next, err := s.svc.AuditEvents(q.ctx(), q.org.ID, f, opts)
			if err != nil {
				return nil, err
			}
			for _, e := range events {
				if err := aw.Write(e); err != nil {
					return nil, err
				}
			}
			n += len(events)
			if opts.Continuation = next; next == "" {
				break
			}
		}
		if err := aw.Flush(); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		q.w.Header().Set("Content-Encoding", "gzip")
		q.w.Header().Set("Content-Disposition", "attachment; filename=auditlogs."+format+".gz")
		return rawBody{contentType: "text/plain; charset=utf-8", data: buf.Bytes()}, nil
	}
}

func (s *Server) auditEventTypes(q *request) (any, error) {
	return wire.AuditEventTypes{EventTypes: gatehouse.AuditEventTypes}, nil
}

// registerAudit registers the routes of the audit log.
func (s *Server) registerAudit() {
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/auditlogs", doc: doc{"ListAuditLogEventsV1", "Audit events older than startTime, newest first", []string{"startTime", "endTime", "eventFilter", "userFilter", "continuationToken", "pageSize", "format", "class"}, "", "ListAuditLogEventsResponse"}, scopes: scopes("audit_logs:read"), h: s.listAudit(false)})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/auditlogs/v2", doc: doc{"ListAuditLogEvents", "Audit events between startTime and endTime, newest first", []string{"startTime", "endTime", "eventFilter", "userFilter", "continuationToken", "pageSize", "class"}, "", "ListAuditLogEventsResponse"}, scopes: scopes("audit_logs:read"), h: s.listAudit(true)})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/auditlogs/export", doc: doc{"ExportAuditLogEventsV1", "Export audit events as gzip-compressed CSV or CEF", []string{"startTime", "endTime", "eventFilter", "userFilter", "format", "class"}, "", "AuditLogExport"}, scopes: scopes("audit_logs:export"), h: s.exportAudit(false)})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/auditlogs/v2/export", doc: doc{"ExportAuditLogEvents", "Export audit events as gzip-compressed CSV or CEF", []string{"startTime", "endTime", "eventFilter", "userFilter", "format", "class"}, "", "AuditLogExport"}, scopes: scopes("audit_logs:export"), h: s.exportAudit(true)})
	s.handle(&route{method: "GET", pattern: "/api/orgs/{orgName}/auditlogs/event-types", doc: doc{"ListAuditLogEventTypes", "The catalog of audit event types", nil, "", "AuditLogEventTypes"}, scopes: scopes("audit_logs:read"), h: s.auditEventTypes})
}
