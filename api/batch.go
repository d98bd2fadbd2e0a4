package api

import (
	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/service"
)

// maxTagBatchBody bounds a tag batch: 1,000 changes of a few tags each
// fit in well under it.
const maxTagBatchBody = 8 << 20

// registerBatch registers the batch routes (Gatehouse extensions: Pulumi
// changes one entity's tags per request).
func (s *Server) registerBatch() {
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/tags/batch",
		doc:       doc{"BatchUpdateTags", "Change the tags of up to 1,000 stacks, environments and Insights accounts in one transaction, all or none; dryRun reports whose access the changes move (Gatehouse extension)", nil, "TagBatchRequest", "TagBatchResponse"},
		perEntity: scopes("stack_tags:update", "environment_tag:create", "environment_tag:update", "environment_tag:delete", "insights_account:update"),
		maxBytes:  maxTagBatchBody, h: s.tagBatch})
	s.handle(&route{method: "POST", pattern: "/api/orgs/{orgName}/assignments/batch",
		doc:       doc{"BatchUpdateEntityAssignments", "Grant, change or revoke up to 1,000 users' permission sets on stacks, environments and Insights accounts in one transaction, all or none (Gatehouse extension)", nil, "AssignmentBatchRequest", "AssignmentBatchResponse"},
		perEntity: scopes("stack_access:update", "environment_access:update", "insights_account_access:update"),
		maxBytes:  maxTagBatchBody, h: s.assignmentBatch})
}

// assignmentBatch decides the access-update scope (as UpdateEntityAssignment
// does) on every entity named, then applies every grant in one write.
func (s *Server) assignmentBatch(q *request) (any, error) {
	var in wire.AssignmentBatchRequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	grants := make([]service.Grant, len(in.Assignments))
	for i, a := range in.Assignments {
		if i == service.MaxTagChanges {
			break // CheckGrants refuses the size
		}
		t, ok := gatehouse.ParseEntityType(a.Entity.Type)
		if !ok || (t != gatehouse.EntityStack && t != gatehouse.EntityEnvironment && t != gatehouse.EntityInsightsAccount) {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "assignments[%d].entity.type: %q is not stack, environment or insights-account", i, a.Entity.Type)
		}
		grants[i] = service.Grant{Entity: gatehouse.EntityRef{Type: t}, Name: a.Entity.Name, User: a.UserID}
		if a.PermissionSetID != nil {
			grants[i].SetID = *a.PermissionSetID
		}
	}
	if err := service.CheckGrants(grants); err != nil {
		return nil, err
	}
	for i := range grants {
		if err := s.authorizeGrant(q, i, &grants[i]); err != nil {
			return nil, err
		}
	}
	views, err := s.svc.AssignMany(q.ctx(), q.org.ID, grants)
	if err != nil {
		return nil, err
	}
	out := wire.AssignmentBatchResponse{Assignments: make([]wire.AssignmentBatchResult, len(views))}
	for i, v := range views {
		out.Assignments[i] = wire.AssignmentBatchResult{Index: i, Entity: in.Assignments[i].Entity}
		if v != nil {
			a := wire.Assignment{PermissionSet: toPermissionSet(v.Set), Source: v.Source}
			u := toUserInfo(v.User)
			a.Principal.User = &u
			out.Assignments[i].Assignment = &a
		}
	}
	return out, nil
}

