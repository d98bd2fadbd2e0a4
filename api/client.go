package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// Client is gatehouse.IAM over Gatehouse's HTTP API (or any service with
// Pulumi's wire format, for the parts it has).
type Client struct {
	BaseURL string
	Token   string
	HTTP    *http.Client
	// Observe, when set, is called with the body of every successful
	// response, as the server sent it: the CLI prints these for -o json,
	// so that its output is the API's own JSON, byte for byte what curl
	// would show (indented).
	Observe func(method, path string, body []byte)
}

var _ gatehouse.IAM = (*Client)(nil)

// do sends a request and decodes the JSON response into out. API errors
// come back as *gatehouse.Error with the server's message.
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "token "+c.Token)
	req.Header.Set("Accept", "application/vnd.pulumi+8")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 400 {
		var e wire.Error
		if json.Unmarshal(data, &e) != nil || e.Message == "" {
			e.Message = strings.TrimSpace(string(data))
		}
		return &gatehouse.Error{Code: codeOf(resp.StatusCode), Message: e.Message, Err: &StatusError{Status: resp.StatusCode}}
	}
	if c.Observe != nil {
		c.Observe(method, path, data)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode response: %w", method, path, err)
		}
	}
	return nil
}

// StatusError is the cause of an API error the client returns: the HTTP
// status the server answered with (the message is the *gatehouse.Error's).
type StatusError struct {
	Status int
}

func (e *StatusError) Error() string { return fmt.Sprintf("HTTP %d", e.Status) }

// codeOf is the error code of an HTTP status, the inverse of statusOf.
func codeOf(status int) string {
	for code, s := range codeStatus {
		if s == status {
			return code
		}
	}
	return gatehouse.EINTERNAL
}

func orgPath(org string, parts ...string) string {
	p := "/api/orgs/" + url.PathEscape(org)
	for _, s := range parts {
		p += "/" + url.PathEscape(s)
	}
	return p
}

// WhoAmI implements gatehouse.IAM.
func (c *Client) WhoAmI(ctx context.Context) (*gatehouse.WhoAmI, error) {
	var u wire.User
	if err := c.do(ctx, "GET", "/api/user", nil, &u); err != nil {
		return nil, err
	}
	w := &gatehouse.WhoAmI{Login: u.GitHubLogin}
	for _, o := range u.Organizations {
		w.Organizations = append(w.Organizations, o.GitHubLogin)
	}
	if u.TokenInfo != nil {
		w.TokenName, w.Team = u.TokenInfo.Name, u.TokenInfo.Team
	}
	return w, nil
}

func fromDescriptor(j wire.Role) *gatehouse.Descriptor {
	d := &gatehouse.Descriptor{ID: j.ID, OrgID: j.OrgID, Name: j.Name, Description: j.Description, Purpose: j.UXPurpose,
		Details: j.Details, Version: j.Version, DefaultIdentifier: j.DefaultIdentifier, Created: j.Created, Modified: j.Modified}
	d.ResourceType.UnmarshalText([]byte(j.ResourceType))
	return d
}

// Roles implements gatehouse.IAM.
func (c *Client) Roles(ctx context.Context, org, purpose string) ([]*gatehouse.Descriptor, error) {
	var out wire.ListRolesResponse
	if err := c.do(ctx, "GET", orgPath(org, "roles")+"?uxPurpose="+url.QueryEscape(purpose), nil, &out); err != nil {
		return nil, err
	}
	ds := make([]*gatehouse.Descriptor, len(out.Roles))
	for i, r := range out.Roles {
		ds[i] = fromDescriptor(r)
	}
	return ds, nil
}

// Role implements gatehouse.IAM.
func (c *Client) Role(ctx context.Context, org, id string) (*gatehouse.Descriptor, error) {
	var out wire.Role
	if err := c.do(ctx, "GET", orgPath(org, "roles", id), nil, &out); err != nil {
		return nil, err
	}
	return fromDescriptor(out), nil
}

// CreateRole implements gatehouse.IAM.
func (c *Client) CreateRole(ctx context.Context, org string, in gatehouse.RoleInput, policyAndRole bool) (*gatehouse.Descriptor, error) {
	body := wire.CreateRoleRequest{Name: in.Name, Description: in.Description, Details: in.Details}
	if in.Purpose != "" {
		body.UXPurpose = &in.Purpose
	}
	if in.ResourceType != "" {
		body.ResourceType = &in.ResourceType
	}
	path := orgPath(org, "roles")
	if policyAndRole {
		path += "?createPolicyAndRole=true"
	}
	var out wire.Role
	if err := c.do(ctx, "POST", path, body, &out); err != nil {
		return nil, err
	}
	return fromDescriptor(out), nil
}

