package api

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/esc"
	"github.com/pulumi/esc/syntax"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/service"
	"github.com/gatehouse-iam/gatehouse/state"
)

const envPath = "/api/esc/environments/{orgName}/{projectName}/{envName}"

// escPage is the most items a page of an ESC list holds: environments and
// referrers by default (the CLI pages them on the continuation token),
// versions and tags whatever count asks (the CLI asks 500 and pages on
// until an empty page or its end token). Small enough that an
// environment's tags (at most 100) span pages, so the CLI's paging runs.
const escPage = 50

// registerEnvironments registers the routes of environments (Pulumi ESC).
func (s *Server) registerEnvironments() {
	s.handle(&route{method: "GET", pattern: "/api/esc/environments", doc: doc{"ListAllEnvironments", "Environments the caller may read in every organization it belongs to", []string{"continuationToken", "maxResults"}, "", "ListEnvironmentsResponse"}, h: s.listAllEnvironments})
	s.handle(&route{method: "GET", pattern: "/api/esc/environments/{orgName}", doc: doc{"ListEnvironments", "Environments the caller may read", []string{"continuationToken", "maxResults"}, "", "ListEnvironmentsResponse"}, scopes: scopes("environment:list"), h: s.listEnvironments})
	s.handle(&route{method: "POST", pattern: "/api/esc/environments/{orgName}", doc: doc{"CreateEnvironment", "Create an environment; its creator administers it", nil, "CreateEnvironmentRequest", "Environment"}, scopes: scopes("environment:create"), h: s.createEnvironment})
	s.handle(&route{method: "GET", pattern: "/api/esc/environments/{orgName}/tags", doc: doc{"ListOrgEnvironmentTags", "Every environment tag with its values", nil, "", "EnvironmentTagValues"}, scopes: scopes("environment_tags:list"), h: s.orgEnvironmentTags})
	s.handle(&route{method: "POST", pattern: envPath, doc: doc{"CreateEnvironmentInProject", "Create an environment named in the path", nil, "", "Environment"}, scopes: scopes("environment:create"), noBody: true, h: s.createEnvironment})
	s.handle(&route{method: "POST", pattern: "/api/esc/environments/{orgName}/yaml/check", doc: doc{"CheckYAMLEnvironment", "Check a definition given in the body (imports need environment:open)", []string{"showSecrets"}, "EnvironmentDefinition", "Environment"}, scopes: scopes("environment_yaml:open"), maxBytes: state.MaxDefinition, h: s.checkYAML})
	s.handle(&route{method: "POST", pattern: "/api/esc/environments/{orgName}/yaml/open", doc: doc{"OpenYAMLEnvironment", "Open a definition given in the body, as stacks do (imports need environment:open)", []string{"duration"}, "EnvironmentDefinition", "OpenEnvironmentResponse"}, scopes: scopes("environment_yaml:open"), maxBytes: state.MaxDefinition, h: s.openYAML})
	s.handle(&route{method: "GET", pattern: yamlOpenPath + "/{openSessionID}", doc: doc{"ReadOpenYAMLEnvironment", "The values of an anonymous session, served at /api/esc/environments/{orgName}/yaml/open/{openSessionID}", []string{"property"}, "", "OpenEnvironmentValues"}, scopes: scopes("environment_yaml:open"), h: s.readOpenYAML})
	env := func(method, suffix, scope string, d doc, h handler) {
		s.handle(&route{method: method, pattern: envPath + suffix, doc: d, scopes: scopes(scope), entity: envEntity, h: h})
	}
	env("GET", "", "environment:read", doc{"GetEnvironment", "The definition (YAML) and its version as the ETag; showSecrets=true needs environment:open", []string{"showSecrets"}, "", "EnvironmentDefinition"}, s.getDefinition)
	s.handle(&route{method: "PATCH", pattern: envPath, doc: doc{"UpdateEnvironment", "Store a new version of the definition (YAML; If-Match: the version)", nil, "EnvironmentDefinition", "EnvironmentDiagnostics"}, scopes: scopes("environment:write"), entity: envEntity, maxBytes: state.MaxDefinition, h: s.updateDefinition})
	env("GET", "/metadata", "environment:read", doc{"GetEnvironmentMetadata", "The environment's id (its identity as a role's entity) and owner", nil, "", "EnvironmentMetadata"}, s.environmentMetadata)
	env("DELETE", "", "environment:delete", doc{"DeleteEnvironment", "Delete an environment with its versions", nil, "", ""}, s.deleteEnvironment)
	s.handle(&route{method: "POST", pattern: envPath + "/open", doc: doc{"OpenEnvironment", "Open the environment for a while", []string{"duration"}, "", "OpenEnvironmentResponse"}, scopes: scopes("environment:open"), entity: envEntity, noBody: true, h: s.openEnvironment})
	env("GET", "/open/{openSessionID}", "environment:open", doc{"ReadOpenEnvironment", "The opened values, secrets revealed", nil, "", "OpenEnvironmentValues"}, s.readOpenEnvironment)
	env("GET", "/versions", "environment_version:read", doc{"ListEnvironmentRevisions", "The environment's versions, newest first", []string{"continuationToken", "maxResults"}, "", "EnvironmentRevisions"}, s.listEnvironmentVersions)
	env("GET", "/versions/{version}", "environment_version:read", doc{"GetEnvironmentAtVersion", "A version's definition (YAML); the version is a number, latest or a version tag", nil, "", "EnvironmentDefinition"}, s.getDefinition)
	env("GET", "/decrypt", "environment:read", doc{"DecryptEnvironment", "The definition with its secrets revealed (needs environment:open)", nil, "", "EnvironmentDefinition"}, s.decryptDefinition)
	env("GET", "/versions/{version}/{action}", "environment_version:read", doc{"DecryptEnvironmentAtVersion", "action decrypt: a version's definition with its secrets revealed (needs environment:open)", nil, "", "EnvironmentDefinition"}, s.versionGetAction)
	s.handle(&route{method: "POST", pattern: envPath + "/versions/{version}/{action}", doc: doc{"OpenEnvironmentAtVersion", "action open: open a version (needs environment:open)", []string{"duration"}, "", "OpenEnvironmentResponse"}, scopes: scopes("environment:read"), entity: envEntity, noBody: true, h: s.versionPostAction})
	env("GET", "/versions/tags", "environment_version:read", doc{"ListEnvironmentRevisionTags", "The version tags (latest), in name order after after", []string{"after", "count"}, "", "ListEnvironmentRevisionTagsResponse"}, s.listRevisionTags)
	env("GET", "/versions/tags/{tagName}", "environment_version:read", doc{"GetEnvironmentRevisionTag", "A version tag", nil, "", "EnvironmentRevisionTag"}, s.getRevisionTag)
	env("GET", "/settings", "environment_settings:read", doc{"GetEnvironmentSettings", "The environment's settings (deletion protection)", nil, "", "EnvironmentSettings"}, s.getEnvironmentSettings)
	env("PATCH", "/settings", "environment_settings:update", doc{"PatchEnvironmentSettings", "Change the settings given (deletionProtected: while on, the environment cannot be deleted)", nil, "PatchEnvironmentSettingsRequest", "EnvironmentSettings"}, s.patchEnvironmentSettings)
	env("GET", "/referrers", "environment:read", doc{"ListEnvironmentReferrers", "The environments whose current definitions import this one and the stacks whose last update did, by the version they import (allRevisions=true: every version, else the current one)", []string{"allRevisions", "count", "continuationToken"}, "", "ListEnvironmentReferrersResponse"}, s.listReferrers)
	env("POST", "/versions/tags", "environment_version:create", doc{"CreateEnvironmentRevisionTag", "Tag a version (revision; absent: the latest); 409 if the tag exists", nil, "CreateEnvironmentRevisionTagRequest", ""}, s.createRevisionTag)
	env("PATCH", "/versions/tags/{tagName}", "environment_version:update", doc{"UpdateEnvironmentRevisionTag", "Move a version tag to a version (absent: the latest)", nil, "UpdateEnvironmentRevisionTagRequest", ""}, s.updateRevisionTag)
	env("DELETE", "/versions/tags/{tagName}", "environment_version:delete", doc{"DeleteEnvironmentRevisionTag", "Delete a version tag (not latest)", nil, "", ""}, s.deleteRevisionTag)
	env("POST", "/versions/{version}/retract", "environment_version:retract", doc{"RetractEnvironmentRevision", "Retract a version (not the latest): opening it opens its replacement, its tags move there", nil, "RetractEnvironmentRevisionRequest", ""}, s.retractRevision)
	env("POST", "/clone", "environment:open", doc{"CloneEnvironment", "Clone the environment (its secrets too) into a new one (needs environment:create)", nil, "CloneEnvironmentRequest", ""}, s.cloneEnvironment)
	env("GET", "/tags", "environment_tag:read", doc{"ListEnvironmentTags", "The environment's tags", nil, "", "ListEnvironmentTagsResponse"}, s.listEnvironmentTags)
	env("POST", "/tags", "environment_tag:create", doc{"CreateEnvironmentTag", "Add a tag (409 if it exists)", nil, "EnvironmentTag", "EnvironmentTag"}, s.createEnvironmentTag)
	env("GET", "/tags/{tagName}", "environment_tag:read", doc{"GetEnvironmentTag", "A tag", nil, "", "EnvironmentTag"}, s.getEnvironmentTag)
	env("PATCH", "/tags/{tagName}", "environment_tag:update", doc{"UpdateEnvironmentTag", "Change a tag if it still has the value given", nil, "UpdateEnvironmentTagRequest", "EnvironmentTag"}, s.updateEnvironmentTag)
	env("DELETE", "/tags/{tagName}", "environment_tag:delete", doc{"DeleteEnvironmentTag", "Remove a tag", nil, "", ""}, s.deleteEnvironmentTag)

}

