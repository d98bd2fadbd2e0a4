package api_test

import (
	"testing"
)

// BenchmarkExchange exchanges RS256 GitHub-shaped ID tokens for
// organization tokens over HTTP on loopback: verification, policy, issuing
// (the token written and audited in one transaction) and the snapshot
// update included.
func BenchmarkExchange(b *testing.B) {
	e, tokens := exchangeFixture(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if status, res := e.exchange(tokens[i%len(tokens)], "organization", "", true, nil); status != 200 {
			b.Fatalf("exchange: %d %+v", status, res)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "exchanges/s")
}

// BenchmarkExchangeParallel runs exchanges from several clients at once.
// The clients share the process's cores with the server: the server's own
// rate per core is measured by bench/load.sh.
func BenchmarkExchangeParallel(b *testing.B) {
	e, tokens := exchangeFixture(b)
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if status, res := e.exchange(tokens[i%len(tokens)], "organization", "", true, nil); status != 200 {
				b.Errorf("exchange: %d %+v", status, res)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "exchanges/s")
}

// exchangeFixture registers an issuer whose policy allows organization
// tokens for acme's repositories, and signs 64 ID tokens from it.
func exchangeFixture(b *testing.B) (*env, []string) {
	e := newEnv(b)
	ti := newTestIssuer(b)
	_, policyID := e.register(ti, "github")
	e.must(e.admin, "PATCH", "/api/orgs/acme/auth/policies/"+policyID, map[string]any{"policies": []map[string]any{
		{"decision": "allow", "tokenType": "organization", "rules": map[string]string{"sub": "repo:acme/*"}}}}, 200, nil)
	tokens := make([]string, 64)
	for i := range tokens {
		tokens[i] = ti.sign(githubClaims("acme/app", "prod"))
	}
	return e, tokens
}
