package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPulumiEnvPaging runs every paging `pulumi env` command with the real
// CLI against more than one page (the server's pages hold 50; the CLI
// asks for 500 versions or tags a page and pages environments and
// referrers on the server's token). Each must list every item once and
// end.
func TestPulumiEnvPaging(t *testing.T) {
	pulumi := pulumiCLI(t)
	m, admin := startMain(t, filepath.Join(t.TempDir(), "g.db"), nil)
	backend := "http://" + m.Addr
	dir := t.TempDir()
	raw := rawCaller(t, backend, admin)
	const envs = "/api/esc/environments/acme"
	const versions, tags, importers = 120, 100, 120
	raw("POST", envs, `{"project":"app","name":"big"}`)
	for i := range versions {
		raw("PATCH", envs+"/app/big", fmt.Sprintf("values:\n  n: %d\n", i))
	}
	for i := range tags {
		raw("POST", envs+"/app/big/versions/tags", fmt.Sprintf(`{"name":"t%03d","revision":%d}`, i, 2+i))
		raw("POST", envs+"/app/big/tags", fmt.Sprintf(`{"name":"k%03d","value":"v"}`, i))
	}
	for i := range importers {
		raw("POST", envs, fmt.Sprintf(`{"project":"app","name":"i%03d"}`, i))
		raw("PATCH", fmt.Sprintf("%s/app/i%03d", envs, i), "imports: [app/big]\n")
	}

	run := func(args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, pulumi, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PULUMI_HOME="+filepath.Join(dir, ".home"), "PULUMI_ACCESS_TOKEN="+admin,
			"PULUMI_SKIP_UPDATE_CHECK=true", "PULUMI_BACKEND_URL="+backend, "NO_COLOR=1")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("pulumi %s: %v\n%s%s", strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
		}
		return stdout.Bytes()
	}
	run("login", backend)
	count := func(want int, field string, args ...string) {
		t.Helper()
		var out map[string][]any
		if err := json.Unmarshal(run(args...), &out); err != nil {
			t.Fatalf("pulumi %s: %v", strings.Join(args, " "), err)
		}
		seen := map[string]bool{}
		for _, item := range out[field] {
			b, _ := json.Marshal(item)
			seen[string(b)] = true
		}
		if len(out[field]) != want || len(seen) != want {
			t.Errorf("pulumi %s: %d %s (%d distinct), want %d", strings.Join(args, " "), len(out[field]), field, len(seen), want)
		}
	}
	count(1+versions, "revisions", "env", "version", "history", "acme/app/big", "--output", "json")
	count(1+tags, "tags", "env", "version", "tag", "ls", "acme/app/big", "--output", "json")
	count(tags, "tags", "env", "tag", "ls", "acme/app/big", "--output", "json")
	count(1+importers, "environments", "env", "ls", "--output", "json")
	count(1+importers, "environments", "env", "ls", "-o", "acme", "--output", "json")

	var refs struct {
		Referrers map[string][]any `json:"referrers"`
	}
	if err := json.Unmarshal(run("env", "referrer", "list", "acme/app/big", "--all", "--output", "json"), &refs); err != nil {
		t.Fatal(err)
	}
	if n := len(refs.Referrers[fmt.Sprint(1+versions)]); n != importers {
		t.Errorf("referrer list --all: %d referrers of the current version, want %d", n, importers)
	}
}

// rawCaller sends a request with a raw body (JSON when it starts with {,
// YAML otherwise) as token, failing the test unless it succeeds.
func rawCaller(t testing.TB, backend, token string) func(method, path, body string) {
	return func(method, path, body string) {
		t.Helper()
		req, _ := http.NewRequest(method, backend+path, strings.NewReader(body))
		req.Header.Set("Authorization", "token "+token)
		if strings.HasPrefix(body, "{") {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
	}
}