// envEntity resolves the environment in the path from the snapshot and
// loads its record.
func envEntity(q *request) (*gatehouse.Entity, error) {
	project, name := q.r.PathValue("projectName"), q.r.PathValue("envName")
	notFound := gatehouse.Errorf(gatehouse.ENOTFOUND, "environment '%s/%s' not found", project, name)
	e, err := q.srv.az.Entity(q.ctx(), q.org.ID, gatehouse.EntityEnvironment, project+"/"+name)
	if err != nil {
		return nil, notFound
	}
	if q.env, err = q.srv.svc.Environment(q.ctx(), q.org.ID, project, name); err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return nil, notFound
		}
		return nil, err
	}
	return e, nil
}

func (s *Server) may(q *request, scope string, e *gatehouse.Entity) bool {
	ok, _ := s.az.Decide(q.ctx(), q.id, q.org.ID, catalog.MustLookup(scope), e)
	return ok
}

// readableEnv is the filter of environment lists: those the caller may
// read.
func (s *Server) readableEnv(q *request) func(*gatehouse.Environment) bool {
	return func(e *gatehouse.Environment) bool {
		ent, err := s.az.EntityByID(q.ctx(), q.org.ID, e.ID)
		return err == nil && s.may(q, "environment:read", ent)
	}
}

