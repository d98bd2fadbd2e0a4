package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/service"
)

// fingerprint hashes everything the store holds about the organization.
func (e *env) fingerprint() [32]byte {
	e.t.Helper()
	ctx := context.Background()
	var snap *gatehouse.Snapshot
	err := e.db.Read(ctx, func(tx gatehouse.Tx) error {
		org, err := tx.GetOrgByName(ctx, "acme")
		if err != nil {
			return err
		}
		snap, err = tx.LoadSnapshot(ctx, org.ID)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, t := range snap.Tokens {
		t.LastUsed = time.Time{} // use is recorded off the request path, not a change
	}
	b, _ := json.Marshal(snap)
	return sha256.Sum256(b)
}

// TestBadInputEveryRoute sends malformed requests to every route: each gets
// a 4xx whose message names the problem, and nothing changes.
func TestBadInputEveryRoute(t *testing.T) {
	e := newEnv(t)
	// An expired token and a revoked one.
	_, expired, err := e.svc.CreateToken(context.Background(), service.TokenInput{Kind: gatehouse.TokenOrganization,
		OrgID: e.orgID(), Name: "expiring", Expires: e.clock.Now().Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	revoked := e.orgToken("revoked", "")
	var list struct{ Tokens []struct{ ID, Name string } }
	e.must(e.admin, "GET", "/api/orgs/acme/tokens", nil, 200, &list)
	for _, tk := range list.Tokens {
		if tk.Name == "revoked" {
			e.must(e.admin, "DELETE", "/api/orgs/acme/tokens/"+tk.ID, nil, 204, nil)
		}
	}
	e.newStack(e.admin, "app", "dev", map[string]string{"env": "dev"})
	e.must(e.admin, "POST", "/api/esc/environments/acme", map[string]string{"project": "app", "name": "cfg"}, 200, nil)
	e.must(e.admin, "POST", "/api/preview/insights/acme/accounts/aws", map[string]string{"provider": "aws", "environment": "app/cfg"}, 204, nil)
	e.clock.Advance(2 * time.Hour) // the expiring token expires
	before := e.fingerprint()

	fill := func(pattern, org string) string {
		r := strings.NewReplacer("{orgName}", org, "{roleID}", "00000000-0000-4000-8000-000000000000",
			"{userLogin}", "ghost", "{teamName}", "ghost-team", "{tokenID}", "00000000-0000-4000-8000-000000000001",
			"{issuerID}", "00000000-0000-4000-8000-000000000002", "{policyID}", "00000000-0000-4000-8000-000000000003",
			"{projectName}", "app", "{stackName}", "dev", "{updateKind}", "update", "{updateID}", "00000000-0000-4000-8000-000000000004",
			"{version}", "999", "{tagName}", "nope", "{envName}", "cfg", "{accountName}", "aws", "{openSessionID}", "bm9wZQ",
			"{keyID}", "00000000-0000-4000-8000-000000000005")
		return r.Replace(pattern)
	}
	bodies := map[string]bool{"POST": true, "PATCH": true}
	huge := `{"name":"` + strings.Repeat("x", 2<<20) + `"}`
	for _, rt := range e.routes() {
		method, pattern, _ := strings.Cut(rt, " ")
		if pattern == "/api/openapi/pulumi-spec.json" {
			continue
		}
		path := fill(pattern, "acme")
		t.Run(rt, func(t *testing.T) {
			if rt == "POST /api/oauth/token" {
				// Unauthenticated: the subject token is the credential.
				for _, body := range []string{`{"grant_type":`, `[1]`, `{}`, huge} {
					e.failsAny("", method, path, body, 400, "", "exchange")
				}
				return
			}
			for _, tok := range []struct{ name, value string }{{"garbage token", "pul-garbage"}, {"no token", ""},
				{"expired token", expired}, {"revoked token", revoked}} {
				e.failsAny(tok.value, method, path, `{}`, 401, "unauthorized", tok.name)
			}
			// An update's own requests need its lease before anything else.
			lease := strings.Contains(pattern, "/{updateKind}/{updateID}/") && method != "GET" && !strings.HasSuffix(pattern, "/cancel")
			switch {
			case lease:
				e.failsAny(e.admin, method, fill(pattern, "no-such-org"), `{}`, 401, "update-token", "missing org")
			case strings.Contains(pattern, "{orgName}"):
				e.failsAny(e.admin, method, fill(pattern, "no-such-org"), `{}`, 404, `organization "no-such-org" not found`, "missing org")
			}
			if bodies[method] {
				for _, c := range []struct{ name, body, want string }{
					{"bad JSON", `{"name":`, ""},
					{"wrong type", `[1,2,3]`, ""},
					{"oversized", huge, ""},
				} {
					e.failsAny(e.admin, method, path, c.body, 0, c.want, c.name)
				}
			}
			// Unknown ids in the path (adding an unknown login is how
			// members are made, so that route is not among them).
			hasID := strings.ContainsAny(pattern, "{") && (strings.Contains(pattern, "{roleID}") || strings.Contains(pattern, "{teamName}") ||
				strings.Contains(pattern, "{tokenID}") || strings.Contains(pattern, "{userLogin}") ||
				strings.Contains(pattern, "{issuerID}") || strings.Contains(pattern, "{policyID}") || strings.Contains(pattern, "{updateID}") ||
				strings.Contains(pattern, "{version}") || strings.Contains(pattern, "{tagName}") || strings.Contains(pattern, "{openSessionID}") ||
				strings.Contains(pattern, "{keyID}"))
			if hasID && rt != "POST /api/orgs/{orgName}/members/{userLogin}" {
				e.failsAny(e.admin, method, path, `{}`, 0, "", "unknown ids")
			}
		})
	}
	// Specific bad values on the routes that take them.
	for _, c := range []struct {
		method, path, body, want string
	}{
		{"POST", "/api/orgs/acme/roles", `{"name":"x","uxPurpose":"role","details":{"__type":"PermissionDescriptorAllow","permissions":["stack:reed"]}}`, `unknown scope "stack:reed"`},
		{"POST", "/api/orgs/acme/roles", `{"name":"x","uxPurpose":"role","details":{"__type":"Nope"}}`, `unknown __type "Nope"`},
		{"POST", "/api/orgs/acme/teams/pulumi", `{"name":"bad name!"}`, "name:"},
		{"POST", "/api/orgs/acme/tokens", `{"name":"x","expires":"soon"}`, "expires: want int64"},
		{"POST", "/api/orgs/acme/members/" + strings.Repeat("l", 101), `{}`, "userLogin"},
		{"PATCH", "/api/orgs/acme/members/admin", `{"role":"emperor"}`, "not a built-in role"},
		{"GET", "/api/orgs/acme/members?maxResults=0", ``, "maxResults"},
		{"GET", "/api/orgs/acme/tokens?filter=some", ``, "filter"},
		{"GET", "/api/orgs/acme/teams?continuationToken=zzz", ``, "continuationToken"},
		{"DELETE", "/api/orgs/acme/roles/x?force=maybe", ``, "force"},
		{"POST", "/api/orgs/acme/roles?createPolicyAndRole=1", `{}`, "createPolicyAndRole"},
	} {
		e.failsAny(e.admin, c.method, c.path, c.body, 400, c.want, c.path)
	}
	if after := e.fingerprint(); after != before {
		t.Errorf("the database changed under bad input")
	}
}

// failsAny is fails with an optional status (0: any 4xx) and a context
// name for messages; it does not stop the test.
func (e *env) failsAny(token, method, path, body string, status int, want, what string) {
	e.t.Helper()
	got, data := e.call(token, method, path, body, nil)
	var errBody struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	json.Unmarshal([]byte(data), &errBody)
	switch {
	case status != 0 && got != status, status == 0 && (got < 400 || got > 499):
		e.t.Errorf("%s: %s %s: status %d %s; want %d", what, method, path, got, truncate(data), status)
	case method == "HEAD":
		// A HEAD response has no body.
	case errBody.Code != got || errBody.Message == "":
		e.t.Errorf("%s: %s %s: error body %s is not {code, message}", what, method, path, truncate(data))
	case want != "" && !strings.Contains(errBody.Message, want):
		e.t.Errorf("%s: %s %s: message %q lacks %q", what, method, path, errBody.Message, want)
	}
}

func truncate(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

func (e *env) orgID() string {
	var id string
	e.db.Read(context.Background(), func(tx gatehouse.Tx) error {
		o, err := tx.GetOrgByName(context.Background(), "acme")
		if err == nil {
			id = o.ID
		}
		return err
	})
	return id
}
