package api

import (
	"encoding/json"
	"strconv"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/service"
)

// Body limits of the stack routes (decompressed, see body.go). A
// checkpoint or an import carries a whole deployment and is bounded by
// the service's checkpoint limit (configurable, 64 MiB by default).
const (
	maxEventsBody  = 64 << 20
	maxSecretsBody = 32 << 20
)

// deltaCutoff is the checkpoint size from which the CLI sends deltas.
const deltaCutoff = 512 << 10

const stackPath = "/api/stacks/{orgName}/{projectName}/{stackName}"

func (s *Server) registerStacks() {
	s.handle(&route{method: "GET", pattern: "/api/user/stacks", doc: doc{"ListUserStacks", "Stacks the caller may read, in one organization", []string{"organization", "project", "tagName", "tagValue", "continuationToken"}, "", "ListStacksResponse"}, h: s.listUserStacks})
	s.handle(&route{method: "GET", pattern: "/api/stacks/{orgName}", doc: doc{"ListOrganizationStacks", "An organization's stacks the caller may read", []string{"project", "tagName", "tagValue", "continuationToken"}, "", "ListStacksResponse"}, scopes: scopes("stack:list"), h: s.listOrgStacks})
	s.handle(&route{method: "POST", pattern: "/api/stacks/{orgName}/{projectName}", doc: doc{"CreateStack", "Create a stack; the creator holds Stack Admin on it", nil, "CreateStackRequest", "CreateStackResponse"}, scopes: scopes("stack:create"), maxBytes: maxCreateStackBody, h: s.createStack})
	s.handle(&route{method: "HEAD", pattern: "/api/stacks/{orgName}/{projectName}", doc: doc{"ProjectExists", "Whether the caller can read a stack of the project", nil, "", ""}, scopes: scopes("stack:list"), h: s.projectExists})

	st := func(method, suffix, scope string, d doc, h handler, opts ...func(*route)) {
		rt := &route{method: method, pattern: stackPath + suffix, doc: d, scopes: scopes(scope), entity: stackEntity, h: h}
		for _, o := range opts {
			o(rt)
		}
		s.handle(rt)
	}
	limit := func(n int64) func(*route) { return func(rt *route) { rt.maxBytes = n } }
	maxDeploymentBody := int64(s.svc.CheckpointLimit()) + 1<<20 // the deployment and the request around it
	st("GET", "", "stack:read", doc{"GetStack", "Get a stack", nil, "", "Stack"}, s.getStack)
	st("DELETE", "", "stack:delete", doc{"DeleteStack", "Delete a stack with its history (force: even with resources)", []string{"force"}, "", ""}, s.deleteStack)
	st("POST", "/rename", "stack:rename", doc{"RenameStack", "Rename a stack or move it to another project", nil, "StackRenameRequest", ""}, s.renameStack)
	st("POST", "/tags", "stack_tags:update", doc{"CreateStackTag", "Add a tag", nil, "StackTag", ""}, s.addStackTag)
	st("PATCH", "/tags", "stack_tags:update", doc{"UpdateStackTags", "Replace every tag", nil, "StackTags", ""}, s.replaceStackTags)
	st("PATCH", "/tags/{tagName}", "stack_tags:update", doc{"UpdateStackTag", "Change or rename a tag", nil, "StackTag", ""}, s.setStackTag)
	st("DELETE", "/tags/{tagName}", "stack_tags:update", doc{"DeleteStackTag", "Remove a tag", nil, "", ""}, s.deleteStackTag)
	st("GET", "/export", "stack:export", doc{"ExportStack", "The stack's current deployment", nil, "", "UntypedDeployment"}, s.exportStack)
	st("GET", "/export/{version}", "stack:export", doc{"ExportStackVersion", "A version of the stack's deployment", nil, "", "UntypedDeployment"}, s.exportStack)
	st("POST", "/import", "stack:import", doc{"ImportStack", "Import a deployment as the stack's next version", nil, "UntypedDeployment", "ImportStackResponse"}, s.importStack, limit(maxDeploymentBody))
	st("POST", "/encrypt", "stack:encrypt", doc{"EncryptValue", "Encrypt a secret under the stack's key", nil, "EncryptValueRequest", "EncryptValueResponse"}, s.encryptValue)
	st("POST", "/batch-encrypt", "stack:encrypt", doc{"BatchEncrypt", "Encrypt secrets under the stack's key", nil, "BatchEncryptRequest", "BatchEncryptResponse"}, s.batchEncrypt, limit(maxSecretsBody))
	st("POST", "/decrypt", "stack:decrypt", doc{"DecryptValue", "Decrypt a secret of the stack", nil, "DecryptValueRequest", "DecryptValueResponse"}, s.decryptValue)
	st("POST", "/batch-decrypt", "stack:decrypt", doc{"BatchDecrypt", "Decrypt secrets of the stack", nil, "BatchDecryptRequest", "BatchDecryptResponse"}, s.batchDecrypt, limit(maxSecretsBody))
	st("POST", "/decrypt/log-decryption", "stack:read", doc{"LogDecryption", "Record a decryption the CLI did itself", nil, "Log3rdPartyDecryptionEvent", ""}, s.logDecryption)
	st("POST", "/decrypt/log-batch-decryption", "stack:read", doc{"LogBatchDecryption", "Record a bulk decryption the CLI did itself", nil, "Log3rdPartyDecryptionEvent", ""}, s.logDecryption)
	st("GET", "/outputs", "stack:read", doc{"GetStackOutputNames", "The names of the outputs of the stack's current deployment, no values (Gatehouse extension)", nil, "", "StackOutputNames"}, s.stackOutputNames)
	st("GET", "/updates", "stack:read", doc{"GetStackUpdates", "The stack's update history, newest first", []string{"pageSize", "page"}, "", "GetHistoryResponse"}, s.stackHistory)
	st("GET", "/updates/latest", "stack:read", doc{"GetLatestStackUpdate", "The stack's latest update", nil, "", "UpdateInfo"}, s.latestUpdate)
	st("GET", "/updates/latest/previews", "stack:read", doc{"GetLatestStackPreviews", "The stack's latest preview", nil, "", "GetLatestStackPreviewsResponse"}, s.latestPreviews)
	st("GET", "/updates/{version}", "stack:read", doc{"GetStackUpdate", "The update that made a version", nil, "", "UpdateInfo"}, s.versionUpdate)
	for kind, scope := range updateKinds {
		st("POST", "/"+kind, scope, createUpdateDocs[kind], s.createUpdate(kind), limit(4<<20))
	}
	// The CLI names every update "update" in the paths that follow its
	// creation, whatever its kind; the handler checks the kind's scope.
	st("POST", "/{updateKind}/{updateID}", "stack:read", doc{"StartUpdate", "Start an update of any kind: take the stack's lease", nil, "StartUpdateRequest", "StartUpdateResponse"}, s.startUpdate)
	st("GET", "/{updateKind}/{updateID}", "stack:read", doc{"GetUpdateStatus", "An update's status", []string{"continuationToken"}, "", "UpdateResults"}, s.updateStatus)
	st("GET", "/{updateKind}/{updateID}/events", "stack:read", doc{"GetUpdateEngineEvents", "An update's engine events", []string{"continuationToken"}, "", "GetUpdateEventsResponse"}, s.updateEngineEvents)
	st("POST", "/{updateKind}/{updateID}/cancel", "stack:cancel_update", doc{"CancelUpdate", "Cancel an update and free the stack", nil, "", ""}, s.cancelUpdate, func(rt *route) { rt.noBody = true })

	// The update's own requests, authenticated by its lease.
	lease := func(method, suffix string, d doc, h handler, max int64) {
		s.handle(&route{method: method, pattern: stackPath + "/{updateKind}/{updateID}" + suffix, doc: d, lease: true, maxBytes: max, h: h})
	}
	lease("PATCH", "/checkpoint", doc{"PatchCheckpoint", "Store the update's checkpoint (update token)", nil, "PatchUpdateCheckpointRequest", ""}, s.patchCheckpoint, maxDeploymentBody)
	lease("PATCH", "/checkpointverbatim", doc{"PatchCheckpointVerbatim", "Store the update's checkpoint as sent (update token)", nil, "PatchUpdateVerbatimCheckpointRequest", ""}, s.patchCheckpointVerbatim, maxDeploymentBody)
	lease("PATCH", "/checkpointdelta", doc{"PatchCheckpointDelta", "Store the update's checkpoint as a delta, checked by its hash (update token)", nil, "PatchUpdateCheckpointDeltaRequest", ""}, s.patchCheckpointDelta, maxDeploymentBody)
	lease("POST", "/events", doc{"PostEngineEvent", "Record an engine event (update token)", nil, "EngineEvent", ""}, s.postEngineEvent, 4<<20)
	lease("POST", "/events/batch", doc{"PostEngineEventBatch", "Record engine events (update token)", nil, "EngineEventBatch", ""}, s.postEngineEvents, maxEventsBody)
	lease("POST", "/renew_lease", doc{"RenewUpdateLease", "Extend the update's lease (update token)", nil, "RenewUpdateLeaseRequest", "RenewUpdateLeaseResponse"}, s.renewLease, 0)
	lease("POST", "/complete", doc{"CompleteUpdate", "Finish the update and free the stack (update token)", nil, "CompleteUpdateRequest", ""}, s.completeUpdate, 16<<20)
}

