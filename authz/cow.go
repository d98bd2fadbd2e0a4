package authz

import (
	"hash/maphash"
	"iter"
	"maps"
	"slices"
	"strings"
)

// cowShards is how many shards a cowMap splits into: at 100,000 stacks a
// shard holds about 400, which is what a write copies.
const cowShards = 256

var cowSeed = maphash.MakeSeed()

// cowMap is a string-keyed map that a state derived by a delta shares
// with the state before it: derive copies the shard table (256 pointers),
// and the first write to a shard copies that shard only, so that a write
// costs its shard, not the whole map. A state's maps are written only
// while the state is being built or derived (one goroutine), then only
// read.
type cowMap[V any] struct {
	shards [cowShards]map[string]V
	owned  [cowShards / 64]uint64 // the shards this map copied or made
	n      int
}

func newCowMap[V any]() *cowMap[V] { return &cowMap[V]{} }

func shardOf(k string) int { return int(maphash.String(cowSeed, k) % cowShards) }

// derive returns a map sharing m's shards until written.
func (m *cowMap[V]) derive() *cowMap[V] {
	return &cowMap[V]{shards: m.shards, n: m.n}
}

func (m *cowMap[V]) Get(k string) (V, bool) {
	v, ok := m.shards[shardOf(k)][k]
	return v, ok
}

// At is Get without the flag: the zero value when k is missing.
func (m *cowMap[V]) At(k string) V {
	return m.shards[shardOf(k)][k]
}

func (m *cowMap[V]) Len() int { return m.n }

// shard returns shard i for writing, copying it first if m shares it.
func (m *cowMap[V]) shard(i int) map[string]V {
	if m.owned[i/64]&(1<<(i%64)) == 0 {
		m.owned[i/64] |= 1 << (i % 64)
		if m.shards[i] == nil {
			m.shards[i] = map[string]V{}
		} else {
			m.shards[i] = maps.Clone(m.shards[i])
		}
	}
	return m.shards[i]
}

func (m *cowMap[V]) Set(k string, v V) {
	s := m.shard(shardOf(k))
	if _, ok := s[k]; !ok {
		m.n++
	}
	s[k] = v
}

func (m *cowMap[V]) Delete(k string) {
	i := shardOf(k)
	if _, ok := m.shards[i][k]; !ok {
		return
	}
	delete(m.shard(i), k)
	m.n--
}

// All iterates over the map in no particular order.
func (m *cowMap[V]) All() iter.Seq2[string, V] {
	return func(yield func(string, V) bool) {
		for _, s := range m.shards {
			for k, v := range s {
				if !yield(k, v) {
					return
				}
			}
		}
	}
}

// Keys iterates over the map's keys in no particular order.
func (m *cowMap[V]) Keys() iter.Seq[string] {
	return func(yield func(string) bool) {
		for k := range m.All() {
			if !yield(k) {
				return
			}
		}
	}
}

// stackChunk is the most stacks one chunk of a stackList holds before it
// splits: what an insert copies.
const stackChunk = 512

// stackList is every stack in id order, in chunks that a derived state
// shares until it writes one: an insert or a delete copies the chunk
// table and one chunk, not the list.
type stackList struct {
	chunks [][]StackRef // each sorted, non-empty, in order
	n      int
}

func cmpRef(r StackRef, id string) int { return strings.Compare(r.ID, id) }

// newStackList makes a list of sorted refs.
func newStackList(refs []StackRef) *stackList {
	l := &stackList{n: len(refs)}
	for len(refs) > 0 {
		n := min(len(refs), stackChunk/2)
		l.chunks = append(l.chunks, slices.Clip(refs[:n]))
		refs = refs[n:]
	}
	return l
}

func (l *stackList) derive() *stackList {
	return &stackList{chunks: slices.Clone(l.chunks), n: l.n}
}

func (l *stackList) Len() int { return l.n }

// find returns the chunk that holds id or would: the first whose last id
// is not below id (the last chunk when none).
func (l *stackList) find(id string) int {
	i, _ := slices.BinarySearchFunc(l.chunks, id, func(c []StackRef, id string) int { return cmpRef(c[len(c)-1], id) })
	return min(i, len(l.chunks)-1)
}

// put inserts ref in id order, or replaces the stack of its id.
func (l *stackList) put(ref StackRef) {
	if len(l.chunks) == 0 {
		l.chunks = [][]StackRef{{ref}}
		l.n = 1
		return
	}
	ci := l.find(ref.ID)
	c := l.chunks[ci]
	j, ok := slices.BinarySearchFunc(c, ref.ID, cmpRef)
	if ok {
		c = slices.Clone(c)
		c[j] = ref
		l.chunks[ci] = c
		return
	}
	l.n++
	c = slices.Insert(slices.Clone(c), j, ref)
	if len(c) <= stackChunk {
		l.chunks[ci] = c
		return
	}
	h := len(c) / 2
	l.chunks = slices.Insert(l.chunks, ci+1, slices.Clip(c[h:]))
	l.chunks[ci] = slices.Clip(c[:h])
}

// remove drops the stack of id, if listed.
func (l *stackList) remove(id string) {
	if len(l.chunks) == 0 {
		return
	}
	ci := l.find(id)
	j, ok := slices.BinarySearchFunc(l.chunks[ci], id, cmpRef)
	if !ok {
		return
	}
	l.n--
	c := slices.Delete(slices.Clone(l.chunks[ci]), j, j+1)
	if len(c) == 0 {
		l.chunks = slices.Delete(l.chunks, ci, ci+1)
	} else {
		l.chunks[ci] = c
	}
}

// After iterates, in id order, over the stacks whose id is above after.
func (l *stackList) After(after string) iter.Seq[*StackRef] {
	return func(yield func(*StackRef) bool) {
		if len(l.chunks) == 0 {
			return
		}
		ci := l.find(after)
		j, ok := slices.BinarySearchFunc(l.chunks[ci], after, cmpRef)
		if ok {
			j++
		}
		for ; ci < len(l.chunks); ci, j = ci+1, 0 {
			c := l.chunks[ci]
			for ; j < len(c); j++ {
				if !yield(&c[j]) {
					return
				}
			}
		}
	}
}
