package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

func sortStrings(s []string) { sort.Strings(s) }

// Default and largest lifetimes of exchanged tokens.
const (
	DefaultExchangeLifetime = 2 * time.Hour
	DefaultIssuerMax        = 25 * time.Hour
	MaxIssuerMax            = 31 * 24 * time.Hour
)

// IssuerInput registers or changes an issuer.
type IssuerInput struct {
	Name          string
	URL           string
	Thumbprints   []string
	JWKS          json.RawMessage
	MaxExpiration *time.Duration
}

var tokenKinds = []string{gatehouse.TokenOrganization, gatehouse.TokenTeam, gatehouse.TokenPersonal, gatehouse.TokenRunner}

func checkIssuerFields(in IssuerInput) error {
	if in.Name == "" || len(in.Name) > 100 {
		return gatehouse.Errorf(gatehouse.EINVALID, "name: the issuer name is required (1 to 100 characters)")
	}
	for i, tp := range in.Thumbprints {
		if len(tp) != 64 || strings.Trim(strings.ToLower(tp), "0123456789abcdef") != "" {
			return gatehouse.Errorf(gatehouse.EINVALID, "thumbprints[%d]: %q is not a SHA-256 thumbprint (64 hex digits)", i, tp)
		}
	}
	if in.MaxExpiration != nil && (*in.MaxExpiration < 0 || *in.MaxExpiration > MaxIssuerMax) {
		return gatehouse.Errorf(gatehouse.EINVALID, "maxExpiration: %s is out of range (0 to %s)", *in.MaxExpiration, MaxIssuerMax)
	}
	if len(in.JWKS) > 0 {
		var ks struct {
			Keys []map[string]any `json:"keys"`
		}
		if err := json.Unmarshal(in.JWKS, &ks); err != nil || len(ks.Keys) == 0 {
			return gatehouse.Errorf(gatehouse.EINVALID, "jwks: want a JSON Web Key Set with at least one key")
		}
	}
	return nil
}

func lower(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(s)
	}
	return out
}

// RegisterIssuer registers an OIDC issuer: it fetches the issuer's
// configuration and keys and pins the serving certificate's thumbprint
// (unless thumbprints or a static key set are given). The new issuer's
// policy denies everything.
func (s *Service) RegisterIssuer(ctx context.Context, v gatehouse.IDTokenVerifier, orgID string, in IssuerInput) (*gatehouse.Issuer, error) {
	if err := checkIssuerFields(in); err != nil {
		return nil, err
	}
	u, err := url.Parse(in.URL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "url: %q is not an https:// URL", in.URL)
	}
	// The URL is kept as given: discovery's issuer must be identical to it
	// (OpenID Connect Discovery §4.3), trailing slash included (Auth0's
	// issuers end with one).
	iss := &gatehouse.Issuer{OrgID: orgID, Name: in.Name, URL: in.URL, Thumbprints: lower(in.Thumbprints), JWKS: in.JWKS,
		MaxExpiration: DefaultIssuerMax}
	if in.MaxExpiration != nil && *in.MaxExpiration > 0 {
		iss.MaxExpiration = *in.MaxExpiration
	}
	if len(in.JWKS) > 0 {
		iss.Issuer = iss.URL
	} else {
		d, err := v.Discover(ctx, iss.URL, iss.Thumbprints)
		if err != nil {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "url: %v", err)
		}
		iss.Issuer, iss.Thumbprints = d.Issuer, d.Thumbprints
	}
	pol := &gatehouse.AuthPolicy{}
	pol.Policies, _ = json.Marshal([]gatehouse.AuthPolicyRule{{Decision: "deny", TokenType: gatehouse.TokenOrganization,
		AuthorizedPermissions: []string{}, Rules: map[string]string{}}})
	err = s.write(ctx, orgID, func(tx gatehouse.Tx) error { return s.createIssuerTx(ctx, tx, orgID, iss, pol) })
	return iss, err
}

