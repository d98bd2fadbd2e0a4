package service

import (
	"context"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// allowedReason is an allowed check's reason when it asked for no
// explanation.
const allowedReason = `allowed (ask with "explain": true for the role that grants it)`

// Check decides a batch of questions, each from the compiled grants, with
// explanations for denials and for the checks that ask (Explain); each
// result holds either a decision or the problem with its question.
//
// A token that is not valid in the organization (unknown, revoked, expired,
// or another organization's) gets one answer, "not a valid token", so that
// the check reveals nothing about other organizations' tokens; failed
// counts them, for the caller to treat as failed authentications. Checking
// a token is not using it: its last use is not recorded.
func (s *Service) Check(ctx context.Context, orgID string, checks []gatehouse.CheckRequest) (out []gatehouse.CheckResult, failed int) {
	out = make([]gatehouse.CheckResult, len(checks))
	for i, c := range checks {
		res := &out[i]
		field := func(f string) string { return "checks[" + itoa(i) + "]." + f }
		id, err := s.az.Verify("token " + c.Token)
		if err != nil || !s.az.Member(ctx, id, orgID) {
			res.Reason, res.Error = "the token is not valid", field("token")+": not a valid token"
			failed++
			continue
		}
		sc, ok := catalog.Lookup(c.Scope)
		if !ok {
			res.Error = field("scope") + ": unknown scope " + quote(c.Scope)
			if sug := catalog.Suggest(c.Scope); sug != "" {
				res.Error += " (did you mean " + quote(sug) + "?)"
			}
			continue
		}
		e, err := s.ResolveEntity(ctx, orgID, c.Entity)
		if err != nil {
			if gatehouse.ErrorCode(err) == gatehouse.EINVALID {
				res.Error = field("entity.type") + ": " + gatehouse.ErrorMessage(err)
			} else {
				res.Error = field("entity") + ": " + gatehouse.ErrorMessage(err)
			}
			continue
		}
		// Decided from the compiled grants; walked (Explain) only for a
		// denial or when asked.
		allowed, err := s.az.Decide(ctx, id, orgID, sc, e)
		if err == nil && allowed && !c.Explain {
			res.Allowed, res.Reason = true, allowedReason
			continue
		}
		var ex policy.Explanation
		if err == nil {
			ex, err = s.az.Explain(ctx, id, orgID, sc, e)
		}
		if err != nil {
			res.Error = field("") + gatehouse.ErrorMessage(err)
			continue
		}
		res.Allowed, res.Reason = ex.Allowed, ex.Reason
	}
	return out, failed
}

// ResolveEntity finds the entity a check names: the organization, or a
// stack, environment or account by id or by name, from the snapshot.
func (s *Service) ResolveEntity(ctx context.Context, orgID string, c gatehouse.CheckEntity) (*gatehouse.Entity, error) {
	et, ok := gatehouse.ParseEntityType(c.Type)
	if c.Type == "" {
		et, ok = gatehouse.EntityGlobal, true
	}
	if !ok || et == gatehouse.EntityTeam {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "%s is not one of global, stack, environment, insights-account", quote(c.Type))
	}
	var e *gatehouse.Entity
	var err error
	switch {
	case et == gatehouse.EntityGlobal:
		return &gatehouse.Entity{Type: et, ID: orgID}, nil
	case c.ID != "":
		e, err = s.az.EntityByID(ctx, orgID, c.ID)
	default:
		name := c.Name
		if et != gatehouse.EntityInsightsAccount {
			name = c.Project + "/" + c.Name
		}
		e, err = s.az.Entity(ctx, orgID, et, name)
	}
	if err == nil && e.Type != et {
		err = gatehouse.Errorf(gatehouse.ENOTFOUND, "%s not found", et)
	}
	return e, err
}