func (s *Server) listEnvironments(q *request) (any, error) {
	opts, err := q.listOptions()
	if err != nil {
		return nil, err
	}
	opts.Continuation = q.r.URL.Query().Get("continuationToken")
	if opts.Limit == 0 {
		opts.Limit = escPage
	}
	envs, next, err := s.svc.Environments(q.ctx(), q.org.ID, s.readableEnv(q), opts)
	if err != nil {
		return nil, err
	}
	out := wire.ListEnvironmentsResponse{Environments: []wire.Environment{}, NextToken: q.next(next)}
	for _, e := range envs {
		out.Environments = append(out.Environments, wire.Environment{Organization: q.org.Name, Project: e.Project, Name: e.Name,
			Created: rfc3339(e.Created), Modified: rfc3339(e.Modified), Tags: e.Tags})
	}
	return out, nil
}

// listAllEnvironments lists the environments the caller may read in each
// of its organizations where it holds environment:list, organization by
// organization, paged by position (maxResults, escPage by default).
func (s *Server) listAllEnvironments(q *request) (any, error) {
	opts, err := q.listOptions()
	if err != nil {
		return nil, err
	}
	if opts.Limit == 0 {
		opts.Limit = escPage
	}
	from, err := offsetParam(q)
	if err != nil {
		return nil, err
	}
	orgs := []*gatehouse.Organization{}
	if q.id.User != nil {
		if orgs, err = s.userOrgs(q); err != nil {
			return nil, err
		}
	} else if org, err := s.orgByID(q, q.id.Token.OrgID); err == nil {
		orgs = append(orgs, org)
	}
	all := []wire.Environment{}
	for _, org := range orgs {
		q.org = org
		if !s.may(q, "environment:list", &gatehouse.Entity{Type: gatehouse.EntityGlobal, ID: org.ID}) {
			continue
		}
		if all, err = s.appendEnvironments(q, all); err != nil {
			return nil, err
		}
	}
	out := wire.ListEnvironmentsResponse{Environments: all[min(from, len(all)):min(from+opts.Limit, len(all))]}
	if from+opts.Limit < len(all) {
		out.NextToken = q.next(strconv.Itoa(from + opts.Limit))
	}
	return out, nil
}

// appendEnvironments appends the environments of q.org the caller may
// read.
func (s *Server) appendEnvironments(q *request, out []wire.Environment) ([]wire.Environment, error) {
	opts := gatehouse.ListOptions{Limit: gatehouse.MaxListLimit}
	for {
		envs, next, err := s.svc.Environments(q.ctx(), q.org.ID, s.readableEnv(q), opts)
		if err != nil {
			return nil, err
		}
		for _, e := range envs {
			out = append(out, wire.Environment{Organization: q.org.Name, Project: e.Project, Name: e.Name,
				Created: rfc3339(e.Created), Modified: rfc3339(e.Modified), Tags: e.Tags})
		}
		if next == "" {
			return out, nil
		}
		opts.Continuation = next
	}
}

