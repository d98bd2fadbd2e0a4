// Package catalog is Gatehouse's catalog of scopes and its built-in
// permission sets and roles. Both are data embedded in the binary
// (scopes.json, builtins.json), checked when the package loads.
//
// A scope is identified on the wire by its name ("stack:read") and in memory
// by its position in the catalog (a Scope), so that a set of scopes is a
// fixed-size bitset (Set) and checking one is a shift and a mask.
package catalog

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/gatehouse-iam/gatehouse"
)

//go:embed scopes.json
var scopesJSON []byte

//go:embed builtins.json
var builtinsJSON []byte

// Scope is the position of a scope in the catalog. It is stable for one
// build of Gatehouse only: store and send scope names, never Scope values.
type Scope uint16

// Info describes one scope.
type Info struct {
	// Name is the wire name, "<area>:<action>".
	Name string `json:"name"`
	// Types are the entity types the scope applies to. Most scopes have one;
	// a few (stack:create, change_gate:*) apply at two levels.
	Types []gatehouse.EntityType `json:"types"`
	// Group is the display label the console groups the scope under.
	Group string `json:"group"`
	// Description says in a short sentence what the scope allows.
	Description string `json:"description"`
}

// AppliesTo reports whether the scope applies to entities of type t.
func (i *Info) AppliesTo(t gatehouse.EntityType) bool {
	for _, x := range i.Types {
		if x == t {
			return true
		}
	}
	return false
}

var (
	infos    []Info
	byName   map[string]Scope
	typeMask [gatehouse.NumEntityTypes]Set
	all      Set
)

func init() {
	if err := json.Unmarshal(scopesJSON, &infos); err != nil {
		panic(fmt.Sprintf("catalog: scopes.json: %v", err))
	}
	if len(infos) > MaxScopes {
		panic(fmt.Sprintf("catalog: %d scopes exceed the bitset capacity %d", len(infos), MaxScopes))
	}
	byName = make(map[string]Scope, len(infos))
	for i := range infos {
		s := Scope(i)
		if _, dup := byName[infos[i].Name]; dup {
			panic(fmt.Sprintf("catalog: duplicate scope %q", infos[i].Name))
		}
		byName[infos[i].Name] = s
		all.Add(s)
		for _, t := range infos[i].Types {
			typeMask[t].Add(s)
		}
	}
	loadBuiltins()
}

// Len returns the number of scopes in the catalog.
func Len() int { return len(infos) }

// Lookup returns the scope with the given name.
func Lookup(name string) (Scope, bool) {
	s, ok := byName[name]
	return s, ok
}

// MustLookup returns the scope with the given name and panics when there is
// none. Use it only for names written in Gatehouse's own code.
func MustLookup(name string) Scope {
	s, ok := byName[name]
	if !ok {
		panic(fmt.Sprintf("catalog: unknown scope %q", name))
	}
	return s
}

// Name returns the wire name of s.
func (s Scope) Name() string { return infos[s].Name }

// String returns the wire name of s.
func (s Scope) String() string {
	if int(s) >= len(infos) {
		return fmt.Sprintf("scope(%d)", uint16(s))
	}
	return infos[s].Name
}

// Info returns the description of s.
func (s Scope) Info() *Info { return &infos[s] }

// All returns every scope's description, in catalog order.
func All() []Info {
	out := make([]Info, len(infos))
	copy(out, infos)
	return out
}

// AllScopes returns the set of every scope.
func AllScopes() Set { return all }

// TypeMask returns the set of scopes that apply to entities of type t.
func TypeMask(t gatehouse.EntityType) Set { return typeMask[t] }

// Group is a display group of scopes, as Pulumi's
// GET /api/orgs/{org}/roles/scopes returns them per entity type.
type Group struct {
	Name   string
	Scopes []Scope
}

// Groups returns the scopes that apply to entity type t, grouped by display
// label, groups and scopes sorted by name.
func Groups(t gatehouse.EntityType) []Group {
	byGroup := map[string][]Scope{}
	for i := range infos {
		if infos[i].AppliesTo(t) {
			byGroup[infos[i].Group] = append(byGroup[infos[i].Group], Scope(i))
		}
	}
	groups := make([]Group, 0, len(byGroup))
	for name, scopes := range byGroup {
		sort.Slice(scopes, func(a, b int) bool { return scopes[a].Name() < scopes[b].Name() })
		groups = append(groups, Group{Name: name, Scopes: scopes})
	}
	sort.Slice(groups, func(a, b int) bool { return groups[a].Name < groups[b].Name })
	return groups
}

// Suggest returns the catalog scope nearest to name by edit distance, for
// "did you mean" hints, or "" when nothing is reasonably close.
func Suggest(name string) string {
	best, bestD := "", len(name)/2+3
	for i := range infos {
		if d := distance(name, infos[i].Name, bestD); d < bestD {
			best, bestD = infos[i].Name, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b, giving up (returning
// limit) once it cannot be below limit.
func distance(a, b string, limit int) int {
	if diff := len(a) - len(b); diff >= limit || -diff >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
