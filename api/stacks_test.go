package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// stackPath is the API path of a stack of acme.
func stackPath(project, name string, more ...string) string {
	return "/api/stacks/acme/" + project + "/" + name + strings.Join(append([]string{""}, more...), "/")
}

// newStack creates a stack through the API, as the CLI does.
func (e *env) newStack(token, project, name string, tags map[string]string) {
	e.t.Helper()
	e.must(token, "POST", "/api/stacks/acme/"+project, map[string]any{"stackName": name, "tags": tags}, 200, nil)
}

// lease is a started update: its id, lease and the version it writes.
type lease struct {
	id, auth string
	version  int
}

// begin creates and starts an update of a kind, as the CLI does.
func (e *env) begin(token, project, name, kind string) lease {
	e.t.Helper()
	var created struct{ UpdateID string }
	e.must(token, "POST", stackPath(project, name, kind), map[string]any{"name": project, "runtime": "yaml",
		"options": map[string]any{"dryRun": kind == "preview"}, "config": map[string]any{}, "metadata": map[string]any{"message": "m"}}, 200, &created)
	var started struct {
		Version         int
		Token           string
		TokenExpiration int64
	}
	e.must(token, "POST", stackPath(project, name, "update", created.UpdateID), map[string]any{"tags": map[string]string{"pulumi:runtime": "yaml"}}, 200, &started)
	if started.Token == "" || started.TokenExpiration == 0 {
		e.t.Fatalf("start returned no lease: %+v", started)
	}
	return lease{id: created.UpdateID, auth: "update-token " + started.Token, version: started.Version}
}

func deployment(resources ...string) map[string]any {
	rs := []map[string]any{}
	for _, r := range resources {
		rs = append(rs, map[string]any{"urn": r, "type": "pulumi:pulumi:Stack"})
	}
	return map[string]any{"version": 3, "deployment": map[string]any{"manifest": map[string]any{}, "resources": rs}}
}

