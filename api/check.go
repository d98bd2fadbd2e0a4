package api

import (
	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

// registerCheck registers the decision endpoint for other services.
func (s *Server) registerCheck() {
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/authz/check", doc: doc{"CheckAccess", "Decide a batch of (token, scope, entity) questions, with explanations (Gatehouse extension)", nil, "CheckRequest", "CheckResponse"}, scopes: scopes("org_member_access:read"), maxBytes: 1 << 20, h: s.check})
}

// check answers a batch of "may this token use this scope on this entity",
// each with its explanation.
func (s *Server) check(q *request) (any, error) {
	var in wire.CheckRequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	if len(in.Checks) == 0 || len(in.Checks) > 1000 {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "checks: give 1 to 1000 checks")
	}
	results, failed := s.svc.Check(q.ctx(), q.org.ID, in.Checks)
	if failed > 0 {
		// Asking about a token that is not valid here is guessing, like
		// presenting one: counted, limited and audited the same way.
		if err := s.authFailed(q, s.clientIP(q.r), authz.ErrCheckedToken, failed); err == errTooManyFailures {
			return nil, err
		}
	}
	for i, r := range results {
		if r.Error == "" {
			if sc, ok := catalog.Lookup(in.Checks[i].Scope); ok {
				s.metrics.decision(sc, r.Allowed)
			}
		}
	}
	return wire.CheckResponse{Results: results}, nil
}
