package web

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
)

type auditData struct {
	Events []wire.AuditEvent
	Types  []string
	Filter url.Values
	// Class is the class shown: change (the default), read or all.
	Class   string
	Classes []auditClass
	// Next is the URL of the next page; Export the export's. Both keep
	// every filter, the class included. (Whole URLs: html/template
	// escapes a query put after a literal "?" as one value.)
	Next   string
	Export string
}

// auditClass is an option of the class filter.
type auditClass struct{ Value, Label string }

// auditClasses are the class filter's options, the default first. The
// API's list leaves reads out unless asked, but its export has every
// event by default, so the console always names the class it shows.
var auditClasses = []auditClass{
	{gatehouse.AuditClassChange, "changes"},
	{gatehouse.AuditClassRead, "reads (exports, decryptions, environments opened)"},
	{gatehouse.AuditClassAll, "all"},
}

// Filtered reports whether the page is filtered beyond the default.
func (d auditData) Filtered() bool {
	f := d.Filter
	return f.Get("event") != "" || f.Get("user") != "" || f.Get("from") != "" || f.Get("to") != "" || d.Class != gatehouse.AuditClassChange
}

// query is the page's filters as the console's query, the class always
// named, added to v.
func (d auditData) query(v url.Values) url.Values {
	if v == nil {
		v = url.Values{}
	}
	v.Set("class", d.Class)
	for _, k := range []string{"event", "user", "from", "to"} {
		if s := d.Filter.Get(k); s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// auditFilter reads the page's filters into the API's query (the
// continuation token left out); a filter that is wrong is named in
// errMsg.
func auditFilter(q *req) (d auditData, v url.Values, errMsg string) {
	in := q.r.URL.Query()
	d = auditData{Filter: in, Class: gatehouse.AuditClassChange, Classes: auditClasses}
	for _, t := range gatehouse.AuditEventTypes {
		d.Types = append(d.Types, t.Event)
	}
	sort.Strings(d.Types)
	v = url.Values{}
	if e := in.Get("event"); e != "" {
		v.Set("eventFilter", e)
	}
	if u := in.Get("user"); u != "" {
		v.Set("userFilter", u)
	}
	if s := in.Get("class"); s != "" {
		known := false
		for _, o := range auditClasses {
			known = known || o.Value == s
		}
		if !known {
			return d, v, fmt.Sprintf("class: %q is not change, read or all", s)
		}
		d.Class = s
	}
	v.Set("class", d.Class)
	// Dates (YYYY-MM-DD, UTC) bound the events: from the start of the
	// first day to the end of the last.
	for _, k := range []string{"from", "to"} {
		if s := in.Get(k); s != "" {
			t, err := time.Parse("2006-01-02", s)
			if err != nil {
				return d, v, fmt.Sprintf("%s: %q is not a date (YYYY-MM-DD)", k, s)
			}
			param := "startTime"
			if k == "to" {
				t, param = t.Add(24*time.Hour), "endTime"
			}
			v.Set(param, strconv.FormatInt(t.Unix(), 10))
		}
	}
	return d, v, ""
}

func (q *req) auditAPI() string { return "/api/orgs/" + url.PathEscape(q.org) + "/auditlogs/v2" }

func (q *req) auditPath() string { return "/console/" + url.PathEscape(q.org) + "/audit" }

func (c *Console) audit(q *req) error {
	d, v, errMsg := auditFilter(q)
	if errMsg != "" {
		return q.render(http.StatusBadRequest, "audit", "Audit log", "audit", d, errMsg, "")
	}
	d.Export = q.auditPath() + "/export?" + d.query(nil).Encode()
	page := v
	if s := q.r.URL.Query().Get("continuationToken"); s != "" {
		page = url.Values{"continuationToken": {s}}
		for k, vs := range v {
			page[k] = vs
		}
	}
	var out wire.ListAuditEventsResponse
	if err := q.call("GET", q.auditAPI()+"?"+page.Encode(), nil, &out); err != nil {
		return q.fail(err, func(msg string) error {
			return q.render(errStatus(err), "audit", "Audit log", "audit", d, msg, "")
		})
	}
	d.Events = out.AuditLogEvents
	if out.ContinuationToken != "" {
		d.Next = q.auditPath() + "?" + d.query(url.Values{"continuationToken": {out.ContinuationToken}}).Encode()
	}
	return q.render(http.StatusOK, "audit", "Audit log", "audit", d, "", "")
}

// auditExport downloads the events the page's filters select as the
// API's gzip-compressed CSV: the browser holds a session, not a token,
// so the console asks the API for the user. The file is sent as it is
// (application/gzip), not as a Content-Encoding the browser would undo
// under a .gz name.
func (c *Console) auditExport(q *req) error {
	d, v, errMsg := auditFilter(q)
	if errMsg != "" {
		return q.render(http.StatusBadRequest, "audit", "Audit log", "audit", d, errMsg, "")
	}
	rec, err := q.serve("GET", q.auditAPI()+"/export?"+v.Encode(), nil)
	if err != nil {
		return q.fail(err, func(msg string) error {
			return q.render(errStatus(err), "audit", "Audit log", "audit", d, msg, "")
		})
	}
	h := q.w.Header()
	h.Set("Content-Type", "application/gzip")
	h.Set("Content-Disposition", `attachment; filename="auditlogs-`+d.Class+`.csv.gz"`)
	h.Set("Cache-Control", "no-store")
	_, err = q.w.Write(rec.body.Bytes())
	return err
}