func capabilities() wire.CapabilitiesResponse {
	cfg, _ := json.Marshal(map[string]int{"checkpointCutoffSizeBytes": deltaCutoff})
	return wire.CapabilitiesResponse{Capabilities: []wire.Capability{
		{Capability: "delta-checkpoint-uploads-v2", Version: 2, Configuration: cfg},
		{Capability: "batch-encrypt"},
	}}
}

// stackEntity resolves the stack in the path from the organization's
// snapshot, and loads its record for the handler.
func stackEntity(q *request) (*gatehouse.Entity, error) {
	project, name := q.r.PathValue("projectName"), q.r.PathValue("stackName")
	e, err := q.srv.az.Entity(q.ctx(), q.org.ID, gatehouse.EntityStack, project+"/"+name)
	if err != nil {
		return nil, stackNotFound(q)
	}
	if q.stack, err = q.srv.svc.Stack(q.ctx(), q.org.ID, project, name); err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return nil, stackNotFound(q)
		}
		return nil, err
	}
	return e, nil
}

func stackNotFound(q *request) error {
	return gatehouse.Errorf(gatehouse.ENOTFOUND, "stack '%s/%s/%s' not found", q.r.PathValue("orgName"), q.r.PathValue("projectName"), q.r.PathValue("stackName"))
}