// createIssuerTx stores a discovered issuer with its policy and records
// it: RegisterIssuer's write, whose discovery runs before it.
func (s *Service) createIssuerTx(ctx context.Context, tx gatehouse.Tx, orgID string, iss *gatehouse.Issuer, pol *gatehouse.AuthPolicy) error {
	if err := tx.CreateIssuer(ctx, iss, pol); err != nil {
		return err
	}
	return s.audit(ctx, tx, orgID, gatehouse.EventIssuerCreated, iss.ID, map[string]any{"name": iss.Name, "url": iss.URL,
		"issuer": iss.Issuer, "thumbprints": iss.Thumbprints, "staticJwks": len(iss.JWKS) > 0}, "registered OIDC issuer %q", iss.Name)
}

// Issuers lists an organization's issuers.
func (s *Service) Issuers(ctx context.Context, orgID string) (is []*gatehouse.Issuer, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		is, err = tx.ListIssuers(ctx, orgID)
		return err
	})
	return is, err
}

// Issuer returns one issuer.
func (s *Service) Issuer(ctx context.Context, orgID, id string) (i *gatehouse.Issuer, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		i, err = tx.GetIssuer(ctx, orgID, id)
		return err
	})
	return i, err
}

// UpdateIssuer changes an issuer's name, thumbprints, static key set or
// maximum expiration; its URL never changes.
func (s *Service) UpdateIssuer(ctx context.Context, orgID, id string, in IssuerInput) (*gatehouse.Issuer, error) {
	return batchOne(ctx, s, orgID, func(b *Batch) (*gatehouse.Issuer, error) { return b.UpdateIssuer(id, in) })
}

func (s *Service) updateIssuerTx(ctx context.Context, tx gatehouse.Tx, orgID, id string, in IssuerInput) (*gatehouse.Issuer, error) {
	if err := checkIssuerFields(in); err != nil {
		return nil, err
	}
	iss, err := tx.GetIssuer(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	iss.Name = in.Name
	if in.Thumbprints != nil {
		iss.Thumbprints = lower(in.Thumbprints)
	}
	if len(in.JWKS) > 0 {
		iss.JWKS = in.JWKS
	}
	if in.MaxExpiration != nil {
		iss.MaxExpiration = *in.MaxExpiration
		if iss.MaxExpiration == 0 {
			iss.MaxExpiration = DefaultIssuerMax
		}
	}
	if err := tx.UpdateIssuer(ctx, iss); err != nil {
		return nil, err
	}
	return iss, s.audit(ctx, tx, orgID, gatehouse.EventIssuerUpdated, iss.ID, map[string]any{"name": iss.Name,
		"thumbprints": iss.Thumbprints, "maxExpiration": iss.MaxExpiration.Seconds()}, "changed OIDC issuer %q", iss.Name)
}

// RegenerateThumbprints pins the certificate the issuer serves today.
func (s *Service) RegenerateThumbprints(ctx context.Context, v gatehouse.IDTokenVerifier, orgID, id string) (*gatehouse.Issuer, error) {
	iss, err := s.Issuer(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	if len(iss.JWKS) > 0 {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "issuer %q has a static key set: there is no certificate to pin", iss.Name)
	}
	d, err := v.Discover(ctx, iss.URL, nil)
	if err != nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "url: %v", err)
	}
	return s.UpdateIssuer(ctx, orgID, id, IssuerInput{Name: iss.Name, Thumbprints: d.Thumbprints})
}

// DeleteIssuer deletes an issuer and its policy, and revokes in the same
// transaction every token its exchanges minted (organization, team,
// runner and personal ones): trust in the issuer is what they stood on.
// The event lists them; they leave the in-memory index before the
// response returns.
func (s *Service) DeleteIssuer(ctx context.Context, orgID, id string) error {
	return s.Batch(ctx, orgID, func(b *Batch) error { return b.DeleteIssuer(id) })
}

