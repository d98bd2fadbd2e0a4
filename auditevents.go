package gatehouse

// AuditEventType describes one kind of audit event (Pulumi's
// AuditLogEventTypeCatalogEntry).
type AuditEventType struct {
	Event                 string `json:"event"`
	DisplayName           string `json:"displayName"`
	Description           string `json:"description"`
	RequiresOrgAdmin      bool   `json:"requiresOrgAdmin"`
	RequiresStackAdmin    bool   `json:"requiresStackAdmin"`
	AuthenticationFailure bool   `json:"authenticationFailure"`
	Deprecated            bool   `json:"deprecated"`
}

// Audit event types Gatehouse records.
const (
	EventRoleCreated        = "role_created"
	EventRoleUpdated        = "role_updated"
	EventRoleDeleted        = "role_deleted"
	EventDefaultRoleChanged = "default_role_changed"
	EventMemberAdded        = "member_added"
	EventMemberRoleChanged  = "member_role_changed"
	EventMemberRemoved      = "member_removed"
	EventInviteCreated      = "invite_created"
	EventInviteUpdated      = "invite_updated"
	EventInviteRevoked      = "invite_revoked"
	EventInviteAccepted     = "invite_accepted"
	EventInviteDeclined     = "invite_declined"
	EventTeamCreated        = "team_created"
	EventTeamUpdated        = "team_updated"
	EventTeamDeleted        = "team_deleted"
	EventTeamMemberAdded    = "team_member_added"
	EventTeamMemberRemoved  = "team_member_removed"
	EventTeamMemberRole     = "team_member_role_changed"
	EventTeamRoleAssigned   = "team_role_assigned"
	EventTeamRoleUnassigned = "team_role_unassigned"
	EventTeamGrantChanged   = "team_entity_grant_changed"
	EventAssignmentChanged  = "entity_assignment_changed"
	EventTokenCreated       = "access_token_created"
	EventTokenDeleted       = "access_token_deleted"
	EventOrgCreated         = "organization_created"
	EventSettingsChanged    = "organization_settings_changed"
	EventIssuerCreated      = "oidc_issuer_created"
	EventIssuerUpdated      = "oidc_issuer_updated"
	EventIssuerDeleted      = "oidc_issuer_deleted"
	EventAuthPolicyUpdated  = "auth_policy_updated"
	EventTokenExchanged     = "oidc_token_exchanged"
	EventAuthFailure        = "authentication_failed"
	EventAccessDenied       = "access_denied"
	EventStackCreated       = "stack_created"
	EventStackDeleted       = "stack_deleted"
	EventStackRenamed       = "stack_renamed"
	EventStackTagsChanged   = "stack_tags_changed"
	EventStackUpdated       = "stack_updated"
	EventStackImported      = "stack_imported"
	EventStackExported      = "stack_exported"
	EventStackUpdateCancel  = "stack_update_cancelled"
	EventSecretsDecrypted   = "stack_secrets_decrypted"
	// EventClientReportedDecryption is what a client says it decrypted
	// itself (the CLI's own secrets provider): its details are the
	// client's words, never the server's stack_secrets_decrypted.
	EventClientReportedDecryption = "client_reported_decryption"
	EventStackCheckpoint          = "stack_checkpoint_saved"
	EventEnvCreated               = "environment_created"
	EventEnvUpdated               = "environment_updated"
	EventEnvDeleted               = "environment_deleted"
	EventEnvOpened                = "environment_opened"
	EventEnvTagsChanged           = "environment_tags_changed"
	EventAccountCreated           = "insights_account_created"
	EventAccountDeleted           = "insights_account_deleted"
	EventAccountTagsChanged       = "insights_account_tags_changed"

	// SCIM provisioning (service/scim.go): every change an identity
	// provider makes, attributed to the organization's SCIM token.
	EventSCIMTokenCreated      = "scim_token_created"
	EventSCIMUserCreated       = "scim_user_created"
	EventSCIMUserUpdated       = "scim_user_updated"
	EventSCIMUserDeprovisioned = "scim_user_deprovisioned"
	EventSCIMUserDeleted       = "scim_user_deleted"
	EventSCIMGroupCreated      = "scim_group_created"
	EventSCIMGroupUpdated      = "scim_group_updated"
	EventSCIMGroupDeleted      = "scim_group_deleted"
	EventSSOChanged            = "sso_settings_changed"
	EventSSOSignIn             = "sso_sign_in"
)

