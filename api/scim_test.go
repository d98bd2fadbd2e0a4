package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
)

// scimEnv is a running server with the organization's SCIM token.
type scimEnv struct {
	t     *testing.T
	te    *testenv.Env
	srv   *httptest.Server
	token string // the SCIM token
	base  string // /scim/v2/acme
}

// eachSCIM runs a test on SQLite and, with GATEHOUSE_TEST_POSTGRES_DSN,
// on PostgreSQL (skipped without it), both at once.
func eachSCIM(t *testing.T, test func(t *testing.T, e *scimEnv)) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			var opts []testenv.Option
			if dialect == "postgres" {
				opts = append(opts, testenv.Postgres())
			}
			te := testenv.New(t, opts...)
			server := api.New(te.Svc, te.Authz, api.Options{AuthFailuresPerMinute: 1000})
			srv := httptest.NewServer(server.Handler())
			t.Cleanup(func() { srv.Close(); server.Close() })
			e := &scimEnv{t: t, te: te, srv: srv, base: "/scim/v2/" + te.Org.Name}
			e.token = e.newToken(te.Admin)
			test(t, e)
		})
	}
}

// newToken makes the organization's SCIM token through the API.
func (e *scimEnv) newToken(adminToken string) string {
	e.t.Helper()
	var out struct{ Token, BaseURL string }
	if st, body := e.raw("token "+adminToken, "POST", "/api/orgs/"+e.te.Org.Name+"/scim/token", "", &out); st != http.StatusCreated || !strings.HasPrefix(out.Token, "scim-") || out.BaseURL != e.base {
		e.t.Fatalf("scim token: %d %s", st, body)
	}
	return out.Token
}

// raw makes a request with an Authorization header as given and decodes
// the JSON answer into out.
func (e *scimEnv) raw(auth, method, path string, body any, out any) (int, string) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if strings.HasPrefix(path, "/scim/") && len(data) > 0 && resp.Header.Get("Content-Type") != "application/scim+json" {
		e.t.Errorf("%s %s: Content-Type %q, want application/scim+json", method, path, resp.Header.Get("Content-Type"))
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode, string(data)
}

// obj is a decoded JSON object.
type obj = map[string]any

// do is a SCIM request with the SCIM token, answering a JSON object.
func (e *scimEnv) do(method, path string, body any) (int, obj) {
	e.t.Helper()
	var out obj
	var b any = body
	if body == nil {
		b = ""
	}
	st, _ := e.raw("Bearer "+e.token, method, e.base+path, b, &out)
	return st, out
}

// want fails unless the status is as expected, showing the body.
func (e *scimEnv) want(what string, status int, got int, body obj) obj {
	e.t.Helper()
	if got != status {
		e.t.Fatalf("%s: status %d, want %d: %v", what, got, status, body)
	}
	return body
}

// wantSCIMError checks RFC 7644 §3.12's shape.
func wantSCIMError(t *testing.T, what string, st int, body obj, status int, scimType string) {
	t.Helper()
	if st != status {
		t.Fatalf("%s: status %d, want %d: %v", what, st, status, body)
	}
	schemas, _ := body["schemas"].([]any)
	if len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" || body["status"] != fmt.Sprint(status) {
		t.Errorf("%s: not a SCIM error of status %q: %v", what, fmt.Sprint(status), body)
	}
	if got, _ := body["scimType"].(string); got != scimType {
		t.Errorf("%s: scimType %q, want %q (%v)", what, got, scimType, body)
	}
	if d, _ := body["detail"].(string); d == "" {
		t.Errorf("%s: no detail: %v", what, body)
	}
}

func patchOp(ops ...obj) obj {
	list := make([]any, len(ops))
	for i, o := range ops {
		list[i] = o
	}
	return obj{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": list}
}

func filterQ(f string) string { return "?filter=" + url.QueryEscape(f) }

// personalToken gives a user a personal token through the service.
func (e *scimEnv) personalToken(userID string) string {
	e.t.Helper()
	_, v, err := e.te.Svc.CreateToken(context.Background(), service.TokenInput{Kind: gatehouse.TokenPersonal, UserID: userID, Description: "laptop", CreatedBy: userID})
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

// apiStatus is the status of GET path on the API with a token.
func (e *scimEnv) apiStatus(token, path string) int {
	e.t.Helper()
	st, _ := e.raw("token "+token, "GET", path, "", nil)
	return st
}

func members(g obj) []string {
	ms, _ := g["members"].([]any)
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.(obj)["value"].(string))
	}
	return ids
}

