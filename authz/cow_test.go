package authz

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestCowMapAndStackList: random writes to maps and lists derived from
// one another match plain maps and sorted slices, and never change the
// map or list they were derived from (which a delta's previous state
// still serves).
func TestCowMapAndStackList(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m, want := newCowMap[int](), map[string]int{}
	l, wantList := &stackList{}, []string{}
	type frozen struct {
		m    *cowMap[int]
		want map[string]int
		l    *stackList
		list []string
	}
	var past []frozen
	for gen := 0; gen < 40; gen++ {
		m, l = m.derive(), l.derive()
		for i := 0; i < 200; i++ {
			k := fmt.Sprintf("k%04d", rng.IntN(3000))
			if rng.IntN(4) == 0 {
				m.Delete(k)
				delete(want, k)
				l.remove(k)
				if j, ok := slices.BinarySearch(wantList, k); ok {
					wantList = slices.Delete(wantList, j, j+1)
				}
				continue
			}
			m.Set(k, i)
			want[k] = i
			l.put(StackRef{ID: k, Name: fmt.Sprint(i)})
			if j, ok := slices.BinarySearch(wantList, k); !ok {
				wantList = slices.Insert(wantList, j, k)
			}
		}
		past = append(past, frozen{m, maps.Clone(want), l, slices.Clone(wantList)})
	}
	for gen, f := range past {
		got := maps.Collect(f.m.All())
		if !maps.Equal(got, f.want) || f.m.Len() != len(f.want) {
			t.Fatalf("generation %d: the map holds %d entries (Len %d), want %d", gen, len(got), f.m.Len(), len(f.want))
		}
		var ids []string
		for r := range f.l.After("") {
			ids = append(ids, r.ID)
		}
		if !slices.Equal(ids, f.list) || f.l.Len() != len(f.list) {
			t.Fatalf("generation %d: the list holds %d stacks (Len %d), want %d", gen, len(ids), f.l.Len(), len(f.list))
		}
		for _, c := range f.l.chunks {
			if len(c) == 0 || len(c) > stackChunk {
				t.Fatalf("generation %d: a chunk of %d stacks", gen, len(c))
			}
		}
		// After starts past a cursor, listed or not.
		for _, after := range []string{"", "k1500", "k15000", "zz"} {
			var got []string
			for r := range f.l.After(after) {
				got = append(got, r.ID)
			}
			i, ok := slices.BinarySearch(f.list, after)
			if ok {
				i++
			}
			if !slices.Equal(got, f.list[i:]) {
				t.Fatalf("generation %d: after %q lists %d stacks, want %d", gen, after, len(got), len(f.list)-i)
			}
		}
	}
	if len(l.chunks) < 2 || !strings.HasPrefix(wantList[0], "k") {
		t.Fatalf("the list never split (%d chunks)", len(l.chunks))
	}
}
