package api

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/service"
)

// updateKinds are the update kinds a path can name, with the scope that
// creating and starting one needs.
var updateKinds = map[string]string{
	gatehouse.UpdateKindUpdate:  "stack:write",
	gatehouse.UpdateKindPreview: "stack:read",
	gatehouse.UpdateKindRefresh: "stack:write",
	gatehouse.UpdateKindDestroy: "stack:write",
}

// createUpdateDocs document the route that creates each update kind.
var createUpdateDocs = map[string]doc{
	gatehouse.UpdateKindUpdate:  {"CreateUpdate", "Create an update of the stack", nil, "UpdateProgramRequest", "UpdateProgramResponse"},
	gatehouse.UpdateKindPreview: {"CreatePreview", "Create a preview of the stack", nil, "UpdateProgramRequest", "UpdateProgramResponse"},
	gatehouse.UpdateKindRefresh: {"CreateRefresh", "Create a refresh of the stack", nil, "UpdateProgramRequest", "UpdateProgramResponse"},
	gatehouse.UpdateKindDestroy: {"CreateDestroy", "Create a destroy of the stack", nil, "UpdateProgramRequest", "UpdateProgramResponse"},
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

func toUpdateInfo(u *gatehouse.StackUpdate) wire.UpdateInfo {
	i := service.InfoOf(u)
	kind := u.Kind
	out := wire.UpdateInfo{Kind: kind, StartTime: u.Started.Unix(), Message: i.Message, Environment: i.Environment,
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
	out := wire.GetHistoryResponse{Updates: []wire.UpdateInfo{}}
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
	out := wire.GetLatestStackPreviewsResponse{Updates: []wire.StackPreview{}}
	u, err := s.svc.LatestPreview(q.ctx(), q.stack)
	if err == nil {
		out.Updates = append(out.Updates, wire.StackPreview{UpdateID: u.ID})
	} else if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		return nil, err
	}
	return out, nil
}

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
		var in wire.UpdateProgramRequest
		if err := decodeCLIBytes(data, &in); err != nil {
			return nil, err
		}
		var opts wire.UpdateOptions
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
		return wire.UpdateProgramResponse{UpdateID: u.ID}, nil
	}
}

func (s *Server) startUpdate(q *request) (any, error) {
	var in wire.StartUpdateRequest
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
	return wire.StartUpdateResponse{Version: st.Version, Token: st.Token, TokenExpiration: st.Expires.Unix()}, nil
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
	return wire.UpdateResults{Status: status, Events: []json.RawMessage{}}, nil
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
	out := wire.GetUpdateEventsResponse{Events: make([]json.RawMessage, 0, len(evs))}
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
	var in wire.EngineEventBatch
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	return nil, s.svc.RecordEvents(q.ctx(), q.update.ID, in.Events)
}

func (s *Server) renewLease(q *request) (any, error) {
	var in wire.RenewUpdateLeaseRequest
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
	return wire.RenewUpdateLeaseResponse{Token: strings.TrimSpace(lease), TokenExpiration: expiry.Unix()}, nil
}

func (s *Server) completeUpdate(q *request) (any, error) {
	var in wire.CompleteUpdateRequest
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	return nil, s.svc.CompleteUpdate(q.ctx(), q.update.ID, in.Status)
}
