package api_test

import (
	"strings"
	"testing"
	"unicode"

	"github.com/gatehouse-iam/gatehouse"
)

// TestAuditPathNoControlChars: the request path is the client's, and it
// used to go verbatim (percent-decoded, up to the header limit) into the
// description and details of the authentication_failed and access_denied
// events. With no token at all, anyone could thus write a newline and a
// fake line, or terminal escapes, into what `gatehouse audit list` prints.
// The path an event records carries no control characters and is bounded.
func TestAuditPathNoControlChars(t *testing.T) {
	e := newEnv(t)
	evil := "/api/orgs/acme/teams/x%0A2026-12-01T00:00:00Z%09admin%09org_token_created%1B%5B2J" + strings.Repeat("y", 4000)
	e.call("pul-0000000000000000000000000000000000000000", "GET", evil, nil, nil) // no such token
	reader := e.orgToken("reader", e.customRole("nothing", map[string]any{"__type": "PermissionDescriptorAllow", "permissions": []string{"stack:read"}}))
	e.call(reader, "GET", evil, nil, nil) // denied: team:read
	e.closeServer()
	n := 0
	for _, typ := range []string{gatehouse.EventAuthFailure, gatehouse.EventAccessDenied} {
		for _, ev := range e.events(typ) {
			n++
			for what, s := range map[string]string{"description": ev.Description, "details": string(ev.Data)} {
				if strings.ContainsFunc(s, unicode.IsControl) {
					t.Errorf("%s event's %s holds control characters: %q", typ, what, s)
				}
				if len(s) > 1500 {
					t.Errorf("%s event's %s is %d bytes: the path is not bounded", typ, what, len(s))
				}
			}
		}
	}
	if n < 2 {
		t.Fatalf("%d events recorded; want the failure and the denial", n)
	}
}

// TestTokenNameNoControlChars: a token's name becomes the actor of every
// event the token causes ("organization token NAME"), printed as is by
// `gatehouse audit list`; a name with a newline or escapes forged lines
// there. Such names are refused.
func TestTokenNameNoControlChars(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"ci\n2026-12-01T00:00:00Z  admin  role_deleted", "ci\x1b[2J", "ci\tx"} {
		e.failsAny(e.admin, "POST", "/api/orgs/acme/tokens", `{"name": "`+strings.NewReplacer("\n", `\n`, "\x1b", `\u001b`, "\t", `\t`).Replace(name)+`", "description": "d", "expires": 0}`, 400, "name", name)
	}
	e.must(e.admin, "POST", "/api/orgs/acme/tokens", map[string]any{"name": "ci deploy", "description": "d", "expires": 0}, 200, nil)
}
