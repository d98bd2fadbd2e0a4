package catalog_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

// groupLabels are Pulumi's RbacScopeGroupName values.
var groupLabels = []string{"Stacks", "Stack deployments", "Stack webhooks", "Stack tags",
	"Stack deployment schedules", "Agent pools", "Environments", "Environment webhooks", "Environment tags",
	"Environment versions", "Environment schedules", "Environment secrets rotation", "Accounts", "Scans",
	"Policy queue", "Policy evaluator", "Stack management", "Environment management",
	"Insights account management", "Insights policy management", "Organization", "Membership",
	"Organization access tokens", "Teams", "SSO", "Audit logs", "Roles", "Search", "Copilot", "Neo",
	"Organization annotations", "OIDC", "Templates", "Deployments", "Organization webhooks", "Approvals"}

func TestScopesWellFormed(t *testing.T) {
	t.Parallel()
	all := catalog.All()
	if len(all) != 207 {
		t.Errorf("catalog has %d scopes, Pulumi's enum has 207", len(all))
	}
	if len(all) > catalog.MaxScopes {
		t.Fatalf("%d scopes do not fit a Set of %d", len(all), catalog.MaxScopes)
	}
	seen := map[string]bool{}
	for i, info := range all {
		if seen[info.Name] {
			t.Errorf("duplicate scope %q", info.Name)
		}
		seen[info.Name] = true
		area, action, ok := strings.Cut(info.Name, ":")
		if !ok || area == "" || action == "" || strings.Contains(action, ":") {
			t.Errorf("scope %q is not <area>:<action>", info.Name)
		}
		if len(info.Types) == 0 {
			t.Errorf("scope %q has no entity type", info.Name)
		}
		for _, ty := range info.Types {
			if ty == gatehouse.EntityTeam {
				t.Errorf("scope %q applies to teams, which are not a scope target", info.Name)
			}
		}
		if !slices.Contains(groupLabels, info.Group) {
			t.Errorf("scope %q has unknown group %q", info.Name, info.Group)
		}
		if len(info.Description) < 8 {
			t.Errorf("scope %q has no real description", info.Name)
		}
		sc, ok := catalog.Lookup(info.Name)
		if !ok || int(sc) != i || sc.Name() != info.Name {
			t.Errorf("Lookup(%q) = %v, %v; want position %d", info.Name, sc, ok, i)
		}
	}
}

func TestScopeEntityTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		scope string
		types []gatehouse.EntityType
	}{
		{"stack:read", []gatehouse.EntityType{gatehouse.EntityStack}},
		{"stack:create", []gatehouse.EntityType{gatehouse.EntityGlobal, gatehouse.EntityStack}},
		{"stack:list", []gatehouse.EntityType{gatehouse.EntityGlobal}},
		{"environment:open", []gatehouse.EntityType{gatehouse.EntityEnvironment}},
		{"environment:create", []gatehouse.EntityType{gatehouse.EntityGlobal}},
		{"insights_account:scan", []gatehouse.EntityType{gatehouse.EntityInsightsAccount}},
		{"insights_account:create", []gatehouse.EntityType{gatehouse.EntityGlobal}},
		{"audit_logs:read", []gatehouse.EntityType{gatehouse.EntityGlobal}},
		{"change_gate:create", []gatehouse.EntityType{gatehouse.EntityGlobal, gatehouse.EntityEnvironment}},
	}
	for _, tt := range tests {
		t.Run(tt.scope, func(t *testing.T) {
			sc := catalog.MustLookup(tt.scope)
			if !slices.Equal(sc.Info().Types, tt.types) {
				t.Errorf("types = %v, want %v", sc.Info().Types, tt.types)
			}
			for ty := gatehouse.EntityType(0); int(ty) < gatehouse.NumEntityTypes; ty++ {
				mask := catalog.TypeMask(ty)
				if mask.Has(sc) != slices.Contains(tt.types, ty) {
					t.Errorf("TypeMask(%v).Has = %v", ty, mask.Has(sc))
				}
			}
		})
	}
}