// TestSCIMOkta follows Okta's SCIM 2.0 provisioning sequence ("SCIM 2.0
// protocol reference"): look the user up by userName, create it with
// externalId, read it, replace it (PUT), deactivate it with a PATCH
// without a path, then the group calls: create, look up by displayName,
// rename with a PATCH carrying the id, add and remove members, list
// without members, delete.
func TestSCIMOkta(t *testing.T) {
	t.Parallel()
	eachSCIM(t, func(t *testing.T, e *scimEnv) {
		id := oktaUsers(t, e)
		oktaGroups(t, e, id)
		e.wantSCIMAudit()
	})
}

// oktaUsers is Okta's user sequence; it returns the user's id.
func oktaUsers(t *testing.T, e *scimEnv) string {
	st, list := e.do("GET", "/Users"+filterQ(`userName eq "dade.murphy@example.com"`)+"&startIndex=1&count=100", nil)
	e.want("lookup", 200, st, list)
	if list["totalResults"] != 0.0 || list["schemas"].([]any)[0] != "urn:ietf:params:scim:api:messages:2.0:ListResponse" || len(list["Resources"].([]any)) != 0 {
		t.Fatalf("lookup of nobody: %v", list)
	}
	st, u := e.do("POST", "/Users", obj{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "dade.murphy@example.com",
		"name": obj{"givenName": "Dade", "familyName": "Murphy"}, "emails": []obj{{"primary": true, "value": "dade.murphy@example.com", "type": "work"}},
		"displayName": "Dade Murphy", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7", "groups": []any{}, "password": "1mz050nq", "active": true})
	e.want("create", 201, st, u)
	id := u["id"].(string)
	meta := u["meta"].(obj)
	if meta["resourceType"] != "User" || meta["created"] == "" || meta["lastModified"] == "" || meta["location"] != e.srv.URL+e.base+"/Users/"+id {
		t.Errorf("meta: %v", meta)
	}
	if u["externalId"] != "00ujl29u0le5T6Aj10h7" || u["active"] != true || u["displayName"] != "Dade Murphy" || u["password"] != nil {
		t.Errorf("created: %v", u)
	}
	// Created as a member with the default role, managed by acme.
	m, err := e.te.Svc.Member(context.Background(), e.te.Org.ID, "dade.murphy@example.com")
	if err != nil || m.User.ManagedBy != e.te.Org.ID || m.Membership.RoleID != e.te.Org.Settings.DefaultRoleID {
		t.Fatalf("member: %+v, %v", m, err)
	}
	st, list = e.do("GET", "/Users"+filterQ(`userName eq "DADE.MURPHY@example.com"`), nil)
	if st != 200 || list["totalResults"] != 1.0 || list["Resources"].([]any)[0].(obj)["id"] != id {
		t.Fatalf("lookup ignoring case: %d %v", st, list)
	}
	st, got := e.do("GET", "/Users/"+id, nil)
	e.want("get", 200, st, got)

	st, put := e.do("PUT", "/Users/"+id, obj{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "id": id,
		"userName": "dade.murphy@example.com", "name": obj{"givenName": "Crash", "familyName": "Override"},
		"emails": []obj{{"primary": true, "value": "crash@example.com", "type": "work"}}, "externalId": "00ujl29u0le5T6Aj10h7", "active": true})
	e.want("put", 200, st, put)
	if put["displayName"] != "Crash Override" || put["emails"].([]any)[0].(obj)["value"] != "crash@example.com" {
		t.Errorf("replaced: %v", put)
	}

	pt := e.personalToken(id)
	if s := e.apiStatus(pt, "/api/user"); s != 200 {
		t.Fatalf("the user's token before: %d", s)
	}
	st, off := e.do("PATCH", "/Users/"+id, patchOp(obj{"op": "replace", "value": obj{"active": false}}))
	e.want("deactivate", 200, st, off)
	if off["active"] != false {
		t.Errorf("deactivated: %v", off)
	}
	if s := e.apiStatus(pt, "/api/user"); s != 401 {
		t.Errorf("the user's token after active=false: %d, want 401", s)
	}
	st, on := e.do("PATCH", "/Users/"+id, patchOp(obj{"op": "replace", "value": obj{"active": true}}))
	if e.want("reactivate", 200, st, on); on["active"] != true || e.apiStatus(pt, "/api/user") != 401 {
		t.Errorf("reactivated: %v (the revoked token must stay revoked)", on)
	}
	return id
}

// oktaGroups is Okta's group sequence, with id a provisioned user.
func oktaGroups(t *testing.T, e *scimEnv, id string) {
	okta2 := e.createUser("okta2@example.com", "ext-2")
	st, g := e.do("POST", "/Groups", obj{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "Test SCIMv2", "members": []any{}})
	e.want("create group", 201, st, g)
	gid := g["id"].(string)
	if g["meta"].(obj)["resourceType"] != "Group" || len(members(g)) != 0 {
		t.Errorf("group: %v", g)
	}
	st, list := e.do("GET", "/Groups"+filterQ(`displayName eq "Test SCIMv2"`)+"&startIndex=1&count=100", nil)
	if st != 200 || list["totalResults"] != 1.0 {
		t.Fatalf("group lookup: %v", list)
	}
	st, g = e.do("PATCH", "/Groups/"+gid, patchOp(obj{"op": "replace", "value": obj{"id": gid, "displayName": "Test SCIMv2 renamed"}}))
	if e.want("rename", 200, st, g); g["displayName"] != "Test SCIMv2 renamed" {
		t.Errorf("renamed: %v", g)
	}
	st, g = e.do("PATCH", "/Groups/"+gid, patchOp(obj{"op": "add", "path": "members", "value": []obj{{"value": id, "display": "dade"}, {"value": okta2, "display": "okta2"}}}))
	if e.want("add members", 200, st, g); len(members(g)) != 2 {
		t.Errorf("after adding: %v", g)
	}
	st, g = e.do("PATCH", "/Groups/"+gid, patchOp(obj{"op": "remove", "path": `members[value eq "` + id + `"]`}))
	if e.want("remove member", 200, st, g); fmt.Sprint(members(g)) != fmt.Sprint([]string{okta2}) {
		t.Errorf("after removing: %v", g)
	}
	team, err := e.te.Svc.TeamByID(context.Background(), e.te.Org.ID, gid)
	if err != nil || team.Kind != gatehouse.TeamSCIM || team.Name != "Test-SCIMv2" {
		t.Errorf("the team: %+v, %v", team, err)
	}
	st, list = e.do("GET", "/Groups?excludedAttributes=members", nil)
	if st != 200 || list["Resources"].([]any)[0].(obj)["members"] != nil {
		t.Errorf("excludedAttributes=members: %v", list)
	}
	st, _ = e.do("DELETE", "/Groups/"+gid, nil)
	if st != 204 {
		t.Fatalf("delete group: %d", st)
	}
	st, gone := e.do("GET", "/Groups/"+gid, nil)
	wantSCIMError(t, "deleted group", st, gone, 404, "")
}

// createUser provisions a user and returns its id.
func (e *scimEnv) createUser(login, externalID string) string {
	e.t.Helper()
	st, u := e.do("POST", "/Users", obj{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": login, "externalId": externalID, "active": true})
	e.want("create "+login, 201, st, u)
	return u["id"].(string)
}

// wantSCIMAudit checks that every SCIM event is attributed to the SCIM
// token, and that each kind of change was recorded.
func (e *scimEnv) wantSCIMAudit() {
	e.t.Helper()
	es, _, err := e.te.Svc.AuditEvents(context.Background(), e.te.Org.ID, gatehouse.AuditFilter{}, gatehouse.ListOptions{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ev := range es {
		if !strings.HasPrefix(ev.Type, "scim_") || ev.Type == gatehouse.EventSCIMTokenCreated {
			continue
		}
		seen[ev.Type] = true
		if ev.ActorLogin != "SCIM token" || ev.TokenID == "" || ev.TokenName != "scim" || ev.SourceIP == "" {
			e.t.Errorf("%s not attributed to the SCIM token: %+v", ev.Type, ev)
		}
	}
	for _, typ := range []string{gatehouse.EventSCIMUserCreated, gatehouse.EventSCIMUserUpdated, gatehouse.EventSCIMUserDeprovisioned,
		gatehouse.EventSCIMGroupCreated, gatehouse.EventSCIMGroupUpdated, gatehouse.EventSCIMGroupDeleted} {
		if !seen[typ] {
			e.t.Errorf("no %s event", typ)
		}
	}
}

// TestSCIMEntra follows the requests Microsoft Entra ID's provisioning
// service sends ("SCIM endpoint behavior", the Entra SCIM validator's
// sequence): a probe with a random userName, create with the enterprise
// extension, lookup by externalId, PATCH with "Replace"/"Add" ops and
// value paths, the "False" string for active, group creation, lookup
// with excludedAttributes, members added in batches and removed with a
// value, delete.
func TestSCIMEntra(t *testing.T) {
	t.Parallel()
	eachSCIM(t, func(t *testing.T, e *scimEnv) {
		id := entraUsers(t, e)
		entraGroups(t, e)
		if st, _ := e.do("DELETE", "/Users/"+id, nil); st != 204 {
			t.Fatalf("delete user: %d", st)
		}
		st, gone := e.do("GET", "/Users/"+id, nil)
		wantSCIMError(t, "deleted user", st, gone, 404, "")
		e.wantSCIMAudit()
	})
}

// entraUsers is Entra ID's user sequence; it returns the user's id.
func entraUsers(t *testing.T, e *scimEnv) string {
	st, list := e.do("GET", "/Users"+filterQ(`userName eq "ryan3@contoso.com-9c51a3d2"`), nil)
	if st != 200 || list["totalResults"] != 0.0 {
		t.Fatalf("probe: %v", list)
	}
	st, u := e.do("POST", "/Users", obj{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"},
		"UserName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.com", "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
		"active": true, "emails": []obj{{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@testuser.com"}}, "meta": obj{"resourceType": "User"},
		"name": obj{"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"}, "roles": []any{},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": obj{"employeeNumber": "701984", "department": "4"}})
	e.want("create (a capitalized attribute name)", 201, st, u)
	id := u["id"].(string)
	if u["userName"] != "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.com" || u["displayName"] != "givenName familyName" {
		t.Errorf("created: %v", u)
	}
	st, list = e.do("GET", "/Users"+filterQ(`externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`), nil)
	if st != 200 || list["totalResults"] != 1.0 {
		t.Fatalf("by externalId: %v", list)
	}
	st, u = e.do("PATCH", "/Users/"+id, patchOp(
		obj{"op": "Replace", "path": `emails[type eq "work"].value`, "value": "updatedEmail@microsoft.com"},
		obj{"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
		obj{"op": "Add", "path": "displayName", "value": "Updated Name"},
		obj{"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "boss"},
		obj{"op": "Replace", "path": "title", "value": "Engineer"}))
	e.want("patch with paths", 200, st, u)
	if u["emails"].([]any)[0].(obj)["value"] != "updatedEmail@microsoft.com" || u["displayName"] != "Updated Name" {
		t.Errorf("patched: %v", u)
	}
	st, u = e.do("PATCH", "/Users/"+id, patchOp(obj{"op": "Replace", "path": "userName", "value": "ryan@contoso.com"}))
	if e.want("rename", 200, st, u); u["userName"] != "ryan@contoso.com" {
		t.Errorf("renamed: %v", u)
	}
	sess, _, err := e.te.Svc.Sessions().Open(context.Background(), id, make([]byte, 32), 3600e9)
	if err != nil {
		t.Fatal(err)
	}
	st, u = e.do("PATCH", "/Users/"+id, patchOp(obj{"op": "Replace", "path": "active", "value": "False"}))
	if e.want(`active "False"`, 200, st, u); u["active"] != false {
		t.Errorf(`after "False": %v`, u)
	}
	if _, err := e.te.Svc.Sessions().Get(context.Background(), sess); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("the console session after deprovisioning: %v", err)
	}
	return id
}

// entraGroups is Entra ID's group sequence.
func entraGroups(t *testing.T, e *scimEnv) {
	var users []string
	for i := range 5 {
		users = append(users, e.createUser(fmt.Sprintf("entra%d@contoso.com", i), fmt.Sprintf("ext-%d", i)))
	}
	st, g := e.do("POST", "/Groups", obj{"externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "Group1DisplayName",
		"meta": obj{"resourceType": "Group"}, "schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}})
	e.want("create group", 201, st, g)
	gid := g["id"].(string)
	st, list := e.do("GET", "/Groups"+filterQ(`displayName eq "Group1DisplayName"`)+"&excludedAttributes=members", nil)
	if st != 200 || list["totalResults"] != 1.0 || list["Resources"].([]any)[0].(obj)["members"] != nil {
		t.Fatalf("group lookup: %v", list)
	}
	batch := []obj{{"value": users[0]}, {"value": users[1]}, {"value": users[2]}}
	st, g = e.do("PATCH", "/Groups/"+gid, patchOp(obj{"op": "Add", "path": "members", "value": batch}, obj{"op": "Add", "path": "members", "value": []obj{{"value": users[3]}}}))
	if e.want("add a batch", 200, st, g); len(members(g)) != 4 {
		t.Errorf("after the batch: %v", members(g))
	}
	st, g = e.do("PATCH", "/Groups/"+gid, patchOp(obj{"op": "Remove", "path": "members", "value": []obj{{"value": users[0]}, {"value": users[1]}}}))
	if e.want("remove a batch", 200, st, g); len(members(g)) != 2 {
		t.Errorf("after removing: %v", members(g))
	}
	st, g = e.do("PATCH", "/Groups/"+gid, patchOp(obj{"op": "Replace", "path": "displayName", "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}))
	if e.want("rename group", 200, st, g); g["displayName"] != "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName" {
		t.Errorf("renamed: %v", g)
	}
	st, g = e.do("PATCH", "/Groups/"+gid, patchOp(obj{"op": "Replace", "path": "members", "value": []obj{{"value": users[4]}}}))
	if e.want("replace members", 200, st, g); fmt.Sprint(members(g)) != fmt.Sprint([]string{users[4]}) {
		t.Errorf("replaced: %v", members(g))
	}
	if st, _ = e.do("DELETE", "/Groups/"+gid, nil); st != 204 {
		t.Fatalf("delete group: %d", st)
	}
}
