package api_test

import (
	"strings"
	"testing"
)

// noBodyRoutes are the POST and PATCH routes that take no body (every GET,
// HEAD and DELETE takes none either).
var noBodyRoutes = map[string]bool{
	"PATCH /api/orgs/{orgName}/roles/{roleID}/default":                                         true,
	"POST /api/orgs/{orgName}/teams/{teamName}/roles/{roleID}":                                 true,
	"POST /api/orgs/{orgName}/oidc/issuers/{issuerID}/regenerate-thumbprints":                  true,
	"POST /api/stacks/{orgName}/{projectName}/{stackName}/{updateKind}/{updateID}/cancel":      true,
	"POST /api/esc/environments/{orgName}/{projectName}/{envName}/open":                        true,
	"POST /api/esc/environments/{orgName}/{projectName}/{envName}/versions/{version}/{action}": true,
	"POST /api/esc/environments/{orgName}/{projectName}/{envName}":                             true,
	"POST /api/user/pending-invites/{inviteID}/accept":                                         true,
	"POST /api/user/pending-invites/{inviteID}/decline":                                        true,
	"POST /api/orgs/{orgName}/scim/token":                                                      true,
	"POST /api/orgs/{orgName}/saml/sp-keys":                                                    true,
	"POST /api/orgs/{orgName}/saml/sp-keys/{keyID}/activate":                                   true,
}

func takesNoBody(rt string) bool {
	method, _, _ := strings.Cut(rt, " ")
	return method == "GET" || method == "HEAD" || method == "DELETE" || noBodyRoutes[rt]
}

// strictEnv is a server with a stack (tagged), an environment, an account
// and a running update, and the path filler for the route table.
func strictEnv(t *testing.T) (*env, func(pattern string) string, lease) {
	e := newEnv(t)
	e.newStack(e.admin, "app", "dev", map[string]string{"env": "dev"})
	e.must(e.admin, "POST", "/api/esc/environments/acme", map[string]string{"project": "app", "name": "cfg"}, 200, nil)
	e.must(e.admin, "POST", "/api/preview/insights/acme/accounts/aws", map[string]string{"provider": "aws", "environment": "app/cfg"}, 204, nil)
	u := e.begin(e.admin, "app", "dev", "update")
	r := strings.NewReplacer("{orgName}", "acme", "{roleID}", "00000000-0000-4000-8000-000000000000",
		"{userLogin}", "ghost", "{teamName}", "ghost-team", "{tokenID}", "00000000-0000-4000-8000-000000000001",
		"{issuerID}", "00000000-0000-4000-8000-000000000002", "{policyID}", "00000000-0000-4000-8000-000000000003",
		"{projectName}", "app", "{stackName}", "dev", "{updateKind}", "update", "{updateID}", u.id,
		"{version}", "1", "{tagName}", "env", "{envName}", "cfg", "{accountName}", "aws", "{openSessionID}", "bm9wZQ",
		"{keyID}", "00000000-0000-4000-8000-000000000005")
	return e, r.Replace, u
}

// TestBodyOnNoBodyRoute sends a body to every route that takes none: each
// refuses it (400, naming the body) rather than ignore what the caller
// meant, and nothing changes. An empty body stays accepted (the pulumi CLI
// and the SDK send none on these routes; the other tests call them so).
func TestBodyOnNoBodyRoute(t *testing.T) {
	e, fill, _ := strictEnv(t)
	before := e.fingerprint()
	n := 0
	for _, rt := range e.routes() {
		if !takesNoBody(rt) {
			continue
		}
		n++
		method, pattern, _ := strings.Cut(rt, " ")
		e.failsAny(e.admin, method, fill(pattern), `{"force":true}`, 400, "request body", rt)
	}
	if n < 40 {
		t.Errorf("only %d routes take no body: is the route table walked?", n)
	}
	if e.fingerprint() != before {
		t.Errorf("a request refused for its body changed the database")
	}
}

// TestNullBody sends JSON null to every route that takes a body, where an
// object is required: each is a 400 naming it, and nothing changes (null
// used to wipe a stack's tags through PATCH .../tags).
func TestNullBody(t *testing.T) {
	e, fill, u := strictEnv(t)
	before := e.fingerprint()
	for _, rt := range e.routes() {
		method, pattern, _ := strings.Cut(rt, " ")
		if takesNoBody(rt) || rt == "POST /api/oauth/token" {
			continue
		}
		token := e.admin
		if strings.Contains(pattern, "/{updateKind}/{updateID}/") && !strings.HasSuffix(pattern, "/cancel") {
			token = u.auth
		}
		want := "null"
		switch rt {
		case "POST /api/stacks/{orgName}/{projectName}/{stackName}/import":
			want = "deployment: a deployment is a JSON object" // the raw deployment, checked as such
		case "PATCH /api/esc/environments/{orgName}/{projectName}/{envName}":
			want = "definition: line 1: the top level must be a mapping" // YAML, not JSON
		case "POST /api/esc/environments/{orgName}/yaml/check", "POST /api/esc/environments/{orgName}/yaml/open":
			want = "environment must be an object" // YAML, ESC's diagnostic
		}
		for _, body := range []string{`null`, " null\n"} {
			e.failsAny(token, method, fill(pattern), body, 400, want, rt)
		}
	}
	if e.fingerprint() != before {
		t.Errorf("a null body changed the database")
	}
	var st struct{ Tags map[string]string }
	e.must(e.admin, "GET", stackPath("app", "dev"), nil, 200, &st)
	if st.Tags["env"] != "dev" {
		t.Errorf("tags after PATCH null: %v", st.Tags)
	}
}
