package catalog

import "math/bits"

// MaxScopes is the capacity of a Set. The catalog holds fewer scopes; a test
// and the package's init check that it fits.
const MaxScopes = 256

// Set is a set of scopes as a fixed-size bitset. The zero value is empty.
// Sets are values: copy them freely.
type Set [MaxScopes / 64]uint64

// SetOf returns the set holding the given scopes.
func SetOf(scopes ...Scope) Set {
	var s Set
	for _, sc := range scopes {
		s.Add(sc)
	}
	return s
}

// Add adds sc to s.
func (s *Set) Add(sc Scope) { s[sc>>6] |= 1 << (sc & 63) }

// Has reports whether sc is in s.
func (s *Set) Has(sc Scope) bool { return s[sc>>6]&(1<<(sc&63)) != 0 }

// Union adds every scope of o to s.
func (s *Set) Union(o *Set) {
	for i := range s {
		s[i] |= o[i]
	}
}

// Intersect returns the scopes in both s and o.
func (s Set) Intersect(o Set) Set {
	for i := range s {
		s[i] &= o[i]
	}
	return s
}

// Minus returns the scopes of s that are not in o.
func (s Set) Minus(o Set) Set {
	for i := range s {
		s[i] &^= o[i]
	}
	return s
}

// Empty reports whether s holds no scope.
func (s Set) Empty() bool {
	var x uint64
	for _, w := range s {
		x |= w
	}
	return x == 0
}

// Len returns the number of scopes in s.
func (s Set) Len() int {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return n
}

// Scopes returns the scopes of s in catalog order.
func (s Set) Scopes() []Scope {
	out := make([]Scope, 0, s.Len())
	for i, w := range s {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			out = append(out, Scope(i*64+b))
			w &= w - 1
		}
	}
	return out
}

// Names returns the wire names of the scopes of s in catalog order.
func (s Set) Names() []string {
	scopes := s.Scopes()
	out := make([]string, len(scopes))
	for i, sc := range scopes {
		out[i] = sc.Name()
	}
	return out
}