// Audit event classes. Reads (an export, a decryption, an environment
// opened: every `pulumi up` makes some) are many and change nothing, so
// lists show the other class, changes (with denials and authentication
// failures), unless reads are asked for.
const (
	AuditClassChange = "change"
	AuditClassRead   = "read"
	AuditClassAll    = "all"
)

// AuditReadEvents are the events of the read class: something was read,
// revealed or decrypted, and nothing changed.
var AuditReadEvents = []string{EventStackExported, EventSecretsDecrypted, EventClientReportedDecryption, EventEnvOpened}

// AuditClassOf is the class of an event type: AuditClassRead or
// AuditClassChange.
func AuditClassOf(event string) string {
	for _, e := range AuditReadEvents {
		if e == event {
			return AuditClassRead
		}
	}
	return AuditClassChange
}

// AuditEventTypes is the catalog /auditlogs/event-types serves.
var AuditEventTypes = []AuditEventType{
	{EventRoleCreated, "Role Created", "A role, permission set or policy was created.", true, false, false, false},
	{EventRoleUpdated, "Role Updated", "A role, permission set or policy changed; the event holds the details before and after.", true, false, false, false},
	{EventRoleDeleted, "Role Deleted", "A role, permission set or policy was deleted.", true, false, false, false},
	{EventDefaultRoleChanged, "Default Role Changed", "Another role became the organization's default.", true, false, false, false},
	{EventMemberAdded, "Member Added", "A user joined the organization.", true, false, false, false},
	{EventMemberRoleChanged, "Member Role Changed", "A member's role changed.", true, false, false, false},
	{EventMemberRemoved, "Member Removed", "A member left the organization.", true, false, false, false},
	{EventInviteCreated, "Invite Created", "A user was invited to join the organization with a role.", true, false, false, false},
	{EventInviteUpdated, "Invite Updated", "A pending invitation's role or expiry changed.", true, false, false, false},
	{EventInviteRevoked, "Invite Revoked", "A pending invitation was withdrawn.", true, false, false, false},
	{EventInviteAccepted, "Invite Accepted", "An invited user accepted and joined with the invitation's role.", true, false, false, false},
	{EventInviteDeclined, "Invite Declined", "An invited user declined.", true, false, false, false},
	{EventTeamCreated, "Team Created", "A team was created.", false, false, false, false},
	{EventTeamUpdated, "Team Updated", "A team's display name or description changed.", false, false, false, false},
	{EventTeamDeleted, "Team Deleted", "A team was deleted and its tokens revoked.", false, false, false, false},
	{EventTeamMemberAdded, "Team Member Added", "A member joined a team.", false, false, false, false},
	{EventTeamMemberRemoved, "Team Member Removed", "A member left a team.", false, false, false, false},
	{EventTeamMemberRole, "Team Member Role Changed", "A team member was promoted or demoted.", false, false, false, false},
	{EventTeamRoleAssigned, "Team Role Assigned", "A team was given a role.", true, false, false, false},
	{EventTeamRoleUnassigned, "Team Role Unassigned", "A team lost a role.", true, false, false, false},
	{EventTeamGrantChanged, "Team Entity Grant Changed", "A team's permission on a stack or environment changed.", false, true, false, false},
	{EventAssignmentChanged, "Entity Assignment Changed", "A user's permission set on an entity was granted, changed or revoked.", false, true, false, false},
	{EventTokenCreated, "Access Token Created", "A personal, organization or team token was created (never its value).", false, false, false, false},
	{EventTokenDeleted, "Access Token Deleted", "A token was revoked.", false, false, false, false},
	{EventOrgCreated, "Organization Created", "The organization was created.", true, false, false, false},
	{EventSettingsChanged, "Organization Settings Changed", "The organization's access settings changed.", true, false, false, false},
	{EventIssuerCreated, "OIDC Issuer Registered", "An OIDC issuer was registered, with a deny-all policy.", true, false, false, false},
	{EventIssuerUpdated, "OIDC Issuer Updated", "An OIDC issuer's name, thumbprints, key set or maximum expiration changed.", true, false, false, false},
	{EventIssuerDeleted, "OIDC Issuer Deleted", "An OIDC issuer and its policy were deleted.", true, false, false, false},
	{EventAuthPolicyUpdated, "Auth Policy Updated", "An OIDC issuer's authorization policy changed; the event holds the rules before and after.", true, false, false, false},
	{EventTokenExchanged, "OIDC Token Exchanged", "An ID token was exchanged for an access token; the event holds the issuer, sub and the rule that matched.", false, false, false, false},
	{EventAuthFailure, "Authentication Failed", "A request came with a missing, unknown, revoked or expired token.", false, false, true, false},
	{EventAccessDenied, "Access Denied", "A request was denied; the event holds the missing scope and the explanation.", false, false, false, false},
	{EventStackCreated, "Stack Created", "A stack was created; the event holds its tags and the teams given access.", false, false, false, false},
	{EventStackDeleted, "Stack Deleted", "A stack was deleted with its history.", false, true, false, false},
	{EventStackRenamed, "Stack Renamed", "A stack moved to a new name or project.", false, true, false, false},
	{EventStackTagsChanged, "Stack Tags Changed", "A stack's tags changed; the event holds them before and after.", false, false, false, false},
	{EventStackUpdated, "Stack Updated", "An update, refresh or destroy of a stack finished; the event holds its kind, result and version.", false, false, false, false},
	{EventStackImported, "Stack Imported", "A deployment was imported into a stack as a new version.", false, false, false, false},
	{EventStackExported, "Stack Exported", "A stack's deployment was exported.", false, false, false, false},
	{EventStackUpdateCancel, "Stack Update Cancelled", "A running update was cancelled and the stack's lease freed.", false, false, false, false},
	{EventSecretsDecrypted, "Stack Secrets Decrypted", "Secrets of a stack were decrypted (how many, never their values).", false, false, false, false},
	{EventClientReportedDecryption, "Client-Reported Decryption", "A client reported decrypting secrets of a stack with a secrets provider of its own; the details under clientReported are the client's words, bounded, not checked by the server.", false, false, false, false},
	{EventStackCheckpoint, "Stack Checkpoint Saved", "A running update first wrote the stack's new version (one event per update and version, whether or not the update completes).", false, false, false, false},
	{EventEnvCreated, "Environment Created", "An environment was created.", false, false, false, false},
	{EventEnvUpdated, "Environment Updated", "An environment's definition changed; the event holds the new version.", false, false, false, false},
	{EventEnvDeleted, "Environment Deleted", "An environment was deleted with its versions.", false, false, false, false},
	{EventEnvOpened, "Environment Opened", "An environment was opened, or its definition read with its secrets: its secrets were revealed.", false, false, false, false},
	{EventEnvTagsChanged, "Environment Tags Changed", "An environment's tags changed.", false, false, false, false},
	{EventAccountCreated, "Insights Account Created", "An Insights account was created.", false, false, false, false},
	{EventAccountDeleted, "Insights Account Deleted", "An Insights account was deleted.", false, false, false, false},
	{EventAccountTagsChanged, "Insights Account Tags Changed", "An Insights account's tags changed.", false, false, false, false},
	{EventSCIMTokenCreated, "SCIM Token Created", "An admin made the organization's SCIM provisioning token, revoking the one before.", true, false, false, false},
	{EventSCIMUserCreated, "SCIM User Created", "The identity provider provisioned a user, who joined with the default role.", true, false, false, false},
	{EventSCIMUserUpdated, "SCIM User Updated", "The identity provider changed a user (name, email, external id, active).", true, false, false, false},
	{EventSCIMUserDeprovisioned, "SCIM User Deprovisioned", "The identity provider deactivated or removed a user: their personal tokens were revoked and console sessions ended.", true, false, false, false},
	{EventSCIMUserDeleted, "SCIM User Deleted", "The identity provider removed a user from the organization.", true, false, false, false},
	{EventSCIMGroupCreated, "SCIM Group Created", "The identity provider created a group (a SCIM team).", true, false, false, false},
	{EventSCIMGroupUpdated, "SCIM Group Updated", "The identity provider renamed a group or changed its members.", true, false, false, false},
	{EventSCIMGroupDeleted, "SCIM Group Deleted", "The identity provider deleted a group; its team and the team's tokens went with it.", true, false, false, false},
	{EventSSOChanged, "SSO Settings Changed", "The organization's OIDC or SAML single sign-on settings changed (never the client secret itself).", true, false, false, false},
	{EventSSOSignIn, "SSO Sign-in", "A user signed in to the console through the organization's identity provider; the event says whether the sign-in created the user and which teams it changed.", true, false, false, false},
}
