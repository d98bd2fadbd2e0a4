package api

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// Requests for routes Gatehouse does not have (a CLI newer than the
// server, a typo in a script) are answered as Pulumi answers them, with a
// JSON {code, message}: 404, or 405 with Allow when the path exists for
// other methods. Each is logged and counted under route="unmatched", so
// that operators see what clients ask for in vain.

// maxLoggedPath bounds the path an unmatched request logs.
const maxLoggedPath = 256

// serveUnmatched answers r, which no route matches, with h, the mux's own
// answer (404, or 405 with its Allow header), in Pulumi's error shape.
func (s *Server) serveUnmatched(h http.Handler, w http.ResponseWriter, r *http.Request) {
	uw := &unmatchedWriter{ResponseWriter: w, r: r}
	h.ServeHTTP(uw, r)
	path := r.URL.Path
	if len(path) > maxLoggedPath {
		path = path[:maxLoggedPath] + "..."
	}
	s.log.Info("unmatched route", "method", r.Method, "path", path, "status", uw.status, "user_agent", r.UserAgent())
}

// unmatchedWriter turns the mux's plain-text error into Pulumi's JSON one.
type unmatchedWriter struct {
	http.ResponseWriter
	r      *http.Request
	status int
	// replaced: the JSON body is written; the mux's text is dropped.
	replaced bool
}

func (w *unmatchedWriter) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	w.status = code
	if code < 400 {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	msg := fmt.Sprintf("no such route: %s %s", w.r.Method, w.r.URL.Path)
	if code == http.StatusMethodNotAllowed {
		msg = fmt.Sprintf("method %s is not allowed on %s (allowed: %s)", w.r.Method, w.r.URL.Path, w.Header().Get("Allow"))
	}
	w.Header().Set("Content-Type", "application/json")
	w.ResponseWriter.WriteHeader(code)
	enc := json.NewEncoder(w.ResponseWriter)
	enc.SetEscapeHTML(false)
	enc.Encode(wire.Error{Code: code, Message: msg})
	w.replaced = true
}

func (w *unmatchedWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.replaced {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}
