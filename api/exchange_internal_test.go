package api

import (
	"errors"
	"net/url"
	"testing"

	"github.com/gatehouse-iam/gatehouse/service"
)

// TestParseExchange: the RFC 8693 URNs become typed fields, and each
// malformed field is refused with RFC 6749's code for it.
func TestParseExchange(t *testing.T) {
	base := url.Values{"grant_type": {grantTokenExchange}, "subject_token": {"jwt"}, "subject_token_type": {idTokenType},
		"audience": {"urn:pulumi:org:acme"}}
	with := func(kv ...string) func(string) string {
		v := url.Values{}
		for k, vs := range base {
			v[k] = vs
		}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Get
	}
	req, err := parseExchange(with("requested_token_type", accessTokenPrefix+"team", "scope", "team:platform", "expiration", "600"))
	if err != nil || req.OrgName != "acme" || req.Kind != "team" || req.Subject != "platform" || req.Expiration != 600 || req.Admin {
		t.Errorf("team exchange: %+v, %v", req, err)
	}
	if req, err := parseExchange(with("scope", "admin")); err != nil || req.Kind != "organization" || !req.Admin {
		t.Errorf("admin organization exchange: %+v, %v", req, err)
	}
	for _, c := range []struct {
		kv   []string
		code string
	}{
		{[]string{"grant_type", "password"}, "unsupported_grant_type"},
		{[]string{"subject_token", ""}, "invalid_request"},
		{[]string{"subject_token_type", "saml"}, "invalid_request"},
		{[]string{"requested_token_type", accessTokenPrefix + "root"}, "invalid_request"},
		{[]string{"audience", "urn:pulumi:org:"}, "invalid_target"},
		{[]string{"audience", "acme"}, "invalid_target"},
		{[]string{"scope", "team:x"}, "invalid_scope"},
		{[]string{"requested_token_type", accessTokenPrefix + "personal", "scope", "team:x"}, "invalid_scope"},
		{[]string{"expiration", "soon"}, "invalid_request"},
	} {
		_, err := parseExchange(with(c.kv...))
		var oe *service.OAuthError
		if !errors.As(err, &oe) || oe.Code != c.code {
			t.Errorf("%v: %v, want %s", c.kv, err, c.code)
		}
	}
}
