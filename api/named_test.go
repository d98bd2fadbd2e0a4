package api_test

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
)

// Named is gatehouse.IAM in process over the service, for the test that
// checks api.Client (the production implementation) against it:
// organizations by name, and no authorization of its own. Actor is the user
// whose personal tokens it manages and to whom it attributes tokens it
// creates.
type Named struct {
	S     *service.Service
	Actor *gatehouse.User
	// Verifier registers OIDC issuers.
	Verifier gatehouse.IDTokenVerifier
}

var _ gatehouse.IAM = (*Named)(nil)

func (n *Named) org(ctx context.Context, name string) (*gatehouse.Organization, error) {
	return testenv.OrgByName(ctx, n.S, name)
}

func (n *Named) actorID() string {
	if n.Actor == nil {
		return ""
	}
	return n.Actor.ID
}

// WhoAmI implements gatehouse.IAM.
func (n *Named) WhoAmI(ctx context.Context) (*gatehouse.WhoAmI, error) {
	if n.Actor == nil {
		return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "no acting user")
	}
	orgs, err := n.S.UserOrgs(ctx, n.Actor.ID)
	if err != nil {
		return nil, err
	}
	w := &gatehouse.WhoAmI{Login: n.Actor.Login}
	for _, o := range orgs {
		w.Organizations = append(w.Organizations, o.Name)
	}
	return w, nil
}

// Roles implements gatehouse.IAM.
func (n *Named) Roles(ctx context.Context, org, purpose string) ([]*gatehouse.Descriptor, error) {
	o, err := n.org(ctx, org)
	if err != nil {
		return nil, err
	}
	var all []*gatehouse.Descriptor
	opts := gatehouse.ListOptions{Limit: gatehouse.MaxListLimit}
	for {
		ds, next, err := n.S.Descriptors(ctx, o.ID, purpose, opts)
		if err != nil {
			return nil, err
		}
		all = append(all, ds...)
		if opts.Continuation = next; next == "" {
			return all, nil
		}
	}
}

// Role implements gatehouse.IAM.
func (n *Named) Role(ctx context.Context, org, id string) (*gatehouse.Descriptor, error) {
	o, err := n.org(ctx, org)
	if err != nil {
		return nil, err
	}
	return n.S.Descriptor(ctx, o.ID, id)
}

func input(in gatehouse.RoleInput) service.DescriptorInput {
	d := service.DescriptorInput{Name: in.Name, Description: in.Description, Details: in.Details}
	if in.Purpose != "" {
		d.Purpose = &in.Purpose
	}
	if in.ResourceType != "" {
		d.ResourceType = &in.ResourceType
	}
	return d
}

// CreateRole implements gatehouse.IAM.
func (n *Named) CreateRole(ctx context.Context, org string, in gatehouse.RoleInput, policyAndRole bool) (*gatehouse.Descriptor, error) {
	o, err := n.org(ctx, org)
	if err != nil {
		return nil, err
	}
	return n.S.CreateDescriptor(ctx, o.ID, input(in), policyAndRole)
}

// UpdateRole implements gatehouse.IAM.
func (n *Named) UpdateRole(ctx context.Context, org, id string, in gatehouse.RoleInput) (*gatehouse.Descriptor, error) {
	o, err := n.org(ctx, org)
	if err != nil {
		return nil, err
	}
	return n.S.UpdateDescriptor(ctx, o.ID, id, input(in))
}

// DeleteRole implements gatehouse.IAM.
func (n *Named) DeleteRole(ctx context.Context, org, id string, force bool) error {
	o, err := n.org(ctx, org)
	if err != nil {
		return err
	}
	return n.S.DeleteDescriptor(ctx, o.ID, id, force)
}

// SetDefaultRole implements gatehouse.IAM.
func (n *Named) SetDefaultRole(ctx context.Context, org, id string) error {
	o, err := n.org(ctx, org)
	if err != nil {
		return err
	}
	return n.S.SetDefaultRole(ctx, o.ID, id)
}

func toMember(v *service.MemberView) *gatehouse.Member {
	return &gatehouse.Member{Login: v.User.Login, Name: v.User.Name, RoleID: v.Role.ID, RoleName: v.Role.Name,
		Suspended: v.Membership.Suspended, Created: v.Membership.Created}
}

// Members implements gatehouse.IAM.
func (n *Named) Members(ctx context.Context, org string) ([]*gatehouse.Member, error) {
	o, err := n.org(ctx, org)
	if err != nil {
		return nil, err
	}
	var out []*gatehouse.Member
	opts := gatehouse.ListOptions{Limit: gatehouse.MaxListLimit}
	for {
		vs, next, err := n.S.Members(ctx, o.ID, opts)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			out = append(out, toMember(v))
		}
		if opts.Continuation = next; next == "" {
			return out, nil
		}
	}
}