func TestBuiltinSets(t *testing.T) {
	t.Parallel()
	want := []string{"stack-read", "stack-write", "stack-admin", "environment-read", "environment-open",
		"environment-write", "environment-admin", "insights-account-read", "insights-account-write",
		"insights-account-admin", "org-read-only", "org-standard", "org-billing"}
	var got []string
	for _, s := range catalog.Sets() {
		got = append(got, s.Identifier)
		mask := catalog.TypeMask(s.ResourceType)
		if extra := s.Scopes.Minus(mask); !extra.Empty() {
			t.Errorf("set %s (%v) holds scopes of another type: %v", s.Identifier, s.ResourceType, extra.Names())
		}
		if s.Includes != "" {
			inc, ok := catalog.SetByIdentifier(s.Includes)
			if !ok {
				t.Fatalf("set %s includes unknown %s", s.Identifier, s.Includes)
			}
			if missing := inc.Scopes.Minus(s.Scopes); !missing.Empty() {
				t.Errorf("set %s lacks scopes of the set it includes: %v", s.Identifier, missing.Names())
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("sets = %v, want %v", got, want)
	}
	// Spot checks against spec §5.2.
	checks := []struct {
		set   string
		scope string
		want  bool
	}{
		{"stack-read", "stack:decrypt", true}, // a read-only team must be able to preview
		{"stack-read", "stack:write", false},
		{"stack-write", "stack:read", true},
		{"stack-write", "stack:delete", false},
		{"stack-admin", "stack:delete", true},
		{"stack-admin", "stack:rename", true},
		{"environment-read", "environment:open", false},
		{"environment-open", "environment:open", true},
		{"environment-admin", "environment:delete", true},
		{"insights-account-admin", "insights_account_access:update", true},
		{"org-standard", "org_member:read", true},
		{"org-standard", "org_member:add", false},
		{"org-billing", "organization:billing", true},
	}
	for _, c := range checks {
		s, _ := catalog.SetByIdentifier(c.set)
		if got := s.Scopes.Has(catalog.MustLookup(c.scope)); got != c.want {
			t.Errorf("%s has %s = %v, want %v", c.set, c.scope, got, c.want)
		}
	}
}

func TestBuiltinRoles(t *testing.T) {
	t.Parallel()
	admin, ok := catalog.RoleByIdentifier(catalog.RoleAdmin)
	if !ok {
		t.Fatal("no admin role")
	}
	if got := catalog.RoleScopes(admin); got != catalog.AllScopes() {
		t.Errorf("admin lacks %v", catalog.AllScopes().Minus(got).Names())
	}
	orgAdminOnly := []string{"org_member:add", "org_token:create", "role:update", "audit_logs:read",
		"oidc_issuers:create", "organization:delete", "saml:update"}
	for _, id := range []string{catalog.RoleMember, catalog.RoleBillingManager, catalog.RoleReader,
		catalog.RoleBuilder, catalog.RoleMaintainer} {
		r, ok := catalog.RoleByIdentifier(id)
		if !ok {
			t.Fatalf("no %s role", id)
		}
		scopes := catalog.RoleScopes(r)
		for _, name := range orgAdminOnly {
			if scopes.Has(catalog.MustLookup(name)) {
				t.Errorf("role %s grants the administrative scope %s", id, name)
			}
		}
	}
	// The ladder reader < builder < maintainer < admin holds.
	ladder := []string{catalog.RoleReader, catalog.RoleBuilder, catalog.RoleMaintainer, catalog.RoleAdmin}
	for i := 1; i < len(ladder); i++ {
		lo, _ := catalog.RoleByIdentifier(ladder[i-1])
		hi, _ := catalog.RoleByIdentifier(ladder[i])
		los, his := catalog.RoleScopes(lo), catalog.RoleScopes(hi)
		if missing := los.Minus(his); !missing.Empty() {
			t.Errorf("%s lacks scopes %s has: %v", ladder[i], ladder[i-1], missing.Names())
		}
	}
	builder, _ := catalog.RoleByIdentifier(catalog.RoleBuilder)
	bs := catalog.RoleScopes(builder)
	for _, name := range []string{"stack:write", "stack:create", "environment:open"} {
		if !bs.Has(catalog.MustLookup(name)) {
			t.Errorf("builder lacks %s", name)
		}
	}
	if bs.Has(catalog.MustLookup("stack:delete")) {
		t.Errorf("builder may delete stacks")
	}
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"stack:reed":        "stack:read",
		"stacks:read":       "stack:read",
		"audit_log:read":    "audit_logs:read",
		"environment:opne":  "environment:open",
		"completely-unlike": "",
	}
	for in, want := range tests {
		if got := catalog.Suggest(in); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGroups(t *testing.T) {
	t.Parallel()
	n := 0
	for _, g := range catalog.Groups(gatehouse.EntityStack) {
		for _, sc := range g.Scopes {
			n++
			if !sc.Info().AppliesTo(gatehouse.EntityStack) || sc.Info().Group != g.Name {
				t.Errorf("scope %s misplaced in group %s", sc, g.Name)
			}
		}
	}
	mask := catalog.TypeMask(gatehouse.EntityStack)
	if n != mask.Len() {
		t.Errorf("stack groups hold %d scopes, want %d", n, mask.Len())
	}
}

func TestSet(t *testing.T) {
	t.Parallel()
	a := catalog.SetOf(0, 63, 64, 206)
	if a.Len() != 4 || !a.Has(63) || !a.Has(64) || a.Has(65) {
		t.Fatalf("set ops wrong: %v", a.Scopes())
	}
	b := catalog.SetOf(64, 100)
	if got := a.Intersect(b); got.Len() != 1 || !got.Has(64) {
		t.Errorf("Intersect = %v", got.Scopes())
	}
	if got := a.Minus(b); got.Len() != 3 || got.Has(64) {
		t.Errorf("Minus = %v", got.Scopes())
	}
	a.Union(&b)
	if a.Len() != 5 {
		t.Errorf("Union = %v", a.Scopes())
	}
	var e catalog.Set
	if !e.Empty() || a.Empty() {
		t.Errorf("Empty wrong")
	}
}
