package api

import "time"

// The wire's timestamp formats: Unix seconds, RFC 3339 and the OIDC
// issuers' own.

// unix is t in Unix seconds, 0 for the zero time.
func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// rfc3339 is t in UTC as RFC 3339.
func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// issuerTime is how OIDC issuers and policies show their times.
const issuerTime = "2006-01-02 15:04:05.000"

// stampOrEmpty is t in UTC as issuerTime, "" for the zero time.
func stampOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(issuerTime)
}
