package api_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// TestOpenAPIMatchesRoutes: the served document describes exactly the
// registered routes, each with its own operation id, a summary and its
// scopes.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newEnv(t)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	e.must("", "GET", "/api/openapi/pulumi-spec.json", nil, 200, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi = %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	ids := map[string]string{}
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			key := strings.ToUpper(method) + " " + path
			documented[key] = true
			var op struct {
				OperationID string   `json:"operationId"`
				Summary     string   `json:"summary"`
				Scopes      []string `json:"x-gatehouse-scopes"`
				Parameters  []struct{ Name, In string }
			}
			json.Unmarshal(raw, &op)
			if op.OperationID == "" || op.Summary == "" {
				t.Errorf("%s has no operation id or summary", key)
			}
			if other, ok := ids[op.OperationID]; ok && op.OperationID != "" {
				t.Errorf("%s and %s share the operation id %s", key, other, op.OperationID)
			}
			ids[op.OperationID] = key
			for _, m := range regexp.MustCompile(`\{([A-Za-z]+)\}`).FindAllStringSubmatch(path, -1) {
				found := false
				for _, p := range op.Parameters {
					found = found || (p.Name == m[1] && p.In == "path")
				}
				if !found {
					t.Errorf("%s does not document path parameter %s", key, m[1])
				}
			}
			if strings.Contains(path, "{orgName}") && len(op.Scopes) == 0 {
				t.Errorf("%s is an organization route without scopes", key)
			}
		}
	}
	registered := e.routes()
	for _, r := range registered {
		if !documented[r] {
			t.Errorf("route %s is not in the document", r)
		}
	}
	if len(documented) != len(registered) {
		t.Errorf("the document has %d operations, the server %d routes", len(documented), len(registered))
	}
}