// TestStackLifecycle walks the protocol the pulumi CLI speaks: create,
// secrets, an update with verbatim and delta checkpoints and events,
// history, export and import, tags, rename and delete.
func TestStackLifecycle(t *testing.T) {
	e := newEnv(t)
	e.newStack(e.admin, "app", "dev", map[string]string{"env": "dev"})
	e.fails(e.admin, "POST", "/api/stacks/acme/app", map[string]any{"stackName": "dev"}, 409, "already exists")
	e.fails(e.admin, "POST", "/api/stacks/acme/app", map[string]any{"stackName": "bad name"}, 400, "stackName")
	var st struct {
		ID          string
		ProjectName string
		StackName   string
		Tags        map[string]string
		Version     int
	}
	e.must(e.admin, "GET", stackPath("app", "dev"), nil, 200, &st)
	if st.StackName != "dev" || st.Tags["env"] != "dev" || st.Tags["pulumi:project"] != "app" || st.Version != 0 {
		t.Fatalf("stack = %+v", st)
	}

	// Secrets round-trip under the stack's key, one at a time and batched.
	var enc struct{ Ciphertext []byte }
	e.must(e.admin, "POST", stackPath("app", "dev", "encrypt"), map[string]any{"plaintext": []byte("s3cret")}, 200, &enc)
	if bytes.Contains(enc.Ciphertext, []byte("s3cret")) || len(enc.Ciphertext) < 20 {
		t.Fatalf("ciphertext %x", enc.Ciphertext)
	}
	var dec struct{ Plaintext []byte }
	e.must(e.admin, "POST", stackPath("app", "dev", "decrypt"), map[string]any{"ciphertext": enc.Ciphertext}, 200, &dec)
	if string(dec.Plaintext) != "s3cret" {
		t.Fatalf("decrypted %q", dec.Plaintext)
	}
	var benc struct{ Ciphertexts [][]byte }
	e.must(e.admin, "POST", stackPath("app", "dev", "batch-encrypt"), map[string]any{"plaintexts": [][]byte{[]byte("a"), []byte("b")}}, 200, &benc)
	var bdec struct{ Plaintexts map[string][]byte }
	e.must(e.admin, "POST", stackPath("app", "dev", "batch-decrypt"), map[string]any{"ciphertexts": benc.Ciphertexts}, 200, &bdec)
	if string(bdec.Plaintexts[base64.StdEncoding.EncodeToString(benc.Ciphertexts[1])]) != "b" {
		t.Fatalf("batch-decrypt = %v", bdec.Plaintexts)
	}
	// Another stack's key does not open this stack's values.
	e.newStack(e.admin, "app", "other", nil)
	e.fails(e.admin, "POST", stackPath("app", "other", "decrypt"), map[string]any{"ciphertext": enc.Ciphertext}, 400, "does not decrypt")

	// An update: a verbatim checkpoint, then a delta on it, events, complete.
	u := e.begin(e.admin, "app", "dev", "update")
	if u.version != 1 {
		t.Fatalf("first update writes version %d", u.version)
	}
	// A second update cannot start while the first holds the lease.
	var second struct{ UpdateID string }
	e.must(e.admin, "POST", stackPath("app", "dev", "update"), map[string]any{"name": "app"}, 200, &second)
	e.fails(e.admin, "POST", stackPath("app", "dev", "update", second.UpdateID), map[string]any{}, 409, "Another update is currently in progress")
	// The lease, not an access token, authenticates the update's requests.
	e.fails(e.admin, "PATCH", stackPath("app", "dev", "update", u.id, "checkpointverbatim"), map[string]any{}, 401, "update-token")
	e.fails("update-token nope", "PATCH", stackPath("app", "dev", "update", u.id, "checkpointverbatim"), map[string]any{}, 401, "lease")

	base, _ := json.Marshal(deployment("urn:a"))
	e.must(u.auth, "PATCH", stackPath("app", "dev", "update", u.id, "checkpointverbatim"),
		map[string]any{"version": 3, "untypedDeployment": json.RawMessage(base), "sequenceNumber": 1}, 204, nil)
	next, _ := json.Marshal(deployment("urn:a", "urn:b"))
	i := bytes.Index(base, []byte(`]`))
	j := bytes.Index(next, []byte(`]`))
	delta := fmt.Sprintf(`[{"Span":{"uri":"","start":{"line":1,"column":0,"offset":%d},"end":{"line":1,"column":0,"offset":%d}},"NewText":%q}]`,
		0, i, string(next[:j]))
	sum := sha256.Sum256(next)
	e.fails(u.auth, "PATCH", stackPath("app", "dev", "update", u.id, "checkpointdelta"),
		map[string]any{"version": 3, "checkpointHash": strings.Repeat("0", 64), "sequenceNumber": 2, "deploymentDelta": json.RawMessage(delta)}, 400, "checkpointHash")
	e.must(u.auth, "PATCH", stackPath("app", "dev", "update", u.id, "checkpointdelta"),
		map[string]any{"version": 3, "checkpointHash": hex.EncodeToString(sum[:]), "sequenceNumber": 2, "deploymentDelta": json.RawMessage(delta)}, 204, nil)
	// A retried delta is harmless.
	e.must(u.auth, "PATCH", stackPath("app", "dev", "update", u.id, "checkpointdelta"),
		map[string]any{"version": 3, "checkpointHash": hex.EncodeToString(sum[:]), "sequenceNumber": 2, "deploymentDelta": json.RawMessage(delta)}, 204, nil)
	e.must(u.auth, "POST", stackPath("app", "dev", "update", u.id, "events/batch"), map[string]any{"events": []map[string]any{
		{"sequence": 1, "timestamp": 1, "stdoutEvent": map[string]any{"message": "hi"}},
		{"sequence": 2, "timestamp": 2, "summaryEvent": map[string]any{"resourceChanges": map[string]int{"create": 2}}},
	}}, 204, nil)
	var renewed struct {
		Token           string
		TokenExpiration int64
	}
	e.must(u.auth, "POST", stackPath("app", "dev", "update", u.id, "renew_lease"), map[string]any{"duration": 600}, 200, &renewed)
	if "update-token "+renewed.Token != u.auth || renewed.TokenExpiration == 0 {
		t.Errorf("renewed lease = %+v", renewed)
	}
	e.must(u.auth, "POST", stackPath("app", "dev", "update", u.id, "complete"), map[string]any{"status": "succeeded"}, 204, nil)
	// The finished update's lease is dead.
	e.fails(u.auth, "POST", stackPath("app", "dev", "update", u.id, "events/batch"), map[string]any{"events": []any{}}, 401, "lease")

	var exported struct {
		Version    int
		Deployment struct{ Resources []struct{ URN string } }
	}
	e.must(e.admin, "GET", stackPath("app", "dev", "export"), nil, 200, &exported)
	if len(exported.Deployment.Resources) != 2 || exported.Deployment.Resources[1].URN != "urn:b" {
		t.Fatalf("exported %+v", exported)
	}
	var events struct{ Events []map[string]any }
	e.must(e.admin, "GET", stackPath("app", "dev", "update", u.id, "events"), nil, 200, &events)
	if len(events.Events) != 2 {
		t.Errorf("events = %v", events.Events)
	}

	// Import a new version, gzipped as the CLI sends it; history has both.
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	json.NewEncoder(zw).Encode(deployment())
	zw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+stackPath("app", "dev", "import"), &zipped)
	req.Header.Set("Authorization", "token "+e.admin)
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("gzipped import: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	var history struct {
		Updates []struct {
			Kind            string
			Version         int
			Result          string
			ResourceChanges map[string]int
		}
	}
	e.must(e.admin, "GET", stackPath("app", "dev", "updates"), nil, 200, &history)
	if len(history.Updates) != 2 || history.Updates[0].Kind != "import" || history.Updates[0].Version != 2 ||
		history.Updates[1].Version != 1 || history.Updates[1].ResourceChanges["create"] != 2 || history.Updates[1].Result != "succeeded" {
		t.Fatalf("history = %+v", history.Updates)
	}
	e.must(e.admin, "GET", stackPath("app", "dev", "export", "1"), nil, 200, &exported)
	if len(exported.Deployment.Resources) != 2 {
		t.Errorf("version 1 = %+v", exported)
	}
	e.fails(e.admin, "GET", stackPath("app", "dev", "export", "9"), nil, 404, "no version 9")

	// Tags: add, change, replace, delete; the project tag is fixed.
	e.must(e.admin, "POST", stackPath("app", "dev", "tags"), map[string]string{"name": "team", "value": "core"}, 204, nil)
	e.fails(e.admin, "POST", stackPath("app", "dev", "tags"), map[string]string{"name": "team", "value": "x"}, 400, "exists already")
	e.fails(e.admin, "PATCH", stackPath("app", "dev", "tags", "pulumi:project"), map[string]string{"name": "pulumi:project", "value": "x"}, 400, "built in")
	e.must(e.admin, "PATCH", stackPath("app", "dev", "tags"), map[string]string{"env": "prod", "pulumi:project": "app"}, 204, nil)
	e.must(e.admin, "DELETE", stackPath("app", "dev", "tags", "env"), nil, 204, nil)
	st.Tags = nil // decoding merges into a map
	e.must(e.admin, "GET", stackPath("app", "dev"), nil, 200, &st)
	if len(st.Tags) != 1 || st.Tags["pulumi:project"] != "app" {
		t.Errorf("tags = %v", st.Tags)
	}

	// Rename, then delete: refused while resources remain, unless forced.
	e.must(e.admin, "POST", stackPath("app", "dev", "rename"), map[string]string{"newName": "prod", "newProject": "svc"}, 204, nil)
	e.fails(e.admin, "GET", stackPath("app", "dev"), nil, 404, "not found")
	e.must(e.admin, "GET", stackPath("svc", "prod"), nil, 200, &st)
	u = e.begin(e.admin, "svc", "prod", "update")
	data, _ := json.Marshal(deployment("urn:x"))
	e.must(u.auth, "PATCH", stackPath("svc", "prod", "update", u.id, "checkpointverbatim"),
		map[string]any{"version": 3, "untypedDeployment": json.RawMessage(data), "sequenceNumber": 1}, 204, nil)
	e.must(u.auth, "POST", stackPath("svc", "prod", "update", u.id, "complete"), map[string]any{"status": "succeeded"}, 204, nil)
	e.fails(e.admin, "DELETE", stackPath("svc", "prod"), nil, 400, "Stack still contains resources")
	e.must(e.admin, "DELETE", stackPath("svc", "prod")+"?force=true", nil, 204, nil)
	e.fails(e.admin, "GET", stackPath("svc", "prod"), nil, 404, "not found")
}

