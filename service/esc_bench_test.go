package service_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
)

// BenchmarkOpenTenImports: opening an environment that imports 10 others
// of 100 values each (10 of them secrets, sealed at rest), in process:
// Evaluate is the evaluation alone (the definitions read, imports decided,
// secrets opened), Open adds the session and its audit event. The issue's
// goal: ≤ 5 ms.
func BenchmarkOpenTenImports(b *testing.B) {
	e := testenv.New(b)
	ctx := context.Background()
	by := e.Identity(b, e.Admin)
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
		env, err := e.Svc.CreateEnvironment(ctx, e.Org.ID, by, "bench", fmt.Sprintf("e%d", i))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.Svc.UpdateDefinition(ctx, env, []byte(def.String()), -1, by); err != nil {
			b.Fatal(err)
		}
		imports = append(imports, "bench/"+env.Name)
	}
	top, err := e.Svc.CreateEnvironment(ctx, e.Org.ID, by, "bench", "top")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.Svc.UpdateDefinition(ctx, top, []byte("imports: ["+strings.Join(imports, ", ")+"]\nvalues:\n  x: ${v3_7}\n"), -1, by); err != nil {
		b.Fatal(err)
	}
	allow := func(context.Context, *gatehouse.Environment) (time.Duration, error) { return 0, nil }
	b.Run("Evaluate", func(b *testing.B) {
		for b.Loop() {
			ev, err := e.Svc.EvaluateStored(ctx, top, 0, allow, false)
			if err != nil || ev.Diagnostics.HasErrors() || len(ev.Env.Properties) != 1001 {
				b.Fatal(err, ev.Diagnostics)
			}
		}
	})
	b.Run("Open", func(b *testing.B) {
		for b.Loop() {
			if _, diags, err := e.Svc.OpenEnvironment(ctx, top, 0, 0, 0, service.ImportAuthorizer(allow)); err != nil || diags.HasErrors() {
				b.Fatal(err, diags)
			}
		}
	})
}