// UpdateRole implements gatehouse.IAM.
func (c *Client) UpdateRole(ctx context.Context, org, id string, in gatehouse.RoleInput) (*gatehouse.Descriptor, error) {
	var out wire.Role
	if err := c.do(ctx, "PATCH", orgPath(org, "roles", id), wire.UpdateRoleRequest{Name: in.Name, Description: in.Description, Details: in.Details}, &out); err != nil {
		return nil, err
	}
	return fromDescriptor(out), nil
}

// DeleteRole implements gatehouse.IAM.
func (c *Client) DeleteRole(ctx context.Context, org, id string, force bool) error {
	path := orgPath(org, "roles", id)
	if force {
		path += "?force=true"
	}
	return c.do(ctx, "DELETE", path, nil, nil)
}

// SetDefaultRole implements gatehouse.IAM.
func (c *Client) SetDefaultRole(ctx context.Context, org, id string) error {
	return c.do(ctx, "PATCH", orgPath(org, "roles", id, "default"), nil, nil)
}

func fromMember(m wire.Member) *gatehouse.Member {
	return &gatehouse.Member{Login: m.User.GitHubLogin, Name: m.User.Name, RoleID: m.FGARole.ID, RoleName: m.FGARole.Name,
		Suspended: m.Suspended, Created: m.Created}
}

// Members implements gatehouse.IAM.
func (c *Client) Members(ctx context.Context, org string) ([]*gatehouse.Member, error) {
	var all []*gatehouse.Member
	next := ""
	for {
		var out wire.ListMembersResponse
		path := orgPath(org, "members") + "?includeSuspended=true"
		if next != "" {
			path += "&continuationToken=" + url.QueryEscape(next)
		}
		if err := c.do(ctx, "GET", path, nil, &out); err != nil {
			return nil, err
		}
		for _, m := range out.Members {
			all = append(all, fromMember(m))
		}
		if next = out.ContinuationToken; next == "" {
			return all, nil
		}
	}
}

// AddMember implements gatehouse.IAM.
func (c *Client) AddMember(ctx context.Context, org, login, role string) (*gatehouse.Member, error) {
	var raw json.RawMessage
	if err := c.do(ctx, "POST", orgPath(org, "members", login), wire.AddMemberRequest{Role: role}, &raw); err != nil {
		return nil, err
	}
	// A user the organization does not manage is invited instead (202).
	var inv wire.Invite
	if json.Unmarshal(raw, &inv) == nil && inv.Status == "pending" {
		return &gatehouse.Member{Login: inv.User.GitHubLogin, RoleID: inv.RoleID, RoleName: "invited as " + inv.RoleName + " (joins on accepting)"}, nil
	}
	var out wire.Member
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	return fromMember(out), nil
}

// SetMemberRole implements gatehouse.IAM.
func (c *Client) SetMemberRole(ctx context.Context, org, login, roleID string) error {
	return c.do(ctx, "PATCH", orgPath(org, "members", login), wire.UpdateMemberRequest{FGARoleID: roleID}, nil)
}

// RemoveMember implements gatehouse.IAM.
func (c *Client) RemoveMember(ctx context.Context, org, login string) error {
	return c.do(ctx, "DELETE", orgPath(org, "members", login), nil, nil)
}

// Teams implements gatehouse.IAM.
func (c *Client) Teams(ctx context.Context, org string) ([]*gatehouse.Team, error) {
	var out wire.ListTeamsResponse
	if err := c.do(ctx, "GET", orgPath(org, "teams"), nil, &out); err != nil {
		return nil, err
	}
	ts := make([]*gatehouse.Team, len(out.Teams))
	for i, t := range out.Teams {
		ts[i] = &gatehouse.Team{Kind: t.Kind, Name: t.Name, DisplayName: t.DisplayName, Description: t.Description}
	}
	return ts, nil
}

