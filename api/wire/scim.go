package wire

import (
	"encoding/json"
	"fmt"
	"strings"
)

// SCIM 2.0 schema and message URNs (RFC 7643 §8.7, RFC 7644 §3).
const (
	SCIMSchemaUser           = "urn:ietf:params:scim:schemas:core:2.0:User"
	SCIMSchemaEnterpriseUser = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	SCIMSchemaGroup          = "urn:ietf:params:scim:schemas:core:2.0:Group"
	SCIMSchemaSPConfig       = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	SCIMSchemaResourceType   = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	SCIMSchemaSchema         = "urn:ietf:params:scim:schemas:core:2.0:Schema"
	SCIMMessageList          = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	SCIMMessagePatch         = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SCIMMessageError         = "urn:ietf:params:scim:api:messages:2.0:Error"
)

// SCIMContentType is the media type of every SCIM response (RFC 7644 §3.1).
const SCIMContentType = "application/scim+json"

// SCIMMeta is a resource's meta attribute (RFC 7643 §3.1).
type SCIMMeta struct {
	ResourceType string `json:"resourceType"`
	Created      string `json:"created,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
	Location     string `json:"location,omitempty"`
}

// SCIMName is a user's name (RFC 7643 §4.1.1).
type SCIMName struct {
	Formatted  string `json:"formatted,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
	GivenName  string `json:"givenName,omitempty"`
	MiddleName string `json:"middleName,omitempty"`
}

// SCIMValue is one value of a multi-valued attribute: an email, a group's
// member, a user's group.
type SCIMValue struct {
	Value   string `json:"value"`
	Display string `json:"display,omitempty"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary,omitempty"`
	Ref     string `json:"$ref,omitempty"`
}

// SCIMBool is a boolean that also reads the strings "true" and "false"
// in any case, as Entra ID sends `"active": "False"`.
type SCIMBool bool

// UnmarshalJSON reads true, false, or either as a string in any case.
func (b *SCIMBool) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case bool:
		*b = SCIMBool(v)
		return nil
	case string:
		switch strings.ToLower(v) {
		case "true":
			*b = true
			return nil
		case "false":
			*b = false
			return nil
		}
	}
	return fmt.Errorf("want a boolean, got %s", truncate(string(data), 40))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// SCIMUser is a User resource (RFC 7643 §4.1). Attributes Gatehouse does
// not keep (phone numbers, addresses, the enterprise extension) are read
// and ignored.
type SCIMUser struct {
	Schemas     []string    `json:"schemas"`
	ID          string      `json:"id,omitempty"`
	ExternalID  string      `json:"externalId,omitempty"`
	UserName    string      `json:"userName"`
	Name        *SCIMName   `json:"name,omitempty"`
	DisplayName string      `json:"displayName,omitempty"`
	Emails      []SCIMValue `json:"emails,omitempty"`
	Active      *SCIMBool   `json:"active,omitempty"`
	Meta        *SCIMMeta   `json:"meta,omitempty"`
}

// SCIMGroup is a Group resource (RFC 7643 §4.2): a SCIM team. Members is
// nil when absent (a request without it, or excludedAttributes=members).
type SCIMGroup struct {
	Schemas     []string     `json:"schemas"`
	ID          string       `json:"id,omitempty"`
	ExternalID  string       `json:"externalId,omitempty"`
	DisplayName string       `json:"displayName"`
	Members     *[]SCIMValue `json:"members,omitempty"`
	Meta        *SCIMMeta    `json:"meta,omitempty"`
}

// SCIMList is a ListResponse (RFC 7644 §3.4.2).
type SCIMList struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	StartIndex   int      `json:"startIndex"`
	ItemsPerPage int      `json:"itemsPerPage"`
	Resources    []any    `json:"Resources"`
}

// SCIMPatch is a PATCH request (RFC 7644 §3.5.2).
type SCIMPatch struct {
	Schemas    []string        `json:"schemas"`
	Operations []SCIMOperation `json:"Operations"`
}

