package authz_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/service"
)

// devReaderRole makes a role granting Stack Read on the stacks tagged
// env=dev.
func (f *fixture) devReaderRole(t testing.TB) *gatehouse.Descriptor {
	t.Helper()
	sets, _, err := f.svc.Descriptors(ctx, f.org.ID, gatehouse.PurposeSet, gatehouse.ListOptions{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var stackRead string
	for _, s := range sets {
		if s.DefaultIdentifier == "stack-read" {
			stackRead = s.ID
		}
	}
	details, _ := json.Marshal(map[string]any{"__type": "PermissionDescriptorCondition",
		"condition": map[string]any{"__type": "PermissionExpressionEqual",
			"left":  map[string]any{"__type": "PermissionExpressionTag", "context": map[string]any{"__type": "PermissionExpressionStack"}, "key": "env"},
			"right": map[string]any{"__type": "PermissionLiteralExpressionString", "value": "dev"}},
		"subNode": map[string]any{"__type": "PermissionDescriptorCompose", "permissionDescriptors": []string{stackRead}}})
	name, purpose := "dev-reader", gatehouse.PurposeRole
	role, err := f.svc.CreateDescriptor(ctx, f.org.ID, service.DescriptorInput{Name: &name, Purpose: &purpose, Details: details}, false)
	if err != nil {
		t.Fatal(err)
	}
	return role
}

// TestAccess: an entity's access list names each holder with the role,
// the way it is held and the rule that matched; and for every scope of the
// entity's type it lists exactly the principals authz.WhoCan finds (the
// compiled grants' answer), on a stack the rule matches and on one it
// does not.
func TestAccess(t *testing.T) {
	f := newFixture(t)
	stacks := map[string]*gatehouse.Entity{}
	for _, env := range []string{"dev", "prod"} {
		st := &gatehouse.Stack{OrgID: f.org.ID, Project: "app", Name: env, Tags: map[string]string{"env": env}}
		if err := f.db.Write(ctx, func(tx gatehouse.Tx) error { return tx.CreateStack(ctx, st) }); err != nil {
			t.Fatal(err)
		}
		if err := f.az.Refresh(ctx, f.org.ID); err != nil {
			t.Fatal(err)
		}
		var err error
		if stacks[env], err = f.az.EntityByID(ctx, f.org.ID, st.ID); err != nil {
			t.Fatal(err)
		}
	}
	role := f.devReaderRole(t)
	if _, err := f.svc.AddMember(ctx, f.org.ID, "dana", "member"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateTeam(ctx, f.org.ID, "web", "", ""); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetTeamMember(ctx, f.org.ID, "web", "add", "dana"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.AddTeamRole(ctx, f.org.ID, "web", role.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.CreateToken(ctx, service.TokenInput{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "ci", RoleID: role.ID}); err != nil {
		t.Fatal(err)
	}

	dev, err := f.az.Access(ctx, f.org.ID, stacks["dev"])
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]authz.EntityAccess{}
	for _, a := range dev {
		byName[a.Kind+" "+a.Name] = a
	}
	rule := `stack.tags["env"] == "dev"`
	for who, via := range map[string]string{"user dana": "team web", "team web": "", "token ci": "token role"} {
		a, ok := byName[who]
		if !ok {
			t.Errorf("%s is not listed on app/dev: %+v", who, dev)
			continue
		}
		i := slices.IndexFunc(a.Grants, func(g authz.AccessGrant) bool { return g.Role == "dev-reader" })
		if i < 0 || a.Grants[i].Via != via || !slices.Contains(a.Grants[i].Holds, rule) || !slices.Contains(a.Grants[i].Scopes, "stack:read") ||
			slices.Contains(a.Grants[i].Scopes, "stack:write") {
			t.Errorf("%s on app/dev: %+v, want dev-reader via %q where %s, granting stack:read and not stack:write", who, a.Grants, via, rule)
		}
	}
	if a := byName["user admin"]; len(a.Grants) == 0 || a.Grants[0].Role != "Admin" || a.Grants[0].Via != "organization role" {
		t.Errorf("admin on app/dev: %+v", a)
	}
	if a := byName["user dana"]; slices.ContainsFunc(a.Grants, func(g authz.AccessGrant) bool {
		return g.Via == "organization role" && slices.Contains(g.Scopes, "stack:read")
	}) {
		t.Errorf("dana's member role grants stack:read on app/dev? %+v", a.Grants)
	}

	for env, e := range stacks {
		access, err := f.az.Access(ctx, f.org.ID, e)
		if err != nil {
			t.Fatal(err)
		}
		for i, info := range catalog.All() {
			if !info.AppliesTo(gatehouse.EntityStack) {
				continue
			}
			holders, err := f.az.WhoCan(ctx, f.org.ID, catalog.Scope(i), e)
			if err != nil {
				t.Fatal(err)
			}
			var want, got []string
			for _, h := range holders {
				want = append(want, h.Kind+" "+h.Name)
			}
			for _, a := range access {
				if slices.ContainsFunc(a.Grants, func(g authz.AccessGrant) bool { return slices.Contains(g.Scopes, info.Name) }) {
					got = append(got, a.Kind+" "+a.Name)
				}
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("app/%s %s: Access lists %v, WhoCan %v", env, info.Name, got, want)
			}
		}
		for _, a := range access {
			if env == "prod" && a.Name == "dana" && strings.Contains(fmt.Sprint(a.Grants), "dev-reader") {
				t.Errorf("dana's dev-reader grants on app/prod: %+v", a.Grants)
			}
		}
	}
}

// BenchmarkAccess: a stack's access list in an organization of 1,000
// members (each in one of 20 teams holding the tag rule) and 100
// organization tokens.
func BenchmarkAccess(b *testing.B) {
	f := newFixture(b)
	st := &gatehouse.Stack{OrgID: f.org.ID, Project: "app", Name: "dev", Tags: map[string]string{"env": "dev"}}
	if err := f.db.Write(ctx, func(tx gatehouse.Tx) error { return tx.CreateStack(ctx, st) }); err != nil {
		b.Fatal(err)
	}
	role := f.devReaderRole(b)
	for i := 0; i < 20; i++ {
		name := fmt.Sprint("team-", i)
		if _, err := f.svc.CreateTeam(ctx, f.org.ID, name, "", ""); err != nil {
			b.Fatal(err)
		}
		if err := f.svc.AddTeamRole(ctx, f.org.ID, name, role.ID); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 1000; i++ {
		login := fmt.Sprint("user-", i)
		if _, err := f.svc.AddMember(ctx, f.org.ID, login, "member"); err != nil {
			b.Fatal(err)
		}
		if err := f.svc.SetTeamMember(ctx, f.org.ID, fmt.Sprint("team-", i%20), "add", login); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 100; i++ {
		if _, _, err := f.svc.CreateToken(ctx, service.TokenInput{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: fmt.Sprint("ci-", i), RoleID: role.ID}); err != nil {
			b.Fatal(err)
		}
	}
	e, err := f.az.EntityByID(ctx, f.org.ID, st.ID)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		access, err := f.az.Access(ctx, f.org.ID, e)
		if err != nil || len(access) != 1+1000+20+100 {
			b.Fatalf("Access: %d principals, %v", len(access), err)
		}
	}
}
