package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/service"
)

func (c *Console) issuers(q *req) error { return c.issuersPage(q, http.StatusOK, "") }

func (c *Console) issuersPage(q *req, status int, errMsg string) error {
	var out wire.ListIssuersResponse
	if err := q.call("GET", "/api/orgs/"+url.PathEscape(q.org)+"/oidc/issuers", nil, &out); err != nil {
		return q.fail(err, func(msg string) error {
			return q.render(http.StatusForbidden, "oidc", "OIDC issuers", "oidc", nil, msg, "")
		})
	}
	return q.render(status, "oidc", "OIDC issuers", "oidc", out.OIDCIssuers, errMsg, q.notice())
}

func (c *Console) addIssuer(q *req) error {
	f := q.r.PostForm
	var out wire.Issuer
	if err := q.call("POST", "/api/orgs/"+url.PathEscape(q.org)+"/oidc/issuers", wire.IssuerRequest{Name: f.Get("name"), URL: f.Get("url")}, &out); err != nil {
		return q.fail(err, func(msg string) error { return c.issuersPage(q, http.StatusBadRequest, msg) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/oidc/"+url.PathEscape(out.ID), "Issuer registered: its policy denies everything until you add rules.")
}

type issuerData struct {
	Issuer   wire.Issuer
	PolicyID string
	Rules    string
	Claims   string
	Result   string
}

func (c *Console) issuer(q *req) error { return c.issuerPage(q, http.StatusOK, "", "") }

func (c *Console) issuerPage(q *req, status int, errMsg, rules string) error {
	base := "/api/orgs/" + url.PathEscape(q.org)
	id := q.r.PathValue("id")
	var d issuerData
	if err := q.call("GET", base+"/oidc/issuers/"+url.PathEscape(id), nil, &d.Issuer); err != nil {
		return q.fail(err, func(msg string) error {
			return q.render(http.StatusNotFound, "issuer", "OIDC issuer", "oidc", d, msg, "")
		})
	}
	var pol wire.AuthPolicy
	polErr := q.call("GET", base+"/auth/policies/oidcissuers/"+url.PathEscape(id), nil, &pol)
	if polErr == nil {
		d.PolicyID, d.Rules = pol.ID, rulesText(pol.Policies)
	}
	if rules != "" {
		d.Rules = rules
	}
	if claims := q.r.URL.Query().Get("claims"); claims != "" {
		d.Claims = claims
		d.Result = testClaims(pol, polErr, d.Issuer.Name, claims)
	}
	return q.render(status, "issuer", d.Issuer.Name, "oidc", d, errMsg, q.notice())
}

// rulesText is a policy's rules as the API sent them, indented for the
// editor (without escaping <, > and &, as the API writes them).
func rulesText(rules []gatehouse.AuthPolicyRule) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if enc.Encode(rules) != nil {
		return ""
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// testClaims evaluates the issuer's policy (as read for its page, or the
// error reading it) of the named issuer on a claims document for an organization token, as
// `gatehouse oidc test` does.
func testClaims(pol wire.AuthPolicy, polErr error, issuer, claims string) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(claims), &m); err != nil {
		return "claims: not a JSON object: " + err.Error()
	}
	if polErr != nil {
		return polErr.Error()
	}
	d := service.EvaluatePolicy(pol.Policies, m, gatehouse.TokenOrganization, "", issuer)
	if !d.Allowed {
		return "deny: " + d.Reason
	}
	role := pol.Policies[d.Rule].RoleID
	if role == "" {
		role = "the organization's default role"
	}
	return fmt.Sprintf("allow: rule %d matches; an exchange would issue an organization token holding %s", d.Rule, role)
}

func (c *Console) savePolicy(q *req) error {
	rules := q.r.PostForm.Get("rules")
	var body wire.UpdateAuthPolicyRequest
	if err := parsePolicyRules(rules, &body.Policies); err != nil {
		return c.issuerPage(q, http.StatusBadRequest, "rules: "+err.Error(), rules)
	}
	err := q.call("PATCH", "/api/orgs/"+url.PathEscape(q.org)+"/auth/policies/"+url.PathEscape(q.r.PostForm.Get("policy")), body, nil)
	if err != nil {
		return q.fail(err, func(msg string) error { return c.issuerPage(q, http.StatusBadRequest, msg, rules) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/oidc/"+url.PathEscape(q.r.PathValue("id")), "Policy saved.")
}

// parsePolicyRules reads the editor's rules as the API reads a body: one
// JSON value naming only the rules' fields.
func parsePolicyRules(rules string, out *[]gatehouse.AuthPolicyRule) error {
	if !json.Valid([]byte(rules)) {
		var raw json.RawMessage
		return fmt.Errorf("not JSON: %w", json.Unmarshal([]byte(rules), &raw))
	}
	dec := json.NewDecoder(strings.NewReader(rules))
	dec.DisallowUnknownFields()
	return dec.Decode(out)
}

func (c *Console) deleteIssuer(q *req) error {
	if err := q.call("DELETE", "/api/orgs/"+url.PathEscape(q.org)+"/oidc/issuers/"+url.PathEscape(q.r.PathValue("id")), nil, nil); err != nil {
		return q.fail(err, func(msg string) error { return c.issuerPage(q, http.StatusBadRequest, msg, "") })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/oidc", "Issuer deleted.")
}
