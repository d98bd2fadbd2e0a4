package api

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

// doc documents a route for the OpenAPI document.
type doc struct {
	id, summary string
	query       []string
	body        string // component schema of the request body
	response    string // component schema of the response, "" for 204
}

var pathParam = regexp.MustCompile(`\{([A-Za-z]+)\}`)

// openAPIParam is one parameter of an operation.
type openAPIParam struct {
	Name     string         `json:"name"`
	In       string         `json:"in"`
	Required bool           `json:"required"`
	Schema   map[string]any `json:"schema"`
}

// openAPI builds the OpenAPI 3 document of the registered routes.
func (s *Server) openAPI() ([]byte, error) {
	paths := map[string]map[string]any{}
	schemas := map[string]any{}
	for _, rt := range s.routes {
		if paths[rt.pattern] == nil {
			paths[rt.pattern] = map[string]any{}
		}
		paths[rt.pattern][strings.ToLower(rt.method)] = rt.operation()
		for _, n := range []string{rt.doc.body, rt.doc.response} {
			if n != "" {
				schemas[n] = map[string]any{"type": "object", "additionalProperties": true}
			}
		}
	}
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

// operation is the route's OpenAPI operation object.
func (rt *route) operation() map[string]any {
	op := map[string]any{"operationId": rt.doc.id, "summary": rt.doc.summary, "responses": rt.responses(), "x-gatehouse-scopes": rt.scopeNames()}
	if params := rt.parameters(); len(params) > 0 {
		op["parameters"] = params
	}
	if rt.public {
		op["security"] = []any{}
	}
	if rt.lease {
		op["security"] = []any{map[string]any{"updateToken": []any{}}}
	}
	if rt.doc.body != "" {
		op["requestBody"] = map[string]any{"required": true, "content": jsonContent(rt.doc.body)}
	}
	return op
}

// parameters are the route's path parameters, then its query parameters.
func (rt *route) parameters() []openAPIParam {
	var params []openAPIParam
	for _, m := range pathParam.FindAllStringSubmatch(rt.pattern, -1) {
		params = append(params, openAPIParam{Name: m[1], In: "path", Required: true, Schema: map[string]any{"type": "string"}})
	}
	for _, q := range rt.doc.query {
		params = append(params, openAPIParam{Name: q, In: "query", Schema: map[string]any{"type": "string"}})
	}
	return params
}

// responses are the route's success response and the errors every route
// can return.
func (rt *route) responses() map[string]any {
	responses := map[string]any{}
	for _, code := range []string{"400", "401", "403", "404"} {
		responses[code] = map[string]any{"$ref": "#/components/responses/Error"}
	}
	success := "200"
	if rt.status != 0 {
		success = strconv.Itoa(rt.status)
	}
	if rt.doc.response == "" {
		responses["204"] = map[string]any{"description": "No Content"}
	} else {
		responses[success] = map[string]any{"description": "OK", "content": jsonContent(rt.doc.response)}
	}
	return responses
}

// jsonContent is a JSON body of a component schema.
func jsonContent(schema string) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + schema}}}
}
