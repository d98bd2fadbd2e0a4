package service_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
)

var errDown = errors.New("database is down")

// downStore is a store whose lookups fail with a plain error, as an outage
// or a cancelled context makes them.
type downStore struct{ gatehouse.Store }

func (d downStore) Read(ctx context.Context, fn func(gatehouse.Tx) error) error {
	return d.Store.Read(ctx, func(tx gatehouse.Tx) error { return fn(downTx{tx}) })
}

func (d downStore) Write(ctx context.Context, fn func(gatehouse.Tx) error) error {
	return d.Store.Write(ctx, func(tx gatehouse.Tx) error { return fn(downTx{tx}) })
}

type downTx struct{ gatehouse.Tx }

func (downTx) GetTeam(context.Context, string, string) (*gatehouse.Team, error) { return nil, errDown }
func (downTx) GetUserByLogin(context.Context, string) (*gatehouse.User, error)  { return nil, errDown }
func (downTx) GetInvite(context.Context, string) (*gatehouse.Invite, error)     { return nil, errDown }
func (downTx) TakeInvite(context.Context, string) (*gatehouse.Invite, error)    { return nil, errDown }
func (downTx) GetToken(context.Context, string) (*gatehouse.Token, error)       { return nil, errDown }
func (downTx) GetUpdate(context.Context, string) (*gatehouse.StackUpdate, error) {
	return nil, errDown
}

// A failed read is not "not found": the service returns the store's error
// (internal), and a missing thing is still not found with its name.
func TestFailedReadIsNotNotFound(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		if _, err := e.Svc.CreateTeam(ctx, e.Org.ID, "platform", "", ""); err != nil {
			t.Fatal(err)
		}
		down := service.New(downStore{e.DB}, e.Authz, e.Clock.Now)
		id := e.Identity(t, e.Admin)
		st := &gatehouse.Stack{ID: "stack", OrgID: e.Org.ID}
		ops := map[string]func(s *service.Service) error{
			"team":          func(s *service.Service) error { _, err := s.Team(ctx, e.Org.ID, "platform"); return err },
			"rename team":   func(s *service.Service) error { return s.RenameTeam(ctx, e.Org.ID, "platform", nil, nil) },
			"member":        func(s *service.Service) error { _, err := s.Member(ctx, e.Org.ID, "admin"); return err },
			"remove member": func(s *service.Service) error { return s.RemoveMember(ctx, e.Org.ID, "bob", id) },
			"revoke invite": func(s *service.Service) error { return s.RevokeInvite(ctx, e.Org.ID, "inv") },
			"revoke token":  func(s *service.Service) error { return s.RevokeToken(ctx, "tok", nil) },
			"update":        func(s *service.Service) error { _, err := s.Update(ctx, st, "upd"); return err },
			"cancel update": func(s *service.Service) error { return s.CancelUpdate(ctx, st, "upd") },
		}
		for name, op := range ops {
			t.Run(name, func(t *testing.T) {
				if err := op(down); !errors.Is(err, errDown) || gatehouse.ErrorCode(err) != gatehouse.EINTERNAL {
					t.Errorf("with the store down: %v (code %s), want the store's error, internal", err, gatehouse.ErrorCode(err))
				}
			})
		}
		// The real store still says not found for what is missing.
		if _, err := e.Svc.Team(ctx, e.Org.ID, "nope"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND || gatehouse.ErrorMessage(err) != `team "nope" not found` {
			t.Errorf("missing team: %v", err)
		}
		if err := e.Svc.RevokeToken(ctx, "nope", nil); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND || gatehouse.ErrorMessage(err) != `token "nope" not found` {
			t.Errorf("missing token: %v", err)
		}
		if err := e.Svc.CancelUpdate(ctx, st, "nope"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			t.Errorf("missing update: %v", err)
		}
	})
}

// lookupsDownTx fails the lookups that name a field of the request (a role,
// a permission set, a member, a stack, a team) with a plain error.
type lookupsDownTx struct{ gatehouse.Tx }

func (lookupsDownTx) GetDescriptor(context.Context, string, string) (*gatehouse.Descriptor, error) {
	return nil, errDown
}
func (lookupsDownTx) GetUserByLogin(context.Context, string) (*gatehouse.User, error) {
	return nil, errDown
}
func (lookupsDownTx) GetStack(context.Context, string, string, string) (*gatehouse.Stack, error) {
	return nil, errDown
}
func (lookupsDownTx) GetTeam(context.Context, string, string) (*gatehouse.Team, error) {
	return nil, errDown
}

type lookupsDownStore struct{ gatehouse.Store }

func (d lookupsDownStore) Read(ctx context.Context, fn func(gatehouse.Tx) error) error {
	return d.Store.Read(ctx, func(tx gatehouse.Tx) error { return fn(lookupsDownTx{tx}) })
}

func (d lookupsDownStore) Write(ctx context.Context, fn func(gatehouse.Tx) error) error {
	return d.Store.Write(ctx, func(tx gatehouse.Tx) error { return fn(lookupsDownTx{tx}) })
}

// A failed lookup of something a field names is not "that field is
// invalid": the store's error stays internal, while a thing that is really
// missing is still the field's invalid.
func TestFailedLookupIsNotInvalid(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		if _, err := e.Svc.CreateTeam(ctx, e.Org.ID, "platform", "", ""); err != nil {
			t.Fatal(err)
		}
		id := e.Identity(t, e.Admin)
		stackGrant := service.TeamGrant{Stack: &service.StackGrant{ProjectName: "p", StackName: "s", Permission: 101}}
		ops := map[string]func(s *service.Service) error{
			"assign": func(s *service.Service) error {
				_, err := s.Assign(ctx, e.Org.ID, gatehouse.EntityRef{Type: gatehouse.EntityStack, ID: "x"}, "nobody", "set")
				return err
			},
			"team member": func(s *service.Service) error { return s.SetTeamMember(ctx, e.Org.ID, "platform", "add", "nobody") },
			"team grant":  func(s *service.Service) error { return s.PutTeamGrant(ctx, e.Org.ID, "platform", stackGrant) },
			"stack teams": func(s *service.Service) error {
				_, err := s.CreateStack(ctx, e.Org.ID, id, service.StackInput{Project: "p", Name: "s", Teams: []string{"nope"}, MayGrantTeams: true})
				return err
			},
			"token role": func(s *service.Service) error {
				_, _, err := s.CreateToken(ctx, service.TokenInput{Kind: gatehouse.TokenOrganization, OrgID: e.Org.ID, Name: "ci", RoleID: "norole"})
				return err
			},
		}
		down := service.New(lookupsDownStore{e.DB}, e.Authz, e.Clock.Now)
		down.Keys = e.Svc.Keys
		for name, op := range ops {
			t.Run(name, func(t *testing.T) {
				if err := op(down); !errors.Is(err, errDown) || gatehouse.ErrorCode(err) != gatehouse.EINTERNAL {
					t.Errorf("with lookups down: %v (code %s), want the store's error, internal", err, gatehouse.ErrorCode(err))
				}
				if err := op(e.Svc); gatehouse.ErrorCode(err) != gatehouse.EINVALID {
					t.Errorf("with the thing missing: %v (code %s), want invalid", err, gatehouse.ErrorCode(err))
				}
			})
		}
	})
}
