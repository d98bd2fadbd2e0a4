package gatehouse

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// AuditWriter writes audit events in an export format: "csv" (Pulumi's
// columns) or "cef" (ArcSight's Common Event Format).
type AuditWriter struct {
	format string
	w      io.Writer
	csv    *csv.Writer
}

// NewAuditWriter returns a writer for the format, or an error naming it.
func NewAuditWriter(w io.Writer, format string) (*AuditWriter, error) {
	a := &AuditWriter{format: format, w: w}
	switch format {
	case "csv":
		a.csv = csv.NewWriter(w)
		if err := a.csv.Write([]string{"Timestamp", "Name", "Login", "Event", "Description", "SourceIP",
			"RequireOrgAdmin", "RequireStackAdmin", "AuthenticationFailure"}); err != nil {
			return nil, err
		}
	case "cef":
	default:
		return nil, Errorf(EINVALID, "format: %q is not csv or cef", format)
	}
	return a, nil
}

// Write writes one event.
func (a *AuditWriter) Write(e *AuditEvent) error {
	if a.csv != nil {
		return a.csv.Write([]string{e.Time.UTC().Format(time.RFC3339), e.ActorLogin, e.ActorLogin, e.Type, e.Description, e.SourceIP,
			strconv.FormatBool(e.ReqOrgAdmin), strconv.FormatBool(e.ReqStackAdmin), strconv.FormatBool(e.AuthFailure)})
	}
	_, err := io.WriteString(a.w, cefLine(e)+"\n")
	return err
}

// Flush writes what is buffered.
func (a *AuditWriter) Flush() error {
	if a.csv != nil {
		a.csv.Flush()
		return a.csv.Error()
	}
	return nil
}

// cefLine renders an event in the Common Event Format, escaping as the
// format requires.
func cefLine(e *AuditEvent) string {
	header := strings.NewReplacer(`\`, `\\`, `|`, `\|`, "\n", " ", "\r", " ")
	ext := strings.NewReplacer(`\`, `\\`, `=`, `\=`, "\n", `\n`, "\r", `\r`)
	severity := 3
	if e.AuthFailure || e.Type == EventAccessDenied {
		severity = 6
	}
	return fmt.Sprintf("CEF:0|Gatehouse|Gatehouse|1|%s|%s|%d|rt=%d suser=%s src=%s requestClientApplication=%s cs1Label=requestID cs1=%s cs2Label=entity cs2=%s cs3Label=token cs3=%s",
		header.Replace(e.Type), header.Replace(e.Description), severity, e.Time.UnixMilli(), ext.Replace(e.ActorLogin),
		ext.Replace(e.SourceIP), ext.Replace(e.UserAgent), ext.Replace(e.RequestID), ext.Replace(e.Entity), ext.Replace(e.TokenName))
}
