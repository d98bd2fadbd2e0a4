package api

import (
	"strconv"

	"github.com/gatehouse-iam/gatehouse"
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
// import this one and the stacks whose last update did, each only to a
// caller who may read it, by the version they import; only those of the
// current version unless allRevisions=true. Paged: count (at most
// MaxListLimit, escPage by default) after the continuation token's
// position, environments first, then stacks.
func (s *Server) listReferrers(q *request) (any, error) {
	count, err := intParam(q, "count", 1, gatehouse.MaxListLimit)
	if err != nil {
		return nil, err
	}
	if count == 0 {
		count = escPage
	}
	from, err := offsetParam(q)
	if err != nil {
		return nil, err
	}
	type keyed struct {
		key string
		r   wire.EnvironmentReferrer
	}
	var refs []keyed
	all := q.r.URL.Query().Get("allRevisions") == "true"
	envs, err := s.svc.Referrers(q.ctx(), q.env)
	if err != nil {
		return nil, err
	}
	for _, r := range envs {
		if (all || r.Imports == q.env.Version) && s.readable(q, "environment:read", r.ID) {
			refs = append(refs, keyed{strconv.Itoa(r.Imports), wire.EnvironmentReferrer{Environment: &wire.EnvironmentImportReferrer{Project: r.Project, Name: r.Name, Revision: r.Version}}})
		}
	}
	stacks, err := s.svc.StackReferrers(q.ctx(), q.env)
	if err != nil {
		return nil, err
	}
	for _, r := range stacks {
		if (all || r.Imports == q.env.Version) && s.readable(q, "stack:read", r.Stack.ID) {
			refs = append(refs, keyed{strconv.Itoa(r.Imports), wire.EnvironmentReferrer{Stack: &wire.EnvironmentStackReferrer{Project: r.Stack.Project, Stack: r.Stack.Name, Version: r.Version}}})
		}
	}
	out := wire.ListEnvironmentReferrersResponse{Referrers: map[string][]wire.EnvironmentReferrer{}}
	for i := from; i < len(refs) && i < from+count; i++ {
		out.Referrers[refs[i].key] = append(out.Referrers[refs[i].key], refs[i].r)
	}
	if from+count < len(refs) {
		out.ContinuationToken = q.next(strconv.Itoa(from + count))
	}
	return out, nil
}

// readable says whether the caller holds scope on the entity of id.
func (s *Server) readable(q *request, scope, id string) bool {
	ent, err := s.az.EntityByID(q.ctx(), q.org.ID, id)
	return err == nil && s.may(q, scope, ent)
}

// offsetParam is the position a continuation token carries in a list
// paged by position (0 without one; the token is checked by
// openContinuation).
func offsetParam(q *request) (int, error) {
	v := q.r.URL.Query().Get(continuationParam)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, gatehouse.Errorf(gatehouse.EINVALID, "%s: %q is not a token this server gave", continuationParam, v)
	}
	return n, nil
}
