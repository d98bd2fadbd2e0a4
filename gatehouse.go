// Package gatehouse holds Gatehouse's domain: the types every other package
// shares (entities, organizations, descriptors, principals) and the one Error
// type with its closed set of codes. It imports nothing outside the standard
// library; adapters (store, api, oidc) live in their own packages and only
// cmd/gatehouse wires them together.
package gatehouse

import (
	"slices"
	"strings"
)

// EntityType names the kind of object a scope applies to. The wire names are
// Pulumi's: "global" for the organization itself, "stack", "environment" and
// "insights-account".
type EntityType uint8

// The entity types, in catalog order. Team is not a target of any scope but
// can appear as a condition context in a descriptor.
const (
	EntityGlobal EntityType = iota
	EntityStack
	EntityEnvironment
	EntityInsightsAccount
	EntityTeam

	// NumEntityTypes is the number of entity types; arrays indexed by
	// EntityType have this length.
	NumEntityTypes = int(EntityTeam) + 1
)

var entityTypeNames = [NumEntityTypes]string{"global", "stack", "environment", "insights-account", "team"}

// String returns the wire name of t.
func (t EntityType) String() string {
	if int(t) < len(entityTypeNames) {
		return entityTypeNames[t]
	}
	return "unknown"
}

// ParseEntityType returns the entity type with the given wire name.
func ParseEntityType(s string) (EntityType, bool) {
	for i, n := range entityTypeNames {
		if n == s {
			return EntityType(i), true
		}
	}
	return 0, false
}

// MarshalText implements encoding.TextMarshaler.
func (t EntityType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *EntityType) UnmarshalText(b []byte) error {
	v, ok := ParseEntityType(string(b))
	if !ok {
		return Errorf(EINVALID, "unknown entity type %q (want global, stack, environment or insights-account)", b)
	}
	*t = v
	return nil
}

// Tag is one key/value attribute of an entity. Attribute-based rules read
// tags.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Entity is a protected object as the access model sees it: its type, its
// UUID (lower case) and its tags. The organization itself is the entity of
// type EntityGlobal, with the organization's id.
//
// Tags is a slice rather than a map because deciding walks every tag once and
// a slice walk is several times cheaper than a map walk; keys are unique.
type Entity struct {
	Type EntityType `json:"type"`
	ID   string     `json:"id"`
	Tags []Tag      `json:"tags,omitempty"`
}

// Tag returns the value of the tag with the given key.
func (e *Entity) Tag(key string) (string, bool) {
	for i := range e.Tags {
		if e.Tags[i].Key == key {
			return e.Tags[i].Value, true
		}
	}
	return "", false
}

// TagsFromMap converts a tag map into the slice form Entity uses, sorted by
// key so that the result is deterministic.
func TagsFromMap(m map[string]string) []Tag {
	if len(m) == 0 {
		return nil
	}
	tags := make([]Tag, 0, len(m))
	for k, v := range m {
		tags = append(tags, Tag{Key: k, Value: v})
	}
	slices.SortFunc(tags, func(a, b Tag) int { return strings.Compare(a.Key, b.Key) })
	return tags
}
