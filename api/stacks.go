package api

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gatehouse-iam/gatehouse"
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

// updateKinds are the update kinds a path can name, with the scope that
// creating and starting one needs.
var updateKinds = map[string]string{
	gatehouse.UpdateKindUpdate:  "stack:write",
	gatehouse.UpdateKindPreview: "stack:read",
	gatehouse.UpdateKindRefresh: "stack:write",
	gatehouse.UpdateKindDestroy: "stack:write",
}

func (s *Server) registerStacks() {
	s.handle(&route{method: "GET", pattern: "/api/user/stacks", h: s.listUserStacks})
	s.handle(&route{method: "GET", pattern: "/api/stacks/{orgName}", scopes: scopes("stack:list"), h: s.listOrgStacks})
	s.handle(&route{method: "POST", pattern: "/api/stacks/{orgName}/{projectName}", scopes: scopes("stack:create"), maxBytes: maxCreateStackBody, h: s.createStack})
	s.handle(&route{method: "HEAD", pattern: "/api/stacks/{orgName}/{projectName}", scopes: scopes("stack:list"), h: s.projectExists})

	st := func(method, suffix, scope string, h handler, opts ...func(*route)) {
		rt := &route{method: method, pattern: stackPath + suffix, scopes: scopes(scope), entity: stackEntity, h: h}
		for _, o := range opts {
			o(rt)
		}
		s.handle(rt)
	}
	limit := func(n int64) func(*route) { return func(rt *route) { rt.maxBytes = n } }
	maxDeploymentBody := int64(s.svc.CheckpointLimit()) + 1<<20 // the deployment and the request around it
	st("GET", "", "stack:read", s.getStack)
	st("DELETE", "", "stack:delete", s.deleteStack)
	st("POST", "/rename", "stack:rename", s.renameStack)
	st("POST", "/tags", "stack_tags:update", s.addStackTag)
	st("PATCH", "/tags", "stack_tags:update", s.replaceStackTags)
	st("PATCH", "/tags/{tagName}", "stack_tags:update", s.setStackTag)
	st("DELETE", "/tags/{tagName}", "stack_tags:update", s.deleteStackTag)
	st("GET", "/export", "stack:export", s.exportStack)
	st("GET", "/export/{version}", "stack:export", s.exportStack)
	st("POST", "/import", "stack:import", s.importStack, limit(maxDeploymentBody))
	st("POST", "/encrypt", "stack:encrypt", s.encryptValue)
	st("POST", "/batch-encrypt", "stack:encrypt", s.batchEncrypt, limit(maxSecretsBody))
	st("POST", "/decrypt", "stack:decrypt", s.decryptValue)
	st("POST", "/batch-decrypt", "stack:decrypt", s.batchDecrypt, limit(maxSecretsBody))
	st("POST", "/decrypt/log-decryption", "stack:read", s.logDecryption)
	st("POST", "/decrypt/log-batch-decryption", "stack:read", s.logDecryption)
	st("GET", "/updates", "stack:read", s.stackHistory)
	st("GET", "/updates/latest", "stack:read", s.latestUpdate)
	st("GET", "/updates/latest/previews", "stack:read", s.latestPreviews)
	st("GET", "/updates/{version}", "stack:read", s.versionUpdate)
	for kind, scope := range updateKinds {
		st("POST", "/"+kind, scope, s.createUpdate(kind), limit(4<<20))
	}
	// The CLI names every update "update" in the paths that follow its
	// creation, whatever its kind; the handler checks the kind's scope.
	st("POST", "/{updateKind}/{updateID}", "stack:read", s.startUpdate)
	st("GET", "/{updateKind}/{updateID}", "stack:read", s.updateStatus)
	st("GET", "/{updateKind}/{updateID}/events", "stack:read", s.updateEngineEvents)
	st("POST", "/{updateKind}/{updateID}/cancel", "stack:cancel_update", s.cancelUpdate, func(rt *route) { rt.noBody = true })

	// The update's own requests, authenticated by its lease.
	lease := func(method, suffix string, h handler, max int64) {
		s.handle(&route{method: method, pattern: stackPath + "/{updateKind}/{updateID}" + suffix, lease: true, maxBytes: max, h: h})
	}
	lease("PATCH", "/checkpoint", s.patchCheckpoint, maxDeploymentBody)
	lease("PATCH", "/checkpointverbatim", s.patchCheckpointVerbatim, maxDeploymentBody)
	lease("PATCH", "/checkpointdelta", s.patchCheckpointDelta, maxDeploymentBody)
	lease("POST", "/events", s.postEngineEvent, 4<<20)
	lease("POST", "/events/batch", s.postEngineEvents, maxEventsBody)
	lease("POST", "/renew_lease", s.renewLease, 0)
	lease("POST", "/complete", s.completeUpdate, 16<<20)
}