// CreateTeam implements gatehouse.IAM.
func (c *Client) CreateTeam(ctx context.Context, org, name, displayName, description string) (*gatehouse.Team, error) {
	var out wire.Team
	err := c.do(ctx, "POST", orgPath(org, "teams", "pulumi"), wire.CreateTeamRequest{Name: name, DisplayName: displayName, Description: description}, &out)
	if err != nil {
		return nil, err
	}
	return &gatehouse.Team{Kind: out.Kind, Name: out.Name, DisplayName: out.DisplayName, Description: out.Description}, nil
}

// DeleteTeam implements gatehouse.IAM.
func (c *Client) DeleteTeam(ctx context.Context, org, name string) error {
	return c.do(ctx, "DELETE", orgPath(org, "teams", name), nil, nil)
}

// TeamMember implements gatehouse.IAM.
func (c *Client) TeamMember(ctx context.Context, org, team, login, action string) error {
	return c.do(ctx, "PATCH", orgPath(org, "teams", team), wire.UpdateTeamRequest{MemberAction: action, Member: login}, nil)
}

// AssignTeamRole implements gatehouse.IAM.
func (c *Client) AssignTeamRole(ctx context.Context, org, team, roleID string) error {
	return c.do(ctx, "POST", orgPath(org, "teams", team, "roles", roleID), nil, nil)
}

// UnassignTeamRole implements gatehouse.IAM.
func (c *Client) UnassignTeamRole(ctx context.Context, org, team, roleID string) error {
	return c.do(ctx, "DELETE", orgPath(org, "teams", team, "roles", roleID), nil, nil)
}

func tokensPath(org, team string) string {
	switch {
	case org == "":
		return "/api/user/tokens"
	case team != "":
		return orgPath(org, "teams", team, "tokens")
	}
	return orgPath(org, "tokens")
}

// Tokens implements gatehouse.IAM.
func (c *Client) Tokens(ctx context.Context, org, team string) ([]*gatehouse.Token, error) {
	var out wire.ListTokensResponse
	if err := c.do(ctx, "GET", tokensPath(org, team)+"?filter=all", nil, &out); err != nil {
		return nil, err
	}
	ts := make([]*gatehouse.Token, len(out.Tokens))
	for i, j := range out.Tokens {
		t := &gatehouse.Token{ID: j.ID, Kind: j.Type, Name: j.Name, Description: j.Description}
		t.Created, _ = time.Parse(time.RFC3339, j.Created)
		if j.Expires > 0 {
			t.Expires = time.Unix(j.Expires, 0)
		}
		if j.LastUsed > 0 {
			t.LastUsed = time.Unix(j.LastUsed, 0)
		}
		if j.Role != nil {
			t.RoleID = j.Role.ID
		}
		if j.CreatedBy != nil {
			t.CreatedBy = *j.CreatedBy
		}
		ts[i] = t
	}
	return ts, nil
}

// CreateToken implements gatehouse.IAM.
func (c *Client) CreateToken(ctx context.Context, org string, req gatehouse.TokenRequest) (*gatehouse.CreatedToken, error) {
	var expires int64
	if !req.Expires.IsZero() {
		expires = req.Expires.Unix()
	}
	// A personal token has no name and no role: its body is a smaller
	// type, and the server refuses unknown fields.
	var body any = wire.CreatePersonalTokenRequest{Description: req.Description, Expires: expires}
	if org != "" {
		body = wire.CreateTokenRequest{Name: req.Name, Description: req.Description, Expires: expires, RoleID: req.RoleID}
	}

	var out wire.CreateTokenResponse
	if err := c.do(ctx, "POST", tokensPath(org, req.Team), body, &out); err != nil {
		return nil, err
	}
	return &gatehouse.CreatedToken{ID: out.ID, Value: out.TokenValue}, nil
}

// RevokeToken implements gatehouse.IAM.
func (c *Client) RevokeToken(ctx context.Context, org, team, id string) error {
	return c.do(ctx, "DELETE", tokensPath(org, team)+"/"+url.PathEscape(id), nil, nil)
}

// Check implements gatehouse.IAM.
func (c *Client) Check(ctx context.Context, org string, checks []gatehouse.CheckRequest) ([]gatehouse.CheckResult, error) {
	var out wire.CheckResponse
	if err := c.do(ctx, "POST", orgPath(org, "authz", "check"), wire.CheckRequest{Checks: checks}, &out); err != nil {
		return nil, err
	}
	return out.Results, nil
}

