package oidc

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse-iam/gatehouse"
)

// fakeIssuer is an OIDC issuer over TLS whose keys rotate on demand and
// whose discovery document can lie about its issuer.
type fakeIssuer struct {
	url     string
	mu      sync.Mutex
	keys    map[string]*rsa.PrivateKey
	current string
	fetches int
	claimed string // the issuer the discovery document names; "" means url
	down    bool   // the key set answers 503
}

func newFakeIssuer(t *testing.T) *fakeIssuer {
	t.Helper()
	fi := &fakeIssuer{keys: map[string]*rsa.PrivateKey{}}
	fi.rotate(t)
	srv := issuerServer(t, func(w http.ResponseWriter, r *http.Request) {
		fi.mu.Lock()
		defer fi.mu.Unlock()
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			claimed := fi.claimed
			if claimed == "" {
				claimed = fi.url
			}
			json.NewEncoder(w).Encode(map[string]string{"issuer": claimed, "jwks_uri": fi.url + "/keys"})
		case "/keys":
			fi.fetches++
			if fi.down {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
			var ks jose.JSONWebKeySet
			for kid, k := range fi.keys {
				ks.Keys = append(ks.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"})
			}
			w.Header().Set("Cache-Control", "max-age=3600")
			json.NewEncoder(w).Encode(ks)
		default:
			http.NotFound(w, r)
		}
	})
	fi.url = srv.URL
	return fi
}

func (fi *fakeIssuer) rotate(t *testing.T) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	fi.mu.Lock()
	defer fi.mu.Unlock()
	kid := fmt.Sprintf("key-%d", len(fi.keys)+1)
	fi.keys[kid], fi.current = k, kid
}

func (fi *fakeIssuer) fetchCount() int {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	return fi.fetches
}

