// Command seed builds the large organization through the HTTP API and
// prints what it costs: stacks/s for the first and the last 1,000 stacks
// created by one client (the goal: the last at least 0.8× the first),
// stacks/s with -clients concurrent clients, and the latency (p50, p99)
// of a role update and of a token create once the organization is full.
//
//	go build -o /tmp/gatehouse ./cmd/gatehouse
//	cd bench && go run ./cmd/seed -gatehouse /tmp/gatehouse
//	cd bench && go run ./cmd/seed -gatehouse /tmp/gatehouse -stacks 10000 -tokens 5000
//
// With -gatehouse it serves a fresh SQLite database in a temporary
// directory (PostgreSQL with -database postgres://...); with -url and
// -token it seeds a running server's -org instead.
//
// Phases, in order: roles (tag rules over the stacks' tags), members
// (the built-in Member role), stacks (the first 1,000 by one client,
// all but the last 1,000 by -clients clients, the last 1,000 by one
// client), tokens (organization tokens bound to the roles, by -clients
// clients), then -samples role updates and token creates, one at a time.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type config struct {
	gatehouse, database, url, token, org    string
	stacks, roles, members, tokens, clients int
	samples                                 int
	pid                                     int // the server -gatehouse started
}

func main() {
	var c config
	flag.StringVar(&c.gatehouse, "gatehouse", "", "gatehouse binary to serve a fresh database with")
	flag.StringVar(&c.database, "database", "", "with -gatehouse: the database (default: SQLite in a temporary directory)")
	flag.StringVar(&c.url, "url", "", "a running server instead of -gatehouse")
	flag.StringVar(&c.token, "token", "", "with -url: an admin token of -org")
	flag.StringVar(&c.org, "org", "acme", "organization to seed")
	flag.IntVar(&c.stacks, "stacks", 100_000, "stacks to create (at least 3,000)")
	flag.IntVar(&c.roles, "roles", 500, "custom roles to create")
	flag.IntVar(&c.members, "members", 5_000, "members to add")
	flag.IntVar(&c.tokens, "tokens", 50_000, "organization tokens to create")
	flag.IntVar(&c.clients, "clients", 8, "concurrent clients for the bulk phases")
	flag.IntVar(&c.samples, "samples", 200, "role updates and token creates timed one at a time")
	flag.Parse()
	if c.stacks < 3000 {
		log.Fatal("-stacks: at least 3,000 (the first and last 1,000 are timed apart)")
	}
	if c.gatehouse != "" {
		stop, err := serve(&c)
		if err != nil {
			log.Fatal(err)
		}
		defer stop()
	}
	if c.url == "" || c.token == "" {
		log.Fatal("give -gatehouse, or -url and -token")
	}
	if err := run(c); err != nil {
		log.Fatal(err)
	}
}

