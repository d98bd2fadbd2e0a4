package api

import (
	"strconv"

	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// Version tags and retraction (pulumi env version tag|retract).

func (s *Server) createRevisionTag(q *request) (any, error) {
	var in wire.CreateEnvironmentRevisionTagRequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	return nil, s.svc.PutRevisionTag(q.ctx(), q.env, in.Name, deref(in.Revision), false, q.id)
}

func (s *Server) updateRevisionTag(q *request) (any, error) {
	var in wire.UpdateEnvironmentRevisionTagRequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	return nil, s.svc.PutRevisionTag(q.ctx(), q.env, q.r.PathValue("tagName"), deref(in.Revision), true, q.id)
}

func (s *Server) deleteRevisionTag(q *request) (any, error) {
	return nil, s.svc.DeleteRevisionTag(q.ctx(), q.env, q.r.PathValue("tagName"))
}

// retractRevision retracts the path's version (a number or a tag).
func (s *Server) retractRevision(q *request) (any, error) {
	var in wire.RetractEnvironmentRevisionRequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	version, err := s.svc.ResolveVersion(q.ctx(), q.env, q.r.PathValue("version"))
	if err != nil {
		return nil, err
	}
	_, err = s.svc.RetractVersion(q.ctx(), q.env, version, deref(in.Replacement), in.Reason, q.id)
	return nil, err
}

// deref is *p, or 0 when p is nil.
func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// Settings: deletion protection (pulumi env settings).

func (s *Server) getEnvironmentSettings(q *request) (any, error) {
	cur, err := s.svc.Environment(q.ctx(), q.org.ID, q.env.Project, q.env.Name)
	if err != nil {
		return nil, err
	}
	return wire.EnvironmentSettings{DeletionProtected: cur.DeletionProtected}, nil
}

func (s *Server) patchEnvironmentSettings(q *request) (any, error) {
	var in wire.PatchEnvironmentSettingsRequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	if in.DeletionProtected == nil {
		return s.getEnvironmentSettings(q)
	}
	cur, err := s.svc.SetDeletionProtection(q.ctx(), q.env, *in.DeletionProtected)
	if err != nil {
		return nil, err
	}
	return wire.EnvironmentSettings{DeletionProtected: cur.DeletionProtected}, nil
}

// listReferrers answers pulumi env referrer list: the environments that
// import this one and the stacks whose last update did (those the caller
// may read), by the version they import; only those of the current
// version unless allRevisions=true. One page: no continuation token.
func (s *Server) listReferrers(q *request) (any, error) {
	refs, err := s.svc.Referrers(q.ctx(), q.env)
	if err != nil {
		return nil, err
	}
	all := q.r.URL.Query().Get("allRevisions") == "true"
	out := wire.ListEnvironmentReferrersResponse{Referrers: map[string][]wire.EnvironmentReferrer{}}
	for _, r := range refs {
		if !all && r.Imports != q.env.Version {
			continue
		}
		key := strconv.Itoa(r.Imports)
		out.Referrers[key] = append(out.Referrers[key], wire.EnvironmentReferrer{Environment: &wire.EnvironmentImportReferrer{Project: r.Project, Name: r.Name, Revision: r.Version}})
	}
	stacks, err := s.svc.StackReferrers(q.ctx(), q.env)
	if err != nil {
		return nil, err
	}
	for _, r := range stacks {
		if !all && r.Imports != q.env.Version {
			continue
		}
		// A stack is named only to a caller who may read it.
		if ent, err := s.az.EntityByID(q.ctx(), q.org.ID, r.Stack.ID); err != nil || !s.may(q, "stack:read", ent) {
			continue
		}
		key := strconv.Itoa(r.Imports)
		out.Referrers[key] = append(out.Referrers[key], wire.EnvironmentReferrer{Stack: &wire.EnvironmentStackReferrer{Project: r.Stack.Project, Stack: r.Stack.Name, Version: r.Version}})
	}
	return out, nil
}