func capabilities() capabilitiesResponse {
	cfg, _ := json.Marshal(map[string]int{"checkpointCutoffSizeBytes": deltaCutoff})
	return capabilitiesResponse{Capabilities: []capabilityJSON{
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

// authorizeLease authenticates a request of a running update by its lease
// ("Authorization: update-token <lease>"); it then acts for the token that
// started the update, which must still hold the scope the update needs.
func (s *Server) authorizeLease(q *request) error {
	scheme, lease, _ := strings.Cut(strings.TrimSpace(q.r.Header.Get("Authorization")), " ")
	if !strings.EqualFold(scheme, "update-token") || strings.TrimSpace(lease) == "" {
		return gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "unauthorized: this request needs the update's lease (Authorization: update-token <lease>)")
	}
	org, err := s.az.Org(q.ctx(), q.r.PathValue("orgName"))
	if err != nil {
		return stackNotFound(q)
	}
	q.org = org
	if q.entity, err = stackEntity(q); err != nil {
		return err
	}
	u, id, err := s.svc.Leased(q.ctx(), q.stack.ID, q.r.PathValue("updateID"), strings.TrimSpace(lease))
	if err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.EUNAUTHORIZED {
			// A wrong lease is a failed authentication like a wrong token.
			s.metrics.authFailures.WithLabelValues("lease").Inc()
			if s.limitFailures(q.w, q.reqID, s.clientIP(q.r), 1) {
				return errTooManyFailures
			}
		}
		s.log.Info("update lease refused", "request_id", q.reqID, "remote", s.clientIP(q.r), "why", err.Error())
		return err
	}
	q.update, q.id = u, id
	// The update's own requests act for whoever started it, so that what
	// they record (a checkpoint's event) names them.
	actor := gatehouse.Actor{SourceIP: s.clientIP(q.r), UserAgent: q.r.UserAgent(), RequestID: q.reqID, ClientRequestID: q.clientReqID}
	if id.Token != nil {
		actor.TokenID = id.Token.ID
	}
	if id.User != nil {
		actor.UserID, actor.Login = id.User.ID, id.User.Login
	} else if id.Token != nil {
		actor.TokenName = id.Token.Name
		actor.Login = id.Token.Kind + " token " + id.Token.Name
	}
	q.r = q.r.WithContext(gatehouse.WithActor(q.r.Context(), actor))
	return s.require(q, updateScope(u.Kind))
}

// updateScope is the scope running an update of a kind needs: stack:read
// for a preview, stack:write for the rest.
func updateScope(kind string) catalog.Scope {
	if name, ok := updateKinds[kind]; ok {
		return catalog.MustLookup(name)
	}
	return catalog.MustLookup("stack:write")
}

// --- stacks

func (s *Server) toStack(q *request, st *gatehouse.Stack) stackJSON {
	out := stackJSON{ID: st.ID, OrgName: q.org.Name, ProjectName: st.Project, StackName: st.Name,
		Tags: service.StackTags(st), Version: st.Version}
	if st.ActiveUpdate != "" && st.LeaseExpiry.After(time.Now()) {
		out.ActiveUpdate = st.ActiveUpdate
		if u, err := s.svc.Update(q.ctx(), st, st.ActiveUpdate); err == nil {
			out.CurrentOperation = &operationStatusJSON{Kind: u.Kind, Author: service.InfoOf(u).Author, Started: u.Started.Unix()}
		}
	}
	return out
}

func (s *Server) getStack(q *request) (any, error) { return s.toStack(q, q.stack), nil }

func (s *Server) createStack(q *request) (any, error) {
	var in createStackRequest
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
	return createStackResponse{}, nil
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
	out := listStacksResponse{Stacks: make([]stackSummaryJSON, 0, len(refs))}
	out.ContinuationToken = q.nextPtr(next)
	for _, r := range refs {
		sum := stackSummaryJSON{ID: r.ID, OrgName: org.Name, ProjectName: r.Project, StackName: r.Name}
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
			return listStacksResponse{Stacks: []stackSummaryJSON{}}, nil
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
	var in stackRenameRequest
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	return nil, s.svc.RenameStack(q.ctx(), q.stack, in.NewProject, in.NewName)
}

func (s *Server) addStackTag(q *request) (any, error) {
	var in stackTagJSON
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
	var in stackTagJSON
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
	s.audit.add(service.NewAuditEvent(q.ctx(), time.Now(), q.org.ID, gatehouse.EventStackExported,
		fmt.Sprintf("exported stack %s/%s", q.stack.Project, q.stack.Name), q.stack.ID, map[string]int{"version": version}))
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
	return importStackResponse{UpdateID: u.ID}, nil
}

// --- secrets

func (s *Server) encryptValue(q *request) (any, error) {
	var in encryptValueRequest
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	if in.Plaintext == nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "plaintext: missing")
	}
	out, err := s.svc.Encrypt(q.ctx(), q.stack, [][]byte{in.Plaintext})
	if err != nil {
		return nil, err
	}
	return encryptValueResponse{Ciphertext: out[0]}, nil
}

