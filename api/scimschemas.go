package api

import (
	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// The discovery resources of SCIM (RFC 7644 §4): what Gatehouse serves and
// keeps, so that an identity provider (or a person) can read what to send.

// scimMaxResults is the most resources one list returns (a larger count
// is capped, RFC 7644 §3.4.2.4).
const scimMaxResults = 1000

func scimSPConfig(base string) wire.SCIMServiceProviderConfig {
	return wire.SCIMServiceProviderConfig{
		Schemas:          []string{wire.SCIMSchemaSPConfig},
		DocumentationURI: "https://datatracker.ietf.org/doc/html/rfc7644",
		Patch:            wire.SCIMSupported{Supported: true},
		Bulk:             wire.SCIMBulk{},
		Filter:           wire.SCIMFilterConfig{Supported: true, MaxResults: scimMaxResults},
		// No ETags: versions are not claimed, so If-Match is not read.
		AuthenticationSchemes: []wire.SCIMAuthScheme{{Type: "oauthbearertoken", Name: "OAuth Bearer Token", Primary: true,
			Description: "The organization's SCIM token (POST /api/orgs/{org}/scim/token) as `Authorization: Bearer <token>`."}},
		Meta: &wire.SCIMMeta{ResourceType: "ServiceProviderConfig", Location: base + "/ServiceProviderConfig"},
	}
}

func scimResourceTypes(base string) []wire.SCIMResourceType {
	return []wire.SCIMResourceType{
		{Schemas: []string{wire.SCIMSchemaResourceType}, ID: gatehouse.SCIMUsers, Name: gatehouse.SCIMUsers, Endpoint: "/Users",
			Description: "A person the organization manages, a member with the organization's default role", Schema: wire.SCIMSchemaUser,
			SchemaExtensions: []wire.SCIMSchemaExtension{{Schema: wire.SCIMSchemaEnterpriseUser}},
			Meta:             &wire.SCIMMeta{ResourceType: "ResourceType", Location: base + "/ResourceTypes/User"}},
		{Schemas: []string{wire.SCIMSchemaResourceType}, ID: gatehouse.SCIMGroups, Name: gatehouse.SCIMGroups, Endpoint: "/Groups",
			Description: "A team of the organization (kind scim)", Schema: wire.SCIMSchemaGroup,
			Meta: &wire.SCIMMeta{ResourceType: "ResourceType", Location: base + "/ResourceTypes/Group"}},
	}
}

func attr(name, typ, desc string, required bool, mutability string) wire.SCIMAttribute {
	return wire.SCIMAttribute{Name: name, Type: typ, Description: desc, Required: required, Mutability: mutability, Returned: "default", Uniqueness: "none"}
}

func scimSchemas(base string) []wire.SCIMSchema {
	userName := attr("userName", "string", "The login: letters, digits, '.', '_', '-', '@', '+'; unique, compared ignoring case.", true, "readWrite")
	userName.Uniqueness = "server"
	name := attr("name", "complex", "The user's name; formatted (or givenName and familyName) becomes the display name when displayName is absent.", false, "readWrite")
	name.SubAttributes = []wire.SCIMAttribute{attr("formatted", "string", "The full name.", false, "readWrite"),
		attr("givenName", "string", "The given name.", false, "readWrite"), attr("familyName", "string", "The family name.", false, "readWrite")}
	emails := attr("emails", "complex", "Email addresses; the primary one (or the first) is kept.", false, "readWrite")
	emails.MultiValued = true
	emails.SubAttributes = []wire.SCIMAttribute{attr("value", "string", "The address.", false, "readWrite"),
		attr("type", "string", "work, home or other.", false, "readWrite"), attr("primary", "boolean", "The preferred address.", false, "readWrite")}
	members := attr("members", "complex", "The group's users.", false, "readWrite")
	members.MultiValued = true
	value := attr("value", "string", "The user's id.", false, "immutable")
	ref := attr("$ref", "reference", "The user's URI.", false, "immutable")
	ref.ReferenceTypes = []string{"User"}
	members.SubAttributes = []wire.SCIMAttribute{value, ref, attr("display", "string", "The user's login.", false, "readOnly")}
	groupName := attr("displayName", "string", "The group's name; its team is named after it.", true, "readWrite")
	return []wire.SCIMSchema{
		{Schemas: []string{wire.SCIMSchemaSchema}, ID: wire.SCIMSchemaUser, Name: "User", Description: "User Account",
			Attributes: []wire.SCIMAttribute{userName, name, attr("displayName", "string", "The name shown.", false, "readWrite"), emails,
				attr("active", "boolean", "false suspends the membership, revokes the user's personal tokens and ends their console sessions.", false, "readWrite")},
			Meta: &wire.SCIMMeta{ResourceType: "Schema", Location: base + "/Schemas/" + wire.SCIMSchemaUser}},
		{Schemas: []string{wire.SCIMSchemaSchema}, ID: wire.SCIMSchemaGroup, Name: "Group", Description: "Group (a team)",
			Attributes: []wire.SCIMAttribute{groupName, members},
			Meta:       &wire.SCIMMeta{ResourceType: "Schema", Location: base + "/Schemas/" + wire.SCIMSchemaGroup}},
	}
}
