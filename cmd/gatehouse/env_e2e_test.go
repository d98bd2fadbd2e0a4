package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPulumiEnv drives the real `pulumi env` CLI through the environment
// commands, then a YAML stack whose configuration comes from an
// environment that imports another. It needs pulumi on PATH (see
// TestPulumiCLI).
func TestPulumiEnv(t *testing.T) {
	pulumi := pulumiCLI(t)
	m, admin := startMain(t, filepath.Join(t.TempDir(), "g.db"), nil)
	backend := "http://" + m.Addr
	dir := t.TempDir()
	run := func(env []string, args ...string) (string, error) {
		cmd := exec.Command(pulumi, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PULUMI_HOME="+filepath.Join(dir, ".home"), "PULUMI_ACCESS_TOKEN="+admin,
			"PULUMI_SKIP_UPDATE_CHECK=true", "PULUMI_BACKEND_URL="+backend, "NO_COLOR=1", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true")
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	must := func(want string, args ...string) string {
		t.Helper()
		out, err := run(nil, args...)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("pulumi %s: %v\n%s\nwant %q", strings.Join(args, " "), err, out, want)
		}
		return out
	}
	must("Logged in", "login", backend)

	must("Environment created", "env", "init", "acme/app/base")
	must("", "env", "set", "acme/app/base", "region", "us-west-2")
	must("", "env", "set", "--secret", "acme/app/base", "password", "hunter2")
	out := must("region", "env", "get", "acme/app/base")
	if strings.Contains(out, "hunter2") {
		t.Errorf("env get shows the secret:\n%s", out)
	}
	must("hunter2", "env", "get", "--show-secrets", "acme/app/base")

	// init -f: created and saved, exit 0.
	def := filepath.Join(dir, "app.yaml")
	os.WriteFile(def, []byte("imports:\n  - app/base\nvalues:\n  url: https://${region}.example.com\n  pulumiConfig:\n    greeting: hello from ${region}\n  environmentVariables:\n    REGION: ${region}\n"), 0o600)
	must("Environment created", "env", "init", "acme/app/web", "-f", def)
	must("https://us-west-2.example.com", "env", "open", "acme/app/web")
	must("hunter2", "env", "open", "acme/app/web", "password")
	must(`REGION="us-west-2"`, "env", "open", "acme/app/web", "--format", "dotenv")
	must(`export REGION="us-west-2"`, "env", "open", "acme/app/web", "--format", "shell")
	must(`"url": "https://us-west-2.example.com"`, "env", "open", "acme/app/web", "--format", "json")
	if out := must("https://us-west-2.example.com", "env", "open", "acme/app/web", "url", "--format", "string"); strings.Contains(out, `"`) {
		t.Errorf("env open --format string quotes the value:\n%s", out)
	}
	must("us-west-2", "env", "run", "acme/app/web", "--", "sh", "-c", "echo $REGION")

	// edit with EDITOR a script that appends a value.
	editor := filepath.Join(dir, "editor.sh")
	os.WriteFile(editor, []byte("#!/bin/sh\nsed -i 's/^values:$/values:\\n  extra: added/' \"$1\"\n"), 0o700)
	if out, err := run([]string{"EDITOR=" + editor}, "env", "edit", "acme/app/web"); err != nil {
		t.Fatalf("env edit: %v\n%s", err, out)
	}
	must("added", "env", "open", "acme/app/web", "extra")
	// Version 2 has no extra; open at it, diff against it.
	if out, _ := run(nil, "env", "open", "acme/app/web@2"); strings.Contains(out, "added") || !strings.Contains(out, "example.com") {
		t.Errorf("env open @2:\n%s", out)
	}
	must("extra", "env", "diff", "acme/app/web@2", "@latest")

	out = must("revision 3 (tag: latest)", "env", "version", "history", "acme/app/web")
	if !strings.Contains(out, "revision 1") {
		t.Errorf("history misses revision 1:\n%s", out)
	}
	must("latest", "env", "version", "tag", "ls", "acme/app/web")
	// rollback to version 2 makes version 4 without extra.
	must("", "env", "version", "rollback", "acme/app/web@2")
	if out, _ := run(nil, "env", "open", "acme/app/web"); strings.Contains(out, "added") {
		t.Errorf("after rollback:\n%s", out)
	}
	must("revision 4 (tag: latest)", "env", "version", "history", "acme/app/web")
	// Version tags: created at 3 (which has extra), opened by name, moved.
	must("", "env", "version", "tag", "acme/app/web@stable", "@3")
	must("added", "env", "open", "acme/app/web@stable", "extra")
	must("", "env", "version", "tag", "acme/app/web@canary", "@3")
	out = must("stable", "env", "version", "tag", "ls", "acme/app/web")
	if !strings.Contains(out, "canary") || !strings.Contains(out, "latest") {
		t.Errorf("version tag ls:\n%s", out)
	}
	must("", "env", "version", "tag", "acme/app/web@canary", "@2")
	if out, _ := run(nil, "env", "open", "acme/app/web@canary"); strings.Contains(out, "added") || !strings.Contains(out, "example.com") {
		t.Errorf("env open @canary after moving it to 2:\n%s", out)
	}
	must("", "env", "version", "tag", "rm", "acme/app/web@canary")
	if out := must("stable", "env", "version", "tag", "ls", "acme/app/web"); strings.Contains(out, "canary") {
		t.Errorf("version tag ls after rm:\n%s", out)
	}
	// Retract 3: stable moves to 2, opening 3 opens 2, history says so.
	must("", "env", "version", "retract", "acme/app/web@3", "--reason", "leaked a value")
	out = must("(retracted)", "env", "version", "history", "acme/app/web")
	if !strings.Contains(out, "replaced with revision 2") || !strings.Contains(out, "leaked a value") {
		t.Errorf("history after retract:\n%s", out)
	}
	if out, _ := run(nil, "env", "open", "acme/app/web@3"); strings.Contains(out, "added") || !strings.Contains(out, "example.com") {
		t.Errorf("env open @3 after retracting it:\n%s", out)
	}
	if out, _ := run(nil, "env", "open", "acme/app/web@stable"); strings.Contains(out, "added") {
		t.Errorf("env open @stable after retracting 3:\n%s", out)
	}
	if out, err := run(nil, "env", "version", "retract", "acme/app/web@4"); err == nil || !strings.Contains(out, "latest") {
		t.Errorf("retracting the latest version: %v\n%s", err, out)
	}
	must("", "env", "tag", "acme/app/web", "team", "core")
	must("core", "env", "tag", "ls", "acme/app/web")
	must("cloned into acme/app/web2", "env", "clone", "acme/app/web", "web2", "--preserve-history", "--preserve-rev-tags", "--preserve-env-tags", "--preserve-access")
	must("revision 4 (tag: latest)", "env", "version", "history", "acme/app/web2")
	must("hunter2", "env", "open", "acme/app/web2", "password")
	must("core", "env", "tag", "ls", "acme/app/web2")
	must("stable", "env", "version", "tag", "ls", "acme/app/web2")
	if out := must("(retracted)", "env", "version", "history", "acme/app/web2"); !strings.Contains(out, "leaked a value") {
		t.Errorf("the clone's history lost the retraction:\n%s", out)
	}
	must("cloned into acme/app/web3", "env", "clone", "acme/app/web", "web3")
	if out := must("latest", "env", "version", "tag", "ls", "acme/app/web3"); strings.Contains(out, "stable") {
		t.Errorf("a clone without --preserve-rev-tags has the version tags:\n%s", out)
	}
	out = must("acme/app/web", "env", "ls")
	if !strings.Contains(out, "acme/app/base") {
		t.Errorf("env ls:\n%s", out)
	}
	must("acme/app/base", "env", "ls", "-o", "acme")

	// A YAML stack whose configuration comes from app/web (which imports
	// app/base).
	project := filepath.Join(dir, "stack")
	os.MkdirAll(project, 0o700)
	os.WriteFile(filepath.Join(project, "Pulumi.yaml"), []byte(pulumiProgram), 0o600)
	stack := func(want string, args ...string) string {
		t.Helper()
		cmd := exec.Command(pulumi, args...)
		cmd.Dir = project
		cmd.Env = append(os.Environ(), "PULUMI_HOME="+filepath.Join(dir, ".home"), "PULUMI_ACCESS_TOKEN="+admin,
			"PULUMI_SKIP_UPDATE_CHECK=true", "PULUMI_BACKEND_URL="+backend, "NO_COLOR=1", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true",
			"PULUMI_CONFIG_PASSPHRASE=")
		b, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(b), want) {
			t.Fatalf("pulumi %s: %v\n%s\nwant %q", strings.Join(args, " "), err, b, want)
		}
		return string(b)
	}
	stack("Created stack", "stack", "init", "acme/envstack")
	stack("", "config", "env", "add", "app/web", "--yes", "-s", "acme/envstack")
	stack("app/web", "config", "env", "ls", "-s", "acme/envstack")
	stack("hello from us-west-2", "config", "-s", "acme/envstack")
	stack("hello from us-west-2", "preview", "-s", "acme/envstack")
	stack("hello from us-west-2", "up", "--yes", "-s", "acme/envstack")
	// The stack's update said it imports app/web: a referrer.
	must("app/envstack@", "env", "referrer", "list", "acme/app/web")
	// fn::open::pulumi-stacks reads the stack's outputs.
	outs := filepath.Join(dir, "outs.yaml")
	os.WriteFile(outs, []byte("values:\n  s:\n    fn::open::pulumi-stacks:\n      stacks:\n        web: {stack: app/envstack}\n"), 0o600)
	must("Environment created", "env", "init", "acme/app/outs", "-f", outs)
	must("hello from us-west-2", "env", "open", "acme/app/outs", "s.web.hello")
	stack("", "config", "env", "rm", "app/web", "--yes", "-s", "acme/envstack")

	// app/web imports app/base: its referrer.
	must("app/web", "env", "referrer", "list", "acme/app/base")
	// Deletion protection refuses env rm until it is turned off.
	must("", "env", "settings", "set", "acme/app/web", "deletion-protected", "true")
	must("true", "env", "settings", "get", "acme/app/web")
	if out, err := run(nil, "env", "rm", "acme/app/web", "--yes"); err == nil || !strings.Contains(out, "deletion protection is enabled") {
		t.Errorf("env rm of a protected environment: %v\n%s", err, out)
	}
	must("", "env", "settings", "set", "acme/app/web", "deletion-protected", "false")
	must("", "env", "rm", "acme/app/web", "--yes")
	if out, err := run(nil, "env", "get", "acme/app/web"); err == nil {
		t.Errorf("env get after rm:\n%s", out)
	}
}
