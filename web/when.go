package web

import (
	"fmt"
	"html/template"
	"time"
)

// when renders a time the one way the console shows times: relative to
// the service's clock ("3 hours ago", "in 29 days"), with the exact UTC
// time on hover and in the datetime attribute. It takes Unix seconds
// (0: never) or a time as a string ("": never), as the API sends them.
func (c *Console) when(v any) template.HTML {
	var t time.Time
	switch v := v.(type) {
	case int64:
		if v != 0 {
			t = time.Unix(v, 0)
		}
	case *int64:
		if v != nil && *v != 0 {
			t = time.Unix(*v, 0)
		}
	case string:
		if v != "" {
			p, ok := parseTime(v)
			if !ok {
				return template.HTML(template.HTMLEscapeString(v))
			}
			t = p
		}
	case time.Time:
		t = v
	}
	if t.IsZero() {
		return "never"
	}
	t = t.UTC()
	return template.HTML(fmt.Sprintf(`<time datetime="%s" title="%s">%s</time>`, t.Format(time.RFC3339),
		t.Format("2006-01-02 15:04:05 UTC"), relative(t, c.svc.Now())))
}

// timeLayouts are the layouts the API writes times in: RFC 3339, and
// Pulumi's "2006-01-02 15:04:05.000" (UTC) for issuers and environments.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.000", "2006-01-02 15:04:05"}

func parseTime(s string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// relative says how far t is from now, in the largest whole unit.
func relative(t, now time.Time) string {
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var n int
	var unit string
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		n, unit = int(d/time.Minute), "minute"
	case d < 24*time.Hour:
		n, unit = int(d/time.Hour), "hour"
	case d < 60*24*time.Hour:
		n, unit = int(d/(24*time.Hour)), "day"
	case d < 730*24*time.Hour:
		n, unit = int(d/(30*24*time.Hour)), "month"
	default:
		n, unit = int(d/(365*24*time.Hour)), "year"
	}
	if n != 1 {
		unit += "s"
	}
	if future {
		return fmt.Sprintf("in %d %s", n, unit)
	}
	return fmt.Sprintf("%d %s ago", n, unit)
}