// deleteIssuerTx is DeleteIssuer in a transaction; it returns the tokens
// it revoked, which the caller removes from the snapshot after the commit.
func (s *Service) deleteIssuerTx(ctx context.Context, tx gatehouse.Tx, orgID, id string) ([]*gatehouse.Token, error) {
	iss, err := tx.GetIssuer(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	revoked, err := tx.RevokeIssuerTokens(ctx, id)
	if err != nil {
		return nil, err
	}
	legacy, err := s.revokeUnrecordedIssuerTokens(ctx, tx, orgID, id)
	if err != nil {
		return nil, err
	}
	revoked = append(revoked, legacy...)
	if err := tx.DeleteIssuer(ctx, orgID, id); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(revoked))
	for _, t := range revoked {
		ids = append(ids, t.ID)
	}
	return revoked, s.audit(ctx, tx, orgID, gatehouse.EventIssuerDeleted, id, map[string]any{"name": iss.Name, "revokedTokens": ids},
		"deleted OIDC issuer %q and revoked the %d token(s) exchanged through it", iss.Name, len(revoked))
}

// revokeUnrecordedIssuerTokens revokes the live tokens an issuer minted
// before tokens recorded their issuer (migration 00011), found through
// their exchange events: no exchanged token outlives MaxIssuerMax, so the
// events of that window are enough.
func (s *Service) revokeUnrecordedIssuerTokens(ctx context.Context, tx gatehouse.Tx, orgID, issuerID string) ([]*gatehouse.Token, error) {
	now := s.Now()
	var out []*gatehouse.Token
	next := ""
	for {
		events, n, err := tx.ListAudit(ctx, orgID, gatehouse.AuditFilter{From: now.Add(-MaxIssuerMax), Types: []string{gatehouse.EventTokenExchanged}},
			gatehouse.ListOptions{Limit: gatehouse.MaxListLimit, Continuation: next})
		if err != nil {
			return nil, err
		}
		for _, ev := range events {
			var d struct {
				IssuerID string `json:"issuerId"`
			}
			if json.Unmarshal(ev.Data, &d) != nil || d.IssuerID != issuerID || ev.Entity == "" {
				continue
			}
			t, err := tx.GetToken(ctx, ev.Entity)
			if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
				continue
			}
			if err != nil {
				return nil, err
			}
			if t.Deleted || !t.Exchanged || t.IssuerID != "" || t.Expired(now) {
				continue
			}
			if err := tx.DeleteToken(ctx, t.ID); err != nil {
				return nil, err
			}
			t.Deleted = true
			out = append(out, t)
		}
		if next = n; next == "" {
			return out, nil
		}
	}
}

// IssuerPolicy returns an issuer's authorization policy.
func (s *Service) IssuerPolicy(ctx context.Context, orgID, issuerID string) (p *gatehouse.AuthPolicy, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		if _, err := tx.GetIssuer(ctx, orgID, issuerID); err != nil {
			return err
		}
		p, err = tx.GetIssuerPolicy(ctx, orgID, issuerID)
		return err
	})
	return p, err
}

// checkRules validates a policy's rules, naming the first bad field.
func checkRules(ctx context.Context, tx gatehouse.Tx, orgID string, rules []gatehouse.AuthPolicyRule) error {
	if len(rules) == 0 {
		return gatehouse.Errorf(gatehouse.EINVALID, "policies: at least one rule is required (a single deny rule denies everything)")
	}
	for i, r := range rules {
		at := fmt.Sprintf("policies[%d]", i)
		if r.Decision != "allow" && r.Decision != "deny" {
			return gatehouse.Errorf(gatehouse.EINVALID, "%s.decision: %q is not allow or deny", at, r.Decision)
		}
		if !slices.Contains(tokenKinds, r.TokenType) {
			return gatehouse.Errorf(gatehouse.EINVALID, "%s.tokenType: %q is not organization, team, personal or runner", at, r.TokenType)
		}
		if r.Decision == "allow" {
			switch {
			case r.TokenType == gatehouse.TokenTeam && r.TeamName == "":
				return gatehouse.Errorf(gatehouse.EINVALID, "%s.teamName: required for team tokens", at)
			case r.TokenType == gatehouse.TokenPersonal && r.UserLogin == "":
				return gatehouse.Errorf(gatehouse.EINVALID, "%s.userLogin: required for personal tokens", at)
			case r.TokenType == gatehouse.TokenRunner && r.RunnerID == "":
				return gatehouse.Errorf(gatehouse.EINVALID, "%s.runnerID: required for runner tokens", at)
			}
		}
		for _, p := range r.AuthorizedPermissions {
			if p != "admin" {
				return gatehouse.Errorf(gatehouse.EINVALID, "%s.authorizedPermissions: %q is not admin", at, p)
			}
			if r.TokenType != gatehouse.TokenOrganization {
				return gatehouse.Errorf(gatehouse.EINVALID, "%s.authorizedPermissions: admin is for organization tokens only", at)
			}
		}
		if r.RoleID != "" {
			if r.TokenType != gatehouse.TokenOrganization && r.TokenType != gatehouse.TokenRunner {
				return gatehouse.Errorf(gatehouse.EINVALID, "%s.roleID: only organization and runner tokens take a role", at)
			}
			d, err := tx.GetDescriptor(ctx, orgID, r.RoleID)
			if err != nil || d.Purpose == gatehouse.PurposeSet || d.Purpose == gatehouse.PurposePolicy {
				return gatehouse.Errorf(gatehouse.EINVALID, "%s.roleID: %q is not a role of the organization", at, r.RoleID)
			}
		}
		for k := range r.Rules {
			if _, err := parseClaimPath(k); err != nil {
				return gatehouse.Errorf(gatehouse.EINVALID, "%s.rules: claim path %v", at, err)
			}
		}
	}
	return nil
}