func (s *Server) batchEncrypt(q *request) (any, error) {
	var in batchEncryptRequest
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	if in.Plaintexts == nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "plaintexts: missing")
	}
	out, err := s.svc.Encrypt(q.ctx(), q.stack, in.Plaintexts)
	if err != nil {
		return nil, err
	}
	return batchEncryptResponse{Ciphertexts: out}, nil
}

func (s *Server) decryptValue(q *request) (any, error) {
	var in decryptValueRequest
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	if in.Ciphertext == nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "ciphertext: missing")
	}
	out, err := s.svc.Decrypt(q.ctx(), q.stack, [][]byte{in.Ciphertext})
	if err != nil {
		return nil, err
	}
	s.auditDecrypt(q, 1)
	return decryptValueResponse{Plaintext: out[0]}, nil
}

func (s *Server) batchDecrypt(q *request) (any, error) {
	var in batchDecryptRequest
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	if in.Ciphertexts == nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "ciphertexts: missing")
	}
	out, err := s.svc.Decrypt(q.ctx(), q.stack, in.Ciphertexts)
	if err != nil {
		return nil, err
	}
	resp := batchDecryptResponse{Plaintexts: make(map[string][]byte, len(out))}
	for i, p := range out {
		resp.Plaintexts[base64.StdEncoding.EncodeToString(in.Ciphertexts[i])] = p
	}
	s.auditDecrypt(q, len(out))
	return resp, nil
}

// auditDecrypt records that secrets of a stack were read: how many, never
// which or what.
func (s *Server) auditDecrypt(q *request, n int) {
	s.audit.add(service.NewAuditEvent(q.ctx(), time.Now(), q.org.ID, gatehouse.EventSecretsDecrypted,
		fmt.Sprintf("decrypted %d secret(s) of stack %s/%s", n, q.stack.Project, q.stack.Name), q.stack.ID, map[string]int{"count": n}))
}

// logDecryption records what the CLI says it decrypted itself, with a
// secrets provider of its own. The server did not see it happen, so it is
// never the server's stack_secrets_decrypted event: it is recorded as
// client-reported, the client's words bounded and kept under
// clientReported.
func (s *Server) logDecryption(q *request) (any, error) {
	var in log3rdPartyDecryptionEvent
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	s.audit.add(service.NewAuditEvent(q.ctx(), time.Now(), q.org.ID, gatehouse.EventClientReportedDecryption,
		fmt.Sprintf("the client reported decrypting secrets of stack %s/%s with its own secrets provider", q.stack.Project, q.stack.Name), q.stack.ID,
		map[string]any{"clientReported": map[string]string{"secretName": clientText(in.SecretName), "commandName": clientText(in.CommandName)}}))
	return nil, nil
}

// clientText bounds what a client reports for the audit log: valid UTF-8,
// no control characters, at most 256 bytes.
func clientText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) > 256 {
		s = strings.ToValidUTF8(s[:256], "")
	}
	return s
}

// --- history

func resultOf(u *gatehouse.StackUpdate) string {
	switch u.Status {
	case gatehouse.UpdateRunning:
		return "in-progress"
	case gatehouse.UpdateNotStarted:
		return "not-started"
	case gatehouse.UpdateSucceeded:
		return "succeeded"
	}
	return "failed"
}

