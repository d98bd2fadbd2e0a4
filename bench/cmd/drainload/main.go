// Command drainload counts the requests a gatehouse binary loses when it
// gets SIGTERM under load: keep-alive clients send authorization checks
// (a quarter with an unknown token, so that audit events are queued),
// the server is signalled, and every request ends as served, refused (the
// dial failed: the listener had closed, nothing was sent) or lost (sent,
// then EOF or a reset). With -balancer the clients stand behind a
// simulated load balancer that polls /readyz every 100 ms and stops
// sending once it fails; without it they send until they are refused.
//
//	go build -o /tmp/gatehouse ./cmd/gatehouse
//	cd bench && go run ./cmd/drainload -gatehouse /tmp/gatehouse -rounds 10
//
// The drain's delay is passed as GATEHOUSE_SHUTDOWN_DELAY, which a binary
// without the drain ignores, so that the same command measures both.
package main

import (
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
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type counts struct {
	served, refused, lost, inFlight, lostInFlight, other atomic.Int64
}

type round struct {
	base, token string
	client      *http.Client
	balancer    bool
	down        atomic.Bool // the balancer has seen /readyz fail
	signalled   atomic.Bool
	c           counts
}

func main() {
	bin := flag.String("gatehouse", "", "the gatehouse binary")
	rounds := flag.Int("rounds", 10, "rounds, each on a fresh server")
	clients := flag.Int("clients", 24, "concurrent keep-alive clients")
	balancer := flag.Bool("balancer", true, "stop sending once /readyz fails (polled every 100 ms)")
	delay := flag.String("delay", "1s", "the server's --shutdown-delay (GATEHOUSE_SHUTDOWN_DELAY)")
	flag.Parse()
	if *bin == "" {
		log.Fatal("-gatehouse: required")
	}
	var total counts
	for i := 0; i < *rounds; i++ {
		r, exit, err := runRound(*bin, *clients, *balancer, *delay)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("round %2d: %5d served, %3d in flight at the signal of which %2d lost, %3d lost in all, %4d refused, %d other; %s\n",
			i+1, r.c.served.Load(), r.c.inFlight.Load(), r.c.lostInFlight.Load(), r.c.lost.Load(), r.c.refused.Load(), r.c.other.Load(), exit)
		total.served.Add(r.c.served.Load())
		total.inFlight.Add(r.c.inFlight.Load())
		total.lostInFlight.Add(r.c.lostInFlight.Load())
		total.lost.Add(r.c.lost.Load())
		total.refused.Add(r.c.refused.Load())
	}
	fmt.Printf("total: %d served, %d in flight at the signal of which %d lost, %d lost in all, %d refused\n",
		total.served.Load(), total.inFlight.Load(), total.lostInFlight.Load(), total.lost.Load(), total.refused.Load())
}

// runRound starts a server, loads it, signals it and counts.
func runRound(bin string, clients int, balancer bool, delay string) (*round, string, error) {
	dir, err := os.MkdirTemp("", "drainload")
	if err != nil {
		return nil, "", err
	}
	defer os.RemoveAll(dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve", "--database", filepath.Join(dir, "g.db"), "--listen", addr, "--bootstrap-org", "acme",
		"--bootstrap-token-file", filepath.Join(dir, "token"), "--log-level", "warn", "--auth-failure-limit", "1000000000")
	cmd.Env = append(os.Environ(), "GATEHOUSE_SHUTDOWN_DELAY="+delay)
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	r := &round{base: "http://" + addr, balancer: balancer,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * clients}}}
	if err := r.waitReady(dir); err != nil {
		cmd.Process.Kill()
		return nil, "", err
	}
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; r.send(j%4 == 0); j++ {
			}
		}()
	}
	if balancer {
		go r.poll()
	}
	time.Sleep(500 * time.Millisecond)
	r.signalled.Store(true)
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	err = cmd.Wait()
	exit := fmt.Sprintf("exit %v after %v", err, time.Since(start).Round(10*time.Millisecond))
	if err == nil {
		exit = fmt.Sprintf("exit 0 after %v", time.Since(start).Round(10*time.Millisecond))
	}
	r.down.Store(true)
	wg.Wait()
	return r, exit, nil
}

func (r *round) waitReady(dir string) error {
	for i := 0; i < 200; i++ {
		if b, err := os.ReadFile(filepath.Join(dir, "token")); err == nil && len(b) > 0 {
			if resp, err := http.Get(r.base + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					r.token = strings.TrimSpace(string(b))
					return nil
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("the server never became ready")
}

// poll is the load balancer's health check.
func (r *round) poll() {
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for !r.down.Load() {
		resp, err := c.Get(r.base + "/readyz")
		if err != nil || resp.StatusCode != 200 {
			r.down.Store(true)
		}
		if err == nil {
			resp.Body.Close()
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// send sends one check and counts its outcome; it reports whether the
// client goes on.
func (r *round) send(bad bool) bool {
	if r.down.Load() {
		return false
	}
	before := !r.signalled.Load()
	token := r.token
	if bad {
		token = "pul-" + strings.Repeat("0", 40)
	}
	body := `{"checks":[{"token":"` + r.token + `","scope":"audit_logs:read","entity":{"type":"global"}}]}`
	req, _ := http.NewRequest("POST", r.base+"/api/orgs/acme/authz/check", strings.NewReader(body))
	req.Header.Set("Authorization", "token "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.client.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	inFlight := before && r.signalled.Load()
	if inFlight {
		r.c.inFlight.Add(1)
	}
	var op *net.OpError
	switch {
	case err == nil && (resp.StatusCode == 200 || resp.StatusCode == 401):
		r.c.served.Add(1)
	case err == nil:
		r.c.other.Add(1)
	case errors.As(err, &op) && op.Op == "dial":
		r.c.refused.Add(1)
		return false
	default:
		r.c.lost.Add(1)
		if inFlight {
			r.c.lostInFlight.Add(1)
		}
	}
	return true
}
