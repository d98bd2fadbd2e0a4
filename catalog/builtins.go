package catalog

import (
	"encoding/json"
	"fmt"

	"github.com/gatehouse-iam/gatehouse"
)

// BuiltinSet is a permission set every organization has. Pulumi's built-in
// sets nest (Stack Write includes Stack Read); Scopes holds the full,
// flattened content.
type BuiltinSet struct {
	// Identifier is the set's defaultIdentifier on the wire ("stack-read").
	Identifier   string
	Name         string
	Description  string
	ResourceType gatehouse.EntityType
	// Includes names the set this one extends, or "".
	Includes string
	// Scopes is every scope of the set, inherited ones included.
	Scopes Set
}

// BuiltinRole is a role every organization has. A role composes built-in
// sets (by identifier) and may add scopes of its own.
type BuiltinRole struct {
	// Identifier is the role's defaultIdentifier on the wire ("member").
	Identifier  string
	Name        string
	Description string
	// Compose lists the identifiers of the built-in sets the role includes.
	Compose []string
	// Scopes are granted directly, on every entity they apply to.
	Scopes Set
}

// Built-in role identifiers.
const (
	RoleAdmin          = "admin"
	RoleMember         = "member"
	RoleBillingManager = "billing-manager"
	RoleReader         = "reader"
	RoleBuilder        = "builder"
	RoleMaintainer     = "maintainer"
)

var (
	builtinSets  []BuiltinSet
	builtinRoles []BuiltinRole
)

type builtinsFile struct {
	Sets []struct {
		Identifier   string               `json:"identifier"`
		Name         string               `json:"name"`
		Description  string               `json:"description"`
		ResourceType gatehouse.EntityType `json:"resourceType"`
		Includes     string               `json:"includes"`
		Scopes       []string             `json:"scopes"`
	} `json:"sets"`
	Roles []struct {
		Identifier  string   `json:"identifier"`
		Name        string   `json:"name"`
		Description string   `json:"description"`
		AllScopes   bool     `json:"allScopes"`
		Compose     []string `json:"compose"`
		Scopes      []string `json:"scopes"`
	} `json:"roles"`
}

func loadBuiltins() {
	var f builtinsFile
	if err := json.Unmarshal(builtinsJSON, &f); err != nil {
		panic(fmt.Sprintf("catalog: builtins.json: %v", err))
	}
	if err := buildBuiltins(&f); err != nil {
		panic("catalog: builtins.json: " + err.Error())
	}
}

func buildBuiltins(f *builtinsFile) error {
	setIdx := map[string]int{}
	for _, s := range f.Sets {
		b := BuiltinSet{Identifier: s.Identifier, Name: s.Name, Description: s.Description,
			ResourceType: s.ResourceType, Includes: s.Includes}
		if s.Includes != "" {
			i, ok := setIdx[s.Includes]
			if !ok {
				return fmt.Errorf("set %s includes %q, which is not defined before it", s.Identifier, s.Includes)
			}
			b.Scopes = builtinSets[i].Scopes
		}
		for _, name := range s.Scopes {
			sc, ok := Lookup(name)
			if !ok {
				return fmt.Errorf("set %s: unknown scope %q", s.Identifier, name)
			}
			if !sc.Info().AppliesTo(s.ResourceType) {
				return fmt.Errorf("set %s: scope %s does not apply to %s", s.Identifier, name, s.ResourceType)
			}
			b.Scopes.Add(sc)
		}
		if _, dup := setIdx[s.Identifier]; dup {
			return fmt.Errorf("duplicate set %s", s.Identifier)
		}
		setIdx[s.Identifier] = len(builtinSets)
		builtinSets = append(builtinSets, b)
	}
	for _, r := range f.Roles {
		b := BuiltinRole{Identifier: r.Identifier, Name: r.Name, Description: r.Description, Compose: r.Compose}
		if r.AllScopes {
			b.Scopes = all
		}
		for _, id := range r.Compose {
			if _, ok := setIdx[id]; !ok {
				return fmt.Errorf("role %s composes unknown set %q", r.Identifier, id)
			}
		}
		for _, name := range r.Scopes {
			sc, ok := Lookup(name)
			if !ok {
				return fmt.Errorf("role %s: unknown scope %q", r.Identifier, name)
			}
			b.Scopes.Add(sc)
		}
		builtinRoles = append(builtinRoles, b)
	}
	return nil
}

// Sets returns the built-in permission sets, each after the set it includes.
func Sets() []BuiltinSet { return append([]BuiltinSet(nil), builtinSets...) }

// Roles returns the built-in roles.
func Roles() []BuiltinRole {
	out := make([]BuiltinRole, len(builtinRoles))
	for i, r := range builtinRoles {
		r.Compose = append([]string(nil), r.Compose...)
		out[i] = r
	}
	return out
}

// SetByIdentifier returns the built-in set with the given defaultIdentifier.
func SetByIdentifier(id string) (BuiltinSet, bool) {
	for _, s := range builtinSets {
		if s.Identifier == id {
			return s, true
		}
	}
	return BuiltinSet{}, false
}

// RoleByIdentifier returns the built-in role with the given defaultIdentifier.
func RoleByIdentifier(id string) (BuiltinRole, bool) {
	for _, r := range builtinRoles {
		if r.Identifier == id {
			r.Compose = append([]string(nil), r.Compose...)
			return r, true
		}
	}
	return BuiltinRole{}, false
}

// RoleScopes returns every scope role r grants, its composed sets included.
func RoleScopes(r BuiltinRole) Set {
	s := r.Scopes
	for _, id := range r.Compose {
		set, _ := SetByIdentifier(id)
		s.Union(&set.Scopes)
	}
	return s
}