func toUpdateInfo(u *gatehouse.StackUpdate) updateInfoJSON {
	i := service.InfoOf(u)
	kind := u.Kind
	out := updateInfoJSON{Kind: kind, StartTime: u.Started.Unix(), Message: i.Message, Environment: i.Environment,
		Config: i.Config, Result: resultOf(u), Version: u.Version, ResourceChanges: i.ResourceChanges, ResourceCount: i.ResourceCount}
	if out.Environment == nil {
		out.Environment = map[string]string{}
	}
	if len(out.Config) == 0 {
		out.Config = json.RawMessage(`{}`)
	}
	if !u.Finished.IsZero() {
		out.EndTime = u.Finished.Unix()
	}
	return out
}

func (s *Server) stackHistory(q *request) (any, error) {
	v := q.r.URL.Query()
	num := func(name string) (int, error) {
		if v.Get(name) == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(v.Get(name))
		if err != nil || n < 1 {
			return 0, gatehouse.Errorf(gatehouse.EINVALID, "%s: %q is not a positive number", name, v.Get(name))
		}
		return n, nil
	}
	size, err := num("pageSize")
	if err != nil {
		return nil, err
	}
	page, err := num("page")
	if err != nil {
		return nil, err
	}
	us, err := s.svc.History(q.ctx(), q.stack, size, page)
	if err != nil {
		return nil, err
	}
	out := getHistoryResponse{Updates: []updateInfoJSON{}}
	for _, u := range us {
		out.Updates = append(out.Updates, toUpdateInfo(u))
	}
	return out, nil
}

func (s *Server) latestUpdate(q *request) (any, error) {
	us, err := s.svc.History(q.ctx(), q.stack, 1, 1)
	if err != nil {
		return nil, err
	}
	if len(us) == 0 {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "stack %s/%s has no updates", q.stack.Project, q.stack.Name)
	}
	return toUpdateInfo(us[0]), nil
}

func (s *Server) versionUpdate(q *request) (any, error) {
	version, err := versionParam(q, "version")
	if err != nil {
		return nil, err
	}
	u, err := s.svc.VersionUpdate(q.ctx(), q.stack, version)
	if err != nil {
		return nil, err
	}
	return toUpdateInfo(u), nil
}

func (s *Server) latestPreviews(q *request) (any, error) {
	out := getLatestStackPreviewsResponse{Updates: []stackPreviewJSON{}}
	u, err := s.svc.LatestPreview(q.ctx(), q.stack)
	if err == nil {
		out.Updates = append(out.Updates, stackPreviewJSON{UpdateID: u.ID})
	} else if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		return nil, err
	}
	return out, nil
}

// --- the update lifecycle

func (s *Server) createUpdate(routeKind string) handler {
	return func(q *request) (any, error) {
		kind := routeKind
		data, err := q.readBody()
		if err == nil {
			err = refuseNull(data)
		}
		if err != nil {
			return nil, err
		}
		var in updateProgramRequest
		if err := decodeCLIBytes(data, &in); err != nil {
			return nil, err
		}
		var opts struct {
			DryRun bool `json:"dryRun"`
		}
		json.Unmarshal(in.Options, &opts)
		if opts.DryRun {
			// The preview the CLI runs before an update, refresh or destroy:
			// it writes nothing and is not part of the history.
			kind = gatehouse.UpdateKindPreview
		}
		u, err := s.svc.CreateUpdate(q.ctx(), q.stack, q.id, kind, service.ProgramInput{Raw: data, Name: in.Name,
			Message: in.Metadata.Message, Environment: in.Metadata.Environment, Config: in.Config})
		if err != nil {
			return nil, err
		}
		return updateProgramResponse{UpdateID: u.ID}, nil
	}
}

func (s *Server) startUpdate(q *request) (any, error) {
	var in startUpdateRequest
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	u, err := s.svc.Update(q.ctx(), q.stack, q.r.PathValue("updateID"))
	if err != nil {
		return nil, err
	}
	// The route needs stack:read; an update, refresh or destroy needs
	// stack:write.
	if err := s.require(q, updateScope(u.Kind)); err != nil {
		return nil, err
	}
	setTags, _ := s.az.Decide(q.ctx(), q.id, q.org.ID, catalog.MustLookup("stack_tags:update"), q.entity)
	st, err := s.svc.StartUpdate(q.ctx(), q.stack, u.ID, q.id, in.Tags, setTags)
	if err != nil {
		return nil, err
	}
	// Journal version 0: the CLI sends checkpoints.
	return startUpdateResponse{Version: st.Version, Token: st.Token, TokenExpiration: st.Expires.Unix()}, nil
}

