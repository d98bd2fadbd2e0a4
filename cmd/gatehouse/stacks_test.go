package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// TestStackTag selects stacks by project, tag and name pattern, shows in
// a dry run which would change and whose access would move, then retags
// them in batches of one and removes the tag again.
func TestStackTag(t *testing.T) {
	m, admin := startMain(t, filepath.Join(t.TempDir(), "g.db"), nil)
	base := "http://" + m.Addr
	t.Setenv("GATEHOUSE_CONFIG_DIR", t.TempDir())
	t.Setenv("GATEHOUSE_URL", base)
	t.Setenv("GATEHOUSE_TOKEN", admin)
	t.Setenv("GATEHOUSE_ORG", "acme")
	post := func(path string, body any, out any) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "token "+admin)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("POST %s: %d", path, resp.StatusCode)
		}
		if out != nil {
			json.NewDecoder(resp.Body).Decode(out)
		}
	}
	for _, s := range []struct{ project, name, env string }{{"app", "dev-1", "dev"}, {"app", "dev-2", "dev"}, {"app", "prod-1", "prod"}, {"app", "qa-1", "dev"}, {"other", "dev-1", "dev"}} {
		post("/api/stacks/acme/"+s.project, wire.CreateStackRequest{StackName: s.name, Tags: map[string]string{"env": s.env}}, nil)
	}
	var role struct{ ID string }
	post("/api/orgs/acme/roles", map[string]any{"name": "staging-deployer", "uxPurpose": "role", "details": map[string]any{
		"__type": "PermissionDescriptorCondition",
		"condition": map[string]any{"__type": "PermissionExpressionEqual",
			"left":  map[string]any{"__type": "PermissionExpressionTag", "context": map[string]any{"__type": "PermissionExpressionStack"}, "key": "env"},
			"right": map[string]any{"__type": "PermissionLiteralExpressionString", "value": "staging"}},
		"subNode": map[string]any{"__type": "PermissionDescriptorAllow", "permissions": []string{"stack:read", "stack:write"}}}}, &role)
	post("/api/orgs/acme/tokens", map[string]any{"name": "staging-ci", "description": "ci", "expires": 0, "roleID": role.ID}, nil)

	cmd := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := run(t, append([]string{"stack", "tag"}, args...)...)
		if code != exitOK {
			t.Fatalf("gatehouse stack tag %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
		}
		return stdout
	}
	var dry stackTagResult
	json.Unmarshal([]byte(cmd("--project", "app", "--tag", "env=dev", "--name", "dev-*", "--set", "env=staging", "--dry-run", "-o", "json")), &dry)
	if !dry.DryRun || dry.Selected != 2 || len(dry.Changes) != 2 || dry.Changes[0].Entity.Name != "app/dev-1" || dry.Changes[1].Entity.Name != "app/dev-2" {
		t.Fatalf("dry run %+v; want app/dev-1 and app/dev-2", dry)
	}
	gains := 0
	for _, a := range dry.Access {
		if a.Principal.Kind == "token" && a.Principal.Name == "staging-ci" && strings.Join(a.Gained, ",") == "stack:read,stack:write" {
			gains++
		}
	}
	if gains != 2 {
		t.Errorf("access %+v; want staging-ci to gain stack:read and stack:write on both", dry.Access)
	}
	if out := cmd("--project", "app", "--tag", "env=dev", "--name", "dev-*", "--set", "env=staging", "--dry-run"); !strings.Contains(out, "2 stacks selected, 2 would change") || !strings.Contains(out, "token staging-ci") {
		t.Errorf("dry run table:\n%s", out)
	}
	if out := cmd("--project", "app", "--tag", "env", "--name", "dev-*", "--set", "env=dev"); !strings.Contains(out, "2 stacks selected, 0 changed") {
		t.Errorf("a retag to the same value:\n%s", out)
	}
	if out := cmd("--project", "app", "--tag", "env=dev", "--name", "dev-*", "--set", "env=staging", "--batch-size", "1"); !strings.Contains(out, "2 stacks selected, 2 changed") {
		t.Errorf("retag:\n%s", out)
	}
	var after stackTagResult
	json.Unmarshal([]byte(cmd("--tag", "env=staging", "--remove", "env", "--dry-run", "-o", "json")), &after)
	if after.Selected != 2 {
		t.Errorf("stacks tagged env=staging after the retag: %+v; want the two", after)
	}
	var two stackTagResult
	json.Unmarshal([]byte(cmd("--tag", "env=dev", "--tag", "pulumi:project=app", "--set", "x=y", "--dry-run", "-o", "json")), &two)
	if two.Selected != 1 || two.Changes[0].Entity.Name != "app/qa-1" {
		t.Errorf("two tag filters: %+v; want app/qa-1 alone", two)
	}
	if code, _, stderr := run(t, "stack", "tag", "--set", "bad"); code != exitError || !strings.Contains(stderr, `"bad" is not key=value`) {
		t.Errorf("a bad --set: exit %d %s", code, stderr)
	}
	if code, _, stderr := run(t, "stack", "tag", "--set", "a=b", "--batch-size", "1001"); code != exitError || !strings.Contains(stderr, "--batch-size") {
		t.Errorf("a batch over 1000: exit %d %s", code, stderr)
	}
}
