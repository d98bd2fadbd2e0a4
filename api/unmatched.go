package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// Requests for routes Gatehouse does not have (a CLI newer than the
// server, a typo in a script) are answered as Pulumi answers them, with a
// JSON {code, message}: 404, or 405 with Allow when the path exists for
// other methods. Each is logged and counted under route="unmatched", so
// that operators see what clients ask for in vain. The mux sends them to
// the catch-all pattern "/" (the API has no subtree patterns of its own),
// so that a matched request is matched once.

// maxLoggedPath bounds the path an unmatched request logs.
const maxLoggedPath = 256

// probeMethods are the methods a path is tried with to tell 405 from 404.
var probeMethods = []string{"DELETE", "GET", "PATCH", "POST", "PUT"}

// unmatchedPattern is the catch-all's pattern.
const unmatchedPattern = "/"

// serveUnmatched answers a request no route matches.
func (s *Server) serveUnmatched(w http.ResponseWriter, r *http.Request) {
	allowed := s.allowedMethods(r)
	status, msg := http.StatusNotFound, fmt.Sprintf("no such route: %s %s", r.Method, r.URL.Path)
	if len(allowed) > 0 {
		status = http.StatusMethodNotAllowed
		msg = fmt.Sprintf("method %s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(allowed, ", "))
		w.Header().Set("Allow", strings.Join(allowed, ", "))
	}
	path := r.URL.Path
	if len(path) > maxLoggedPath {
		path = path[:maxLoggedPath] + "..."
	}
	s.log.Info("unmatched route", "method", r.Method, "path", path, "status", status, "user_agent", r.UserAgent())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(wire.Error{Code: status, Message: msg})
}

// allowedMethods are the methods some route serves r's path with, as
// the mux would list them in Allow (GET brings HEAD).
func (s *Server) allowedMethods(r *http.Request) []string {
	var allowed []string
	for _, m := range probeMethods {
		probe := *r // the mux reads the method, host and path only
		probe.Method = m
		if _, pattern := s.mux.Handler(&probe); pattern != "" && pattern != unmatchedPattern {
			allowed = append(allowed, m)
			if m == "GET" {
				allowed = append(allowed, "HEAD")
			}
		}
	}
	slices.Sort(allowed)
	return allowed
}
