package api_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api"
	"github.com/gatehouse-iam/gatehouse/service"
)

// countEvents counts an organization's events of a type.
func (e *env) countEvents(typ string) int {
	e.t.Helper()
	n := 0
	ctx := context.Background()
	err := e.db.Read(ctx, func(tx gatehouse.Tx) error {
		next := ""
		for {
			es, nx, err := tx.ListAudit(ctx, e.orgID(), gatehouse.AuditFilter{Types: []string{typ}}, gatehouse.ListOptions{Limit: 1000, Continuation: next})
			if err != nil {
				return err
			}
			n += len(es)
			if next = nx; next == "" {
				return nil
			}
		}
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestEveryMutatingRouteEmitsItsEvent walks the registered routes: every
// route that changes something has a valid call here, and that call must
// add an event of the expected type.
func TestEveryMutatingRouteEmitsItsEvent(t *testing.T) {
	e := newEnv(t)
	sets := e.roles("set")
	st := e.createStack("app", "prod", nil, "")
	var roleID, orgTokenID, teamTokenID, personalTokenID, inviteID, carol string
	var spKeyIDs []string
	e.must(e.admin, "GET", "/api/orgs/acme/saml/sp-keys", nil, 200, nil) // the first SP key pair
	ti := newTestIssuer(t)
	var iss issuerResp
	var policyID string
	ctxStack := map[string]string{"__type": "PermissionExpressionStack"}
	type call struct {
		event string
		do    func()
	}
	// Reads that use POST, and the decision endpoint, change nothing.
	readOnly := map[string]bool{"POST /api/orgs/{orgName}/assignments/list": true, "POST /api/orgs/{orgName}/authz/check": true}
	calls := map[string]call{
		"POST /api/orgs/{orgName}/roles": {gatehouse.EventRoleCreated, func() {
			var r role
			e.must(e.admin, "POST", "/api/orgs/acme/roles", map[string]any{"name": "r", "uxPurpose": "role",
				"details": map[string]any{"__type": "PermissionDescriptorAllow", "permissions": []string{"team:list"}}}, 200, &r)
			roleID = r.ID
		}},
		"PATCH /api/orgs/{orgName}/roles/{roleID}": {gatehouse.EventRoleUpdated, func() {
			e.must(e.admin, "PATCH", "/api/orgs/acme/roles/"+roleID, map[string]any{"description": "d"}, 200, nil)
		}},
		"PATCH /api/orgs/{orgName}/roles/{roleID}/default": {gatehouse.EventDefaultRoleChanged, func() {
			e.must(e.admin, "PATCH", "/api/orgs/acme/roles/"+e.roles("role")["Reader"].ID+"/default", nil, 204, nil)
		}},
		"POST /api/orgs/{orgName}/invites": {gatehouse.EventInviteCreated, func() {
			carol = e.newOrg("carols", "carol")
			var out struct{ ID string }
			e.must(e.admin, "POST", "/api/orgs/acme/invites", map[string]any{"userLogin": "carol", "role": "member"}, 201, &out)
			inviteID = out.ID
		}},
		"PATCH /api/orgs/{orgName}/invites/{inviteID}": {gatehouse.EventInviteUpdated, func() {
			e.must(e.admin, "PATCH", "/api/orgs/acme/invites/"+inviteID, map[string]any{"role": "admin"}, 200, nil)
		}},
		"DELETE /api/orgs/{orgName}/invites/{inviteID}": {gatehouse.EventInviteRevoked, func() {
			e.must(e.admin, "DELETE", "/api/orgs/acme/invites/"+inviteID, nil, 204, nil)
		}},
		"POST /api/user/pending-invites/{inviteID}/decline": {gatehouse.EventInviteDeclined, func() {
			var out struct{ ID string }
			e.must(e.admin, "POST", "/api/orgs/acme/invites", map[string]any{"userLogin": "carol"}, 201, &out)
			e.must(carol, "POST", "/api/user/pending-invites/"+out.ID+"/decline", nil, 204, nil)
		}},
		"POST /api/user/pending-invites/{inviteID}/accept": {gatehouse.EventInviteAccepted, func() {
			var out struct{ ID string }
			e.must(e.admin, "POST", "/api/orgs/acme/invites", map[string]any{"userLogin": "carol"}, 201, &out)
			e.must(carol, "POST", "/api/user/pending-invites/"+out.ID+"/accept", nil, 200, nil)
		}},
		"POST /api/orgs/{orgName}/scim/token": {gatehouse.EventSCIMTokenCreated, func() {
			e.must(e.admin, "POST", "/api/orgs/acme/scim/token", nil, 201, nil)
		}},
		"POST /api/orgs/{orgName}/members/{userLogin}": {gatehouse.EventMemberAdded, func() {
			e.must(e.admin, "POST", "/api/orgs/acme/members/bob", nil, 200, nil)
		}},
		"PATCH /api/orgs/{orgName}/members/{userLogin}": {gatehouse.EventMemberRoleChanged, func() {
			e.must(e.admin, "PATCH", "/api/orgs/acme/members/bob", map[string]any{"role": "builder"}, 204, nil)
		}},
		"POST /api/orgs/{orgName}/teams/pulumi": {gatehouse.EventTeamCreated, func() {
			e.must(e.admin, "POST", "/api/orgs/acme/teams/pulumi", map[string]any{"name": "ops"}, 201, nil)
		}},
		"PATCH /api/orgs/{orgName}/teams/{teamName}": {gatehouse.EventTeamMemberAdded, func() {
			e.must(e.admin, "PATCH", "/api/orgs/acme/teams/ops", map[string]any{"memberAction": "add", "member": "bob"}, 204, nil)
		}},
		"POST /api/orgs/{orgName}/teams/{teamName}/roles/{roleID}": {gatehouse.EventTeamRoleAssigned, func() {
			e.must(e.admin, "POST", "/api/orgs/acme/teams/ops/roles/"+roleID, nil, 204, nil)
		}},
		"DELETE /api/orgs/{orgName}/teams/{teamName}/roles/{roleID}": {gatehouse.EventTeamRoleUnassigned, func() {
			e.must(e.admin, "DELETE", "/api/orgs/acme/teams/ops/roles/"+roleID, nil, 204, nil)
		}},
		"POST /api/user/tokens": {gatehouse.EventTokenCreated, func() {
			var out struct{ ID string }
			e.must(e.admin, "POST", "/api/user/tokens", map[string]any{"description": "x"}, 200, &out)
			personalTokenID = out.ID
		}},
		"DELETE /api/user/tokens/{tokenID}": {gatehouse.EventTokenDeleted, func() {
			e.must(e.admin, "DELETE", "/api/user/tokens/"+personalTokenID, nil, 204, nil)
		}},
		"POST /api/orgs/{orgName}/tokens": {gatehouse.EventTokenCreated, func() {
			var out struct{ ID string }
			e.must(e.admin, "POST", "/api/orgs/acme/tokens", map[string]any{"name": "t"}, 200, &out)
			orgTokenID = out.ID
		}},
		"DELETE /api/orgs/{orgName}/tokens/{tokenID}": {gatehouse.EventTokenDeleted, func() {
			e.must(e.admin, "DELETE", "/api/orgs/acme/tokens/"+orgTokenID, nil, 204, nil)
		}},
		"POST /api/orgs/{orgName}/teams/{teamName}/tokens": {gatehouse.EventTokenCreated, func() {
			var out struct{ ID string }
			e.must(e.admin, "POST", "/api/orgs/acme/teams/ops/tokens", map[string]any{"name": "tt"}, 200, &out)
			teamTokenID = out.ID
		}},
		"DELETE /api/orgs/{orgName}/teams/{teamName}/tokens/{tokenID}": {gatehouse.EventTokenDeleted, func() {
			e.must(e.admin, "DELETE", "/api/orgs/acme/teams/ops/tokens/"+teamTokenID, nil, 204, nil)
		}},
		"POST /api/orgs/{orgName}/assignments/update": {gatehouse.EventAssignmentChanged, func() {
			e.must(e.admin, "POST", "/api/orgs/acme/assignments/update", map[string]any{"context": ctxStack, "id": st.ID,
				"userId": "bob", "permissionSetId": sets["Stack Read"].ID}, 200, nil)
		}},
		"POST /api/orgs/{orgName}/assignments/batch": {gatehouse.EventAssignmentChanged, func() {
			e.must(e.admin, "POST", "/api/orgs/acme/assignments/batch", map[string]any{"assignments": []any{map[string]any{
				"entity": map[string]string{"type": "stack", "name": "app/prod"}, "userId": "bob", "permissionSetId": sets["Stack Write"].ID}}}, 200, nil)
		}},
		"DELETE /api/orgs/{orgName}/teams/{teamName}": {gatehouse.EventTeamDeleted, func() {
			e.must(e.admin, "DELETE", "/api/orgs/acme/teams/ops", nil, 204, nil)
		}},
		"DELETE /api/orgs/{orgName}/members/{userLogin}": {gatehouse.EventMemberRemoved, func() {
			e.must(e.admin, "DELETE", "/api/orgs/acme/members/bob", nil, 204, nil)
		}},
		"POST /api/orgs/{orgName}/oidc/issuers": {gatehouse.EventIssuerCreated, func() { iss, policyID = e.register(ti, "ci") }},
		"PATCH /api/orgs/{orgName}/oidc/issuers/{issuerID}": {gatehouse.EventIssuerUpdated, func() {
			e.must(e.admin, "PATCH", "/api/orgs/acme/oidc/issuers/"+iss.ID, map[string]any{"name": "ci2"}, 200, nil)
		}},
		"POST /api/orgs/{orgName}/oidc/issuers/{issuerID}/regenerate-thumbprints": {gatehouse.EventIssuerUpdated, func() {
			e.must(e.admin, "POST", "/api/orgs/acme/oidc/issuers/"+iss.ID+"/regenerate-thumbprints", nil, 200, nil)
		}},
		"PATCH /api/orgs/{orgName}/auth/policies/{policyID}": {gatehouse.EventAuthPolicyUpdated, func() {
			e.must(e.admin, "PATCH", "/api/orgs/acme/auth/policies/"+policyID, map[string]any{"policies": []map[string]any{
				{"decision": "allow", "tokenType": "organization", "rules": map[string]string{"sub": "*"}}}}, 200, nil)
		}},
		"POST /api/oauth/token": {gatehouse.EventTokenExchanged, func() {
			if status, res := e.exchange(ti.sign(githubClaims("acme/app", "prod")), "organization", "", false, nil); status != 200 {
				t.Fatalf("exchange: %d %+v", status, res)
			}
		}},
		"DELETE /api/orgs/{orgName}/oidc/issuers/{issuerID}": {gatehouse.EventIssuerDeleted, func() {
			e.must(e.admin, "DELETE", "/api/orgs/acme/oidc/issuers/"+iss.ID, nil, 204, nil)
		}},
		"DELETE /api/orgs/{orgName}/roles/{roleID}": {gatehouse.EventRoleDeleted, func() {
			e.must(e.admin, "DELETE", "/api/orgs/acme/roles/"+roleID, nil, 204, nil)
		}},
		"POST /api/stacks/{orgName}/{projectName}": {gatehouse.EventStackCreated, func() { e.newStack(e.admin, "web", "dev", nil) }},
		"POST /api/stacks/{orgName}/{projectName}/{stackName}/tags": {gatehouse.EventStackTagsChanged, func() {
			e.must(e.admin, "POST", stackPath("web", "dev", "tags"), map[string]string{"name": "a", "value": "1"}, 204, nil)
		}},
		"PATCH /api/stacks/{orgName}/{projectName}/{stackName}/tags": {gatehouse.EventStackTagsChanged, func() {
			e.must(e.admin, "PATCH", stackPath("web", "dev", "tags"), map[string]string{"a": "2"}, 204, nil)
		}},
		"PATCH /api/stacks/{orgName}/{projectName}/{stackName}/tags/{tagName}": {gatehouse.EventStackTagsChanged, func() {
			e.must(e.admin, "PATCH", stackPath("web", "dev", "tags", "a"), map[string]string{"name": "a", "value": "3"}, 204, nil)
		}},
		"DELETE /api/stacks/{orgName}/{projectName}/{stackName}/tags/{tagName}": {gatehouse.EventStackTagsChanged, func() {
			e.must(e.admin, "DELETE", stackPath("web", "dev", "tags", "a"), nil, 204, nil)
		}},
		"POST /api/orgs/{orgName}/tags/batch": {gatehouse.EventStackTagsChanged, func() {
			e.must(e.admin, "POST", "/api/orgs/acme/tags/batch", map[string]any{"changes": []any{
				map[string]any{"entity": map[string]string{"type": "stack", "name": "web/dev"}, "set": map[string]string{"b": "2"}}}}, 200, nil)
		}},
		"POST /api/stacks/{orgName}/{projectName}/{stackName}/import": {gatehouse.EventStackImported, func() {
			e.must(e.admin, "POST", stackPath("web", "dev", "import"), deployment("urn:i"), 200, nil)
		}},
		"POST /api/stacks/{orgName}/{projectName}/{stackName}/decrypt": {gatehouse.EventSecretsDecrypted, func() {
			var enc struct{ Ciphertext []byte }
			e.must(e.admin, "POST", stackPath("web", "dev", "encrypt"), map[string]any{"plaintext": []byte("x")}, 200, &enc)
			e.must(e.admin, "POST", stackPath("web", "dev", "decrypt"), map[string]any{"ciphertext": enc.Ciphertext}, 200, nil)
		}},
		"POST /api/stacks/{orgName}/{projectName}/{stackName}/batch-decrypt": {gatehouse.EventSecretsDecrypted, func() {
			var enc struct{ Ciphertexts [][]byte }
			e.must(e.admin, "POST", stackPath("web", "dev", "batch-encrypt"), map[string]any{"plaintexts": [][]byte{[]byte("x")}}, 200, &enc)
			e.must(e.admin, "POST", stackPath("web", "dev", "batch-decrypt"), map[string]any{"ciphertexts": enc.Ciphertexts}, 200, nil)
		}},
		"POST /api/stacks/{orgName}/{projectName}/{stackName}/decrypt/log-decryption": {gatehouse.EventClientReportedDecryption, func() {
			e.must(e.admin, "POST", stackPath("web", "dev", "decrypt", "log-decryption"), map[string]any{"secretName": "s"}, 204, nil)
		}},
		"POST /api/stacks/{orgName}/{projectName}/{stackName}/decrypt/log-batch-decryption": {gatehouse.EventClientReportedDecryption, func() {
			e.must(e.admin, "POST", stackPath("web", "dev", "decrypt", "log-batch-decryption"), map[string]any{"commandName": "up"}, 204, nil)
		}},
		"POST /api/stacks/{orgName}/{projectName}/{stackName}/{updateKind}/{updateID}/complete": {gatehouse.EventStackUpdated, func() {
			u := e.begin(e.admin, "web", "dev", "update")
			e.must(u.auth, "POST", stackPath("web", "dev", "update", u.id, "complete"), map[string]any{"status": "succeeded"}, 204, nil)
		}},
		"POST /api/stacks/{orgName}/{projectName}/{stackName}/{updateKind}/{updateID}/cancel": {gatehouse.EventStackUpdateCancel, func() {
			u := e.begin(e.admin, "web", "dev", "refresh")
			e.must(e.admin, "POST", stackPath("web", "dev", "update", u.id, "cancel"), nil, 204, nil)
		}},
		"POST /api/stacks/{orgName}/{projectName}/{stackName}/rename": {gatehouse.EventStackRenamed, func() {
			e.must(e.admin, "POST", stackPath("web", "dev", "rename"), map[string]string{"newName": "stage"}, 204, nil)
		}},
		"DELETE /api/stacks/{orgName}/{projectName}/{stackName}": {gatehouse.EventStackDeleted, func() {
			e.must(e.admin, "DELETE", stackPath("web", "stage")+"?force=true", nil, 204, nil)
		}},
		"POST /api/esc/environments/{orgName}": {gatehouse.EventEnvCreated, func() {
			e.must(e.admin, "POST", "/api/esc/environments/acme", map[string]string{"project": "app", "name": "cfg"}, 200, nil)
		}},
		"POST /api/esc/environments/{orgName}/{projectName}/{envName}": {gatehouse.EventEnvCreated, func() {
			e.must(e.admin, "POST", "/api/esc/environments/acme/app/cfg2", nil, 200, nil)
		}},
		"PATCH /api/esc/environments/{orgName}/{projectName}/{envName}": {gatehouse.EventEnvUpdated, func() {
			e.must(e.admin, "PATCH", "/api/esc/environments/acme/app/cfg", "values:\n  a: 1\n", 200, nil)
		}},
		"POST /api/esc/environments/{orgName}/{projectName}/{envName}/open": {gatehouse.EventEnvOpened, func() {
			e.must(e.admin, "POST", "/api/esc/environments/acme/app/cfg/open", nil, 200, nil)
		}},
		"POST /api/esc/environments/{orgName}/{projectName}/{envName}/versions/{version}/{action}": {gatehouse.EventEnvOpened, func() {
			e.must(e.admin, "POST", "/api/esc/environments/acme/app/cfg/versions/1/open", nil, 200, nil)
		}},
		"POST /api/esc/environments/{orgName}/{projectName}/{envName}/clone": {gatehouse.EventEnvCreated, func() {
			e.must(e.admin, "POST", "/api/esc/environments/acme/app/cfg/clone", map[string]string{"name": "cfg-clone"}, 204, nil)
		}},
		"PATCH /api/esc/environments/{orgName}/{projectName}/{envName}/settings": {gatehouse.EventEnvUpdated, func() {
			e.must(e.admin, "PATCH", "/api/esc/environments/acme/app/cfg/settings", map[string]any{"deletionProtected": false}, 200, nil)
		}},
		"POST /api/esc/environments/{orgName}/{projectName}/{envName}/versions/tags": {gatehouse.EventEnvUpdated, func() {
			e.must(e.admin, "POST", "/api/esc/environments/acme/app/cfg/versions/tags", map[string]any{"name": "vt", "revision": 1}, 204, nil)
		}},
		"PATCH /api/esc/environments/{orgName}/{projectName}/{envName}/versions/tags/{tagName}": {gatehouse.EventEnvUpdated, func() {
			e.must(e.admin, "PATCH", "/api/esc/environments/acme/app/cfg/versions/tags/vt", map[string]any{"revision": 2}, 204, nil)
		}},
		"POST /api/esc/environments/{orgName}/{projectName}/{envName}/versions/{version}/retract": {gatehouse.EventEnvUpdated, func() {
			e.must(e.admin, "POST", "/api/esc/environments/acme/app/cfg/versions/1/retract", map[string]any{"replacement": 2}, 204, nil)
		}},
		"DELETE /api/esc/environments/{orgName}/{projectName}/{envName}/versions/tags/{tagName}": {gatehouse.EventEnvUpdated, func() {
			e.must(e.admin, "DELETE", "/api/esc/environments/acme/app/cfg/versions/tags/vt", nil, 204, nil)
		}},
		"POST /api/esc/environments/{orgName}/yaml/open": {gatehouse.EventEnvOpened, func() {
			e.must(e.admin, "POST", "/api/esc/environments/acme/yaml/open", "values:\n  a: 1\n", 200, nil)
		}},
		"POST /api/esc/environments/{orgName}/{projectName}/{envName}/tags": {gatehouse.EventEnvTagsChanged, func() {
			e.must(e.admin, "POST", "/api/esc/environments/acme/app/cfg/tags", map[string]string{"name": "t", "value": "1"}, 200, nil)
		}},
		"PATCH /api/esc/environments/{orgName}/{projectName}/{envName}/tags/{tagName}": {gatehouse.EventEnvTagsChanged, func() {
			e.must(e.admin, "PATCH", "/api/esc/environments/acme/app/cfg/tags/t", map[string]any{"currentTag": map[string]string{"value": "1"},
				"newTag": map[string]string{"value": "2"}}, 200, nil)
		}},
		"DELETE /api/esc/environments/{orgName}/{projectName}/{envName}/tags/{tagName}": {gatehouse.EventEnvTagsChanged, func() {
			e.must(e.admin, "DELETE", "/api/esc/environments/acme/app/cfg/tags/t", nil, 204, nil)
		}},
		"DELETE /api/esc/environments/{orgName}/{projectName}/{envName}": {gatehouse.EventEnvDeleted, func() {
			e.must(e.admin, "DELETE", "/api/esc/environments/acme/app/cfg", nil, 204, nil)
		}},
		"POST /api/preview/insights/{orgName}/accounts/{accountName}": {gatehouse.EventAccountCreated, func() {
			e.must(e.admin, "POST", "/api/preview/insights/acme/accounts/aws", map[string]string{"provider": "aws", "environment": "app/creds"}, 204, nil)
		}},
		"PUT /api/preview/insights/{orgName}/accounts/{accountName}/tags": {gatehouse.EventAccountTagsChanged, func() {
			e.must(e.admin, "PUT", "/api/preview/insights/acme/accounts/aws/tags", map[string]any{"tags": map[string]string{"env": "prod"}}, 204, nil)
		}},
		"DELETE /api/preview/insights/{orgName}/accounts/{accountName}": {gatehouse.EventAccountDeleted, func() {
			e.must(e.admin, "DELETE", "/api/preview/insights/acme/accounts/aws", nil, 204, nil)
		}},
		"PATCH /api/orgs/{orgName}/saml": {gatehouse.EventSSOChanged, func() {
			e.must(e.admin, "PATCH", "/api/orgs/acme/saml", map[string]any{"newIdpSsoDescriptor": testIdPMetadata}, 200, nil)
		}},
		"PATCH /api/orgs/{orgName}/sso/oidc": {gatehouse.EventSSOChanged, func() {
			e.must(e.admin, "PATCH", "/api/orgs/acme/sso/oidc", map[string]any{"issuer": "https://idp.example", "clientId": "c"}, 200, nil)
		}},
		"DELETE /api/orgs/{orgName}/sso/oidc": {gatehouse.EventSSOChanged, func() {
			e.must(e.admin, "DELETE", "/api/orgs/acme/sso/oidc", nil, 204, nil)
		}},
		// The first key pair was made (and audited) above, by the GET
		// that shows it.
		"POST /api/orgs/{orgName}/saml/sp-keys": {gatehouse.EventSSOChanged, func() {
			var keys struct{ Keys []struct{ ID string } }
			e.must(e.admin, "POST", "/api/orgs/acme/saml/sp-keys", nil, 200, &keys)
			spKeyIDs = []string{keys.Keys[0].ID, keys.Keys[1].ID}
		}},
		"POST /api/orgs/{orgName}/saml/sp-keys/{keyID}/activate": {gatehouse.EventSSOChanged, func() {
			e.must(e.admin, "POST", "/api/orgs/acme/saml/sp-keys/"+spKeyIDs[1]+"/activate", nil, 200, nil)
		}},
		"DELETE /api/orgs/{orgName}/saml/sp-keys/{keyID}": {gatehouse.EventSSOChanged, func() {
			e.must(e.admin, "DELETE", "/api/orgs/acme/saml/sp-keys/"+spKeyIDs[0], nil, 204, nil)
		}},
	}
	// Routes that change nothing worth an event of their own: encrypting
	// stores nothing; an update's creation, start, checkpoints, events and
	// lease renewals are its progress, recorded as one stack_updated when
	// it completes (a preview is a read; tag changes at start are
	// stack_tags_changed).
	for _, rt := range []string{"POST /api/stacks/{orgName}/{projectName}/{stackName}/encrypt", "POST /api/stacks/{orgName}/{projectName}/{stackName}/batch-encrypt",
		"POST /api/stacks/{orgName}/{projectName}/{stackName}/update", "POST /api/stacks/{orgName}/{projectName}/{stackName}/preview",
		"POST /api/stacks/{orgName}/{projectName}/{stackName}/refresh", "POST /api/stacks/{orgName}/{projectName}/{stackName}/destroy",
		"POST /api/stacks/{orgName}/{projectName}/{stackName}/{updateKind}/{updateID}",
		"PATCH /api/stacks/{orgName}/{projectName}/{stackName}/{updateKind}/{updateID}/checkpoint",
		"PATCH /api/stacks/{orgName}/{projectName}/{stackName}/{updateKind}/{updateID}/checkpointverbatim",
		"PATCH /api/stacks/{orgName}/{projectName}/{stackName}/{updateKind}/{updateID}/checkpointdelta",
		"POST /api/stacks/{orgName}/{projectName}/{stackName}/{updateKind}/{updateID}/events",
		"POST /api/stacks/{orgName}/{projectName}/{stackName}/{updateKind}/{updateID}/events/batch",
		"POST /api/stacks/{orgName}/{projectName}/{stackName}/{updateKind}/{updateID}/renew_lease",
		"POST /api/esc/environments/{orgName}/yaml/check"} {
		readOnly[rt] = true
	}
	order := []string{"POST /api/orgs/{orgName}/invites", "PATCH /api/orgs/{orgName}/invites/{inviteID}",
		"DELETE /api/orgs/{orgName}/invites/{inviteID}", "POST /api/user/pending-invites/{inviteID}/decline",
		"POST /api/user/pending-invites/{inviteID}/accept", "POST /api/orgs/{orgName}/scim/token", "POST /api/orgs/{orgName}/roles", "PATCH /api/orgs/{orgName}/roles/{roleID}", "PATCH /api/orgs/{orgName}/roles/{roleID}/default",
		"POST /api/orgs/{orgName}/members/{userLogin}", "PATCH /api/orgs/{orgName}/members/{userLogin}", "POST /api/orgs/{orgName}/teams/pulumi",
		"PATCH /api/orgs/{orgName}/teams/{teamName}", "POST /api/orgs/{orgName}/teams/{teamName}/roles/{roleID}",
		"DELETE /api/orgs/{orgName}/teams/{teamName}/roles/{roleID}", "POST /api/user/tokens", "DELETE /api/user/tokens/{tokenID}",
		"POST /api/orgs/{orgName}/tokens", "DELETE /api/orgs/{orgName}/tokens/{tokenID}", "POST /api/orgs/{orgName}/teams/{teamName}/tokens",
		"DELETE /api/orgs/{orgName}/teams/{teamName}/tokens/{tokenID}", "POST /api/orgs/{orgName}/assignments/update", "POST /api/orgs/{orgName}/assignments/batch",
		"DELETE /api/orgs/{orgName}/teams/{teamName}", "DELETE /api/orgs/{orgName}/members/{userLogin}", "DELETE /api/orgs/{orgName}/roles/{roleID}",
		"POST /api/orgs/{orgName}/oidc/issuers", "PATCH /api/orgs/{orgName}/oidc/issuers/{issuerID}",
		"POST /api/orgs/{orgName}/oidc/issuers/{issuerID}/regenerate-thumbprints", "PATCH /api/orgs/{orgName}/auth/policies/{policyID}",
		"POST /api/oauth/token", "DELETE /api/orgs/{orgName}/oidc/issuers/{issuerID}",
		"POST /api/stacks/{orgName}/{projectName}", "POST /api/stacks/{orgName}/{projectName}/{stackName}/tags",
		"PATCH /api/stacks/{orgName}/{projectName}/{stackName}/tags", "PATCH /api/stacks/{orgName}/{projectName}/{stackName}/tags/{tagName}",
		"DELETE /api/stacks/{orgName}/{projectName}/{stackName}/tags/{tagName}", "POST /api/orgs/{orgName}/tags/batch",
		"POST /api/stacks/{orgName}/{projectName}/{stackName}/import",
		"POST /api/stacks/{orgName}/{projectName}/{stackName}/decrypt", "POST /api/stacks/{orgName}/{projectName}/{stackName}/batch-decrypt",
		"POST /api/stacks/{orgName}/{projectName}/{stackName}/decrypt/log-decryption",
		"POST /api/stacks/{orgName}/{projectName}/{stackName}/decrypt/log-batch-decryption",
		"POST /api/stacks/{orgName}/{projectName}/{stackName}/{updateKind}/{updateID}/complete",
		"POST /api/stacks/{orgName}/{projectName}/{stackName}/{updateKind}/{updateID}/cancel",
		"POST /api/stacks/{orgName}/{projectName}/{stackName}/rename", "DELETE /api/stacks/{orgName}/{projectName}/{stackName}",
		"POST /api/esc/environments/{orgName}", "POST /api/esc/environments/{orgName}/{projectName}/{envName}",
		"PATCH /api/esc/environments/{orgName}/{projectName}/{envName}", "POST /api/esc/environments/{orgName}/{projectName}/{envName}/open",
		"POST /api/esc/environments/{orgName}/{projectName}/{envName}/versions/{version}/{action}",
		"POST /api/esc/environments/{orgName}/yaml/open",
		"POST /api/esc/environments/{orgName}/{projectName}/{envName}/clone",
		"PATCH /api/esc/environments/{orgName}/{projectName}/{envName}/settings",
		"POST /api/esc/environments/{orgName}/{projectName}/{envName}/versions/tags",
		"PATCH /api/esc/environments/{orgName}/{projectName}/{envName}/versions/tags/{tagName}",
		"POST /api/esc/environments/{orgName}/{projectName}/{envName}/versions/{version}/retract",
		"DELETE /api/esc/environments/{orgName}/{projectName}/{envName}/versions/tags/{tagName}",
		"POST /api/esc/environments/{orgName}/{projectName}/{envName}/tags", "PATCH /api/esc/environments/{orgName}/{projectName}/{envName}/tags/{tagName}",
		"DELETE /api/esc/environments/{orgName}/{projectName}/{envName}/tags/{tagName}", "DELETE /api/esc/environments/{orgName}/{projectName}/{envName}",
		"POST /api/preview/insights/{orgName}/accounts/{accountName}", "PUT /api/preview/insights/{orgName}/accounts/{accountName}/tags",
		"DELETE /api/preview/insights/{orgName}/accounts/{accountName}", "PATCH /api/orgs/{orgName}/saml", "PATCH /api/orgs/{orgName}/sso/oidc",
		"DELETE /api/orgs/{orgName}/sso/oidc", "POST /api/orgs/{orgName}/saml/sp-keys", "POST /api/orgs/{orgName}/saml/sp-keys/{keyID}/activate",
		"DELETE /api/orgs/{orgName}/saml/sp-keys/{keyID}"}
	for _, rt := range e.routes() {
		method, _, _ := strings.Cut(rt, " ")
		if method == "GET" || method == "HEAD" || readOnly[rt] {
			continue
		}
		if _, ok := calls[rt]; !ok {
			t.Errorf("mutating route %s has no audit check: add it here", rt)
		}
	}
	if len(order) != len(calls) {
		t.Fatalf("order lists %d calls, the table %d", len(order), len(calls))
	}
	for _, rt := range order {
		c := calls[rt]
		before := e.countEvents(c.event)
		c.do()
		// Every event here, secret reads' included, is written in the
		// transaction of its call: none is waited for.
		if after := e.countEvents(c.event); after != before+1 {
			t.Errorf("%s added %d %s events, want 1", rt, after-before, c.event)
		}
	}
	// A role change records the details before and after.
	var events []*gatehouse.AuditEvent
	e.db.Read(context.Background(), func(tx gatehouse.Tx) (err error) {
		events, _, err = tx.ListAudit(context.Background(), e.orgID(), gatehouse.AuditFilter{Types: []string{gatehouse.EventRoleUpdated}}, gatehouse.ListOptions{})
		return err
	})
	var diff struct{ Before, After struct{ Description string } }
	if len(events) == 0 || json.Unmarshal(events[0].Data, &diff) != nil || diff.Before.Description != "" || diff.After.Description != "d" {
		t.Errorf("role update event data = %s", events[0].Data)
	}
	if events[0].ActorLogin != "admin" || events[0].SourceIP != "127.0.0.1" || events[0].RequestID == "" {
		t.Errorf("event actor fields = %+v", events[0])
	}
	// Token events never hold the token's value.
	e.db.Read(context.Background(), func(tx gatehouse.Tx) (err error) {
		events, _, err = tx.ListAudit(context.Background(), e.orgID(), gatehouse.AuditFilter{}, gatehouse.ListOptions{Limit: 1000})
		return err
	})
	for _, ev := range events {
		if strings.Contains(string(ev.Data)+ev.Description, "pul-") {
			t.Errorf("event %s holds a token value: %s", ev.Type, ev.Data)
		}
	}
}

func TestAuditAPI(t *testing.T) {
	e := newEnv(t)
	e.must(e.admin, "POST", "/api/orgs/acme/members/bob", nil, 200, nil)
	member := e.orgToken("plain", "")
	e.fails(member, "GET", "/api/orgs/acme/auditlogs/v2", nil, 403, "audit_logs:read")
	e.fails(member, "GET", "/api/orgs/acme/auditlogs/v2/export", nil, 403, "audit_logs:export")
	e.fails("pul-nope", "GET", "/api/orgs/acme/auditlogs/v2", nil, 401, "unauthorized")
	e.flushAudit() // the denials reach the log

	var page struct {
		ContinuationToken string
		AuditLogEvents    []struct {
			Timestamp   int64
			Event       string
			Description string
			User        struct{ GitHubLogin string }
			AuthFailure bool
		}
	}
	e.must(e.admin, "GET", "/api/orgs/acme/auditlogs/v2", nil, 200, &page)
	kinds := map[string]int{}
	for _, ev := range page.AuditLogEvents {
		kinds[ev.Event]++
	}
	if kinds[gatehouse.EventAccessDenied] != 2 || kinds[gatehouse.EventAuthFailure] != 1 || kinds[gatehouse.EventMemberAdded] != 2 {
		t.Errorf("event kinds = %v", kinds)
	}
	for i := 1; i < len(page.AuditLogEvents); i++ {
		if page.AuditLogEvents[i].Timestamp > page.AuditLogEvents[i-1].Timestamp {
			t.Fatalf("events not newest first")
		}
	}
	e.must(e.admin, "GET", "/api/orgs/acme/auditlogs/v2?eventFilter=member_added&userFilter=admin", nil, 200, &page)
	if len(page.AuditLogEvents) != 1 || page.AuditLogEvents[0].Description != `added "bob" with role "Member"` {
		t.Errorf("filtered = %+v", page.AuditLogEvents)
	}
	e.must(e.admin, "GET", "/api/orgs/acme/auditlogs/v2?pageSize=2", nil, 200, &page)
	if len(page.AuditLogEvents) != 2 || page.ContinuationToken == "" {
		t.Errorf("first page = %d events, token %q", len(page.AuditLogEvents), page.ContinuationToken)
	}
	future := time.Now().Add(time.Hour).Unix()
	e.must(e.admin, "GET", fmt.Sprintf("/api/orgs/acme/auditlogs/v2?startTime=%d", future), nil, 200, &page)
	if len(page.AuditLogEvents) != 0 {
		t.Errorf("events after the future: %d", len(page.AuditLogEvents))
	}
	e.fails(e.admin, "GET", "/api/orgs/acme/auditlogs", nil, 400, "startTime or continuationToken")
	e.must(e.admin, "GET", fmt.Sprintf("/api/orgs/acme/auditlogs?startTime=%d", future), nil, 200, &page)
	if len(page.AuditLogEvents) < 5 {
		t.Errorf("v1 older than the future: %d events", len(page.AuditLogEvents))
	}
	e.fails(e.admin, "GET", "/api/orgs/acme/auditlogs/v2?startTime=yesterday", nil, 400, "startTime")
	e.fails(e.admin, "GET", "/api/orgs/acme/auditlogs/v2?startTime=20&endTime=10", nil, 400, "range is empty")
	e.fails(e.admin, "GET", "/api/orgs/acme/auditlogs/v2/export?format=xml", nil, 400, "format")

	for _, format := range []string{"csv", "cef"} {
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/orgs/acme/auditlogs/v2/export?format="+format, nil)
		req.Header.Set("Authorization", "token "+e.admin)
		req.Header.Set("Accept-Encoding", "gzip") // read the raw, compressed body
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("export %s: %v %v", format, resp.StatusCode, err)
		}
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatalf("export %s is not gzip: %v", format, err)
		}
		body, _ := io.ReadAll(zr)
		resp.Body.Close()
		lines := strings.Split(strings.TrimSpace(string(body)), "\n")
		switch format {
		case "csv":
			if lines[0] != "Timestamp,Name,Login,Event,Description,SourceIP,RequireOrgAdmin,RequireStackAdmin,AuthenticationFailure" || len(lines) < 6 {
				t.Errorf("csv export:\n%s", body)
			}
		case "cef":
			if !strings.HasPrefix(lines[0], "CEF:0|Gatehouse|Gatehouse|1|") || len(lines) < 5 {
				t.Errorf("cef export:\n%s", body)
			}
		}
	}
	var types struct{ EventTypes []gatehouse.AuditEventType }
	e.must(e.admin, "GET", "/api/orgs/acme/auditlogs/event-types", nil, 200, &types)
	if len(types.EventTypes) != len(gatehouse.AuditEventTypes) {
		t.Errorf("event types = %d", len(types.EventTypes))
	}
	// The whole chain verifies.
	v, err := e.svc.VerifyAudit(context.Background(), e.orgID())
	if err != nil || v.Broken != 0 || v.Events < 6 {
		t.Errorf("verify = %+v, %v", v, err)
	}
}

// TestAuditWriterBounded floods the server with failed authentications:
// requests never block on the audit log, the queue stays bounded, and what
// it could not take is counted.
func TestAuditWriterBounded(t *testing.T) {
	e := newEnv(t, func(o *api.Options) { o.AuditQueue = 8; o.AuthFailuresPerMinute = 1 << 20 })
	const n = 2000
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n/16; i++ {
				req, _ := http.NewRequest("GET", e.srv.URL+"/api/orgs/acme/members", nil)
				req.Header.Set("Authorization", "token pul-flood")
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	wg.Wait()
	e.closeServer()
	resp, err := http.Get(e.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var dropped, written float64
	for _, line := range strings.Split(string(metrics), "\n") {
		fmt.Sscanf(line, "gatehouse_audit_dropped_total %g", &dropped)
		fmt.Sscanf(line, "gatehouse_audit_async_written_total %g", &written)
	}
	recorded := e.countEvents(gatehouse.EventAuthFailure)
	if dropped == 0 || int(dropped)+recorded != n || int(written) != recorded {
		t.Errorf("dropped %g + recorded %d (written %g) != %d failures", dropped, recorded, written, n)
	}
}

// TestAuditVerifyFindsTampering changes, then removes, a stored event: the
// chain walk names the first broken link.
func TestAuditVerifyFindsTampering(t *testing.T) {
	e := newEnv(t)
	for _, login := range []string{"a1", "a2", "a3"} {
		e.must(e.admin, "POST", "/api/orgs/acme/members/"+login, nil, 200, nil)
	}
	ctx := context.Background()
	v, err := e.svc.VerifyAudit(ctx, e.orgID())
	if err != nil || v.Broken != 0 {
		t.Fatalf("fresh chain: %+v %v", v, err)
	}
	var victim *gatehouse.AuditEvent
	e.db.Read(ctx, func(tx gatehouse.Tx) error {
		chain, err := tx.AuditChain(ctx, e.orgID(), 0, 100)
		victim = chain[len(chain)-2]
		return err
	})
	if err := e.rawExec("UPDATE audit_events SET description = 'nothing happened' WHERE seq = ?", victim.Seq); err != nil {
		t.Fatal(err)
	}
	v, _ = e.svc.VerifyAudit(ctx, e.orgID())
	if v.Broken != victim.Seq || !strings.Contains(v.Problem, "changed") {
		t.Errorf("after changing event %d: %+v", victim.Seq, v)
	}
	if err := e.rawExec("DELETE FROM audit_events WHERE seq = ?", victim.Seq); err != nil {
		t.Fatal(err)
	}
	v, _ = e.svc.VerifyAudit(ctx, e.orgID())
	if v.Broken != victim.Seq+1 && v.Broken <= victim.Seq {
		t.Errorf("after deleting event %d: %+v", victim.Seq, v)
	}
	if v.Broken == 0 {
		t.Errorf("a deleted event went unnoticed")
	}
}

func TestAuditRetention(t *testing.T) {
	e := newEnv(t)
	day := 24 * time.Hour
	ctx := context.Background()
	keep := 2 * day
	if err := e.svc.UpdateSettings(ctx, e.orgID(), service.SettingsUpdate{AuditRetention: &keep}); err != nil {
		t.Fatal(err)
	}
	short := time.Hour
	if err := e.svc.UpdateSettings(ctx, e.orgID(), service.SettingsUpdate{AuditRetention: &short}); gatehouse.ErrorCode(err) != gatehouse.EINVALID {
		t.Errorf("an hour's retention: %v", err)
	}
	e.clock.Advance(3 * day)
	e.must(e.admin, "POST", "/api/orgs/acme/members/late", nil, 200, nil)
	n, err := e.svc.PruneAudit(ctx, e.orgID())
	if err != nil || n < 4 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	v, err := e.svc.VerifyAudit(ctx, e.orgID())
	if err != nil || v.Broken != 0 || v.Events == 0 {
		t.Errorf("after pruning: %+v %v", v, err)
	}
	var page struct{ AuditLogEvents []struct{ Event string } }
	e.must(e.admin, "GET", "/api/orgs/acme/auditlogs/v2", nil, 200, &page)
	for _, ev := range page.AuditLogEvents {
		if ev.Event == gatehouse.EventOrgCreated {
			t.Errorf("an event past retention survived")
		}
	}
}
