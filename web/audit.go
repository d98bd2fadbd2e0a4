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
	Next   string
	Types  []string
	Filter url.Values
	Export string
}

func (c *Console) audit(q *req) error {
	in := q.r.URL.Query()
	v := url.Values{}
	if e := in.Get("event"); e != "" {
		v.Set("eventFilter", e)
	}
	if u := in.Get("user"); u != "" {
		v.Set("userFilter", u)
	}
	// Reads (exports, decryptions, environments opened) are left out, as
	// by the API, unless ?class=read or ?class=all asks for them.
	if c := in.Get("class"); c != "" {
		v.Set("class", c)
	}
	d := auditData{Filter: in}
	// Dates (YYYY-MM-DD, UTC) bound the events: from the start of the
	// first day to the end of the last.
	for k, param := range map[string]string{"from": "startTime", "to": "endTime"} {
		if s := in.Get(k); s != "" {
			t, err := time.Parse("2006-01-02", s)
			if err != nil {
				return q.render(http.StatusBadRequest, "audit", "Audit log", "audit", d, fmt.Sprintf("%s: %q is not a date (YYYY-MM-DD)", k, s), "")
			}
			if k == "to" {
				t = t.Add(24 * time.Hour)
			}
			v.Set(param, strconv.FormatInt(t.Unix(), 10))
		}
	}
	if s := in.Get("continuationToken"); s != "" {
		v.Set("continuationToken", s)
	}
	base := "/api/orgs/" + url.PathEscape(q.org) + "/auditlogs"
	var page wire.ListAuditEventsResponse
	if err := q.call("GET", base+"/v2?"+v.Encode(), nil, &page); err != nil {
		return q.fail(err, func(msg string) error {
			return q.render(http.StatusForbidden, "audit", "Audit log", "audit", d, msg, "")
		})
	}
	d.Events, d.Next = page.AuditLogEvents, page.ContinuationToken
	for _, t := range gatehouse.AuditEventTypes {
		d.Types = append(d.Types, t.Event)
	}
	sort.Strings(d.Types)
	v.Del("continuationToken")
	d.Export = base + "/v2/export?" + v.Encode()
	return q.render(http.StatusOK, "audit", "Audit log", "audit", d, "", "")
}