// TestStackAccess: every stack route decides on the stack, by id and by
// tag; stacks a caller cannot read are absent from lists and 404; the
// update's lease stops working when its starter's token is revoked.
func TestStackAccess(t *testing.T) {
	e := newEnv(t)
	sets := e.roles("set")
	e.newStack(e.admin, "app", "dev", map[string]string{"env": "dev"})
	e.newStack(e.admin, "app", "prod", map[string]string{"env": "prod"})
	var dev struct{ ID string }
	e.must(e.admin, "GET", stackPath("app", "dev"), nil, 200, &dev)
	readDev := e.customRole("read-dev", map[string]any{"__type": "PermissionDescriptorCondition",
		"condition": map[string]any{"__type": "PermissionExpressionEqual",
			"left":  map[string]any{"__type": "PermissionExpressionStack"},
			"right": map[string]any{"__type": "PermissionLiteralExpressionStack", "identity": dev.ID}},
		"subNode": map[string]any{"__type": "PermissionDescriptorCompose", "permissionDescriptors": []string{sets["Stack Read"].ID}}})
	reader := e.orgToken("reader", readDev)

	var list struct{ Stacks []struct{ StackName string } }
	e.must(reader, "GET", "/api/user/stacks?organization=acme", nil, 200, &list)
	if len(list.Stacks) != 1 || list.Stacks[0].StackName != "dev" {
		t.Fatalf("reader lists %+v", list.Stacks)
	}
	e.fails(reader, "GET", stackPath("app", "prod"), nil, 404, "not found")
	e.must(reader, "GET", stackPath("app", "dev", "export"), nil, 200, nil)
	e.fails(reader, "POST", stackPath("app", "dev", "update"), map[string]any{"name": "app"}, 403, "stack:write")
	e.fails(reader, "POST", stackPath("app", "dev", "tags"), map[string]string{"name": "a", "value": "b"}, 403, "stack_tags:update")
	e.fails(reader, "DELETE", stackPath("app", "dev"), nil, 403, "stack:delete")
	e.fails(reader, "POST", "/api/stacks/acme/app", map[string]any{"stackName": "new"}, 403, "stack:create")
	// A preview is a read: it starts, and its snapshot is not stored; it
	// takes no stack lease, so an update runs beside it.
	p := e.begin(reader, "app", "dev", "preview")
	beside := e.begin(e.admin, "app", "dev", "update")
	e.must(beside.auth, "POST", stackPath("app", "dev", "update", beside.id, "complete"), map[string]any{"status": "succeeded"}, 204, nil)
	data, _ := json.Marshal(deployment("urn:p"))
	e.must(p.auth, "PATCH", stackPath("app", "dev", "update", p.id, "checkpointverbatim"),
		map[string]any{"version": 3, "untypedDeployment": json.RawMessage(data), "sequenceNumber": 1}, 204, nil)
	e.must(p.auth, "POST", stackPath("app", "dev", "update", p.id, "complete"), map[string]any{"status": "succeeded"}, 204, nil)
	var st struct{ Version int }
	e.must(e.admin, "GET", stackPath("app", "dev"), nil, 200, &st)
	if st.Version != 0 {
		t.Errorf("a preview wrote version %d (the update beside it wrote none)", st.Version)
	}

	// Stack Write on stacks tagged env=dev.
	writeDev := e.customRole("write-dev", map[string]any{"__type": "PermissionDescriptorCondition",
		"condition": map[string]any{"__type": "PermissionExpressionEqual",
			"left":  map[string]any{"__type": "PermissionExpressionTag", "context": map[string]any{"__type": "PermissionExpressionStack"}, "key": "env"},
			"right": map[string]any{"__type": "PermissionLiteralExpressionString", "value": "dev"}},
		"subNode": map[string]any{"__type": "PermissionDescriptorCompose", "permissionDescriptors": []string{sets["Stack Write"].ID}}})
	writerID, writer := e.orgTokenWithID("writer", writeDev)
	u := e.begin(writer, "app", "dev", "update")
	e.fails(writer, "POST", stackPath("app", "prod", "update"), map[string]any{"name": "app"}, 404, "not found")
	// Retagging prod env=dev grants access at once.
	e.must(e.admin, "PATCH", stackPath("app", "prod", "tags", "env"), map[string]string{"name": "env", "value": "dev"}, 204, nil)
	e.must(writer, "GET", stackPath("app", "prod"), nil, 200, nil)

	// Revoking the starter's token stops its update's lease.
	e.must(u.auth, "POST", stackPath("app", "dev", "update", u.id, "renew_lease"), map[string]any{"duration": 60}, 200, nil)
	e.must(e.admin, "DELETE", "/api/orgs/acme/tokens/"+writerID, nil, 204, nil)
	e.fails(u.auth, "POST", stackPath("app", "dev", "update", u.id, "renew_lease"), map[string]any{"duration": 60}, 401, "no longer valid")
	// An admin cancels it and the stack is free again.
	e.must(e.admin, "POST", stackPath("app", "dev", "update", u.id, "cancel"), nil, 204, nil)
	e.begin(e.admin, "app", "dev", "update")
}