func (s *Server) createEnvironment(q *request) (any, error) {
	in := wire.CreateEnvironmentRequest{Project: q.r.PathValue("projectName"), Name: q.r.PathValue("envName")}
	// The path names the environment, or the body does (serve refuses a
	// body on the path's form, which is declared noBody).
	if in.Name == "" {
		if err := q.decode(&in); err != nil {
			return nil, err
		}
	}
	e, err := s.svc.CreateEnvironment(q.ctx(), q.org.ID, q.id, in.Project, in.Name)
	if err != nil {
		return nil, err
	}
	return wire.Environment{Organization: q.org.Name, Project: e.Project, Name: e.Name, Created: rfc3339(e.Created), Modified: rfc3339(e.Modified)}, nil
}

// getDefinition serves a version's YAML (the current one by default) with
// its version as the ETag. showSecrets=true reveals the secrets to a caller
// who may open the environment.
func (s *Server) getDefinition(q *request) (any, error) {
	reveal, err := q.boolParam("showSecrets")
	if err != nil {
		return nil, err
	}
	return s.definition(q, reveal)
}

func (s *Server) decryptDefinition(q *request) (any, error) { return s.definition(q, true) }

// definition answers the definition at the path's version with the
// headers the esc CLI reads: the ETag and the revision number.
func (s *Server) definition(q *request, reveal bool) (any, error) {
	version := 0
	if ref := q.r.PathValue("version"); ref != "" {
		var err error
		if version, err = s.svc.ResolveVersion(q.ctx(), q.env, ref); err != nil {
			return nil, err
		}
	}
	if reveal {
		if err := s.require(q, catalog.MustLookup("environment:open")); err != nil {
			return nil, err
		}
	}
	def, v, err := s.svc.Definition(q.ctx(), q.env, version, reveal)
	if err != nil {
		return nil, err
	}
	setRevision(q, v)
	return rawBody{contentType: "application/x-yaml", data: def}, nil
}

func (s *Server) updateDefinition(q *request) (any, error) {
	def, err := q.readBody()
	if err != nil {
		return nil, err
	}
	expect := -1
	// The esc CLI sends back the ETag it read as an ETag header.
	m := q.r.Header.Get("If-Match")
	if m == "" {
		m = q.r.Header.Get("ETag")
	}
	if m = strings.Trim(m, `" `); m != "" && m != "*" {
		if expect, err = strconv.Atoi(m); err != nil || expect < 1 {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "If-Match: %q is not an ETag this server gave", m)
		}
	}
	v, err := s.svc.UpdateDefinition(q.ctx(), q.env, def, expect, q.id)
	if de := (*service.DiagnosticsError)(nil); errors.As(err, &de) {
		return diagnosticsError(de.Diagnostics), nil
	}
	if err != nil {
		return nil, err
	}
	setRevision(q, v)
	return map[string]any{}, nil
}

// cloneEnvironment copies the environment into a new one in the same
// organization, keeping what the request asks. Access to environments
// comes from roles: preserveAccess makes those naming the source by
// identity name the clone too, which is a change of roles, so it needs
// role:update as well.
func (s *Server) cloneEnvironment(q *request) (any, error) {
	var in wire.CloneEnvironmentRequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	if in.Project == "" {
		in.Project = q.env.Project
	}
	q.entity = &gatehouse.Entity{Type: gatehouse.EntityGlobal, ID: q.org.ID}
	if err := s.require(q, catalog.MustLookup("environment:create")); err != nil {
		return nil, err
	}
	if in.PreserveAccess {
		if err := s.require(q, catalog.MustLookup("role:update")); err != nil {
			return nil, err
		}
	}
	_, err := s.svc.CloneEnvironment(q.ctx(), q.env, q.id, in.Project, in.Name, service.CloneOptions{Version: in.Version,
		History: in.PreserveHistory, EnvironmentTags: in.PreserveEnvironmentTags, RevisionTags: in.PreserveRevisionTags, Access: in.PreserveAccess})
	return nil, err
}

// environmentMetadata answers the environment's id and its owner (the
// user who created it; empty when a token did).
func (s *Server) environmentMetadata(q *request) (any, error) {
	u, err := s.svc.EnvironmentOwner(q.ctx(), q.env)
	if err != nil {
		return nil, err
	}
	out := wire.EnvironmentMetadata{ID: q.env.ID}
	if u != nil {
		out.OwnedBy = wire.UserInfo{Name: u.Name, GitHubLogin: u.Login, AvatarURL: u.AvatarURL}
	}
	return out, nil
}

