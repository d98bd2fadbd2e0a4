package service

import "testing"

// The cache of evaluations holds at most max bytes of definitions: an
// entry over it is not kept, and one that would pass it starts the cache
// again empty.
func TestEvalCacheBound(t *testing.T) {
	c := &evalCache{max: 100}
	a, b, big := newEvalKey("o", "", "a", []byte("a")), newEvalKey("o", "", "b", []byte("b")), newEvalKey("o", "", "big", nil)
	c.put(a, &evalEntry{size: 60})
	c.put(a, &evalEntry{size: 60}) // the same key again: counted once
	if c.get(a) == nil || c.bytes != 60 {
		t.Fatalf("after a: %d bytes", c.bytes)
	}
	c.put(b, &evalEntry{size: 60})
	if c.get(a) != nil || c.get(b) == nil || c.bytes != 60 {
		t.Errorf("past the bound: a kept %v, %d bytes", c.get(a) != nil, c.bytes)
	}
	c.put(big, &evalEntry{size: 101})
	if c.get(big) != nil || c.get(b) == nil {
		t.Error("an entry over the bound was kept, or emptied the cache")
	}
}
