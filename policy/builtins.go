package policy

import (
	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

// Builtins returns the built-in permission sets and roles of the catalog as
// descriptors. idFor gives each built-in's id from its defaultIdentifier (an
// organization gives each its own UUID); Compose references use those ids.
// The member role's tree includes the organization-wide defaults.
func Builtins(idFor func(identifier string) string, defaults gatehouse.MemberDefaults) []*Descriptor {
	var out []*Descriptor
	for _, s := range catalog.Sets() {
		out = append(out, &Descriptor{
			ID: idFor(s.Identifier), Name: s.Name, Purpose: "set", ResourceType: s.ResourceType,
			Details: &Allow{Permissions: s.Scopes.Names()},
		})
	}
	for _, r := range catalog.Roles() {
		var entries []Node
		if len(r.Compose) > 0 {
			ids := make([]string, len(r.Compose))
			for i, c := range r.Compose {
				ids[i] = idFor(c)
			}
			entries = append(entries, &Compose{Descriptors: ids})
		}
		if !r.Scopes.Empty() {
			entries = append(entries, &Allow{Permissions: r.Scopes.Names()})
		}
		if r.Identifier == catalog.RoleMember {
			entries = append(entries, memberDefaultNodes(idFor, defaults)...)
		}
		var details Node = &Group{Entries: entries}
		if len(entries) == 1 {
			details = entries[0]
		}
		out = append(out, &Descriptor{ID: idFor(r.Identifier), Name: r.Name, Purpose: "role",
			ResourceType: gatehouse.EntityGlobal, Details: details})
	}
	return out
}

// memberDefaultNodes turns the organization-wide member settings into
// descriptor nodes: the default sets on every entity, and the creation
// toggles.
func memberDefaultNodes(idFor func(string) string, d gatehouse.MemberDefaults) []Node {
	var sets []string
	pick := func(prefix, level string) {
		if level != "" && level != "none" {
			sets = append(sets, idFor(prefix+"-"+level))
		}
	}
	pick("stack", d.StackPermission)
	pick("environment", d.EnvironmentPermission)
	pick("insights-account", d.AccountPermission)
	var out []Node
	if len(sets) > 0 {
		out = append(out, &Compose{Descriptors: sets})
	}
	var scopes []string
	if d.MembersCanCreateStacks {
		scopes = append(scopes, "stack:create")
	}
	if d.MembersCanCreateAccounts {
		scopes = append(scopes, "insights_account:create")
	}
	if d.MembersCanCreateTeams {
		scopes = append(scopes, "team:create")
	}
	if len(scopes) > 0 {
		out = append(out, &Allow{Permissions: scopes})
	}
	return out
}

// MapLookup returns a Lookup over the given descriptors, by id.
func MapLookup(ds ...*Descriptor) Lookup {
	m := make(map[string]*Descriptor, len(ds))
	for _, d := range ds {
		m[d.ID] = d
	}
	return func(id string) (*Descriptor, bool) {
		d, ok := m[id]
		return d, ok
	}
}