func (s *Server) deleteEnvironment(q *request) (any, error) {
	return nil, s.svc.DeleteEnvironment(q.ctx(), q.env)
}

// setRevision names a definition's version in the headers: the ETag (what
// an update sends back) and Pulumi-ESC-Revision (what the CLI parses).
func setRevision(q *request, v int) {
	q.w.Header().Set("ETag", strconv.Itoa(v))
	q.w.Header().Set("Pulumi-ESC-Revision", strconv.Itoa(v))
}

func (s *Server) versionGetAction(q *request) (any, error) {
	if a := q.r.PathValue("action"); a != "decrypt" {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "no such route: versions/%s/%s", q.r.PathValue("version"), a)
	}
	return s.definition(q, true)
}

func (s *Server) versionPostAction(q *request) (any, error) {
	if a := q.r.PathValue("action"); a != "open" {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "no such route: versions/%s/%s", q.r.PathValue("version"), a)
	}
	version, err := s.svc.ResolveVersion(q.ctx(), q.env, q.r.PathValue("version"))
	if err != nil {
		return nil, err
	}
	if err := s.require(q, catalog.MustLookup("environment:open")); err != nil {
		return nil, err
	}
	return s.open(q, version)
}

func (s *Server) openEnvironment(q *request) (any, error) { return s.open(q, 0) }

func (s *Server) open(q *request, version int) (any, error) {
	d, err := durationParam(q)
	if err != nil {
		return nil, err
	}
	// The caller holds environment:open here (the route checked it); how
	// long it may keep the environment open is the largest maxOpenDuration
	// of the grants that give it that.
	limit, ok, err := s.az.OpenLimit(q.ctx(), q.id, q.org.ID, catalog.MustLookup("environment:open"), q.entity)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, gatehouse.Errorf(gatehouse.EFORBIDDEN, "opening environment %s/%s requires the environment:open scope", q.env.Project, q.env.Name)
	}
	id, diags, err := s.svc.OpenEnvironment(s.evalCtx(q), q.env, version, d, limit, s.importAuthorizer(q))
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return diagnosticsError(diags), nil
	}
	return wire.OpenEnvironmentResponse{ID: id, Diagnostics: []any{}}, nil
}

// readOpenEnvironment answers an open session's values in ESC's shape
// (esc.Environment), or one property's (esc.Value) when property names it.
// yamlOpenPath is where GET /api/esc/environments/{orgName}/yaml/open/{id}
// is routed: that pattern would overlap the environment routes'
// (/{projectName}/{envName}/tags...) with neither more specific, which
// ServeMux refuses, so Handler rewrites it here (yamlOpenRewrite).
const yamlOpenPath = "/api/esc/yaml-open/{orgName}"

// yamlOpenRewrite routes the read of an anonymous session to yamlOpenPath.
func yamlOpenRewrite(r *http.Request) *http.Request {
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/esc/environments/")
	parts := strings.Split(rest, "/")
	if !ok || r.Method != http.MethodGet || len(parts) != 4 || parts[1] != "yaml" || parts[2] != "open" {
		return r
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = "/api/esc/yaml-open/"+parts[0]+"/"+parts[3], ""
	return r2
}

func (s *Server) checkYAML(q *request) (any, error) {
	def, err := q.readBody()
	if err != nil {
		return nil, err
	}
	show, err := q.boolParam("showSecrets")
	if err != nil {
		return nil, err
	}
	ev, err := s.svc.Evaluate(s.evalCtx(q), q.org.ID, "yaml", def, nil, s.importAuthorizer(q), true, show)
	if err != nil {
		return nil, err
	}
	if ev.Diagnostics.HasErrors() {
		return diagnosticsError(ev.Diagnostics), nil
	}
	return ev.Env, nil
}

func (s *Server) openYAML(q *request) (any, error) {
	def, err := q.readBody()
	if err != nil {
		return nil, err
	}
	d, err := durationParam(q)
	if err != nil {
		return nil, err
	}
	id, diags, err := s.svc.OpenYAML(s.evalCtx(q), q.org.ID, q.id, def, d, s.importAuthorizer(q))
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return diagnosticsError(diags), nil
	}
	return wire.OpenEnvironmentResponse{ID: id, Diagnostics: []any{}}, nil
}

func (s *Server) readOpenYAML(q *request) (any, error) {
	env, err := s.svc.OpenedYAML(q.ctx(), q.org.ID, q.id, q.r.PathValue("openSessionID"))
	if err != nil {
		return nil, err
	}
	if p := q.r.URL.Query().Get("property"); p != "" {
		return openedProperty(env, p)
	}
	return env, nil
}

