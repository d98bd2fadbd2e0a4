package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readmeBlock is one ```sh block of README.md, with the line its first
// command is on.
type readmeBlock struct {
	line int
	text string
}

// readmeBlocks extracts README.md's ```sh blocks in order. Blocks fenced
// otherwise (```text, ```console, ```yaml...) are examples and settings
// that do not run.
func readmeBlocks(t *testing.T, path string) []readmeBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []readmeBlock
	var cur *readmeBlock
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```sh":
			cur = &readmeBlock{line: n + 1}
		case cur != nil && strings.TrimSpace(line) == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("README.md: the ```sh block at line %d is never closed", cur.line-1)
	}
	return blocks
}

// readmeMarker starts each block's output in the script's.
const readmeMarker = "@@readme-block "

// TestREADME runs every ```sh block of README.md, in order, as one bash
// session (so that variables, the working directory and the server the
// README starts in the background carry over, as in a reader's terminal),
// in an empty directory with the gatehouse binary built from this tree and
// the real pulumi CLI on PATH, and fails with the block and its output
// when one fails. The server listens where GATEHOUSE_LISTEN says, on a
// free port, and GATEHOUSE_URL points there. It needs the real pulumi CLI:
// set GATEHOUSE_E2E_PULUMI=1, with pulumi on PATH.
func TestREADME(t *testing.T) {
	if os.Getenv("GATEHOUSE_E2E_PULUMI") == "" {
		t.Skip("set GATEHOUSE_E2E_PULUMI=1, with the pulumi CLI on PATH, to run the README's shell blocks")
	}
	pulumi := pulumiCLI(t)
	blocks := readmeBlocks(t, filepath.Join("..", "..", "README.md"))
	if len(blocks) == 0 {
		t.Fatal("README.md has no ```sh block")
	}

	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "gatehouse"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	work, home := t.TempDir(), t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	for i, b := range blocks {
		fmt.Fprintf(&script, "echo '%s%d'\n%s", readmeMarker, i, b.text)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir = work
	cmd.Env = readmeEnv(home, bin, filepath.Dir(pulumi), addr)
	// The README starts servers in the background: they are in the
	// session's process group, which is ended with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Output to a file, not a pipe: a server left in the background keeps
	// its end of a pipe open, and Wait would wait for it.
	out, err := os.Create(filepath.Join(t.TempDir(), "output"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	runErr := cmd.Wait()
	syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	output, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}

	ran, lastOut := lastBlock(string(output))
	if runErr != nil {
		b := blocks[ran]
		t.Fatalf("README.md: the ```sh block at line %d failed (%v):\n%s\noutput:\n%s", b.line, runErr, b.text, lastOut)
	}
	if ran != len(blocks)-1 {
		t.Fatalf("README.md: the session ended after block %d of %d", ran+1, len(blocks))
	}
	t.Logf("ran %d blocks of README.md", len(blocks))
}

// lastBlock is the index of the last block the session's output reached,
// and what that block printed.
func lastBlock(out string) (int, string) {
	i := strings.LastIndex(out, readmeMarker)
	if i < 0 {
		return 0, out
	}
	rest := out[i+len(readmeMarker):]
	n := 0
	for len(rest) > 0 && rest[0] >= '0' && rest[0] <= '9' {
		n = n*10 + int(rest[0]-'0')
		rest = rest[1:]
	}
	return n, strings.TrimPrefix(rest, "\n")
}

// readmeEnv is a reader's environment: a home of its own (so ~/.config
// and ~/.pulumi are fresh), gatehouse and pulumi on PATH, and none of the
// GATEHOUSE_ settings of the process running the tests, but where the
// server listens.
func readmeEnv(home, bin, pulumiDir, addr string) []string {
	env := []string{"HOME=" + home, "PATH=" + bin + string(os.PathListSeparator) + pulumiDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"GATEHOUSE_LISTEN=" + addr, "GATEHOUSE_URL=http://" + addr,
		// The pulumi CLI offline: no update check, no plugin downloads.
		"PULUMI_SKIP_UPDATE_CHECK=true", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true", "NO_COLOR=1", "TERM=dumb",
		// A reader's editor, for `pulumi env edit`: one that keeps the file.
		"EDITOR=true"}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "HOME" || k == "PATH" || k == "TERM" || k == "EDITOR" || k == "VISUAL" || strings.HasPrefix(k, "GATEHOUSE_") || strings.HasPrefix(k, "PULUMI_") || strings.HasPrefix(k, "XDG_"):
		default:
			env = append(env, kv)
		}
	}
	return env
}
