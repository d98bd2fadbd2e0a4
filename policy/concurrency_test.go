package policy

import (
	"sync"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
)

// TestConcurrentDecide decides from many goroutines on shared compiled
// grants, as every request of a server does; run it with -race.
func TestConcurrentDecide(t *testing.T) {
	t.Parallel()
	g := newGen(42, 42)
	lookup := MapLookup(g.library()...)
	roles := []Node{g.node(), g.node(), g.node()}
	var compiled []*Compiled
	for _, r := range roles {
		compiled = append(compiled, Compile(r, lookup))
	}
	grants := Union(compiled...)
	var entities []*gatehouse.Entity
	for i := 0; i < 64; i++ {
		entities = append(entities, g.entity())
	}
	want := make([]bool, len(entities))
	sc := mustScope("stack:read")
	for i, e := range entities {
		want[i] = grants.Decide(sc, e)
	}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; round < 200; round++ {
				for i, e := range entities {
					if grants.Decide(sc, e) != want[i] {
						t.Errorf("decision %d changed under concurrency", i)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}