// TestConcurrentStarts: of many updates racing for one stack, one wins and
// the others get the conflict message the CLI shows.
func TestConcurrentStarts(t *testing.T) {
	e := newEnv(t)
	e.newStack(e.admin, "app", "dev", nil)
	ids := make([]string, 8)
	for i := range ids {
		var c struct{ UpdateID string }
		e.must(e.admin, "POST", stackPath("app", "dev", "update"), map[string]any{"name": "app"}, 200, &c)
		ids[i] = c.UpdateID
	}
	var wg sync.WaitGroup
	statuses := make([]int, len(ids))
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i], _ = e.call(e.admin, "POST", stackPath("app", "dev", "update", id), map[string]any{}, nil)
		}()
	}
	wg.Wait()
	won := 0
	for _, s := range statuses {
		switch s {
		case 200:
			won++
		case 409:
		default:
			t.Errorf("status %d", s)
		}
	}
	if won != 1 {
		t.Errorf("%d updates started, want 1 (%v)", won, statuses)
	}
}

// customRole creates a role with the given details and returns its id.
func (e *env) customRole(name string, details map[string]any) string {
	e.t.Helper()
	var r role
	e.must(e.admin, "POST", "/api/orgs/acme/roles", map[string]any{"name": name, "uxPurpose": "role", "details": details}, 200, &r)
	return r.ID
}