// --- stacks

func (s *Server) toStack(q *request, st *gatehouse.Stack) wire.Stack {
	out := wire.Stack{ID: st.ID, OrgName: q.org.Name, ProjectName: st.Project, StackName: st.Name,
		Tags: service.StackTags(st), Version: st.Version}
	if st.ActiveUpdate != "" && st.LeaseExpiry.After(s.now()) {
		out.ActiveUpdate = st.ActiveUpdate
		if u, err := s.svc.Update(q.ctx(), st, st.ActiveUpdate); err == nil {
			out.CurrentOperation = &wire.OperationStatus{Kind: u.Kind, Author: service.InfoOf(u).Author, Started: u.Started.Unix()}
		}
	}
	return out
}

func (s *Server) getStack(q *request) (any, error) { return s.toStack(q, q.stack), nil }

func (s *Server) stackOutputNames(q *request) (any, error) {
	names, err := s.svc.StackOutputNames(q.ctx(), q.stack)
	if err != nil {
		return nil, err
	}
	return wire.StackOutputNames{Names: names}, nil
}

func (s *Server) createStack(q *request) (any, error) {
	var in wire.CreateStackRequest
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	if in.CreateManagedEnvironment {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "createManagedEnvironment: managed environments are not supported")
	}
	in2 := service.StackInput{Project: q.r.PathValue("projectName"), Name: in.StackName, Tags: in.Tags, Teams: in.Teams}
	if len(in.Teams) > 0 {
		in2.MayGrantTeams, _ = s.az.Decide(q.ctx(), q.id, q.org.ID, catalog.MustLookup("team:update"), &gatehouse.Entity{Type: gatehouse.EntityGlobal, ID: q.org.ID})
	}
	st, err := s.svc.CreateStack(q.ctx(), q.org.ID, q.id, in2)
	if err != nil {
		return nil, err
	}
	if len(in.State) > 0 && string(in.State) != "null" {
		if _, err := s.svc.Import(q.ctx(), st, q.id, in.State); err != nil {
			return nil, err
		}
	}
	return wire.CreateStackResponse{}, nil
}

// stackList lists a page of the stacks the caller may read, from the
// snapshot, with their latest versions from the store.
func (s *Server) stackList(q *request, org *gatehouse.Organization) (any, error) {
	v := q.r.URL.Query()
	project, tagName, tagValue := v.Get("project"), v.Get("tagName"), v.Get("tagValue")
	match := func(r *authz.StackRef) bool {
		if project != "" && r.Project != project {
			return false
		}
		if tagName != "" {
			tv, ok := r.Tags[tagName]
			if tagName == service.ProjectTag {
				tv, ok = r.Project, true
			}
			return ok && (tagValue == "" || tv == tagValue)
		}
		return true
	}
	refs, next, err := s.az.VisibleStacks(q.ctx(), q.id, org.ID, catalog.MustLookup("stack:read"), v.Get("continuationToken"), gatehouse.MaxListLimit, match)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = r.ID
	}
	heads, err := s.svc.StackHeads(q.ctx(), org.ID, ids)
	if err != nil {
		return nil, err
	}
	out := wire.ListStacksResponse{Stacks: make([]wire.StackSummary, 0, len(refs))}
	out.ContinuationToken = q.nextPtr(next)
	for _, r := range refs {
		sum := wire.StackSummary{ID: r.ID, OrgName: org.Name, ProjectName: r.Project, StackName: r.Name}
		if h, ok := heads[r.ID]; ok && h.Version > 0 {
			t := h.Modified.Unix()
			sum.LastUpdate = &t
		}
		out.Stacks = append(out.Stacks, sum)
	}
	return out, nil
}