// SCIMOperation is one PATCH operation; Op is add, remove or replace in
// any case, Path is optional.
type SCIMOperation struct {
	Op    string          `json:"op"`
	Path  string          `json:"path,omitempty"`
	Value json.RawMessage `json:"value,omitempty"`
}

// SCIMError is an error response (RFC 7644 §3.12): Status is the HTTP
// status as a string.
type SCIMError struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail"`
}

// SCIMTokenResponse is a new SCIM token, whose value is shown once, and
// the base URL to give the identity provider.
type SCIMTokenResponse struct {
	ID      string `json:"id"`
	Token   string `json:"token"`
	Created int64  `json:"created"`
	BaseURL string `json:"baseUrl"`
}

// SCIMSupported is a feature's flag in the ServiceProviderConfig.
type SCIMSupported struct {
	Supported bool `json:"supported"`
}

// SCIMBulk is the bulk feature's configuration.
type SCIMBulk struct {
	Supported      bool `json:"supported"`
	MaxOperations  int  `json:"maxOperations"`
	MaxPayloadSize int  `json:"maxPayloadSize"`
}

// SCIMFilterConfig is the filter feature's configuration.
type SCIMFilterConfig struct {
	Supported  bool `json:"supported"`
	MaxResults int  `json:"maxResults"`
}

// SCIMAuthScheme is an authentication scheme the service provider takes.
type SCIMAuthScheme struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Primary     bool   `json:"primary,omitempty"`
}

// SCIMServiceProviderConfig is RFC 7643 §5's resource.
type SCIMServiceProviderConfig struct {
	Schemas               []string         `json:"schemas"`
	DocumentationURI      string           `json:"documentationUri,omitempty"`
	Patch                 SCIMSupported    `json:"patch"`
	Bulk                  SCIMBulk         `json:"bulk"`
	Filter                SCIMFilterConfig `json:"filter"`
	ChangePassword        SCIMSupported    `json:"changePassword"`
	Sort                  SCIMSupported    `json:"sort"`
	ETag                  SCIMSupported    `json:"etag"`
	AuthenticationSchemes []SCIMAuthScheme `json:"authenticationSchemes"`
	Meta                  *SCIMMeta        `json:"meta,omitempty"`
}

// SCIMSchemaExtension names an extension schema of a resource type.
type SCIMSchemaExtension struct {
	Schema   string `json:"schema"`
	Required bool   `json:"required"`
}

// SCIMResourceType is RFC 7643 §6's resource.
type SCIMResourceType struct {
	Schemas          []string              `json:"schemas"`
	ID               string                `json:"id"`
	Name             string                `json:"name"`
	Endpoint         string                `json:"endpoint"`
	Description      string                `json:"description"`
	Schema           string                `json:"schema"`
	SchemaExtensions []SCIMSchemaExtension `json:"schemaExtensions,omitempty"`
	Meta             *SCIMMeta             `json:"meta,omitempty"`
}

// SCIMAttribute describes an attribute of a schema (RFC 7643 §7).
type SCIMAttribute struct {
	Name           string          `json:"name"`
	Type           string          `json:"type"`
	MultiValued    bool            `json:"multiValued"`
	Description    string          `json:"description"`
	Required       bool            `json:"required"`
	CaseExact      bool            `json:"caseExact"`
	Mutability     string          `json:"mutability"`
	Returned       string          `json:"returned"`
	Uniqueness     string          `json:"uniqueness"`
	SubAttributes  []SCIMAttribute `json:"subAttributes,omitempty"`
	ReferenceTypes []string        `json:"referenceTypes,omitempty"`
}

// SCIMSchema is RFC 7643 §7's resource.
type SCIMSchema struct {
	Schemas     []string        `json:"schemas"`
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Attributes  []SCIMAttribute `json:"attributes"`
	Meta        *SCIMMeta       `json:"meta,omitempty"`
}