func auditParams(f gatehouse.AuditFilter) url.Values {
	v := url.Values{}
	if !f.From.IsZero() {
		v.Set("startTime", strconv.FormatInt(f.From.Unix(), 10))
	}
	if !f.To.IsZero() {
		v.Set("endTime", strconv.FormatInt(f.To.Add(-time.Second).Unix(), 10))
	}
	for _, t := range f.Types {
		v.Add("eventFilter", t)
	}
	for _, u := range f.ActorLogins {
		v.Add("userFilter", u)
	}
	if f.Class != "" {
		v.Set("class", f.Class)
	}
	return v
}

// AuditEvents implements gatehouse.IAM (v2: newest first).
func (c *Client) AuditEvents(ctx context.Context, org string, f gatehouse.AuditFilter, opts gatehouse.ListOptions) ([]*gatehouse.AuditEvent, string, error) {
	v := auditParams(f)
	if opts.Continuation != "" {
		v.Set("continuationToken", opts.Continuation)
	}
	if opts.Limit > 0 {
		v.Set("pageSize", strconv.Itoa(opts.Limit))
	}
	var out wire.ListAuditEventsResponse
	if err := c.do(ctx, "GET", orgPath(org, "auditlogs", "v2")+"?"+v.Encode(), nil, &out); err != nil {
		return nil, "", err
	}
	events := make([]*gatehouse.AuditEvent, len(out.AuditLogEvents))
	for i, j := range out.AuditLogEvents {
		e := &gatehouse.AuditEvent{Time: time.Unix(j.Timestamp, 0), Type: j.Event, Description: j.Description, ActorLogin: j.User.GitHubLogin,
			TokenID: j.TokenID, TokenName: j.TokenName, SourceIP: j.SourceIP, UserAgent: j.UserAgent, RequestID: j.RequestID, Entity: j.Entity,
			ReqOrgAdmin: j.ReqOrgAdmin, ReqStackAdmin: j.ReqStackAdmin, AuthFailure: j.AuthFailure}
		e.Data = j.Details
		events[i] = e
	}
	return events, out.ContinuationToken, nil
}

// ExportAudit implements gatehouse.IAM: the server's gzip-compressed
// export, decompressed into w.
func (c *Client) ExportAudit(ctx context.Context, org string, f gatehouse.AuditFilter, format string, w io.Writer) error {
	v := auditParams(f)
	v.Set("format", format)
	req, err := http.NewRequestWithContext(ctx, "GET", strings.TrimRight(c.BaseURL, "/")+orgPath(org, "auditlogs", "v2", "export")+"?"+v.Encode(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "token "+c.Token)
	// With Accept-Encoding set by the transport itself, Go decompresses
	// the gzip body transparently.
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Minute}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var e wire.Error
		if json.Unmarshal(data, &e) != nil || e.Message == "" {
			e.Message = strings.TrimSpace(string(data))
		}
		return &gatehouse.Error{Code: codeOf(resp.StatusCode), Message: e.Message, Err: &StatusError{Status: resp.StatusCode}}
	}
	_, err = io.Copy(w, resp.Body)
	return err
}

func fromIssuer(j wire.Issuer) *gatehouse.Issuer {
	i := &gatehouse.Issuer{ID: j.ID, Name: j.Name, URL: j.URL, Issuer: j.Issuer, Thumbprints: j.Thumbprints, JWKS: j.JWKS,
		MaxExpiration: time.Duration(j.MaxExpiration) * time.Second}
	i.Created, _ = time.Parse(issuerTime, j.Created)
	i.LastUsed, _ = time.Parse(issuerTime, j.LastUsed)
	return i
}

// Issuers implements gatehouse.IAM.
func (c *Client) Issuers(ctx context.Context, org string) ([]*gatehouse.Issuer, error) {
	var out wire.ListIssuersResponse
	if err := c.do(ctx, "GET", orgPath(org, "oidc", "issuers"), nil, &out); err != nil {
		return nil, err
	}
	is := make([]*gatehouse.Issuer, len(out.OIDCIssuers))
	for i, j := range out.OIDCIssuers {
		is[i] = fromIssuer(j)
	}
	return is, nil
}

