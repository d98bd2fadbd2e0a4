package api

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"
)

// operationInfo documents a route for the OpenAPI document.
type operationInfo struct {
	id, summary string
	query       []string
	body        string // component schema of the request body
	response    string // component schema of the response, "" for 204
}

var operations = map[string]operationInfo{
	"GET /api/esc/environments/{orgName}":                                              {"ListEnvironments", "Environments the caller may read", []string{"continuationToken", "maxResults"}, "", "ListEnvironmentsResponse"},
	"POST /api/esc/environments/{orgName}":                                             {"CreateEnvironment", "Create an environment; its creator administers it", nil, "CreateEnvironmentRequest", "Environment"},
	"GET /api/esc/environments/{orgName}/tags":                                         {"ListOrgEnvironmentTags", "Every environment tag with its values", nil, "", "EnvironmentTagValues"},
	"POST /api/esc/environments/{orgName}/{projectName}/{envName}":                     {"CreateEnvironmentInProject", "Create an environment named in the path", nil, "", "Environment"},
	"GET /api/esc/environments/{orgName}/{projectName}/{envName}":                      {"GetEnvironment", "The definition (YAML) and its version as the ETag; showSecrets=true needs environment:open", []string{"showSecrets"}, "", "EnvironmentDefinition"},
	"PATCH /api/esc/environments/{orgName}/{projectName}/{envName}":                    {"UpdateEnvironment", "Store a new version of the definition (YAML; If-Match: the version)", nil, "EnvironmentDefinition", "EnvironmentDiagnostics"},
	"DELETE /api/esc/environments/{orgName}/{projectName}/{envName}":                   {"DeleteEnvironment", "Delete an environment with its versions", nil, "", ""},
	"POST /api/esc/environments/{orgName}/{projectName}/{envName}/open":                {"OpenEnvironment", "Open the environment for a while", []string{"duration"}, "", "OpenEnvironmentResponse"},
	"GET /api/esc/environments/{orgName}/{projectName}/{envName}/open/{openSessionID}": {"ReadOpenEnvironment", "The opened values, secrets revealed", nil, "", "OpenEnvironmentValues"},
	"GET /api/esc/environments/{orgName}/{projectName}/{envName}/versions":             {"ListEnvironmentRevisions", "The environment's versions, newest first", []string{"continuationToken", "maxResults"}, "", "EnvironmentRevisions"},
	"GET /api/esc/environments/{orgName}/{projectName}/{envName}/versions/{version}":   {"GetEnvironmentAtVersion", "A version's definition (YAML)", nil, "", "EnvironmentDefinition"},
	"GET /api/esc/environments/{orgName}/{projectName}/{envName}/tags":                 {"ListEnvironmentTags", "The environment's tags", nil, "", "ListEnvironmentTagsResponse"},
	"POST /api/esc/environments/{orgName}/{projectName}/{envName}/tags":                {"CreateEnvironmentTag", "Add a tag (409 if it exists)", nil, "EnvironmentTag", "EnvironmentTag"},
	"GET /api/esc/environments/{orgName}/{projectName}/{envName}/tags/{tagName}":       {"GetEnvironmentTag", "A tag", nil, "", "EnvironmentTag"},
	"PATCH /api/esc/environments/{orgName}/{projectName}/{envName}/tags/{tagName}":     {"UpdateEnvironmentTag", "Change a tag if it still has the value given", nil, "UpdateEnvironmentTagRequest", "EnvironmentTag"},
	"DELETE /api/esc/environments/{orgName}/{projectName}/{envName}/tags/{tagName}":    {"DeleteEnvironmentTag", "Remove a tag", nil, "", ""},
	"GET /api/preview/insights/{orgName}/accounts":                                     {"ListInsightsAccounts", "Insights accounts the caller may read", []string{"continuationToken", "count"}, "", "ListInsightsAccountsResponse"},
	"POST /api/preview/insights/{orgName}/accounts/{accountName}":                      {"CreateInsightsAccount", "Create an Insights account; its creator administers it", nil, "CreateInsightsAccountRequest", ""},
	"GET /api/preview/insights/{orgName}/accounts/{accountName}":                       {"GetInsightsAccount", "An Insights account", nil, "", "InsightsAccount"},
	"DELETE /api/preview/insights/{orgName}/accounts/{accountName}":                    {"DeleteInsightsAccount", "Delete an Insights account", nil, "", ""},
	"GET /api/preview/insights/{orgName}/accounts/{accountName}/tags":                  {"GetInsightsAccountTags", "An Insights account's tags", nil, "", "InsightsAccountTags"},
	"PUT /api/preview/insights/{orgName}/accounts/{accountName}/tags":                  {"SetInsightsAccountTags", "Replace an Insights account's tags", nil, "InsightsAccountTags", ""},
	"POST /api/stacks/{orgName}/{projectName}/{stackName}/{updateKind}/{updateID}":     {"StartUpdate", "Start an update of any kind: take the stack's lease", nil, "StartUpdateRequest", "StartUpdateResponse"},
	"GET /api/user/stacks":                                                                             {"ListUserStacks", "Stacks the caller may read, in one organization", []string{"organization", "project", "tagName", "tagValue", "continuationToken"}, "", "ListStacksResponse"},
	"GET /api/stacks/{orgName}":                                                                        {"ListOrganizationStacks", "An organization's stacks the caller may read", []string{"project", "tagName", "tagValue", "continuationToken"}, "", "ListStacksResponse"},
	"POST /api/stacks/{orgName}/{projectName}":                                                         {"CreateStack", "Create a stack; the creator holds Stack Admin on it", nil, "CreateStackRequest", "CreateStackResponse"},
	"HEAD /api/stacks/{orgName}/{projectName}":                                                         {"ProjectExists", "Whether the caller can read a stack of the project", nil, "", ""},
	"GET /api/stacks/{orgName}/{projectName}/{stackName}":                                              {"GetStack", "Get a stack", nil, "", "Stack"},
	"DELETE /api/stacks/{orgName}/{projectName}/{stackName}":                                           {"DeleteStack", "Delete a stack with its history (force: even with resources)", []string{"force"}, "", ""},
	"POST /api/stacks/{orgName}/{projectName}/{stackName}/rename":                                      {"RenameStack", "Rename a stack or move it to another project", nil, "StackRenameRequest", ""},
	"POST /api/stacks/{orgName}/{projectName}/{stackName}/tags":                                        {"CreateStackTag", "Add a tag", nil, "StackTag", ""},
	"PATCH /api/stacks/{orgName}/{projectName}/{stackName}/tags":                                       {"UpdateStackTags", "Replace every tag", nil, "StackTags", ""},
	"PATCH /api/stacks/{orgName}/{projectName}/{stackName}/tags/{tagName}":                             {"UpdateStackTag", "Change or rename a tag", nil, "StackTag", ""},
	"DELETE /api/stacks/{orgName}/{projectName}/{stackName}/tags/{tagName}":                            {"DeleteStackTag", "Remove a tag", nil, "", ""},
	"GET /api/stacks/{orgName}/{projectName}/{stackName}/export":                                       {"ExportStack", "The stack's current deployment", nil, "", "UntypedDeployment"},
	"GET /api/stacks/{orgName}/{projectName}/{stackName}/export/{version}":                             {"ExportStackVersion", "A version of the stack's deployment", nil, "", "UntypedDeployment"},
	"POST /api/stacks/{orgName}/{projectName}/{stackName}/import":                                      {"ImportStack", "Import a deployment as the stack's next version", nil, "UntypedDeployment", "ImportStackResponse"},
	"POST /api/stacks/{orgName}/{projectName}/{stackName}/encrypt":                                     {"EncryptValue", "Encrypt a secret under the stack's key", nil, "EncryptValueRequest", "EncryptValueResponse"},
	"POST /api/stacks/{orgName}/{projectName}/{stackName}/batch-encrypt":                               {"BatchEncrypt", "Encrypt secrets under the stack's key", nil, "BatchEncryptRequest", "BatchEncryptResponse"},
	"POST /api/stacks/{orgName}/{projectName}/{stackName}/decrypt":                                     {"DecryptValue", "Decrypt a secret of the stack", nil, "DecryptValueRequest", "DecryptValueResponse"},
	"POST /api/stacks/{orgName}/{projectName}/{stackName}/batch-decrypt":                               {"BatchDecrypt", "Decrypt secrets of the stack", nil, "BatchDecryptRequest", "BatchDecryptResponse"},
	"POST /api/stacks/{orgName}/{projectName}/{stackName}/decrypt/log-decryption":                      {"LogDecryption", "Record a decryption the CLI did itself", nil, "Log3rdPartyDecryptionEvent", ""},
	"POST /api/stacks/{orgName}/{projectName}/{stackName}/decrypt/log-batch-decryption":                {"LogBatchDecryption", "Record a bulk decryption the CLI did itself", nil, "Log3rdPartyDecryptionEvent", ""},
	"GET /api/stacks/{orgName}/{projectName}/{stackName}/updates":                                      {"GetStackUpdates", "The stack's update history, newest first", []string{"pageSize", "page"}, "", "GetHistoryResponse"},
	"GET /api/stacks/{orgName}/{projectName}/{stackName}/updates/latest":                               {"GetLatestStackUpdate", "The stack's latest update", nil, "", "UpdateInfo"},
	"GET /api/stacks/{orgName}/{projectName}/{stackName}/updates/latest/previews":                      {"GetLatestStackPreviews", "The stack's latest preview", nil, "", "GetLatestStackPreviewsResponse"},
	"GET /api/stacks/{orgName}/{projectName}/{stackName}/updates/{version}":                            {"GetStackUpdate", "The update that made a version", nil, "", "UpdateInfo"},
	"GET /api/stacks/{orgName}/{projectName}/{stackName}/{updateKind}/{updateID}":                      {"GetUpdateStatus", "An update's status", []string{"continuationToken"}, "", "UpdateResults"},
	"GET /api/stacks/{orgName}/{projectName}/{stackName}/{updateKind}/{updateID}/events":               {"GetUpdateEngineEvents", "An update's engine events", []string{"continuationToken"}, "", "GetUpdateEventsResponse"},
	"POST /api/stacks/{orgName}/{projectName}/{stackName}/{updateKind}/{updateID}/cancel":              {"CancelUpdate", "Cancel an update and free the stack", nil, "", ""},
	"PATCH /api/stacks/{orgName}/{projectName}/{stackName}/{updateKind}/{updateID}/checkpoint":         {"PatchCheckpoint", "Store the update's checkpoint (update token)", nil, "PatchUpdateCheckpointRequest", ""},
	"PATCH /api/stacks/{orgName}/{projectName}/{stackName}/{updateKind}/{updateID}/checkpointverbatim": {"PatchCheckpointVerbatim", "Store the update's checkpoint as sent (update token)", nil, "PatchUpdateVerbatimCheckpointRequest", ""},
	"PATCH /api/stacks/{orgName}/{projectName}/{stackName}/{updateKind}/{updateID}/checkpointdelta":    {"PatchCheckpointDelta", "Store the update's checkpoint as a delta, checked by its hash (update token)", nil, "PatchUpdateCheckpointDeltaRequest", ""},
	"POST /api/stacks/{orgName}/{projectName}/{stackName}/{updateKind}/{updateID}/events":              {"PostEngineEvent", "Record an engine event (update token)", nil, "EngineEvent", ""},
	"POST /api/stacks/{orgName}/{projectName}/{stackName}/{updateKind}/{updateID}/events/batch":        {"PostEngineEventBatch", "Record engine events (update token)", nil, "EngineEventBatch", ""},
	"POST /api/stacks/{orgName}/{projectName}/{stackName}/{updateKind}/{updateID}/renew_lease":         {"RenewUpdateLease", "Extend the update's lease (update token)", nil, "RenewUpdateLeaseRequest", "RenewUpdateLeaseResponse"},
	"POST /api/stacks/{orgName}/{projectName}/{stackName}/{updateKind}/{updateID}/complete":            {"CompleteUpdate", "Finish the update and free the stack (update token)", nil, "CompleteUpdateRequest", ""},
	"POST /api/stacks/{orgName}/{projectName}/{stackName}/update":                                      {"CreateUpdate", "Create an update of the stack", nil, "UpdateProgramRequest", "UpdateProgramResponse"},
	"POST /api/stacks/{orgName}/{projectName}/{stackName}/preview":                                     {"CreatePreview", "Create a preview of the stack", nil, "UpdateProgramRequest", "UpdateProgramResponse"},
	"POST /api/stacks/{orgName}/{projectName}/{stackName}/refresh":                                     {"CreateRefresh", "Create a refresh of the stack", nil, "UpdateProgramRequest", "UpdateProgramResponse"},
	"POST /api/stacks/{orgName}/{projectName}/{stackName}/destroy":                                     {"CreateDestroy", "Create a destroy of the stack", nil, "UpdateProgramRequest", "UpdateProgramResponse"},
	"GET /api/user":                                                           {"GetCurrentUser", "Who the caller is", nil, "", "User"},
	"GET /api/user/organizations/default":                                     {"GetDefaultOrganization", "The caller's default organization", nil, "", "DefaultOrganization"},
	"GET /api/capabilities":                                                   {"GetCapabilities", "What this service supports", nil, "", "Capabilities"},
	"GET /api/orgs/{orgName}/roles":                                           {"ListRoles", "List roles, permission sets or policies", []string{"uxPurpose", "continuationToken", "maxResults"}, "", "ListRolesResponse"},
	"POST /api/orgs/{orgName}/roles":                                          {"CreateRole", "Create a role, permission set or policy", []string{"createPolicyAndRole"}, "PermissionDescriptorBase", "PermissionDescriptorRecord"},
	"GET /api/orgs/{orgName}/roles/scopes":                                    {"ListRoleScopes", "The scope catalog by entity type", nil, "", "RoleScopes"},
	"GET /api/orgs/{orgName}/roles/{roleID}":                                  {"GetRole", "Get a role, set or policy", nil, "", "PermissionDescriptorRecord"},
	"PATCH /api/orgs/{orgName}/roles/{roleID}":                                {"UpdateRole", "Change a role's name, description or details", nil, "UpdateRoleRequest", "PermissionDescriptorRecord"},
	"DELETE /api/orgs/{orgName}/roles/{roleID}":                               {"DeleteRole", "Delete a role, set or policy", []string{"force"}, "", ""},
	"PATCH /api/orgs/{orgName}/roles/{roleID}/default":                        {"UpdateDefaultRole", "Make a role the organization's default", nil, "", ""},
	"GET /api/orgs/{orgName}/roles/{roleID}/users":                            {"ListRoleUsers", "Members assigned the role", nil, "", "ListRoleUsersResponse"},
	"GET /api/orgs/{orgName}/roles/{roleID}/teams":                            {"ListRoleTeams", "Teams holding the role", nil, "", "ListTeamsResponse"},
	"GET /api/orgs/{orgName}/roles/{roleID}/tokens":                           {"ListRoleTokens", "Organization tokens bound to the role", nil, "", "ListAccessTokensResponse"},
	"GET /api/orgs/{orgName}/members":                                         {"ListOrganizationMembers", "List members", []string{"type", "continuationToken", "maxResults", "includeSuspended"}, "", "ListOrganizationMembersResponse"},
	"POST /api/orgs/{orgName}/members/{userLogin}":                            {"AddOrganizationMember", "Add a member with a built-in role (202 with an invitation for a user the organization does not manage)", nil, "AddOrganizationMemberRequest", "OrganizationMember"},
	"GET /api/orgs/{orgName}/invites":                                         {"ListOrgInvites", "List pending invitations", nil, "", "ListOrganizationInvitesResponse"},
	"POST /api/orgs/{orgName}/invites":                                        {"CreateOrgInvite", "Invite an existing user with a role", nil, "CreateOrganizationInviteRequest", "PendingOrganizationInvite"},
	"PATCH /api/orgs/{orgName}/invites/{inviteID}":                            {"UpdateOrgInvite", "Change a pending invitation's role or expiry", nil, "CreateOrganizationInviteRequest", "PendingOrganizationInvite"},
	"DELETE /api/orgs/{orgName}/invites/{inviteID}":                           {"DeleteOrgInvite", "Revoke a pending invitation", nil, "", ""},
	"GET /api/user/pending-invites":                                           {"ListPendingInvites", "The caller's pending invitations", nil, "", "ListOrganizationInvitesResponse"},
	"POST /api/user/pending-invites/{inviteID}/accept":                        {"AcceptInvite", "Accept an invitation and join with its role", nil, "", "PendingOrganizationInvite"},
	"POST /api/user/pending-invites/{inviteID}/decline":                       {"DeclineInvite", "Decline an invitation", nil, "", ""},
	"PATCH /api/orgs/{orgName}/members/{userLogin}":                           {"UpdateOrganizationMember", "Change a member's role", nil, "UpdateOrganizationMemberRequest", ""},
	"DELETE /api/orgs/{orgName}/members/{userLogin}":                          {"DeleteOrganizationMember", "Remove a member and their team memberships", nil, "", ""},
	"GET /api/orgs/{orgName}/members/{userLogin}/teams":                       {"ListMemberTeams", "A member's teams", nil, "", "ListMemberTeamsResponse"},
	"GET /api/orgs/{orgName}/teams":                                           {"ListTeams", "List teams", []string{"continuationToken", "maxResults"}, "", "ListTeamsResponse"},
	"POST /api/orgs/{orgName}/teams/pulumi":                                   {"CreatePulumiTeam", "Create a team", nil, "CreatePulumiTeamRequest", "Team"},
	"GET /api/orgs/{orgName}/teams/{teamName}":                                {"GetTeam", "Get a team with its members, roles and grants", nil, "", "Team"},
	"PATCH /api/orgs/{orgName}/teams/{teamName}":                              {"UpdateTeam", "Change a team: one action per call", nil, "UpdateTeamRequest", ""},
	"DELETE /api/orgs/{orgName}/teams/{teamName}":                             {"DeleteTeam", "Delete a team and revoke its tokens", nil, "", ""},
	"GET /api/orgs/{orgName}/teams/{teamName}/roles":                          {"ListTeamRoles", "A team's roles", nil, "", "ListRolesResponse"},
	"POST /api/orgs/{orgName}/teams/{teamName}/roles/{roleID}":                {"AddTeamRole", "Give a team a role", nil, "", ""},
	"DELETE /api/orgs/{orgName}/teams/{teamName}/roles/{roleID}":              {"RemoveTeamRole", "Take a role from a team", nil, "", ""},
	"GET /api/user/tokens":                                                    {"ListPersonalTokens", "The caller's personal tokens", []string{"filter", "continuationToken", "maxResults", "search", "sortBy", "sortDirection"}, "", "ListAccessTokensResponse"},
	"POST /api/user/tokens":                                                   {"CreatePersonalToken", "Create a personal token; its value is shown once", nil, "CreatePersonalAccessTokenRequest", "CreateAccessTokenResponse"},
	"DELETE /api/user/tokens/{tokenID}":                                       {"DeletePersonalToken", "Revoke a personal token", nil, "", ""},
	"GET /api/orgs/{orgName}/tokens":                                          {"ListOrgTokens", "Organization tokens", []string{"filter", "continuationToken", "maxResults", "search", "sortBy", "sortDirection"}, "", "ListAccessTokensResponse"},
	"POST /api/orgs/{orgName}/tokens":                                         {"CreateOrgToken", "Create an organization token bound to a role", nil, "CreateOrgAccessTokenRequest", "CreateAccessTokenResponse"},
	"DELETE /api/orgs/{orgName}/tokens/{tokenID}":                             {"DeleteOrgToken", "Revoke an organization token; its name stays reserved", nil, "", ""},
	"GET /api/orgs/{orgName}/teams/{teamName}/tokens":                         {"ListTeamTokens", "A team's tokens", []string{"filter", "continuationToken", "maxResults", "search", "sortBy", "sortDirection"}, "", "ListAccessTokensResponse"},
	"POST /api/orgs/{orgName}/teams/{teamName}/tokens":                        {"CreateTeamToken", "Create a team token", nil, "CreateTeamAccessTokenRequest", "CreateAccessTokenResponse"},
	"DELETE /api/orgs/{orgName}/teams/{teamName}/tokens/{tokenID}":            {"DeleteTeamToken", "Revoke a team token", nil, "", ""},
	"GET /api/orgs/{orgName}/oidc/issuers":                                    {"ListOidcIssuers", "List OIDC issuers", nil, "", "ListOidcIssuersResponse"},
	"POST /api/orgs/{orgName}/oidc/issuers":                                   {"RegisterOidcIssuer", "Register an OIDC issuer (its policy starts as deny-all)", nil, "OidcIssuerRegistrationRequest", "OidcIssuerRegistrationResponse"},
	"GET /api/orgs/{orgName}/oidc/issuers/{issuerID}":                         {"GetOidcIssuer", "Get an OIDC issuer", nil, "", "OidcIssuerRegistrationResponse"},
	"PATCH /api/orgs/{orgName}/oidc/issuers/{issuerID}":                       {"UpdateOidcIssuer", "Change an OIDC issuer", nil, "OidcIssuerUpdateRequest", "OidcIssuerRegistrationResponse"},
	"DELETE /api/orgs/{orgName}/oidc/issuers/{issuerID}":                      {"DeleteOidcIssuer", "Delete an OIDC issuer and its policy", nil, "", ""},
	"POST /api/orgs/{orgName}/oidc/issuers/{issuerID}/regenerate-thumbprints": {"RegenerateOidcIssuerThumbprints", "Pin the certificate the issuer serves now", nil, "", "OidcIssuerRegistrationResponse"},
	"GET /api/orgs/{orgName}/auth/policies/oidcissuers/{issuerID}":            {"GetAuthPolicy", "An OIDC issuer's authorization policy", nil, "", "AuthPolicy"},
	"PATCH /api/orgs/{orgName}/auth/policies/{policyID}":                      {"UpdateAuthPolicy", "Replace an authorization policy's rules", nil, "AuthPolicyUpdateRequest", "AuthPolicy"},
	"POST /api/oauth/token":                                                   {"ExchangeToken", "RFC 8693 token exchange: an OIDC ID token for a short-lived access token", nil, "TokenExchangeRequest", "TokenExchangeGrantResponse"},
	"GET /api/orgs/{orgName}/auditlogs":                                       {"ListAuditLogEventsV1", "Audit events older than startTime, newest first", []string{"startTime", "endTime", "eventFilter", "userFilter", "continuationToken", "pageSize", "format"}, "", "ListAuditLogEventsResponse"},
	"GET /api/orgs/{orgName}/auditlogs/v2":                                    {"ListAuditLogEvents", "Audit events between startTime and endTime, newest first", []string{"startTime", "endTime", "eventFilter", "userFilter", "continuationToken", "pageSize"}, "", "ListAuditLogEventsResponse"},
	"GET /api/orgs/{orgName}/auditlogs/export":                                {"ExportAuditLogEventsV1", "Export audit events as gzip-compressed CSV or CEF", []string{"startTime", "endTime", "eventFilter", "userFilter", "format"}, "", "AuditLogExport"},
	"GET /api/orgs/{orgName}/auditlogs/v2/export":                             {"ExportAuditLogEvents", "Export audit events as gzip-compressed CSV or CEF", []string{"startTime", "endTime", "eventFilter", "userFilter", "format"}, "", "AuditLogExport"},
	"GET /api/orgs/{orgName}/auditlogs/event-types":                           {"ListAuditLogEventTypes", "The catalog of audit event types", nil, "", "AuditLogEventTypes"},
	"POST /api/orgs/{orgName}/assignments/list":                               {"ListEntityAssignments", "Every principal's grant on one entity, and the sets that can be assigned", nil, "EntityInstance", "EntityAssignmentsResponse"},
	"POST /api/orgs/{orgName}/assignments/update":                             {"UpdateEntityAssignment", "Grant, change or revoke a user's permission set on an entity", nil, "UpdateEntityAssignmentRequest", "UpdateEntityAssignmentResponse"},
	"GET /api/orgs/{orgName}/access/holders":                                  {"ListAccessHolders", "The members, teams and organization tokens that hold a scope on an entity (Gatehouse extension)", []string{"scope", "entityType", "entity"}, "", "ListAccessHoldersResponse"},
	"POST /api/orgs/{orgName}/authz/check":                                    {"CheckAccess", "Decide a batch of (token, scope, entity) questions, with explanations (Gatehouse extension)", nil, "CheckRequest", "CheckResponse"},
	"GET /api/openapi/pulumi-spec.json":                                       {"GetOpenAPISpec", "This document", nil, "", "OpenAPI"},
}

