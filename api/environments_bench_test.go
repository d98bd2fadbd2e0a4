package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkOpenNamedVsYAML is what `pulumi env open` asks of the server
// (POST open, then GET the session's values) for an environment that
// imports 10 others of 100 values each (10 of them secrets), against the
// same definition opened anonymously (POST yaml/open with the definition,
// then GET the anonymous session), as stacks do. The goal: Named
// within 1.2× of YAML.
func BenchmarkOpenNamedVsYAML(b *testing.B) {
	e := newEnv(b)
	const envs = "/api/esc/environments/acme"
	patch := func(path, def string) {
		if status, _, body := e.callRaw(e.admin, "PATCH", path, def, nil); status != http.StatusOK {
			b.Fatalf("PATCH %s: %d %s", path, status, body)
		}
	}
	var imports []string
	for i := range 10 {
		var def strings.Builder
		def.WriteString("values:\n")
		for j := range 100 {
			if j%10 == 0 {
				fmt.Fprintf(&def, "  v%d_%d:\n    fn::secret: s%d\n", i, j, j)
			} else {
				fmt.Fprintf(&def, "  v%d_%d: value-%d\n", i, j, j)
			}
		}
		name := fmt.Sprintf("e%d", i)
		e.must(e.admin, "POST", envs, map[string]string{"project": "bench", "name": name}, 200, nil)
		patch(envs+"/bench/"+name, def.String())
		imports = append(imports, "bench/"+name)
	}
	top := "imports: [" + strings.Join(imports, ", ") + "]\nvalues:\n  x: ${v3_7}\n"
	e.must(e.admin, "POST", envs, map[string]string{"project": "bench", "name": "top"}, 200, nil)
	patch(envs+"/bench/top", top)
	read := func(path string) {
		var values struct{ Properties map[string]any }
		e.must(e.admin, "GET", path, nil, 200, &values)
		if len(values.Properties) != 1001 {
			b.Fatalf("%d properties", len(values.Properties))
		}
	}
	b.Run("Named", func(b *testing.B) {
		for b.Loop() {
			var opened struct{ ID string }
			e.must(e.admin, "POST", envs+"/bench/top/open", nil, 200, &opened)
			read(envs + "/bench/top/open/" + opened.ID)
		}
	})
	b.Run("YAML", func(b *testing.B) {
		for b.Loop() {
			var opened struct{ ID string }
			e.must(e.admin, "POST", envs+"/yaml/open", top, 200, &opened)
			read(envs + "/yaml/open/" + opened.ID)
		}
	})
}
