package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

// readyTimeout bounds /readyz's database check, so that the probe has its
// answer within a second.
const readyTimeout = 900 * time.Millisecond

func (s *Server) register() {
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	s.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if s.Draining() {
			http.Error(w, "not ready: shutting down", http.StatusServiceUnavailable)
			return
		}
		if s.ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
			defer cancel()
			if err := s.ready(ctx); err != nil {
				msg := "database unavailable"
				if gatehouse.ErrorCode(err) == gatehouse.EUNAVAILABLE {
					msg = gatehouse.ErrorMessage(err)
				}
				w.Header().Set("Retry-After", retryAfter)
				http.Error(w, "not ready: "+msg, http.StatusServiceUnavailable)
				return
			}
		}
		w.Write([]byte("ready\n"))
	})
	if !s.metricsElsewhere {
		s.mux.Handle("GET /metrics", s.metrics.handler())
	}

	s.registerInvites()
	s.registerSCIM()
	s.registerSSO()

	s.registerUser()
	s.registerRoles()
	s.registerMembers()
	s.registerTeams()
	s.registerTokens()

	s.handle(&route{method: "GET", pattern: "/api/openapi/pulumi-spec.json", doc: doc{"GetOpenAPISpec", "This document", nil, "", "OpenAPI"}, public: true, h: func(q *request) (any, error) {
		doc, err := s.openAPI()
		return rawBody{contentType: "application/json", data: doc}, err
	}})

	s.registerOIDC()
	s.registerAudit()
	s.registerAssignments()

	// Stacks: the pulumi CLI's state backend.
	s.registerStacks()

	// Environments and Insights accounts.
	s.registerEnvironments()
	s.registerAccounts()

	s.registerCheck()
	s.registerAccess()
	s.registerBatch()
}