// orgTokenWithID creates an organization token and returns its id and
// value.
func (e *env) orgTokenWithID(name, roleID string) (string, string) {
	e.t.Helper()
	var out struct{ ID, TokenValue string }
	e.must(e.admin, "POST", "/api/orgs/acme/tokens", map[string]any{"name": name, "roleID": roleID}, 200, &out)
	return out.ID, out.TokenValue
}

// TestStackCreators: a member whose role may only create stacks
// administers what they create, and nothing else; teams named on create
// get Stack Write; a team token's team administers the stacks it creates.
func TestStackCreators(t *testing.T) {
	e := newEnv(t)
	creator := e.customRole("creator", map[string]any{"__type": "PermissionDescriptorAllow", "permissions": []string{"stack:create"}})
	e.must(e.admin, "POST", "/api/orgs/acme/members/carol", nil, 200, nil)
	e.must(e.admin, "PATCH", "/api/orgs/acme/members/carol", map[string]any{"fgaRoleId": creator}, 204, nil)
	status, body := e.call(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]any{"name": "ops"}, nil)
	if status != 201 {
		t.Fatalf("team: %d %s", status, body)
	}
	carolToken, err := e.svc.IssueToken(context.Background(), "acme", "carol", "test", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	e.newStack(e.admin, "app", "theirs", nil)
	e.fails(carolToken, "POST", "/api/stacks/acme/app", map[string]any{"stackName": "mine", "teams": []string{"ops"}}, 403, "team:update")
	e.newStack(carolToken, "app", "mine", nil)
	e.must(carolToken, "GET", stackPath("app", "mine"), nil, 200, nil)
	e.fails(carolToken, "GET", stackPath("app", "theirs"), nil, 404, "not found")
	// The admin names a team: its members may write the stack.
	e.must(e.admin, "POST", "/api/stacks/acme/app", map[string]any{"stackName": "shared", "teams": []string{"ops"}}, 200, nil)
	e.fails(e.admin, "POST", "/api/stacks/acme/app", map[string]any{"stackName": "x", "teams": []string{"nope"}}, 400, `team "nope" not found`)
	e.must(e.admin, "PATCH", "/api/orgs/acme/teams/ops", map[string]any{"memberAction": "add", "member": "carol"}, 204, nil)
	e.begin(carolToken, "app", "shared", "update")
	e.fails(carolToken, "DELETE", stackPath("app", "shared"), nil, 403, "stack:delete")
	e.must(carolToken, "DELETE", stackPath("app", "mine"), nil, 204, nil)
	// A team token creates a stack; its team administers it.
	var tt struct{ TokenValue string }
	e.must(e.admin, "PATCH", "/api/orgs/acme/teams/ops", map[string]any{"memberAction": "remove", "member": "carol"}, 204, nil)
	e.must(e.admin, "POST", "/api/orgs/acme/teams/ops/roles/"+creator, nil, 204, nil)
	e.must(e.admin, "POST", "/api/orgs/acme/teams/ops/tokens", map[string]any{"name": "ops-ci"}, 200, &tt)
	e.newStack(tt.TokenValue, "app", "ops-made", nil)
	e.must(tt.TokenValue, "DELETE", stackPath("app", "ops-made"), nil, 204, nil)
}
