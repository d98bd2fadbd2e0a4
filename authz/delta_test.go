package authz_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/policy"
	"github.com/gatehouse-iam/gatehouse/service"
	"github.com/gatehouse-iam/gatehouse/store"
	"github.com/gatehouse-iam/gatehouse/store/storetest"
)

// TestDeltasMatchRebuilds: after every write of a random sequence (all
// kinds: entities created, renamed, retagged, deleted; roles and sets
// created, edited, deleted; members, teams, grants, tokens, settings), the
// snapshot a delta made is the one a full rebuild makes, decision for
// decision, and no write needed a rebuild. On SQLite, and on PostgreSQL
// with GATEHOUSE_TEST_POSTGRES_DSN.
func TestDeltasMatchRebuilds(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			dsn := filepath.Join(t.TempDir(), "g.db")
			if dialect == "postgres" {
				dsn = storetest.PostgresSchema(t)
			}
			db, err := store.Open(ctx, dsn, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			seed := uint64(time.Now().UnixNano())
			t.Logf("seed %d", seed)
			runDeltaSequence(t, db, rand.New(rand.NewPCG(seed, 15)), 250)
		})
	}
}

// model is what the random writer knows of the organization.
type model struct {
	t                      *testing.T
	db                     *store.DB
	rng                    *rand.Rand
	org                    *gatehouse.Organization
	users                  []string // user ids (members or not)
	descs                  []*gatehouse.Descriptor
	teams                  []string
	grants                 []string
	stacks, envs, accounts []string
	tokens                 []*gatehouse.Token
	values                 map[string]string // token id -> value
	n                      int
}