// UpdatePolicy replaces a policy's whole rule list.
func (s *Service) UpdatePolicy(ctx context.Context, orgID, policyID string, rules []gatehouse.AuthPolicyRule) (*gatehouse.AuthPolicy, error) {
	return batchOne(ctx, s, orgID, func(b *Batch) (*gatehouse.AuthPolicy, error) { return b.UpdatePolicy(policyID, rules) })
}

func (s *Service) updatePolicyTx(ctx context.Context, tx gatehouse.Tx, orgID, policyID string, rules []gatehouse.AuthPolicyRule) (*gatehouse.AuthPolicy, error) {
	if err := checkRules(ctx, tx, orgID, rules); err != nil {
		return nil, err
	}
	if err := s.checkAuthRules(ctx, tx, orgID, rules); err != nil {
		return nil, err
	}
	p, err := tx.GetAuthPolicy(ctx, orgID, policyID)
	if err != nil {
		return nil, err
	}
	before := p.Policies
	for i := range rules {
		if rules[i].AuthorizedPermissions == nil {
			rules[i].AuthorizedPermissions = []string{}
		}
	}
	p.Policies, _ = json.Marshal(rules)
	if err := tx.UpdateAuthPolicy(ctx, p, p.Version); err != nil {
		return nil, err
	}
	return p, s.audit(ctx, tx, orgID, gatehouse.EventAuthPolicyUpdated, p.IssuerID, map[string]json.RawMessage{"before": before, "after": p.Policies},
		"replaced the rules of an OIDC issuer's policy (%d rules)", len(rules))
}

// OAuthError is an RFC 6749 §5.2 error of the token endpoint.
type OAuthError struct {
	Code string // invalid_request, invalid_grant, invalid_target, invalid_scope, unsupported_grant_type
	// Description is what the presenter is told: which check failed.
	Description string
	// Detail, when set, is the refusal in full, with what the policy
	// expected: for the audit log, which the organization's admins read,
	// never for the presenter.
	Detail string
}

func (e *OAuthError) Error() string { return e.Code + ": " + e.Description }

func oauthErr(code, format string, args ...any) error {
	return &OAuthError{Code: code, Description: fmt.Sprintf(format, args...)}
}

// ExchangeRequest is an RFC 8693 token-exchange request, parsed by the
// HTTP layer (api.parseExchange) from the wire's URNs into what it asks for.
type ExchangeRequest struct {
	OrgName      string // the organization the audience names
	Audience     string // the audience as sent: an ID token may carry it or OrgName
	SubjectToken string // the ID token
	Kind         string // the requested token's kind (gatehouse.TokenOrganization, ...)
	Subject      string // the team, user or runner the scope names; empty for organization tokens
	Admin        bool   // an organization token with scope admin
	Scope        string // the scope as sent, echoed in the result and the audit event
	Expiration   int64  // seconds; 0 means the default
}

// ExchangeResult is what the exchange issued.
type ExchangeResult struct {
	AccessToken string
	Kind        string
	ExpiresIn   int64
	Scope       string
}