// durationParam reads the duration of an open (0: the default).
func durationParam(q *request) (time.Duration, error) {
	v := q.r.URL.Query().Get("duration")
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, gatehouse.Errorf(gatehouse.EINVALID, "duration: %q is not a positive duration such as 2h", v)
	}
	return d, nil
}

func (s *Server) readOpenEnvironment(q *request) (any, error) {
	env, err := s.svc.OpenedValues(s.evalCtx(q), q.env, q.r.PathValue("openSessionID"), s.importAuthorizer(q))
	if err != nil {
		return nil, err
	}
	if p := q.r.URL.Query().Get("property"); p != "" {
		return openedProperty(env, p)
	}
	return env, nil
}

// openedProperty is one property of an opened environment, by a path of
// dotted names and [index]es.
func openedProperty(env *esc.Environment, path string) (any, error) {
	v := esc.NewValue(env.Properties)
	for _, part := range strings.FieldsFunc(path, func(r rune) bool { return r == '.' || r == '[' || r == ']' }) {
		switch x := v.Value.(type) {
		case map[string]esc.Value:
			next, ok := x[part]
			if !ok {
				return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "property %q not found", path)
			}
			v = next
		case []esc.Value:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "property %q not found", path)
			}
			v = x[i]
		default:
			return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "property %q not found", path)
		}
	}
	return v, nil
}

// importAuthorizer decides each environment an evaluation imports for the
// caller: environment:open on it, with its maxOpenDuration.
func (s *Server) importAuthorizer(q *request) service.ImportAuthorizer {
	return func(ctx context.Context, e *gatehouse.Environment) (time.Duration, error) {
		refused := gatehouse.Errorf(gatehouse.EFORBIDDEN, "opening environment %s/%s requires the environment:open scope", e.Project, e.Name)
		ent, err := s.az.EntityByID(ctx, q.org.ID, e.ID)
		if err != nil {
			return 0, refused
		}
		limit, ok, err := s.az.OpenLimit(ctx, q.id, q.org.ID, catalog.MustLookup("environment:open"), ent)
		if err != nil {
			return 0, err
		}
		if !ok {
			return 0, refused
		}
		return limit, nil
	}
}

// evalCtx is the request's context for an evaluation: stack outputs
// (fn::open::pulumi-stacks) are read only where the caller holds
// stack:read.
func (s *Server) evalCtx(q *request) context.Context {
	return service.WithStackAuthorizer(q.ctx(), func(ctx context.Context, st *gatehouse.Stack) error {
		ent, err := s.az.EntityByID(ctx, q.org.ID, st.ID)
		if err != nil || !s.may(q, "stack:read", ent) {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "reading the outputs of stack %s/%s requires the stack:read scope", st.Project, st.Name)
		}
		return nil
	})
}

// diagnosticsError is the 400 of a definition with errors, as Pulumi
// answers it: the diagnostics with their ranges and paths.
func diagnosticsError(diags syntax.Diagnostics) statusBody {
	return statusBody{status: http.StatusBadRequest, body: wire.EnvironmentErrorResponse{Code: http.StatusBadRequest,
		Message: "the environment has errors: " + diagnosticsText(diags), Diagnostics: wireDiagnostics(diags)}}
}

// diagnosticsText is the diagnostics as one line: path: summary; ...
func diagnosticsText(diags syntax.Diagnostics) string {
	parts := make([]string, 0, len(diags))
	for _, d := range diags {
		if d.Path != "" {
			parts = append(parts, d.Path+": "+d.Summary)
		} else {
			parts = append(parts, d.Summary)
		}
	}
	return strings.Join(parts, "; ")
}

func wireDiagnostics(diags syntax.Diagnostics) []wire.EnvironmentDiagnostic {
	out := make([]wire.EnvironmentDiagnostic, 0, len(diags))
	for _, d := range diags {
		w := wire.EnvironmentDiagnostic{Summary: d.Summary, Detail: d.Detail, Path: d.Path}
		if r := d.Subject; r != nil {
			w.Range = &wire.EnvironmentRange{Environment: r.Filename,
				Begin: wire.EnvironmentPos{Line: r.Start.Line, Column: r.Start.Column, Byte: r.Start.Byte},
				End:   wire.EnvironmentPos{Line: r.End.Line, Column: r.End.Column, Byte: r.End.Byte}}
		}
		out = append(out, w)
	}
	return out
}