// AddMember implements gatehouse.IAM.
func (n *Named) AddMember(ctx context.Context, org, login, role string) (*gatehouse.Member, error) {
	o, err := n.org(ctx, org)
	if err != nil {
		return nil, err
	}
	v, err := n.S.AddMember(ctx, o.ID, login, role)
	if err != nil {
		return nil, err
	}
	return toMember(v), nil
}

// SetMemberRole implements gatehouse.IAM.
func (n *Named) SetMemberRole(ctx context.Context, org, login, roleID string) error {
	o, err := n.org(ctx, org)
	if err != nil {
		return err
	}
	return n.S.UpdateMember(ctx, o.ID, login, "", roleID)
}

// RemoveMember implements gatehouse.IAM.
func (n *Named) RemoveMember(ctx context.Context, org, login string) error {
	o, err := n.org(ctx, org)
	if err != nil {
		return err
	}
	return n.S.RemoveMember(ctx, o.ID, login, &gatehouse.Identity{User: n.Actor})
}

// Teams implements gatehouse.IAM.
func (n *Named) Teams(ctx context.Context, org string) ([]*gatehouse.Team, error) {
	o, err := n.org(ctx, org)
	if err != nil {
		return nil, err
	}
	ts, _, err := n.S.Teams(ctx, o.ID, gatehouse.ListOptions{Limit: gatehouse.MaxListLimit})
	return ts, err
}

// CreateTeam implements gatehouse.IAM.
func (n *Named) CreateTeam(ctx context.Context, org, name, displayName, description string) (*gatehouse.Team, error) {
	o, err := n.org(ctx, org)
	if err != nil {
		return nil, err
	}
	return n.S.CreateTeam(ctx, o.ID, name, displayName, description)
}

// DeleteTeam implements gatehouse.IAM.
func (n *Named) DeleteTeam(ctx context.Context, org, name string) error {
	o, err := n.org(ctx, org)
	if err != nil {
		return err
	}
	return n.S.DeleteTeam(ctx, o.ID, name)
}

// TeamMember implements gatehouse.IAM.
func (n *Named) TeamMember(ctx context.Context, org, team, login, action string) error {
	o, err := n.org(ctx, org)
	if err != nil {
		return err
	}
	return n.S.SetTeamMember(ctx, o.ID, team, action, login)
}

// AssignTeamRole implements gatehouse.IAM.
func (n *Named) AssignTeamRole(ctx context.Context, org, team, roleID string) error {
	o, err := n.org(ctx, org)
	if err != nil {
		return err
	}
	return n.S.AddTeamRole(ctx, o.ID, team, roleID)
}

// UnassignTeamRole implements gatehouse.IAM.
func (n *Named) UnassignTeamRole(ctx context.Context, org, team, roleID string) error {
	o, err := n.org(ctx, org)
	if err != nil {
		return err
	}
	return n.S.RemoveTeamRole(ctx, o.ID, team, roleID)
}

func (n *Named) tokenFilter(ctx context.Context, org, team string) (gatehouse.TokenFilter, string, error) {
	if org == "" {
		if n.Actor == nil {
			return gatehouse.TokenFilter{}, "", gatehouse.Errorf(gatehouse.EINVALID, "personal tokens need an acting user")
		}
		return gatehouse.TokenFilter{UserID: n.Actor.ID, Kind: gatehouse.TokenPersonal}, "", nil
	}
	o, err := n.org(ctx, org)
	if err != nil {
		return gatehouse.TokenFilter{}, "", err
	}
	if team == "" {
		return gatehouse.TokenFilter{OrgID: o.ID, Kind: gatehouse.TokenOrganization}, o.ID, nil
	}
	id, err := n.S.TeamID(ctx, o.ID, team)
	return gatehouse.TokenFilter{OrgID: o.ID, TeamID: id, Kind: gatehouse.TokenTeam}, o.ID, err
}

// Tokens implements gatehouse.IAM.
func (n *Named) Tokens(ctx context.Context, org, team string) ([]*gatehouse.Token, error) {
	f, _, err := n.tokenFilter(ctx, org, team)
	if err != nil {
		return nil, err
	}
	f.IncludeDeleted = true
	vs, _, err := n.S.Tokens(ctx, service.TokenFilter{TokenFilter: f, ListOptions: gatehouse.ListOptions{Limit: gatehouse.MaxListLimit}})
	var ts []*gatehouse.Token
	for _, v := range vs {
		ts = append(ts, v.Token)
	}
	return ts, err
}

// CreateToken implements gatehouse.IAM.
func (n *Named) CreateToken(ctx context.Context, org string, req gatehouse.TokenRequest) (*gatehouse.CreatedToken, error) {
	f, orgID, err := n.tokenFilter(ctx, org, req.Team)
	if err != nil {
		return nil, err
	}
	in := service.TokenInput{Kind: f.Kind, OrgID: orgID, UserID: f.UserID, TeamName: req.Team, Name: req.Name,
		Description: req.Description, RoleID: req.RoleID, CreatedBy: n.actorID()}
	if !req.Expires.IsZero() {
		in.Expires = req.Expires.Unix()
	}
	t, value, err := n.S.CreateToken(ctx, in)
	if err != nil {
		return nil, err
	}
	return &gatehouse.CreatedToken{ID: t.ID, Value: value}, nil
}