// Decision is the outcome of evaluating a policy for a request: the rule
// that allowed it, or why nothing did.
type Decision struct {
	Allowed bool
	Rule    int // index of the deciding rule, -1 when none
	// Reason says why in full, the rules' claim patterns included: for the
	// policy's admins (gatehouse oidc test, the console, the audit log).
	Reason string
	// Refusal says which check failed without the patterns the policy
	// expects: what the presenter of a refused ID token is told.
	Refusal string
}

// EvaluatePolicy decides an exchange request against a policy's rules:
// any matching deny rule wins; otherwise the first matching allow rule in
// list order; no match denies. subject names the requested team, user or
// runner (empty for organization tokens).
func EvaluatePolicy(rules []gatehouse.AuthPolicyRule, claims map[string]any, kind, subject, issuerName string) Decision {
	allow := -1
	var firstMiss, firstMissPublic string
	for i, r := range rules {
		if r.TokenType != kind {
			continue
		}
		if r.Decision == "allow" {
			want := map[string]string{gatehouse.TokenTeam: r.TeamName, gatehouse.TokenPersonal: r.UserLogin, gatehouse.TokenRunner: r.RunnerID}[kind]
			if kind != gatehouse.TokenOrganization && !wildcardMatch(want, subject) {
				if firstMiss == "" {
					firstMiss = fmt.Sprintf("rule %d allows %s %q, not %q", i, kind, want, subject)
					firstMissPublic = fmt.Sprintf("rule %d does not allow %s %q", i, kind, subject)
				}
				continue
			}
		}
		if claim, why := ruleMismatchAt(r.Rules, claims); why != "" {
			if r.Decision == "allow" && firstMiss == "" {
				firstMiss = fmt.Sprintf("rule %d: %s", i, why)
				firstMissPublic = fmt.Sprintf("rule %d: claim %s does not match", i, claim)
			}
			continue
		}
		if r.Decision == "deny" {
			reason := fmt.Sprintf("rule %d of issuer %q denies %s tokens for these claims", i, issuerName, kind)
			return Decision{Rule: i, Reason: reason, Refusal: "subject policy: " + reason}
		}
		if allow < 0 {
			allow = i
		}
	}
	if allow >= 0 {
		return Decision{Allowed: true, Rule: allow}
	}
	reason := fmt.Sprintf("the claims matched no allow rule for %s tokens of issuer %q", kind, issuerName)
	refusal := "subject policy: " + reason
	if firstMiss != "" {
		reason += " (" + firstMiss + ")"
		refusal += " (" + firstMissPublic + "; the organization's admins find the rule's pattern in its audit log)"
	}
	return Decision{Rule: -1, Reason: reason, Refusal: refusal}
}

// Exchange verifies an ID token from a registered issuer against the
// issuer's policy and issues a short-lived Gatehouse token of the requested
// kind, bound to the matching rule's role. Refusals are *OAuthError; a
// failure of the store stays an internal error.
func (s *Service) Exchange(ctx context.Context, v gatehouse.IDTokenVerifier, req ExchangeRequest) (*ExchangeResult, error) {
	org, err := s.az.Org(ctx, req.OrgName)
	if err != nil {
		return nil, oauthErr("invalid_target", "audience: organization %q not found", req.OrgName)
	}
	iss, pol, claims, err := s.issuerFor(ctx, v, org, req)
	if err != nil {
		return nil, err
	}
	var rules []gatehouse.AuthPolicyRule
	if err := json.Unmarshal(pol.Policies, &rules); err != nil {
		return nil, fmt.Errorf("issuer %s policy: %w", iss.ID, err)
	}
	d := EvaluatePolicy(rules, claims, req.Kind, req.Subject, iss.Name)
	if !d.Allowed {
		return nil, &OAuthError{Code: "invalid_grant", Description: d.Refusal, Detail: d.Reason}
	}
	if req.Admin && !slices.Contains(rules[d.Rule].AuthorizedPermissions, "admin") {
		return nil, oauthErr("invalid_scope", "scope admin: rule %d of issuer %q does not list admin in authorizedPermissions", d.Rule, iss.Name)
	}
	if req.Expiration < 0 {
		return nil, oauthErr("invalid_request", "expiration: must be a positive number of seconds")
	}
	life := DefaultExchangeLifetime
	if req.Expiration > 0 {
		life = time.Duration(req.Expiration) * time.Second
	}
	max := iss.MaxExpiration
	if max <= 0 {
		max = DefaultIssuerMax
	}
	return s.mintExchanged(ctx, exchanged{req: req, org: org, iss: iss, claims: claims, rule: rules[d.Rule], ruleIndex: d.Rule, life: min(life, max)})
}