// serve starts the binary on a free loopback port with a fresh database
// and reads the bootstrap admin's token.
func serve(c *config) (func(), error) {
	dir, err := os.MkdirTemp("", "gatehouse-seed")
	if err != nil {
		return nil, err
	}
	db := c.database
	if db == "" {
		db = filepath.Join(dir, "g.db")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	tokenFile := filepath.Join(dir, "token")
	cmd := exec.Command(c.gatehouse, "serve", "--database", db, "--listen", addr, "--bootstrap-org", c.org,
		"--bootstrap-token-file", tokenFile, "--log-level", "warn")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c.pid = cmd.Process.Pid
	stop := func() { cmd.Process.Signal(os.Interrupt); cmd.Wait(); os.RemoveAll(dir) }
	for range 100 {
		if b, err := os.ReadFile(tokenFile); err == nil && len(b) > 0 {
			if resp, err := http.Get("http://" + addr + "/readyz"); err == nil && resp.StatusCode == 200 {
				resp.Body.Close()
				c.url, c.token = "http://"+addr, strings.TrimSpace(string(b))
				return stop, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	return nil, errors.New("the server did not become ready in 10 s")
}

type client struct {
	base, token string
	hc          *http.Client
}

func (cl *client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, cl.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "token "+cl.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := cl.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(data))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// parallel runs fn(i) for i in [from, to) on n clients and returns the
// rate and each call's latency.
func parallel(n, from, to int, fn func(i int) error) (float64, []time.Duration, error) {
	var next atomic.Int64
	next.Store(int64(from))
	lat := make([]time.Duration, to-from)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	start := time.Now()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= to {
					return
				}
				t := time.Now()
				err := fn(i)
				lat[i-from] = time.Since(t)
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					next.Store(int64(to))
					return
				}
			}
		}()
	}
	wg.Wait()
	return float64(to-from) / time.Since(start).Seconds(), lat, first
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// tagRule is a role granting stack:read and stack:write on the stacks
// whose env tag is value, and stack:read on those with the team tag.
func tagRule(value, team string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"__type":"PermissionDescriptorGroup","entries":[
 {"__type":"PermissionDescriptorCondition","condition":{"__type":"PermissionExpressionEqual",
  "left":{"__type":"PermissionExpressionTag","context":{"__type":"PermissionExpressionStack"},"key":"env"},
  "right":{"__type":"PermissionLiteralExpressionString","value":%q}},
  "subNode":{"__type":"PermissionDescriptorAllow","permissions":["stack:read","stack:write"]}},
 {"__type":"PermissionDescriptorCondition","condition":{"__type":"PermissionExpressionHasTag",
  "context":{"__type":"PermissionExpressionStack"},"key":%q},
  "subNode":{"__type":"PermissionDescriptorAllow","permissions":["stack:read"]}}]}`, value, team))
}

func run(c config) error {
	ctx := context.Background()
	cl := &client{base: strings.TrimRight(c.url, "/"), token: c.token,
		hc: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 4 * c.clients}}}
	fmt.Printf("seeding %s/%s: %d stacks, %d roles, %d members, %d tokens, %d clients\n", c.url, c.org, c.stacks, c.roles, c.members, c.tokens, c.clients)

	roles := make([]string, c.roles)
	rate, _, err := parallel(c.clients, 0, c.roles, func(i int) error {
		var out struct{ ID string }
		err := cl.do(ctx, "POST", "/api/orgs/"+c.org+"/roles", map[string]any{"name": fmt.Sprintf("role-%d", i), "uxPurpose": "role",
			"details": tagRule(fmt.Sprintf("e%d", i%20), fmt.Sprintf("team-%d", i%50))}, &out)
		roles[i] = out.ID
		return err
	})
	if err != nil {
		return err
	}
	fmt.Printf("roles:   %d at %.0f/s\n", c.roles, rate)

	rate, _, err = parallel(c.clients, 0, c.members, func(i int) error {
		return cl.do(ctx, "POST", fmt.Sprintf("/api/orgs/%s/members/user-%d", c.org, i), map[string]string{"role": "member"}, nil)
	})
	if err != nil {
		return err
	}
	fmt.Printf("members: %d at %.0f/s\n", c.members, rate)

	stack := func(i int) error {
		return cl.do(ctx, "POST", fmt.Sprintf("/api/stacks/%s/p%d", c.org, i%100), map[string]any{"stackName": fmt.Sprintf("s%d", i),
			"tags": map[string]string{"env": fmt.Sprintf("e%d", i%20), fmt.Sprintf("team-%d", i%50): "yes"}}, nil)
	}
	first, _, err := parallel(1, 0, 1000, stack)
	if err != nil {
		return err
	}
	bulk, _, err := parallel(c.clients, 1000, c.stacks-1000, stack)
	if err != nil {
		return err
	}
	last, _, err := parallel(1, c.stacks-1000, c.stacks, stack)
	if err != nil {
		return err
	}
	fmt.Printf("stacks:  first 1,000 at %.0f/s (one client); %d at %.0f/s (%d clients); last 1,000 at %.0f/s (one client): last/first %.2f\n",
		first, c.stacks-2000, bulk, c.clients, last, last/first)

	token := func(i int) error {
		return cl.do(ctx, "POST", "/api/orgs/"+c.org+"/tokens", map[string]any{"name": fmt.Sprintf("t%d", i), "description": "seed",
			"expires": 0, "roleID": roles[i%len(roles)]}, nil)
	}
	// The timed creates are the last -samples of -tokens, so that the
	// default quota (50,000 organization tokens) holds them all.
	bulkTokens := max(0, c.tokens-c.samples)
	rate, _, err = parallel(c.clients, 0, bulkTokens, token)
	if err != nil {
		return err
	}
	fmt.Printf("tokens:  %d at %.0f/s (%d clients)\n", bulkTokens, rate, c.clients)

	_, tokLat, err := parallel(1, bulkTokens, bulkTokens+c.samples, token)
	if err != nil {
		return err
	}
	_, roleLat, err := parallel(1, 0, c.samples, func(i int) error {
		body := map[string]any{"details": tagRule(fmt.Sprintf("e%d", (i+1)%20), fmt.Sprintf("team-%d", i%50))}
		return cl.do(ctx, "PATCH", "/api/orgs/"+c.org+"/roles/"+roles[i%len(roles)], body, nil)
	})
	if err != nil {
		return err
	}
	fmt.Printf("at %d stacks, %d roles, %d members, %d tokens (one client, %d samples each):\n", c.stacks, c.roles, c.members, bulkTokens+c.samples, c.samples)
	fmt.Printf("  role update:  p50 %s, p99 %s\n", ms(percentile(roleLat, 0.5)), ms(percentile(roleLat, 0.99)))
	fmt.Printf("  token create: p50 %s, p99 %s\n", ms(percentile(tokLat, 0.5)), ms(percentile(tokLat, 0.99)))
	if c.pid != 0 {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.pid)); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(l, "VmRSS:") || strings.HasPrefix(l, "VmHWM:") {
					fmt.Printf("  server %s\n", strings.Join(strings.Fields(l), " "))
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Printf("  load average at the end: %s\n", strings.Join(strings.Fields(string(b))[:3], " "))
	}
	return nil
}
