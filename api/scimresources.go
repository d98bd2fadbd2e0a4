package api

import (
	"net/http"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/service"
)

// SCIM's Users and Groups: the domain's provisioned users and SCIM teams
// in RFC 7643's shapes.

var (
	scimUserFilters  = map[string]string{"username": gatehouse.SCIMAttrUserName, "externalid": gatehouse.SCIMAttrExternalID, "displayname": gatehouse.SCIMAttrDisplayName}
	scimGroupFilters = map[string]string{"displayname": gatehouse.SCIMAttrDisplayName, "externalid": gatehouse.SCIMAttrExternalID}
)

func toSCIMUser(v *gatehouse.SCIMUser, base string) wire.SCIMUser {
	active := wire.SCIMBool(!v.Member.Suspended)
	u := wire.SCIMUser{Schemas: []string{wire.SCIMSchemaUser}, ID: v.User.ID, ExternalID: v.ExternalID, UserName: v.User.Login,
		DisplayName: v.User.Name, Active: &active}
	if v.User.Name != "" {
		u.Name = &wire.SCIMName{Formatted: v.User.Name}
	}
	if v.User.Email != "" {
		u.Emails = []wire.SCIMValue{{Value: v.User.Email, Type: "work", Primary: true}}
	}
	modified := v.Modified
	if modified.IsZero() {
		modified = v.Member.Created
	}
	u.Meta = &wire.SCIMMeta{ResourceType: gatehouse.SCIMUsers, Created: scimTime(v.User.Created), LastModified: scimTime(modified),
		Location: base + "/Users/" + v.User.ID}
	return u
}

// userInput is a whole User resource as a patch of every field (POST and
// PUT): an absent name or email is cleared, active defaults to true.
func userInput(in *wire.SCIMUser) service.SCIMUserPatch {
	name := in.DisplayName
	if name == "" && in.Name != nil {
		name = in.Name.Formatted
		if name == "" {
			name = strings.TrimSpace(in.Name.GivenName + " " + in.Name.FamilyName)
		}
	}
	if name == "" {
		name = in.UserName
	}
	email, active := primaryValue(in.Emails), true
	if in.Active != nil {
		active = bool(*in.Active)
	}
	return service.SCIMUserPatch{UserName: &in.UserName, Name: &name, Email: &email, ExternalID: &in.ExternalID, Active: &active}
}

func (s *Server) scimListUsers(q *scimRequest) (int, any, error) {
	return q.list(wire.SCIMSchemaUser, scimUserFilters, func(f gatehouse.SCIMFilter) ([]any, int, error) {
		us, total, err := s.svc.SCIMUsers(q.ctx(), q.org.ID, f)
		items := make([]any, len(us))
		for i, u := range us {
			items[i] = toSCIMUser(u, q.base())
		}
		return items, total, err
	})
}

