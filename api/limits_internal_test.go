package api

import (
	"fmt"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestClientAddr(t *testing.T) {
	trusted, err := ParseTrustedProxies("10.0.0.0/8, 192.168.1.7, fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"untrusted peer, no header", "203.0.113.9:5000", nil, "203.0.113.9"},
		{"untrusted peer's header ignored", "203.0.113.9:5000", []string{"198.51.100.1"}, "203.0.113.9"},
		{"trusted peer, no header", "10.1.2.3:5000", nil, "10.1.2.3"},
		{"trusted peer names the client", "10.1.2.3:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"spoofed entries left of the client", "10.1.2.3:5000", []string{"1.1.1.1, 2.2.2.2, 198.51.100.1"}, "198.51.100.1"},
		{"trusted hops skipped", "10.1.2.3:5000", []string{"198.51.100.1, 10.9.9.9, 192.168.1.7"}, "198.51.100.1"},
		{"several headers are one list", "10.1.2.3:5000", []string{"1.1.1.1, 198.51.100.1", "10.9.9.9"}, "198.51.100.1"},
		{"all hops trusted: the leftmost", "10.1.2.3:5000", []string{"10.7.7.7, 10.8.8.8"}, "10.7.7.7"},
		{"garbage ends the walk at its writer", "10.1.2.3:5000", []string{"198.51.100.1, garbage, 10.8.8.8"}, "10.8.8.8"},
		{"garbage from the peer", "10.1.2.3:5000", []string{"unknown"}, "10.1.2.3"},
		{"entries with ports", "10.1.2.3:5000", []string{"198.51.100.1:4711"}, "198.51.100.1"},
		{"IPv6 client", "[fd00::1]:5000", []string{"2001:db8::5"}, "2001:db8::5"},
		{"IPv4-mapped peer", "[::ffff:10.1.2.3]:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"untrusted 192.168.1.8", "192.168.1.8:5000", []string{"198.51.100.1"}, "192.168.1.8"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = c.peer
			for _, h := range c.xff {
				r.Header.Add("X-Forwarded-For", h)
			}
			if got := clientAddr(r, trusted); got != c.want {
				t.Errorf("clientAddr = %q, want %q", got, c.want)
			}
		})
	}
}

func TestParseTrustedProxiesRefusesGarbage(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "proxy.example", "10.0.0.0/8,,nope"} {
		if _, err := ParseTrustedProxies(bad); err == nil {
			t.Errorf("ParseTrustedProxies(%q) accepted it", bad)
		}
	}
	got, err := ParseTrustedProxies(" 10.1.2.3/8 ,::1")
	if err != nil || len(got) != 2 || got[0] != netip.MustParsePrefix("10.0.0.0/8") || got[1] != netip.MustParsePrefix("::1/128") {
		t.Errorf("ParseTrustedProxies = %v, %v", got, err)
	}
}

// TestFailureLimiter: a source gets its limit of failures, then refusals
// that tell it how long to wait; the bucket refills over the window; other
// sources are unaffected; IPv6 addresses of one /64 share a bucket.
func TestFailureLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newFailureLimiter(3, time.Minute)
	l.now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		if wait, _ := l.fail("a", 1); wait != 0 {
			t.Fatalf("failure %d refused", i)
		}
	}
	wait, first := l.fail("a", 1)
	if wait <= 0 || wait > 20*time.Second || !first {
		t.Fatalf("over the limit: wait %v first %v; want up to 20s (one failure's refill), first", wait, first)
	}
	if _, first := l.fail("a", 1); first {
		t.Errorf("second refusal reported as the first")
	}
	if wait, _ := l.fail("b", 1); wait != 0 {
		t.Errorf("another source refused")
	}
	now = now.Add(20 * time.Second) // one failure's worth refilled
	if wait, _ := l.fail("a", 1); wait != 0 {
		t.Errorf("refused after the refill")
	}
	if wait, _ := l.fail("a", 1); wait == 0 {
		t.Errorf("allowed beyond the refill")
	}
	if limitKey("2001:db8:1:2::5") != limitKey("2001:db8:1:2:ffff::9") || limitKey("2001:db8:1:2::5") == limitKey("2001:db8:1:3::5") {
		t.Errorf("IPv6 keys are not per /64: %s %s", limitKey("2001:db8:1:2::5"), limitKey("2001:db8:1:3::5"))
	}
	if limitKey("192.0.2.1") == limitKey("192.0.2.2") {
		t.Errorf("IPv4 addresses share a key")
	}
}

// TestFailureLimiterBounded floods the limiter with more sources than it
// tracks: its size stays at the bound, and the most recent sources are the
// ones kept.
func TestFailureLimiterBounded(t *testing.T) {
	l := newFailureLimiter(1, time.Minute)
	l.max = 100
	for i := 0; i < 1000; i++ {
		l.fail(fmt.Sprint("src", i), 1)
	}
	if n := l.tracked(); n != 100 {
		t.Fatalf("tracked %d sources, want the bound 100", n)
	}
	if wait, _ := l.fail("src999", 1); wait == 0 {
		t.Errorf("the most recent source was forgotten")
	}
}