// tagBatch validates every change, then decides the caller's scopes on
// every entity (a refusal names the change and the entity; an entity the
// caller may not read is not found), then applies them in one write.
func (s *Server) tagBatch(q *request) (any, error) {
	var in wire.TagBatchRequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	if err := service.CheckTagCount(len(in.Changes)); err != nil {
		return nil, err
	}
	changes := make([]service.TagChange, len(in.Changes))
	for i, c := range in.Changes {
		t, ok := gatehouse.ParseEntityType(c.Entity.Type)
		if !ok || (t != gatehouse.EntityStack && t != gatehouse.EntityEnvironment && t != gatehouse.EntityInsightsAccount) {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "changes[%d].entity.type: %q is not stack, environment or insights-account", i, c.Entity.Type)
		}
		changes[i] = service.TagChange{Type: t, Name: c.Entity.Name, Set: c.Set, Remove: c.Remove}
	}
	if err := service.CheckTagChanges(changes); err != nil {
		return nil, err
	}
	for i := range changes {
		if err := s.authorizeTagChange(q, i, &changes[i]); err != nil {
			return nil, err
		}
	}
	// Whose access moves is what the access explorer tells: only for a
	// caller who may ask it.
	access := false
	if in.DryRun {
		ok, err := s.az.Decide(q.ctx(), q.id, q.org.ID, catalog.MustLookup("org_member_access:read"), &gatehouse.Entity{Type: gatehouse.EntityGlobal, ID: q.org.ID})
		if err != nil {
			return nil, err
		}
		access = ok
	}
	res, err := s.svc.ChangeTags(q.ctx(), q.org.ID, changes, service.TagOptions{DryRun: in.DryRun, Access: access})
	if err != nil {
		return nil, err
	}
	out := wire.TagBatchResponse{DryRun: res.DryRun, Changes: make([]wire.TagBatchResult, len(res.Changes))}
	for i, r := range res.Changes {
		out.Changes[i] = wire.TagBatchResult{Index: r.Index, Entity: wire.BatchEntity{Type: r.Type.String(), Name: r.Name},
			Before: nonNil(r.Before), After: nonNil(r.After), Changed: r.Changed}
	}
	if !in.DryRun {
		return out, nil
	}
	if !access {
		out.AccessOmitted = "the caller lacks org_member_access:read, which says who holds what"
		return out, nil
	}
	out.AccessTruncated = res.AccessTruncated
	for _, a := range res.Access {
		out.Access = append(out.Access, wire.TagBatchAccess{Principal: wire.AccessHolder{Kind: a.Principal.Kind, ID: a.Principal.ID, Name: a.Principal.Name},
			Index: a.Index, Entity: wire.BatchEntity{Type: a.Type.String(), Name: a.EntityName}, Gained: a.Gained, Lost: a.Lost})
	}
	return out, nil
}

// authorizeTagChange resolves change i's entity from the snapshot (its ID
// set on c) and decides each scope the change needs on it, as the single
// routes do: stack_tags:update for a stack; for an environment,
// environment_tag:create for a new tag, :update for a changed one and
// :delete for a removed one; insights_account:update for an account.
func (s *Server) authorizeTagChange(q *request, i int, c *service.TagChange) error {
	notFound := gatehouse.Errorf(gatehouse.ENOTFOUND, "changes[%d].entity: %s %q not found", i, c.Type, c.Name)
	e, err := s.az.Entity(q.ctx(), q.org.ID, c.Type, c.Name)
	if err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return notFound
		}
		return err
	}
	c.ID = e.ID
	var needed []string
	switch c.Type {
	case gatehouse.EntityStack:
		needed = []string{"stack_tags:update"}
	case gatehouse.EntityEnvironment:
		needed = environmentTagScopes(e, c)
	default:
		needed = []string{"insights_account:update"}
	}
	q.entity = e
	defer func() { q.entity = nil }()
	for _, name := range needed {
		err := s.require(q, catalog.MustLookup(name))
		switch gatehouse.ErrorCode(err) {
		case "":
		case gatehouse.ENOTFOUND:
			return notFound
		default:
			return prefixed(err, "changes[%d].entity: %s %q: ", i, c.Type, c.Name)
		}
	}
	return nil
}

// authorizeGrant resolves grant i's entity (its ID set on g) and decides
// the access-update scope of its type on it.
func (s *Server) authorizeGrant(q *request, i int, g *service.Grant) error {
	notFound := gatehouse.Errorf(gatehouse.ENOTFOUND, "assignments[%d].entity: %s %q not found", i, g.Entity.Type, g.Name)
	e, err := s.az.Entity(q.ctx(), q.org.ID, g.Entity.Type, g.Name)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return notFound
	} else if err != nil {
		return err
	}
	g.Entity.ID = e.ID
	q.entity = e
	defer func() { q.entity = nil }()
	switch err := s.require(q, accessScope("update")(g.Entity.Type)); gatehouse.ErrorCode(err) {
	case "":
		return nil
	case gatehouse.ENOTFOUND:
		return notFound
	default:
		return prefixed(err, "assignments[%d].entity: %s %q: ", i, g.Entity.Type, g.Name)
	}
}

// environmentTagScopes are the scopes an environment's tag change needs.
func environmentTagScopes(e *gatehouse.Entity, c *service.TagChange) []string {
	var out []string
	add := func(name string) {
		for _, n := range out {
			if n == name {
				return
			}
		}
		out = append(out, name)
	}
	for k, v := range c.Set {
		switch cur, ok := e.Tag(k); {
		case !ok:
			add("environment_tag:create")
		case cur != v:
			add("environment_tag:update")
		}
	}
	for _, k := range c.Remove {
		if _, ok := e.Tag(k); ok {
			add("environment_tag:delete")
		}
	}
	if len(out) == 0 {
		add("environment_tag:update") // a change that changes nothing still asks
	}
	return out
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// prefixed puts a location before a client error's message, keeping its
// code.
func prefixed(err error, format string, args ...any) error {
	return gatehouse.Reword(err, gatehouse.ErrorCode(err), format+"%s", append(args, gatehouse.ErrorMessage(err))...)
}
