package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/service"
	"github.com/gatehouse-iam/gatehouse/store/storetest"
)

// TestQuotaAcrossReplicas: stacks created at once through two replicas on
// one PostgreSQL database never pass the organization's quota, whether a
// replica counts from its snapshot (when it is current at the locked
// organization's revision) or from the store.
func TestQuotaAcrossReplicas(t *testing.T) {
	database := storetest.PostgresSchema(t)
	keyFile := filepath.Join(t.TempDir(), "master.key")
	if code, _, stderr := run(t, "admin", "master-key", keyFile); code != 0 {
		t.Fatalf("admin master-key: %d %s", code, stderr)
	}
	withKey := func(c *Config) { c.MasterKeyFile = keyFile }
	a, token := startMain(t, database, withKey)
	b, _ := startMain(t, database, withKey)
	ctx := context.Background()
	org, err := a.az.Org(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	const limit, racers = 5, 24
	if err := a.Service.UpdateSettings(ctx, org.ID, service.SettingsUpdate{Quotas: &gatehouse.Quotas{Stacks: limit}}); err != nil {
		t.Fatal(err)
	}
	// One stack first, so that each replica's snapshot may be current.
	if s, body := httpCall(t, b, token, "POST", "/api/stacks/acme/app", map[string]any{"stackName": "first"}); s != 200 {
		t.Fatalf("create stack: %d %s", s, body)
	}
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := a
			if i%2 == 1 {
				m = b
			}
			s, _ := httpCall(t, m, token, "POST", "/api/stacks/acme/app", map[string]any{"stackName": fmt.Sprintf("s%d", i)})
			mu.Lock()
			statuses[s]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if statuses[200] != limit-1 || statuses[409] != racers-(limit-1) {
		t.Errorf("statuses %v: want %d created and %d refused", statuses, limit-1, racers-(limit-1))
	}
	// And one at a time afterwards (the snapshot's count, current again).
	if s, body := httpCall(t, a, token, "POST", "/api/stacks/acme/app", map[string]any{"stackName": "late"}); s != 409 {
		t.Errorf("a create past the quota: %d %s", s, body)
	}
}