func (s *Server) scimGetUser(q *scimRequest) (int, any, error) {
	u, err := s.svc.SCIMUser(q.ctx(), q.org.ID, q.r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toSCIMUser(u, q.base()), nil
}

func (s *Server) scimCreateUser(q *scimRequest) (int, any, error) {
	var in wire.SCIMUser
	if err := q.decode(&in); err != nil {
		return 0, nil, err
	}
	u, err := s.svc.CreateSCIMUser(q.ctx(), q.org.ID, userInput(&in))
	if err != nil {
		return 0, nil, err
	}
	out := toSCIMUser(u, q.base())
	q.w.Header().Set("Location", out.Meta.Location)
	return http.StatusCreated, out, nil
}

func (s *Server) scimReplaceUser(q *scimRequest) (int, any, error) {
	var in wire.SCIMUser
	if err := q.decode(&in); err != nil {
		return 0, nil, err
	}
	if in.UserName == "" {
		return 0, nil, scimErrorf(http.StatusBadRequest, "invalidValue", "userName: required")
	}
	u, err := s.svc.UpdateSCIMUser(q.ctx(), q.org.ID, q.r.PathValue("id"), userInput(&in))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toSCIMUser(u, q.base()), nil
}

func (s *Server) scimPatchUser(q *scimRequest) (int, any, error) {
	ops, err := q.patchOps()
	if err != nil {
		return 0, nil, err
	}
	p, err := userPatch(ops)
	if err != nil {
		return 0, nil, err
	}
	u, err := s.svc.UpdateSCIMUser(q.ctx(), q.org.ID, q.r.PathValue("id"), p)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toSCIMUser(u, q.base()), nil
}

func (s *Server) scimDeleteUser(q *scimRequest) (int, any, error) {
	return http.StatusNoContent, nil, s.svc.DeleteSCIMUser(q.ctx(), q.org.ID, q.r.PathValue("id"))
}

func toSCIMGroup(v *service.SCIMGroupView, base string, withMembers bool) wire.SCIMGroup {
	g := wire.SCIMGroup{Schemas: []string{wire.SCIMSchemaGroup}, ID: v.Team.ID, ExternalID: v.ExternalID, DisplayName: v.Team.DisplayName}
	if withMembers {
		ms := make([]wire.SCIMValue, len(v.Members))
		for i, u := range v.Members {
			ms[i] = wire.SCIMValue{Value: u.ID, Display: u.Login, Ref: base + "/Users/" + u.ID}
		}
		g.Members = &ms
	}
	modified := v.Modified
	if modified.IsZero() {
		modified = v.Team.Created
	}
	g.Meta = &wire.SCIMMeta{ResourceType: gatehouse.SCIMGroups, Created: scimTime(v.Team.Created), LastModified: scimTime(modified),
		Location: base + "/Groups/" + v.Team.ID}
	return g
}

// withoutMembers reports whether excludedAttributes names members (as
// Okta and Entra ID ask, to list large groups cheaply).
func (q *scimRequest) withoutMembers() bool {
	for _, a := range strings.Split(q.r.URL.Query().Get("excludedAttributes"), ",") {
		if strings.EqualFold(stripSchema(strings.TrimSpace(a), wire.SCIMSchemaGroup), "members") {
			return true
		}
	}
	return false
}

func (s *Server) scimListGroups(q *scimRequest) (int, any, error) {
	return q.list(wire.SCIMSchemaGroup, scimGroupFilters, func(f gatehouse.SCIMFilter) ([]any, int, error) {
		gs, total, err := s.svc.SCIMGroups(q.ctx(), q.org.ID, f, q.withoutMembers())
		items := make([]any, len(gs))
		for i, g := range gs {
			items[i] = toSCIMGroup(g, q.base(), !q.withoutMembers())
		}
		return items, total, err
	})
}

func (s *Server) scimGetGroup(q *scimRequest) (int, any, error) {
	g, err := s.svc.SCIMGroup(q.ctx(), q.org.ID, q.r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toSCIMGroup(g, q.base(), !q.withoutMembers()), nil
}

// groupInput is a whole Group resource as a patch (POST and PUT): absent
// members are none.
func groupInput(in *wire.SCIMGroup) (service.SCIMGroupPatch, error) {
	ids := []string{}
	if in.Members != nil {
		for i, m := range *in.Members {
			if m.Value == "" {
				return service.SCIMGroupPatch{}, scimErrorf(http.StatusBadRequest, "invalidValue", "members[%d].value: required (the user's id)", i)
			}
			ids = append(ids, m.Value)
		}
	}
	return service.SCIMGroupPatch{DisplayName: &in.DisplayName, ExternalID: &in.ExternalID, Members: &ids}, nil
}

func (s *Server) scimCreateGroup(q *scimRequest) (int, any, error) {
	var in wire.SCIMGroup
	if err := q.decode(&in); err != nil {
		return 0, nil, err
	}
	p, err := groupInput(&in)
	if err != nil {
		return 0, nil, err
	}
	g, err := s.svc.CreateSCIMGroup(q.ctx(), q.org.ID, p)
	if err != nil {
		return 0, nil, err
	}
	out := toSCIMGroup(g, q.base(), true)
	q.w.Header().Set("Location", out.Meta.Location)
	return http.StatusCreated, out, nil
}

func (s *Server) scimReplaceGroup(q *scimRequest) (int, any, error) {
	var in wire.SCIMGroup
	if err := q.decode(&in); err != nil {
		return 0, nil, err
	}
	if strings.TrimSpace(in.DisplayName) == "" {
		return 0, nil, scimErrorf(http.StatusBadRequest, "invalidValue", "displayName: required")
	}
	p, err := groupInput(&in)
	if err != nil {
		return 0, nil, err
	}
	g, err := s.svc.UpdateSCIMGroup(q.ctx(), q.org.ID, q.r.PathValue("id"), p)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toSCIMGroup(g, q.base(), true), nil
}

func (s *Server) scimPatchGroup(q *scimRequest) (int, any, error) {
	ops, err := q.patchOps()
	if err != nil {
		return 0, nil, err
	}
	p, err := groupPatch(ops)
	if err != nil {
		return 0, nil, err
	}
	g, err := s.svc.UpdateSCIMGroup(q.ctx(), q.org.ID, q.r.PathValue("id"), p)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toSCIMGroup(g, q.base(), !q.withoutMembers()), nil
}

func (s *Server) scimDeleteGroup(q *scimRequest) (int, any, error) {
	return http.StatusNoContent, nil, s.svc.DeleteSCIMGroup(q.ctx(), q.org.ID, q.r.PathValue("id"))
}

// patchOps decodes a PatchOp body and checks its operations.
func (q *scimRequest) patchOps() ([]scimOp, error) {
	var in wire.SCIMPatch
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	return scimOps(&in)
}