func (s *Server) listOrgStacks(q *request) (any, error) { return s.stackList(q, q.org) }

// listUserStacks lists the stacks the caller may read in the organization
// asked for, or in its default organization.
func (s *Server) listUserStacks(q *request) (any, error) {
	name := q.r.URL.Query().Get("organization")
	if name == "" {
		var err error
		if name, err = s.defaultOrgName(q); err != nil {
			return nil, err
		}
		if name == "" {
			return wire.ListStacksResponse{Stacks: []wire.StackSummary{}}, nil
		}
	}
	org, err := s.az.Org(q.ctx(), name)
	if err == nil && q.id.Token.BoundElsewhere(org.ID) {
		return nil, s.boundElsewhere(q, s.clientIP(q.r), org)
	}
	if err != nil || !s.az.Member(q.ctx(), q.id, org.ID) {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "organization %q not found", name)
	}
	q.org = org
	return s.stackList(q, org)
}

// projectExists answers HEAD: 200 when the caller can read a stack of the
// project, 404 otherwise.
func (s *Server) projectExists(q *request) (any, error) {
	project := q.r.PathValue("projectName")
	refs, _, err := s.az.VisibleStacks(q.ctx(), q.id, q.org.ID, catalog.MustLookup("stack:read"), "", 1,
		func(r *authz.StackRef) bool { return r.Project == project })
	if err != nil {
		return nil, err
	}
	if len(refs) == 0 {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "project %q not found", project)
	}
	return rawBody{contentType: "application/json"}, nil
}

func (s *Server) deleteStack(q *request) (any, error) {
	force, err := q.boolParam("force")
	if err != nil {
		return nil, err
	}
	return nil, s.svc.DeleteStack(q.ctx(), q.stack, force)
}

func (s *Server) renameStack(q *request) (any, error) {
	var in wire.StackRenameRequest
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	return nil, s.svc.RenameStack(q.ctx(), q.stack, in.NewProject, in.NewName)
}

func (s *Server) addStackTag(q *request) (any, error) {
	var in wire.StackTag
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	return nil, s.svc.ChangeStackTags(q.ctx(), q.stack, service.TagUpdate{Add: &[2]string{in.Name, in.Value}})
}

func (s *Server) replaceStackTags(q *request) (any, error) {
	var in map[string]string
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	if in == nil {
		in = map[string]string{}
	}
	return nil, s.svc.ChangeStackTags(q.ctx(), q.stack, service.TagUpdate{Replace: in})
}

func (s *Server) setStackTag(q *request) (any, error) {
	var in wire.StackTag
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	name := q.r.PathValue("tagName")
	if in.Name != "" && in.Name != name {
		// A rename of the tag: the new name replaces the old, in one change.
		if _, ok := q.stack.Tags[name]; !ok {
			return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "tag %q not found", name)
		}
		tags := service.StackTags(q.stack)
		delete(tags, name)
		tags[in.Name] = in.Value
		return nil, s.svc.ChangeStackTags(q.ctx(), q.stack, service.TagUpdate{Replace: tags})
	}
	return nil, s.svc.ChangeStackTags(q.ctx(), q.stack, service.TagUpdate{Set: &[2]string{name, in.Value}})
}

func (s *Server) deleteStackTag(q *request) (any, error) {
	return nil, s.svc.ChangeStackTags(q.ctx(), q.stack, service.TagUpdate{Delete: q.r.PathValue("tagName")})
}

// --- export and import

func versionParam(q *request, name string) (int, error) {
	v := q.r.PathValue(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, gatehouse.Errorf(gatehouse.EINVALID, "%s: %q is not a version number", name, v)
	}
	return n, nil
}

func (s *Server) exportStack(q *request) (any, error) {
	version, err := versionParam(q, "version")
	if err != nil {
		return nil, err
	}
	data, err := s.svc.Export(q.ctx(), q.stack, version)
	if err != nil {
		return nil, err
	}
	return rawBody{contentType: "application/json", data: data}, nil
}

func (s *Server) importStack(q *request) (any, error) {
	data, err := q.readBody()
	if err != nil {
		return nil, err
	}
	u, err := s.svc.Import(q.ctx(), q.stack, q.id, data)
	if err != nil {
		return nil, err
	}
	return wire.ImportStackResponse{UpdateID: u.ID}, nil
}