// sign signs a token valid around now with key (the current one when nil)
// under kid.
func (fi *fakeIssuer) sign(t *testing.T, now time.Time, kid string, key *rsa.PrivateKey) string {
	t.Helper()
	fi.mu.Lock()
	if key == nil {
		kid, key = fi.current, fi.keys[fi.current]
	}
	fi.mu.Unlock()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(map[string]any{"iss": fi.url, "aud": "acme", "sub": "ci",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// clock is a fake clock the test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }
func (fi *fakeIssuer) registered() *gatehouse.Issuer {
	return &gatehouse.Issuer{ID: "iss-1", Name: "ci", URL: fi.url, Issuer: fi.url}
}

// TestRefetchRateLimitedButRotationHonoured: a flood of tokens with
// unknown key ids costs at most one key-set fetch per interval, and a real
// rotation right after the flood verifies within 10 seconds.
func TestRefetchRateLimitedButRotationHonoured(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fi := newFakeIssuer(t)
	clk := &clock{now: time.Now()}
	v := New(Options{AllowInsecure: true, Now: clk.Now})
	iss := fi.registered()
	if _, err := v.Verify(ctx, iss, fi.sign(t, clk.Now(), "", nil), []string{"acme"}); err != nil {
		t.Fatalf("a valid token: %v", err)
	}
	if n := fi.fetchCount(); n != 1 {
		t.Fatalf("first verification fetched the keys %d times, want 1", n)
	}
	stranger, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	before := fi.fetchCount()
	for i := 0; i < 1000; i++ {
		_, err := v.Verify(ctx, iss, fi.sign(t, clk.Now(), fmt.Sprintf("unknown-%d", i), stranger), []string{"acme"})
		if err == nil || !strings.Contains(err.Error(), "kid") {
			t.Fatalf("unknown kid %d: %v", i, err)
		}
		if i%100 == 99 {
			clk.Add(time.Second) // the flood spans 10 seconds
		}
	}
	if n := fi.fetchCount() - before; n > 2 {
		t.Errorf("1000 unknown-kid tokens over 10 s fetched the key set %d times, want at most 2", n)
	}
	// The issuer rotates right after the flood; a token signed with the new
	// key verifies at the latest 10 seconds later.
	fi.rotate(t)
	fresh := fi.sign(t, clk.Now(), "", nil)
	clk.Add(10 * time.Second)
	if _, err := v.Verify(ctx, iss, fresh, []string{"acme"}); err != nil {
		t.Errorf("a token of the rotated key, 10 s after a flood of unknown kids: %v", err)
	}
	// And the flood resumes without a fetch until the next interval.
	before = fi.fetchCount()
	for i := 0; i < 100; i++ {
		v.Verify(ctx, iss, fi.sign(t, clk.Now(), "again", stranger), []string{"acme"})
	}
	if n := fi.fetchCount() - before; n != 0 {
		t.Errorf("100 unknown kids right after a fetch fetched %d times, want 0", n)
	}
}

// TestDiscoveryIssuerMustMatch: per OpenID Connect Discovery §4.3, the
// discovery document's issuer must be identical to the URL it was fetched
// for, at registration and whenever the keys are fetched again.
func TestDiscoveryIssuerMustMatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fi := newFakeIssuer(t)
	clk := &clock{now: time.Now()}
	v := New(Options{AllowInsecure: true, Now: clk.Now})

	fi.mu.Lock()
	fi.claimed = "https://token.actions.githubusercontent.com"
	fi.mu.Unlock()
	if _, err := v.Discover(ctx, fi.url, nil); err == nil || !strings.Contains(err.Error(), `names issuer "https://token.actions.githubusercontent.com"`) {
		t.Errorf("a discovery document naming another issuer: %v", err)
	}
	fi.mu.Lock()
	fi.claimed = fi.url + "/"
	fi.mu.Unlock()
	if _, err := v.Discover(ctx, fi.url, nil); err == nil {
		t.Errorf("an issuer differing by a trailing slash was accepted")
	}
	fi.mu.Lock()
	fi.claimed = ""
	fi.mu.Unlock()
	d, err := v.Discover(ctx, fi.url, nil)
	if err != nil || d.Issuer != fi.url {
		t.Fatalf("an honest issuer: %+v, %v", d, err)
	}

	// Registered honestly; the discovery document lies later: the next
	// fetch of the keys is refused.
	iss := fi.registered()
	if _, err := v.Verify(ctx, iss, fi.sign(t, clk.Now(), "", nil), []string{"acme"}); err != nil {
		t.Fatalf("a valid token: %v", err)
	}
	fi.mu.Lock()
	fi.claimed = "https://token.actions.githubusercontent.com"
	fi.mu.Unlock()
	clk.Add(2 * time.Hour) // past the key set's max-age
	if _, err := v.Verify(ctx, iss, fi.sign(t, clk.Now(), "", nil), []string{"acme"}); err == nil || !strings.Contains(err.Error(), "names issuer") {
		t.Errorf("keys fetched from a discovery document naming another issuer: %v", err)
	}
	// A registration stored before the check, whose issuer differs from
	// its URL, no longer verifies.
	old := &gatehouse.Issuer{ID: "iss-2", Name: "old", URL: fi.url, Issuer: "https://token.actions.githubusercontent.com"}
	if _, err := v.Verify(ctx, old, fi.sign(t, clk.Now(), "", nil), []string{"acme"}); err == nil || !strings.Contains(err.Error(), "re-register") {
		t.Errorf("a stored issuer whose issuer is not its URL: %v", err)
	}
}

// TestIssuerDownNotHammered: while an issuer's key set fails, tokens do
// not each cost a fetch: one per interval.
func TestIssuerDownNotHammered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fi := newFakeIssuer(t)
	fi.down = true
	clk := &clock{now: time.Now()}
	v := New(Options{AllowInsecure: true, Now: clk.Now})
	iss := fi.registered()
	tok := fi.sign(t, clk.Now(), "", nil)
	for i := 0; i < 200; i++ {
		if _, err := v.Verify(ctx, iss, tok, []string{"acme"}); err == nil || !strings.Contains(err.Error(), "status 503") {
			t.Fatalf("verify %d against a failing issuer: %v", i, err)
		}
	}
	if n := fi.fetchCount(); n != 1 {
		t.Errorf("200 tokens against a failing issuer fetched %d times, want 1", n)
	}
	fi.mu.Lock()
	fi.down = false
	fi.mu.Unlock()
	clk.Add(DefaultRefetchInterval)
	if _, err := v.Verify(ctx, iss, tok, []string{"acme"}); err != nil {
		t.Errorf("the issuer is back: %v", err)
	}
}