// listEnvironmentVersions answers the esc CLI's paging: at most count
// (or maxResults, at most escPage) versions below before, newest first;
// the CLI stops at an empty page.
func (s *Server) listEnvironmentVersions(q *request) (any, error) {
	opts, err := q.listOptions()
	if err != nil {
		return nil, err
	}
	before, err := intParam(q, "before", 0, 0)
	if err != nil {
		return nil, err
	}
	count, err := intParam(q, "count", 1, gatehouse.MaxListLimit)
	if err != nil {
		return nil, err
	}
	if count == 0 {
		count = opts.Limit
	}
	if count == 0 || count > escPage {
		count = escPage
	}
	vs, err := s.svc.EnvironmentVersionsBefore(q.ctx(), q.env, before, count)
	if err != nil {
		return nil, err
	}
	tags, err := s.svc.RevisionTags(q.ctx(), q.env)
	if err != nil {
		return nil, err
	}
	return s.wireRevisions(q, vs, tags), nil
}

// wireRevisions are versions as the esc CLI reads them: each with the
// names of its tags (in name order) and its retraction.
func (s *Server) wireRevisions(q *request, vs []*gatehouse.EnvironmentVersion, tags []*gatehouse.EnvironmentRevisionTag) []wire.EnvironmentRevision {
	var people []string
	for _, v := range vs {
		people = append(people, v.CreatedBy)
		if v.Retracted != nil {
			people = append(people, v.Retracted.By)
		}
	}
	loginOf := s.loginsOf(q, people...)
	out := []wire.EnvironmentRevision{}
	for _, v := range vs {
		r := wire.EnvironmentRevision{Number: v.Version, Created: rfc3339(v.Created), CreatorLogin: loginOf(v.CreatedBy), Tags: []string{}}
		for _, t := range tags {
			if t.Version == v.Version {
				r.Tags = append(r.Tags, t.Name)
			}
		}
		if x := v.Retracted; x != nil {
			r.Retracted = &wire.EnvironmentRevisionRetracted{Replacement: x.Replacement, At: rfc3339(x.At), ByLogin: loginOf(x.By), Reason: x.Reason}
		}
		out = append(out, r)
	}
	return out
}

// intParam reads an optional integer query parameter (0 when absent) of at
// least lo and, when hi > 0, at most hi.
func intParam(q *request, name string, lo, hi int) (int, error) {
	v := q.r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || (hi > 0 && n > hi) {
		if hi > 0 {
			return 0, gatehouse.Errorf(gatehouse.EINVALID, "%s: %q is not a number from %d to %d", name, v, lo, hi)
		}
		return 0, gatehouse.Errorf(gatehouse.EINVALID, "%s: %q is not a number of at least %d", name, v, lo)
	}
	return n, nil
}

// nameParams are the esc CLI's paging of lists in name order: count (at
// most escPage, which is also the default) names after after.
func nameParams(q *request) (int, string, error) {
	count, err := intParam(q, "count", 1, gatehouse.MaxListLimit)
	if count == 0 || count > escPage {
		count = escPage
	}
	return count, q.r.URL.Query().Get("after"), err
}

// revisionTags are an environment's version tags, latest among them.
func (s *Server) revisionTags(q *request) ([]wire.EnvironmentRevisionTag, error) {
	tags, err := s.svc.RevisionTags(q.ctx(), q.env)
	if err != nil {
		return nil, err
	}
	var editors []string
	for _, t := range tags {
		editors = append(editors, t.EditedBy)
	}
	loginOf := s.loginsOf(q, editors...)
	out := make([]wire.EnvironmentRevisionTag, 0, len(tags))
	for _, t := range tags {
		out = append(out, wire.EnvironmentRevisionTag{Name: t.Name, Revision: t.Version, Created: rfc3339(t.Created), Modified: rfc3339(t.Modified), EditorLogin: loginOf(t.EditedBy)})
	}
	return out, nil
}

// listRevisionTags answers the esc CLI's paging: the tags named after
// after, in name order; the CLI stops at an empty page.
func (s *Server) listRevisionTags(q *request) (any, error) {
	count, after, err := nameParams(q)
	if err != nil {
		return nil, err
	}
	tags, err := s.revisionTags(q)
	if err != nil {
		return nil, err
	}
	out := wire.ListEnvironmentRevisionTagsResponse{Tags: []wire.EnvironmentRevisionTag{}}
	for _, t := range tags {
		if t.Name > after && len(out.Tags) < count {
			out.Tags = append(out.Tags, t)
		}
	}
	return out, nil
}

func (s *Server) getRevisionTag(q *request) (any, error) {
	t, err := s.svc.RevisionTag(q.ctx(), q.env, q.r.PathValue("tagName"))
	if err != nil {
		return nil, err
	}
	return wire.EnvironmentRevisionTag{Name: t.Name, Revision: t.Version, Created: rfc3339(t.Created), Modified: rfc3339(t.Modified), EditorLogin: s.loginsOf(q, t.EditedBy)(t.EditedBy)}, nil
}