func (s *Server) updateStatus(q *request) (any, error) {
	u, err := s.svc.Update(q.ctx(), q.stack, q.r.PathValue("updateID"))
	if err != nil {
		return nil, err
	}
	status := u.Status
	if status == gatehouse.UpdateCancelled {
		status = gatehouse.UpdateFailed
	}
	return updateResults{Status: status, Events: []json.RawMessage{}}, nil
}

func (s *Server) updateEngineEvents(q *request) (any, error) {
	u, err := s.svc.Update(q.ctx(), q.stack, q.r.PathValue("updateID"))
	if err != nil {
		return nil, err
	}
	after := 0
	if c := q.r.URL.Query().Get("continuationToken"); c != "" {
		if after, err = strconv.Atoi(c); err != nil || after < 0 {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "continuationToken: %q is not one this server gave", c)
		}
	}
	evs, err := s.svc.UpdateEvents(q.ctx(), u, after, gatehouse.MaxListLimit)
	if err != nil {
		return nil, err
	}
	out := getUpdateEventsResponse{Events: make([]json.RawMessage, 0, len(evs))}
	for _, e := range evs {
		out.Events = append(out.Events, e.Data)
	}
	if len(evs) == gatehouse.MaxListLimit {
		out.ContinuationToken = q.nextPtr(strconv.Itoa(evs[len(evs)-1].Sequence))
	}
	return out, nil
}

func (s *Server) cancelUpdate(q *request) (any, error) {
	return nil, s.svc.CancelUpdate(q.ctx(), q.stack, q.r.PathValue("updateID"))
}

func (s *Server) patchCheckpoint(q *request) (any, error) {
	var in checkpointBody
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	if in.IsInvalid {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "isInvalid: the CLI marked this checkpoint invalid; it is not stored")
	}
	data, err := in.untypedDeployment()
	if err != nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "deployment: %v", err)
	}
	return nil, s.svc.PatchCheckpoint(q.ctx(), q.update.ID, 0, data)
}

func (s *Server) patchCheckpointVerbatim(q *request) (any, error) {
	var in verbatimCheckpointBody
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	if len(in.UntypedDeployment) == 0 || string(in.UntypedDeployment) == "null" {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "untypedDeployment: missing")
	}
	return nil, s.svc.PatchCheckpoint(q.ctx(), q.update.ID, in.SequenceNumber, in.UntypedDeployment)
}

func (s *Server) patchCheckpointDelta(q *request) (any, error) {
	var in deltaCheckpointBody
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	if in.SequenceNumber < 1 {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "sequenceNumber: must be at least 1")
	}
	return nil, s.svc.PatchCheckpointDelta(q.ctx(), q.update.ID, in.SequenceNumber, in.CheckpointHash, in.DeploymentDelta)
}

func (s *Server) postEngineEvent(q *request) (any, error) {
	var in json.RawMessage
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	return nil, s.svc.RecordEvents(q.ctx(), q.update.ID, []json.RawMessage{in})
}

func (s *Server) postEngineEvents(q *request) (any, error) {
	var in engineEventBatch
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	return nil, s.svc.RecordEvents(q.ctx(), q.update.ID, in.Events)
}

func (s *Server) renewLease(q *request) (any, error) {
	var in renewUpdateLeaseRequest
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	if in.Duration < 0 {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "duration: must not be negative")
	}
	expiry, err := s.svc.RenewLease(q.ctx(), q.update, time.Duration(in.Duration)*time.Second)
	if err != nil {
		return nil, err
	}
	// The lease keeps its token; only its expiry moves.
	_, lease, _ := strings.Cut(strings.TrimSpace(q.r.Header.Get("Authorization")), " ")
	return renewUpdateLeaseResponse{Token: strings.TrimSpace(lease), TokenExpiration: expiry.Unix()}, nil
}

func (s *Server) completeUpdate(q *request) (any, error) {
	var in completeUpdateRequest
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	return nil, s.svc.CompleteUpdate(q.ctx(), q.update.ID, in.Status)
}