var pathParam = regexp.MustCompile(`\{([A-Za-z]+)\}`)

// openAPI builds the OpenAPI 3 document of the registered routes.
func (s *Server) openAPI() ([]byte, error) {
	type param struct {
		Name     string         `json:"name"`
		In       string         `json:"in"`
		Required bool           `json:"required"`
		Schema   map[string]any `json:"schema"`
	}
	paths := map[string]map[string]any{}
	for _, rt := range s.routes {
		key := rt.method + " " + rt.pattern
		info := operations[key]
		var params []param
		for _, m := range pathParam.FindAllStringSubmatch(rt.pattern, -1) {
			params = append(params, param{Name: m[1], In: "path", Required: true, Schema: map[string]any{"type": "string"}})
		}
		for _, q := range info.query {
			params = append(params, param{Name: q, In: "query", Schema: map[string]any{"type": "string"}})
		}
		responses := map[string]any{
			"400": map[string]any{"$ref": "#/components/responses/Error"},
			"401": map[string]any{"$ref": "#/components/responses/Error"},
			"403": map[string]any{"$ref": "#/components/responses/Error"},
			"404": map[string]any{"$ref": "#/components/responses/Error"},
		}
		success := "200"
		if rt.status != 0 {
			success = itoa(rt.status)
		}
		if info.response == "" {
			responses["204"] = map[string]any{"description": "No Content"}
		} else {
			responses[success] = map[string]any{"description": "OK", "content": map[string]any{"application/json": map[string]any{
				"schema": map[string]any{"$ref": "#/components/schemas/" + info.response}}}}
		}
		op := map[string]any{"operationId": info.id, "summary": info.summary, "responses": responses, "x-gatehouse-scopes": rt.scopeNames()}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if rt.public {
			op["security"] = []any{}
		}
		if rt.lease {
			op["security"] = []any{map[string]any{"updateToken": []any{}}}
		}
		if info.body != "" {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{
				"schema": map[string]any{"$ref": "#/components/schemas/" + info.body}}}}
		}
		if paths[rt.pattern] == nil {
			paths[rt.pattern] = map[string]any{}
		}
		paths[rt.pattern][strings.ToLower(rt.method)] = op
	}
	schemas := map[string]any{}
	names := []string{}
	for _, info := range operations {
		for _, n := range []string{info.body, info.response} {
			if n != "" && schemas[n] == nil {
				schemas[n] = map[string]any{"type": "object", "additionalProperties": true}
				names = append(names, n)
			}
		}
	}
	sort.Strings(names)
	schemas["Error"] = map[string]any{"type": "object", "required": []string{"code", "message"}, "properties": map[string]any{
		"code": map[string]any{"type": "integer"}, "message": map[string]any{"type": "string"}}}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info":    map[string]any{"title": "Gatehouse API", "version": "1", "description": "Pulumi Cloud's IAM API, served by Gatehouse."},
		"paths":   paths,
		"components": map[string]any{
			"schemas": schemas,
			"responses": map[string]any{"Error": map[string]any{"description": "An error", "content": map[string]any{
				"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}},
			"securitySchemes": map[string]any{"token": map[string]any{"type": "apiKey", "in": "header", "name": "Authorization",
				"description": "token <value> (or Bearer <value>)"},
				"updateToken": map[string]any{"type": "apiKey", "in": "header", "name": "Authorization",
					"description": "update-token <lease>: the lease an update's start returned, for that update's own requests"}},
		},
		"security": []any{map[string]any{"token": []any{}}},
	}
	return json.MarshalIndent(doc, "", "  ")
}