func runDeltaSequence(t *testing.T, db *store.DB, rng *rand.Rand, steps int) {
	az := authz.New(db, nil)
	svc := service.New(db, az, nil)
	if _, err := svc.Bootstrap(ctx, "acme", "admin"); err != nil {
		t.Fatal(err)
	}
	m := &model{t: t, db: db, rng: rng, values: map[string]string{}}
	if err := db.Read(ctx, func(tx gatehouse.Tx) (err error) {
		if m.org, err = tx.GetOrgByName(ctx, "acme"); err != nil {
			return err
		}
		admin, err := tx.GetUserByLogin(ctx, "admin")
		m.users = append(m.users, admin.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := az.LoadAll(ctx); err != nil {
		t.Fatal(err)
	}
	rebuilds := az.Rebuilds()
	ops := m.ops()
	applied := 0
	for step := 0; step < steps; step++ {
		var names []string
		err := db.Write(ctx, func(tx gatehouse.Tx) error {
			names = names[:0]
			for range 1 + rng.IntN(3) {
				i := rng.IntN(len(ops))
				names = append(names, ops[i].name)
				if err := ops[i].do(tx); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			continue // refused (a descriptor in use, a name taken...): nothing changed
		}
		applied++
		if err := az.Refresh(ctx, m.org.ID); err != nil {
			t.Fatal(err)
		}
		got := authz.Fingerprint(az, m.org.ID)
		want, err := authz.FreshFingerprint(ctx, az, m.org.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("step %d (%s): the delta's snapshot differs from a rebuild's:\n%s", step, strings.Join(names, ", "), diff(got, want))
		}
		m.checkTokens(az)
	}
	if n := az.Rebuilds() - rebuilds; n != 0 {
		t.Errorf("%d of %d writes rebuilt the snapshot, want deltas only", n, applied)
	}
	if applied < steps/2 {
		t.Errorf("only %d of %d writes applied: the sequence tests little", applied, steps)
	}
}

// checkTokens: every live token authenticates, every revoked one fails.
func (m *model) checkTokens(az *authz.Authorizer) {
	m.t.Helper()
	for _, tok := range m.tokens {
		var live bool // it exists, is not revoked, and reaches the organization
		if err := m.db.Read(ctx, func(tx gatehouse.Tx) error {
			got, err := tx.GetToken(ctx, tok.ID)
			if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
				return nil // its write rolled back
			}
			if err != nil {
				return err
			}
			live = !got.Deleted
			if live && got.Kind == gatehouse.TokenPersonal {
				_, err := tx.GetMember(ctx, m.org.ID, got.UserID)
				live = err == nil
			}
			return nil
		}); err != nil {
			m.t.Fatal(err)
		}
		if _, err := az.Verify("token " + m.values[tok.ID]); live != (err == nil || err == authz.ErrNotMember) {
			m.t.Fatalf("token %s (live %v): Verify = %v", tok.ID, live, err)
		}
	}
}

func diff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
	for i := 0; i < max(len(g), len(w)); i++ {
		var x, y string
		if i < len(g) {
			x = g[i]
		}
		if i < len(w) {
			y = w[i]
		}
		if x != y {
			fmt.Fprintf(&b, "delta:   %.300s\nrebuild: %.300s\n", x, y)
		}
	}
	return b.String()
}

type op struct {
	name string
	do   func(tx gatehouse.Tx) error
}

func (m *model) name(prefix string) string {
	m.n++
	return fmt.Sprintf("%s%d", prefix, m.n)
}

func pick[T any](rng *rand.Rand, xs []T) (T, bool) {
	var zero T
	if len(xs) == 0 {
		return zero, false
	}
	return xs[rng.IntN(len(xs))], true
}

func (m *model) tags() map[string]string {
	tags := map[string]string{}
	for _, k := range []string{"env", "team"} {
		if m.rng.IntN(2) == 0 {
			tags[k] = []string{"prod", "dev", "ops"}[m.rng.IntN(3)]
		}
	}
	return tags
}

// details is a random descriptor document: scopes, a tag condition, and a
// composition of earlier descriptors.
func (m *model) details() ([]byte, []string) {
	scope := func() string { return catalog.Scope(m.rng.IntN(catalog.Len())).Name() }
	g := &policy.Group{Entries: []policy.Node{&policy.Allow{Permissions: []string{scope()}}}}
	if m.rng.IntN(2) == 0 {
		g.Entries = append(g.Entries, &policy.Condition{
			Condition: &policy.Equal{Left: &policy.Tag{Context: &policy.Context{Type: gatehouse.EntityStack}, Key: "env"}, Right: &policy.String{Value: "prod"}},
			SubNode:   &policy.Allow{Permissions: []string{scope(), scope()}}})
	}
	var refs []string
	if d, ok := pick(m.rng, m.descs); ok && m.rng.IntN(2) == 0 {
		g.Entries = append(g.Entries, &policy.Compose{Descriptors: []string{d.ID}})
		refs = append(refs, d.ID)
	}
	b, err := policy.Encode(g)
	if err != nil {
		m.t.Fatal(err)
	}
	return b, refs
}

func (m *model) ops() []op {
	return append(m.entityOps(), append(m.descriptorOps(), append(m.principalOps(), m.tokenOps()...)...)...)
}

func (m *model) entityOps() []op {
	return []op{
		{"create stack", func(tx gatehouse.Tx) error {
			creator, _ := pick(m.rng, m.users)
			s := &gatehouse.Stack{OrgID: m.org.ID, Project: "p", Name: m.name("s"), Tags: m.tags(), CreatedBy: creator}
			if err := tx.CreateStack(ctx, s); err != nil {
				return err
			}
			m.stacks = append(m.stacks, s.ID)
			return nil
		}},
		{"rename or retag stack", func(tx gatehouse.Tx) error {
			id, ok := pick(m.rng, m.stacks)
			if !ok {
				return nil
			}
			s, err := tx.GetStackByID(ctx, id)
			if err != nil {
				return nil // deleted
			}
			if m.rng.IntN(2) == 0 {
				s.Name = m.name("renamed")
			} else {
				s.Tags = m.tags()
			}
			return tx.UpdateStack(ctx, s)
		}},
		{"delete stack", func(tx gatehouse.Tx) error {
			if id, ok := pick(m.rng, m.stacks); ok {
				tx.DeleteStack(ctx, id) // may be gone already
			}
			return nil
		}},
		{"create environment", func(tx gatehouse.Tx) error {
			creator, _ := pick(m.rng, m.users)
			e := &gatehouse.Environment{OrgID: m.org.ID, Project: "p", Name: m.name("e"), Tags: m.tags(), CreatedBy: creator}
			if err := tx.CreateEnvironment(ctx, e, nil); err != nil {
				return err
			}
			m.envs = append(m.envs, e.ID)
			return nil
		}},
		{"retag or delete environment", func(tx gatehouse.Tx) error {
			id, ok := pick(m.rng, m.envs)
			if !ok {
				return nil
			}
			e, err := tx.GetEnvironmentByID(ctx, id)
			if err != nil {
				return nil
			}
			if m.rng.IntN(3) == 0 {
				return tx.DeleteEnvironment(ctx, id)
			}
			e.Tags = m.tags()
			return tx.UpdateEnvironment(ctx, e)
		}},
		{"create account", func(tx gatehouse.Tx) error {
			creator, _ := pick(m.rng, m.users)
			a := &gatehouse.Account{OrgID: m.org.ID, Name: m.name("a"), Tags: m.tags(), CreatedBy: creator}
			if err := tx.CreateAccount(ctx, a); err != nil {
				return err
			}
			m.accounts = append(m.accounts, a.ID)
			return nil
		}},
		{"retag or delete account", func(tx gatehouse.Tx) error {
			id, ok := pick(m.rng, m.accounts)
			if !ok {
				return nil
			}
			a, err := tx.GetAccountByID(ctx, id)
			if err != nil {
				return nil
			}
			if m.rng.IntN(3) == 0 {
				return tx.DeleteAccount(ctx, id)
			}
			a.Tags = m.tags()
			return tx.UpdateAccount(ctx, a)
		}},
	}
}

func (m *model) descriptorOps() []op {
	return []op{
		{"create descriptor", func(tx gatehouse.Tx) error {
			details, refs := m.details()
			purpose := []string{"role", "set"}[m.rng.IntN(2)]
			d := &gatehouse.Descriptor{OrgID: m.org.ID, Name: m.name("d"), Purpose: purpose, ResourceType: gatehouse.EntityStack, Details: details, Refs: refs}
			if err := tx.CreateDescriptor(ctx, d); err != nil {
				return err
			}
			m.descs = append(m.descs, d)
			return nil
		}},
		{"edit descriptor", func(tx gatehouse.Tx) error {
			d, ok := pick(m.rng, m.descs)
			if !ok {
				return nil
			}
			cur, err := tx.GetDescriptor(ctx, m.org.ID, d.ID)
			if err != nil {
				return nil
			}
			details, refs := m.details()
			if len(refs) > 0 && refs[0] == d.ID {
				return nil // no cycles
			}
			cur.Details, cur.Refs = details, refs
			return tx.UpdateDescriptor(ctx, cur, cur.Version)
		}},
		{"delete descriptor", func(tx gatehouse.Tx) error {
			if d, ok := pick(m.rng, m.descs); ok {
				return tx.DeleteDescriptor(ctx, m.org.ID, d.ID) // refused while in use
			}
			return nil
		}},
		{"default role", func(tx gatehouse.Tx) error {
			o, err := tx.GetOrg(ctx, m.org.ID)
			if err != nil {
				return err
			}
			o.Settings.DefaultRoleID = ""
			if d, ok := pick(m.rng, m.descs); ok && d.Purpose == "role" && m.rng.IntN(2) == 0 {
				o.Settings.DefaultRoleID = d.ID
			}
			return tx.UpdateOrg(ctx, o)
		}},
	}
}

// role is a random role for a member or token: a custom role or a
// built-in one.
func (m *model) role(tx gatehouse.Tx) string {
	if d, ok := pick(m.rng, m.descs); ok && d.Purpose == "role" && m.rng.IntN(2) == 0 {
		return d.ID
	}
	ds, _, err := tx.ListDescriptors(ctx, m.org.ID, "role", gatehouse.ListOptions{})
	if err != nil || len(ds) == 0 {
		return ""
	}
	return ds[m.rng.IntN(len(ds))].ID
}

func (m *model) principalOps() []op {
	return []op{
		{"add member", func(tx gatehouse.Tx) error {
			u := &gatehouse.User{Login: m.name("user")}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			m.users = append(m.users, u.ID)
			return tx.AddMember(ctx, &gatehouse.Membership{OrgID: m.org.ID, UserID: u.ID, RoleID: m.role(tx)})
		}},
		{"change or remove member", func(tx gatehouse.Tx) error {
			uid, ok := pick(m.rng, m.users[1:])
			if !ok {
				return nil
			}
			mem, err := tx.GetMember(ctx, m.org.ID, uid)
			if err != nil {
				return tx.AddMember(ctx, &gatehouse.Membership{OrgID: m.org.ID, UserID: uid, RoleID: m.role(tx)})
			}
			switch m.rng.IntN(3) {
			case 0:
				return tx.RemoveMember(ctx, m.org.ID, uid)
			case 1:
				mem.Suspended = !mem.Suspended
			default:
				mem.RoleID = m.role(tx)
			}
			return tx.UpdateMember(ctx, mem)
		}},
		{"create or delete team", func(tx gatehouse.Tx) error {
			if tid, ok := pick(m.rng, m.teams); ok && m.rng.IntN(4) == 0 {
				tx.DeleteTeam(ctx, tid)
				return nil
			}
			tm := &gatehouse.Team{OrgID: m.org.ID, Kind: gatehouse.TeamPulumi, Name: m.name("team")}
			if err := tx.CreateTeam(ctx, tm); err != nil {
				return err
			}
			m.teams = append(m.teams, tm.ID)
			return nil
		}},
		{"team member or role", func(tx gatehouse.Tx) error {
			tid, ok := pick(m.rng, m.teams)
			uid, _ := pick(m.rng, m.users)
			if !ok {
				return nil
			}
			if _, err := tx.GetTeamByID(ctx, tid); err != nil {
				return nil
			}
			switch m.rng.IntN(4) {
			case 0:
				return tx.PutTeamMember(ctx, &gatehouse.TeamMember{TeamID: tid, UserID: uid, Role: gatehouse.TeamRoleMember})
			case 1:
				tx.RemoveTeamMember(ctx, tid, uid)
				return nil
			case 2:
				if r := m.role(tx); r != "" {
					tx.AddTeamRole(ctx, tid, r)
				}
				return nil
			default:
				roles, err := tx.ListTeamRoles(ctx, tid)
				if err == nil && len(roles) > 0 {
					return tx.RemoveTeamRole(ctx, tid, roles[0])
				}
				return err
			}
		}},
		{"put or delete grant", func(tx gatehouse.Tx) error { return m.grant(tx) }},
		{"rename user", func(tx gatehouse.Tx) error {
			// A login rename (SCIM's userName) changes the member's record
			// in the snapshot: who the identity is, who an access list names.
			uid, _ := pick(m.rng, m.users)
			u, err := tx.GetUser(ctx, uid)
			if err != nil {
				return err
			}
			u.Login, u.Email = m.name("renamed"), m.name("mail")
			return tx.UpdateUser(ctx, u)
		}},
	}
}

func (m *model) grant(tx gatehouse.Tx) error {
	if id, ok := pick(m.rng, m.grants); ok && m.rng.IntN(3) == 0 {
		tx.DeleteGrant(ctx, m.org.ID, id)
		return nil
	}
	var sets []*gatehouse.Descriptor
	for _, d := range m.descs {
		if d.Purpose == "set" {
			sets = append(sets, d)
		}
	}
	set, ok := pick(m.rng, sets)
	if !ok {
		return nil
	}
	g := &gatehouse.Grant{OrgID: m.org.ID, SetID: set.ID}
	kinds := map[gatehouse.EntityType][]string{gatehouse.EntityStack: m.stacks, gatehouse.EntityEnvironment: m.envs, gatehouse.EntityInsightsAccount: m.accounts}
	g.Entity.Type = []gatehouse.EntityType{gatehouse.EntityStack, gatehouse.EntityEnvironment, gatehouse.EntityInsightsAccount}[m.rng.IntN(3)]
	if g.Entity.ID, ok = pick(m.rng, kinds[g.Entity.Type]); !ok {
		return nil
	}
	if tid, ok := pick(m.rng, m.teams); ok && m.rng.IntN(2) == 0 {
		g.TeamID = tid
		if g.Entity.Type == gatehouse.EntityEnvironment && m.rng.IntN(2) == 0 {
			g.MaxOpenDuration = time.Hour
		}
	} else {
		g.UserID, _ = pick(m.rng, m.users)
	}
	if err := tx.PutGrant(ctx, g); err != nil {
		return err
	}
	m.grants = append(m.grants, g.ID)
	return nil
}

func (m *model) tokenOps() []op {
	return []op{
		{"create token", func(tx gatehouse.Tx) error {
			value, digest := gatehouse.NewTokenValue()
			tok := &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: m.org.ID, Name: m.name("tok"), Digest: digest}
			switch m.rng.IntN(3) {
			case 0:
				tok.RoleID = m.role(tx)
			case 1:
				tid, ok := pick(m.rng, m.teams)
				if !ok {
					return nil
				}
				if _, err := tx.GetTeamByID(ctx, tid); err != nil {
					return nil
				}
				tok.Kind, tok.TeamID = gatehouse.TokenTeam, tid
			default:
				tok.Kind, tok.OrgID, tok.Name = gatehouse.TokenPersonal, "", ""
				tok.UserID, _ = pick(m.rng, m.users)
			}
			if err := tx.CreateToken(ctx, tok); err != nil {
				return err
			}
			m.tokens = append(m.tokens, tok)
			m.values[tok.ID] = value
			return nil
		}},
		{"revoke token", func(tx gatehouse.Tx) error {
			if tok, ok := pick(m.rng, m.tokens); ok {
				tx.DeleteToken(ctx, tok.ID)
			}
			return nil
		}},
	}
}

// TestReplicaAppliesDeltas: on PostgreSQL, a revocation through one
// replica is seen by another without a rebuild, and so is a write whose
// change set is past NOTIFY's payload limit (read from the change log).
// Needs GATEHOUSE_TEST_POSTGRES_DSN.
func TestReplicaAppliesDeltas(t *testing.T) {
	dsn := storetest.PostgresSchema(t)
	open := func() *store.DB {
		db, err := store.Open(ctx, dsn, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	db1, db2 := open(), open()
	az1 := authz.New(db1, nil)
	svc1 := service.New(db1, az1, nil)
	admin, err := svc1.Bootstrap(ctx, "acme", "admin")
	if err != nil {
		t.Fatal(err)
	}
	var org *gatehouse.Organization
	if err := db1.Read(ctx, func(tx gatehouse.Tx) (err error) { org, err = tx.GetOrgByName(ctx, "acme"); return err }); err != nil {
		t.Fatal(err)
	}
	tok, value, err := svc1.CreateToken(ctx, service.TokenInput{Kind: gatehouse.TokenOrganization, OrgID: org.ID, Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	az2 := authz.New(db2, nil)
	if err := az2.LoadAll(ctx); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go az2.Watch(wctx, time.Hour, db2.Changes(wctx), nil) // announcements only
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("replica 2 never %s", what)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	if _, err := az2.Authenticate("token " + value); err != nil {
		t.Fatal(err)
	}
	rebuilds := az2.Rebuilds()
	if err := svc1.RevokeToken(ctx, tok.ID, func(*gatehouse.Token) error { return nil }); err != nil {
		t.Fatal(err)
	}
	waitFor("saw the revocation", func() bool { _, err := az2.Authenticate("token " + value); return err != nil })
	// 300 stacks in one write: a change set of some 11 kB, past what an
	// announcement carries.
	id, err := az1.Authenticate("token " + admin)
	if err != nil {
		t.Fatal(err)
	}
	if err := db1.Write(ctx, func(tx gatehouse.Tx) error {
		for i := range 300 {
			if err := tx.CreateStack(ctx, &gatehouse.Stack{OrgID: org.ID, Project: "p", Name: fmt.Sprintf("s%d", i), CreatedBy: id.User.ID}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	waitFor("saw the 300 stacks", func() bool { n, _, _ := az2.Count(org.ID, gatehouse.EntityStack); return n == 300 })
	if got := az2.Rebuilds(); got != rebuilds {
		t.Errorf("replica 2 rebuilt %d times, want deltas only", got-rebuilds)
	}
	want, err := authz.FreshFingerprint(ctx, az2, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := authz.Fingerprint(az2, org.ID); got != want {
		t.Errorf("replica 2's snapshot differs from a rebuild's:\n%s", diff(got, want))
	}
}

// TestGapRebuilds: a snapshot whose next revisions are no longer in the
// change log is rebuilt, and the rebuild counted as a gap.
func TestGapRebuilds(t *testing.T) {
	f := newFixture(t)
	before := f.az.RebuildsByReason(authz.ReasonGap)
	if err := f.db.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateTeam(ctx, &gatehouse.Team{OrgID: f.org.ID, Kind: gatehouse.TeamPulumi, Name: "elsewhere"})
	}); err != nil {
		t.Fatal(err)
	}
	if err := f.db.UnsafeExec(ctx, "DELETE FROM org_changes"); err != nil {
		t.Fatal(err)
	}
	if err := f.az.Refresh(ctx, f.org.ID); err != nil {
		t.Fatal(err)
	}
	if got := f.az.RebuildsByReason(authz.ReasonGap) - before; got != 1 {
		t.Errorf("%d rebuilds for a gap, want 1", got)
	}
	want, err := authz.FreshFingerprint(ctx, f.az, f.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := authz.Fingerprint(f.az, f.org.ID); got != want {
		t.Errorf("after the gap's rebuild:\n%s", diff(got, want))
	}
}