// RegisterIssuer implements gatehouse.IAM.
func (c *Client) RegisterIssuer(ctx context.Context, org, name, issuerURL string, maxExpiration time.Duration) (*gatehouse.Issuer, error) {
	body := wire.IssuerRequest{Name: name, URL: issuerURL}
	if maxExpiration > 0 {
		secs := int64(maxExpiration / time.Second)
		body.MaxExpiration = &secs
	}
	var out wire.Issuer
	if err := c.do(ctx, "POST", orgPath(org, "oidc", "issuers"), body, &out); err != nil {
		return nil, err
	}
	return fromIssuer(out), nil
}

// DeleteIssuer implements gatehouse.IAM.
func (c *Client) DeleteIssuer(ctx context.Context, org, id string) error {
	return c.do(ctx, "DELETE", orgPath(org, "oidc", "issuers", id), nil, nil)
}

// IssuerPolicy implements gatehouse.IAM.
func (c *Client) IssuerPolicy(ctx context.Context, org, issuerID string) (*gatehouse.AuthPolicy, []gatehouse.AuthPolicyRule, error) {
	var out wire.AuthPolicy
	if err := c.do(ctx, "GET", orgPath(org, "auth", "policies", "oidcissuers", issuerID), nil, &out); err != nil {
		return nil, nil, err
	}
	raw, _ := json.Marshal(out.Policies)
	return &gatehouse.AuthPolicy{ID: out.ID, IssuerID: issuerID, Version: out.Version, Policies: raw}, out.Policies, nil
}

// SetIssuerPolicy implements gatehouse.IAM.
func (c *Client) SetIssuerPolicy(ctx context.Context, org, issuerID string, rules []gatehouse.AuthPolicyRule) (*gatehouse.AuthPolicy, error) {
	p, _, err := c.IssuerPolicy(ctx, org, issuerID)
	if err != nil {
		return nil, err
	}
	var out wire.AuthPolicy
	if err := c.do(ctx, "PATCH", orgPath(org, "auth", "policies", p.ID), wire.UpdateAuthPolicyRequest{Policies: rules}, &out); err != nil {
		return nil, err
	}
	raw, _ := json.Marshal(out.Policies)
	return &gatehouse.AuthPolicy{ID: out.ID, IssuerID: issuerID, Version: out.Version, Policies: raw}, nil
}

// Invites lists an organization's pending invitations.
func (c *Client) Invites(ctx context.Context, org string) ([]wire.Invite, error) {
	var out wire.ListInvitesResponse
	return out.Invites, c.do(ctx, "GET", orgPath(org, "invites"), nil, &out)
}

// Invite invites an existing user to an organization.
func (c *Client) Invite(ctx context.Context, org string, req wire.InviteRequest) (*wire.Invite, error) {
	var out wire.Invite
	if err := c.do(ctx, "POST", orgPath(org, "invites"), req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateInvite changes a pending invitation's role or expiry.
func (c *Client) UpdateInvite(ctx context.Context, org, id string, req wire.InviteRequest) (*wire.Invite, error) {
	var out wire.Invite
	if err := c.do(ctx, "PATCH", orgPath(org, "invites", id), req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RevokeInvite withdraws a pending invitation.
func (c *Client) RevokeInvite(ctx context.Context, org, id string) error {
	return c.do(ctx, "DELETE", orgPath(org, "invites", id), nil, nil)
}

// PendingInvites lists the invitations sent to the signed-in user.
func (c *Client) PendingInvites(ctx context.Context) ([]wire.Invite, error) {
	var out wire.ListInvitesResponse
	return out.Invites, c.do(ctx, "GET", "/api/user/pending-invites", nil, &out)
}

// AcceptInvite accepts an invitation sent to the signed-in user, who joins
// its organization with its role.
func (c *Client) AcceptInvite(ctx context.Context, id string) (*wire.Invite, error) {
	var out wire.Invite
	if err := c.do(ctx, "POST", "/api/user/pending-invites/"+url.PathEscape(id)+"/accept", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeclineInvite declines an invitation sent to the signed-in user.
func (c *Client) DeclineInvite(ctx context.Context, id string) error {
	return c.do(ctx, "POST", "/api/user/pending-invites/"+url.PathEscape(id)+"/decline", nil, nil)
}

// CreateSCIMToken makes the organization's SCIM provisioning token,
// revoking the one before; its value is shown once.
func (c *Client) CreateSCIMToken(ctx context.Context, org string) (*wire.SCIMTokenResponse, error) {
	var out wire.SCIMTokenResponse
	if err := c.do(ctx, "POST", orgPath(org, "scim", "token"), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