// loginsOf names users by id for display, in one read: an id that is no
// user's (or when the read fails) shows as is.
func (s *Server) loginsOf(q *request, ids ...string) func(id string) string {
	logins, _ := s.svc.UserLogins(q.ctx(), ids)
	return func(id string) string {
		if l, ok := logins[id]; ok {
			return l
		}
		return id
	}
}

func (s *Server) envTag(q *request, name string) (wire.EnvironmentTag, error) {
	v, ok := q.env.Tags[name]
	if !ok {
		return wire.EnvironmentTag{}, gatehouse.Errorf(gatehouse.ENOTFOUND, "tag %q not found", name)
	}
	return wire.EnvironmentTag{Name: name, Value: v, Modified: rfc3339(q.env.Modified)}, nil
}

// listEnvironmentTags pages as the esc CLI does: the tags named after
// after, at most count, in name order; nextToken is the last name given,
// or "0" (the CLI's end) when none are left.
func (s *Server) listEnvironmentTags(q *request) (any, error) {
	count, after, err := nameParams(q)
	if err != nil {
		return nil, err
	}
	if after == "0" {
		after = ""
	}
	names := make([]string, 0, len(q.env.Tags))
	for k := range q.env.Tags {
		if k > after {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	out := wire.ListEnvironmentTagsResponse{Tags: map[string]wire.EnvironmentTag{}, NextToken: "0"}
	for i, k := range names {
		if i == count {
			out.NextToken = names[i-1]
			break
		}
		out.Tags[k] = wire.EnvironmentTag{Name: k, Value: q.env.Tags[k], Modified: rfc3339(q.env.Modified)}
	}
	return out, nil
}

func (s *Server) getEnvironmentTag(q *request) (any, error) {
	return s.envTag(q, q.r.PathValue("tagName"))
}

func (s *Server) createEnvironmentTag(q *request) (any, error) {
	var in wire.StackTag
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	if err := s.svc.ChangeEnvironmentTags(q.ctx(), q.env, service.TagUpdate{Add: &[2]string{in.Name, in.Value}}); err != nil {
		return nil, err
	}
	return s.changedTag(q, in.Name)
}

// changedTag answers a tag as it is after a change (with its time).
func (s *Server) changedTag(q *request, name string) (any, error) {
	e, err := s.svc.Environment(q.ctx(), q.org.ID, q.env.Project, q.env.Name)
	if err != nil {
		return nil, err
	}
	q.env = e
	return s.envTag(q, name)
}

func (s *Server) updateEnvironmentTag(q *request) (any, error) {
	var in wire.UpdateEnvironmentTagRequest
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	if in.CurrentTag == nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "currentTag: missing or null; want {\"value\": ...}")
	}
	if in.NewTag == nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "newTag: missing or null; want {\"name\": ..., \"value\": ...}")
	}
	name := q.r.PathValue("tagName")
	cur, err := s.envTag(q, name)
	if err != nil {
		return nil, err
	}
	if cur.Value != in.CurrentTag.Value {
		return nil, gatehouse.Errorf(gatehouse.ECONFLICT, "currentTag: the tag %q is %q now, not %q", name, cur.Value, in.CurrentTag.Value)
	}
	newName := in.NewTag.Name
	if newName == "" {
		newName = name
	}
	tags := map[string]string{}
	for k, v := range q.env.Tags {
		tags[k] = v
	}
	delete(tags, name)
	tags[newName] = in.NewTag.Value
	if err := s.svc.ChangeEnvironmentTags(q.ctx(), q.env, service.TagUpdate{Replace: tags}); err != nil {
		return nil, err
	}
	return s.changedTag(q, newName)
}

func (s *Server) deleteEnvironmentTag(q *request) (any, error) {
	return nil, s.svc.ChangeEnvironmentTags(q.ctx(), q.env, service.TagUpdate{Delete: q.r.PathValue("tagName")})
}

// orgEnvironmentTags lists every tag name with its values across the
// environments the caller may read.
func (s *Server) orgEnvironmentTags(q *request) (any, error) {
	out := map[string][]string{}
	seen := map[string]bool{}
	opts := gatehouse.ListOptions{Limit: gatehouse.MaxListLimit}
	for {
		envs, next, err := s.svc.Environments(q.ctx(), q.org.ID, s.readableEnv(q), opts)
		if err != nil {
			return nil, err
		}
		for _, e := range envs {
			for k, v := range e.Tags {
				if !seen[k+"\x00"+v] {
					seen[k+"\x00"+v] = true
					out[k] = append(out[k], v)
				}
			}
		}
		if next == "" {
			return out, nil
		}
		opts.Continuation = next
	}
}