// issuerFor finds the issuer of the request's ID token in the organization,
// with its policy, and verifies the token: the claims it vouches for. An
// issuer the organization has not registered refuses the grant; a store
// that cannot answer is an internal error.
func (s *Service) issuerFor(ctx context.Context, v gatehouse.IDTokenVerifier, org *gatehouse.Organization, req ExchangeRequest) (*gatehouse.Issuer, *gatehouse.AuthPolicy, map[string]any, error) {
	issName, err := v.PeekIssuer(req.SubjectToken)
	if err != nil {
		return nil, nil, nil, oauthErr("invalid_grant", "subject_token: %v", err)
	}
	var iss *gatehouse.Issuer
	var pol *gatehouse.AuthPolicy
	err = s.read(ctx, func(tx gatehouse.Tx) (err error) {
		if iss, err = tx.FindIssuer(ctx, org.ID, issName); err != nil {
			return err
		}
		pol, err = tx.GetIssuerPolicy(ctx, org.ID, iss.ID)
		return err
	})
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return nil, nil, nil, oauthErr("invalid_grant", "subject_token: issuer %q is not registered in organization %q", issName, req.OrgName)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	claims, err := v.Verify(ctx, iss, req.SubjectToken, []string{req.OrgName, req.Audience})
	if err != nil {
		return nil, nil, nil, oauthErr("invalid_grant", "subject_token: %v", err)
	}
	return iss, pol, claims, nil
}

// exchanged is what an allowed exchange mints a token from.
type exchanged struct {
	req       ExchangeRequest
	org       *gatehouse.Organization
	iss       *gatehouse.Issuer
	claims    map[string]any
	rule      gatehouse.AuthPolicyRule
	ruleIndex int
	life      time.Duration
}

// mintExchanged creates the exchanged token in one transaction with its
// issuer's touch, the quota check and its audit event, and adds it to the
// snapshot.
func (s *Service) mintExchanged(ctx context.Context, x exchanged) (*ExchangeResult, error) {
	now := s.Now()
	value, digest := gatehouse.NewTokenValue()
	tok := &gatehouse.Token{Kind: x.req.Kind, OrgID: x.org.ID, Digest: digest, Expires: now.Add(x.life), Exchanged: true, IssuerID: x.iss.ID,
		Name: "oidc-" + randomHex(8), Description: fmt.Sprintf("exchanged from issuer %q for %v", x.iss.Name, x.claims["sub"])}
	var rev int64 // the organization's revision after the token's creation
	err := s.store.Write(ctx, func(tx gatehouse.Tx) error {
		// The organization's lock first, the order of every writer (the
		// issuer's changes take it before the issuer's row): taken after
		// the issuer's row, exchanges and issuer changes deadlocked on
		// PostgreSQL. The quota check below counts under it too. A
		// personal token's user may be managed by another organization,
		// whose deprovisioning must either be seen here or revoke this
		// token: both locked, in id order, as scimUserWrite takes them.
		orgs := []string{x.org.ID}
		if x.req.Kind == gatehouse.TokenPersonal {
			if u, err := tx.GetUserByLogin(ctx, x.req.Subject); err == nil && u.ManagedBy != "" && u.ManagedBy != x.org.ID {
				orgs = append(orgs, u.ManagedBy)
			}
		}
		if err := lockOrgs(ctx, tx, orgs); err != nil {
			return err
		}
		if err := exchangedSubject(ctx, tx, tok, x); err != nil {
			return err
		}
		// Touch the issuer: its row lock orders this exchange with the
		// issuer's deletion (which revokes its tokens under the same lock),
		// and a deleted issuer fails the exchange here.
		if err := tx.TouchIssuer(ctx, x.org.ID, x.iss.ID, now); err != nil {
			return err
		}
		// An ID token may be exchanged again and again until it expires:
		// each exchange is a token the organization holds, within its
		// quota.
		if err := s.checkTokenQuota(ctx, tx, x.org.ID); err != nil {
			return err
		}
		if err := tx.CreateToken(ctx, tok); err != nil {
			return err
		}
		o, err := tx.GetOrg(ctx, tok.OrgID)
		if err != nil {
			return err
		}
		rev = o.Revision
		return s.auditExchange(ctx, tx, tok, x)
	})
	if err != nil {
		return nil, err
	}
	// Nothing but the token changed: no rebuild of the organization.
	s.az.AddTokenAt(rev, tok)
	return &ExchangeResult{AccessToken: value, Kind: x.req.Kind, ExpiresIn: int64(x.life / time.Second), Scope: x.req.Scope}, nil
}

