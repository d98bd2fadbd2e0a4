package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkPulumiEnvOpen runs the real pulumi CLI against Gatehouse:
// EnvOpen is `pulumi env open` of an environment importing 10 others of
// 100 values each (10 secrets each); StackOpen is `pulumi config --open`
// of a stack whose Pulumi.<stack>.yaml environment: imports it, which
// the CLI opens as an anonymous yaml/open of that definition. Each op is
// one CLI process, start to end. It needs pulumi on PATH (skipped
// otherwise); hyperfine gives the same numbers (BENCHMARKS.md).
func BenchmarkPulumiEnvOpen(b *testing.B) {
	pulumi, err := exec.LookPath("pulumi")
	if err != nil {
		b.Skip("pulumi is not on PATH")
	}
	m, admin := startMain(b, filepath.Join(b.TempDir(), "g.db"), nil)
	backend := "http://" + m.Addr
	raw := rawCaller(b, backend, admin)
	const envs = "/api/esc/environments/acme"
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
		raw("POST", envs, fmt.Sprintf(`{"project":"bench","name":"e%d"}`, i))
		raw("PATCH", fmt.Sprintf("%s/bench/e%d", envs, i), def.String())
		imports = append(imports, fmt.Sprintf("bench/e%d", i))
	}
	raw("POST", envs, `{"project":"bench","name":"top"}`)
	raw("PATCH", envs+"/bench/top", "imports: ["+strings.Join(imports, ", ")+"]\nvalues:\n  pulumiConfig:\n    greeting: ${v3_7}\n")

	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte(pulumiProgram), 0o600)
	run := func(args ...string) string {
		b.Helper()
		cmd := exec.Command(pulumi, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PULUMI_HOME="+filepath.Join(dir, ".home"), "PULUMI_ACCESS_TOKEN="+admin,
			"PULUMI_SKIP_UPDATE_CHECK=true", "PULUMI_BACKEND_URL="+backend, "NO_COLOR=1", "PULUMI_CONFIG_PASSPHRASE=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("pulumi %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("login", backend)
	run("stack", "init", "acme/bench")
	os.WriteFile(filepath.Join(dir, "Pulumi.bench.yaml"), []byte("environment:\n  - bench/top\n"), 0o600)
	b.Run("EnvOpen", func(b *testing.B) {
		for b.Loop() {
			if out := run("env", "open", "acme/bench/top", "v3_7"); !strings.Contains(out, "value-7") {
				b.Fatal(out)
			}
		}
	})
	b.Run("StackOpen", func(b *testing.B) {
		for b.Loop() {
			if out := run("config", "--open", "-s", "acme/bench"); !strings.Contains(out, "value-7") {
				b.Fatal(out)
			}
		}
	})
}