// RevokeToken implements gatehouse.IAM.
func (n *Named) RevokeToken(ctx context.Context, org, team, id string) error {
	f, _, err := n.tokenFilter(ctx, org, team)
	if err != nil {
		return err
	}
	return n.S.RevokeToken(ctx, id, func(t *gatehouse.Token) error {
		if t.Kind != f.Kind || (f.OrgID != "" && t.OrgID != f.OrgID) || (f.UserID != "" && t.UserID != f.UserID) || (f.TeamID != "" && t.TeamID != f.TeamID) {
			return gatehouse.Errorf(gatehouse.ENOTFOUND, "token %q not found", id)
		}
		return nil
	})
}

// Check implements gatehouse.IAM.
func (n *Named) Check(ctx context.Context, org string, checks []gatehouse.CheckRequest) ([]gatehouse.CheckResult, error) {
	o, err := n.org(ctx, org)
	if err != nil {
		return nil, err
	}
	out, _ := n.S.Check(ctx, o.ID, checks)
	return out, nil
}

// AuditEvents implements gatehouse.IAM.
func (n *Named) AuditEvents(ctx context.Context, org string, f gatehouse.AuditFilter, opts gatehouse.ListOptions) ([]*gatehouse.AuditEvent, string, error) {
	o, err := n.org(ctx, org)
	if err != nil {
		return nil, "", err
	}
	f.Descending = true
	return n.S.AuditEvents(ctx, o.ID, f, opts)
}

// ExportAudit implements gatehouse.IAM.
func (n *Named) ExportAudit(ctx context.Context, org string, f gatehouse.AuditFilter, format string, w io.Writer) error {
	o, err := n.org(ctx, org)
	if err != nil {
		return err
	}
	aw, err := gatehouse.NewAuditWriter(w, format)
	if err != nil {
		return err
	}
	f.Descending = true
	opts := gatehouse.ListOptions{Limit: gatehouse.MaxListLimit}
	for {
		events, next, err := n.S.AuditEvents(ctx, o.ID, f, opts)
		if err != nil {
			return err
		}
		for _, e := range events {
			if err := aw.Write(e); err != nil {
				return err
			}
		}
		if opts.Continuation = next; next == "" {
			return aw.Flush()
		}
	}
}

// Issuers implements gatehouse.IAM.
func (n *Named) Issuers(ctx context.Context, org string) ([]*gatehouse.Issuer, error) {
	o, err := n.org(ctx, org)
	if err != nil {
		return nil, err
	}
	return n.S.Issuers(ctx, o.ID)
}

// RegisterIssuer implements gatehouse.IAM.
func (n *Named) RegisterIssuer(ctx context.Context, org, name, url string, maxExpiration time.Duration) (*gatehouse.Issuer, error) {
	o, err := n.org(ctx, org)
	if err != nil {
		return nil, err
	}
	if n.Verifier == nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "no OIDC verifier configured")
	}
	in := service.IssuerInput{Name: name, URL: url}
	if maxExpiration > 0 {
		in.MaxExpiration = &maxExpiration
	}
	return n.S.RegisterIssuer(ctx, n.Verifier, o.ID, in)
}

// DeleteIssuer implements gatehouse.IAM.
func (n *Named) DeleteIssuer(ctx context.Context, org, id string) error {
	o, err := n.org(ctx, org)
	if err != nil {
		return err
	}
	return n.S.DeleteIssuer(ctx, o.ID, id)
}

// IssuerPolicy implements gatehouse.IAM.
func (n *Named) IssuerPolicy(ctx context.Context, org, issuerID string) (*gatehouse.AuthPolicy, []gatehouse.AuthPolicyRule, error) {
	o, err := n.org(ctx, org)
	if err != nil {
		return nil, nil, err
	}
	p, err := n.S.IssuerPolicy(ctx, o.ID, issuerID)
	if err != nil {
		return nil, nil, err
	}
	var rules []gatehouse.AuthPolicyRule
	err = json.Unmarshal(p.Policies, &rules)
	return p, rules, err
}

// SetIssuerPolicy implements gatehouse.IAM.
func (n *Named) SetIssuerPolicy(ctx context.Context, org, issuerID string, rules []gatehouse.AuthPolicyRule) (*gatehouse.AuthPolicy, error) {
	o, err := n.org(ctx, org)
	if err != nil {
		return nil, err
	}
	p, err := n.S.IssuerPolicy(ctx, o.ID, issuerID)
	if err != nil {
		return nil, err
	}
	return n.S.UpdatePolicy(ctx, o.ID, p.ID, rules)
}