// exchangedSubject binds the token to what it acts as: the rule's role
// (or the admin role), the team, or the user.
func exchangedSubject(ctx context.Context, tx gatehouse.Tx, tok *gatehouse.Token, x exchanged) error {
	switch x.req.Kind {
	case gatehouse.TokenOrganization, gatehouse.TokenRunner:
		tok.RoleID = x.rule.RoleID
		if x.req.Admin {
			a, err := builtinRole(ctx, tx, x.org.ID, catalog.RoleAdmin)
			if err != nil {
				return err
			}
			tok.RoleID = a.ID
		}
		tok.Runner = x.req.Subject
	case gatehouse.TokenTeam:
		t, err := tx.GetTeam(ctx, x.org.ID, x.req.Subject)
		if err != nil {
			return oauthErr("invalid_scope", "scope: team %q not found in organization %q", x.req.Subject, x.req.OrgName)
		}
		tok.TeamID = t.ID
	case gatehouse.TokenPersonal:
		u, err := tx.GetUserByLogin(ctx, x.req.Subject)
		var m *gatehouse.Membership
		if err == nil {
			m, err = tx.GetMember(ctx, x.org.ID, u.ID)
		}
		if err != nil {
			return oauthErr("invalid_scope", "scope: user %q is not a member of organization %q", x.req.Subject, x.req.OrgName)
		}
		// Nor one that SCIM deactivated (here, or in the organization
		// that manages them): the token would wake with the user.
		if err := checkActive(ctx, tx, m); err != nil {
			return oauthErr("invalid_scope", "scope: user %q cannot act: %v", x.req.Subject, gatehouse.ErrorMessage(err))
		}
		// Bound to this organization: its issuer and policy speak
		// for it, never for the user's other organizations.
		tok.UserID, tok.Name = u.ID, ""
	}
	return nil
}

// auditExchange records the exchange, acting for the ID token's subject.
func (s *Service) auditExchange(ctx context.Context, tx gatehouse.Tx, tok *gatehouse.Token, x exchanged) error {
	matched := map[string]any{}
	for k := range x.rule.Rules {
		if p, err := parseClaimPath(k); err == nil {
			matched[k], _ = claimAt(x.claims, p)
		}
	}
	caller := gatehouse.ActorFrom(ctx)
	ctx = gatehouse.WithActor(ctx, gatehouse.Actor{Login: fmt.Sprintf("oidc:%s:%v", x.iss.Name, x.claims["sub"]), TokenID: tok.ID,
		TokenName: tok.Name, SourceIP: caller.SourceIP, UserAgent: caller.UserAgent, RequestID: caller.RequestID})
	return s.audit(ctx, tx, x.org.ID, gatehouse.EventTokenExchanged, tok.ID, map[string]any{"issuer": x.iss.Name, "issuerId": x.iss.ID,
		"sub": x.claims["sub"], "rule": x.ruleIndex, "matchedClaims": matched, "tokenType": x.req.Kind, "scope": x.req.Scope,
		"expires": tok.Expires, "roleId": tok.RoleID}, "exchanged an ID token of %q (sub %v) for a %s token", x.iss.Name, x.claims["sub"], x.req.Kind)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
