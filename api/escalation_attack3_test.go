package api_test

import "testing"

// Attack review 3 of issue 12 §2. Deleting a role with force moves its
// members onto the organization's default role: that is giving them a
// role, and it is held to what the caller holds like any other.
func TestForcedRoleDeleteHeldToWhatTheCallerHolds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createStack("p", "s", nil, "")
	// The organization's default role is broad; the delegated deleter holds
	// only role:delete, through a custom role that is its own.
	dev := e.customRole("developer", allowDetails("stack:read", "stack:delete"))
	e.must(e.admin, "PATCH", "/api/orgs/acme/roles/"+dev+"/default", nil, 204, nil)
	mine := e.customRole("deleter", allowDetails("role:delete"))
	tok := e.memberWithRole("deleter", mine)
	stack := map[string]string{"type": "stack", "project": "p", "name": "s"}
	if r := e.decide(tok, "stack:delete", stack); r.Allowed {
		t.Fatal("the deleter holds stack:delete before the attack")
	}
	e.fails(tok, "DELETE", "/api/orgs/acme/roles/"+mine+"?force=true", nil, 403, escalation("stack:read"))
	if r := e.decide(tok, "stack:delete", stack); r.Allowed {
		t.Fatal("deleting its own role moved the deleter onto the default role: it now holds stack:delete")
	}
	// A role no member holds is deleted as before; the admin may delete any.
	spare := e.customRole("spare", allowDetails("role:delete"))
	e.must(tok, "DELETE", "/api/orgs/acme/roles/"+spare, nil, 204, nil)
	e.must(e.admin, "DELETE", "/api/orgs/acme/roles/"+mine+"?force=true", nil, 204, nil)
}
