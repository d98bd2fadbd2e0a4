package authz_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/service"
	"github.com/gatehouse-iam/gatehouse/store"
	"github.com/gatehouse-iam/gatehouse/store/storetest"
)

var ctx = context.Background()

type fixture struct {
	db    *store.DB
	az    *authz.Authorizer
	svc   *service.Service
	org   *gatehouse.Organization
	admin string
	clock *time.Time
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "g.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Now()
	f := &fixture{db: db, clock: &now}
	f.az = authz.New(db, func() time.Time { return *f.clock })
	f.svc = service.New(db, f.az, func() time.Time { return *f.clock })
	if f.admin, err = f.svc.Bootstrap(ctx, "acme", "admin"); err != nil {
		t.Fatal(err)
	}
	if err := db.Read(ctx, func(tx gatehouse.Tx) (err error) { f.org, err = tx.GetOrgByName(ctx, "acme"); return err }); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestAuthenticateExpiryAndLifetime(t *testing.T) {
	f := newFixture(t)
	tok, value, err := f.svc.CreateToken(ctx, service.TokenInput{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "ci",
		Expires: f.clock.Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	id, err := f.az.Authenticate("token " + value)
	if err != nil || id.Token.ID != tok.ID {
		t.Fatalf("Authenticate = %v, %v", id, err)
	}
	// Expiry is checked on every request.
	*f.clock = f.clock.Add(2 * time.Hour)
	if _, err := f.az.Authenticate("token " + value); err == nil {
		t.Fatal("an expired token authenticated")
	}
	*f.clock = f.clock.Add(-2 * time.Hour)
	// A maximum lifetime set later applies to tokens issued before it.
	err = f.db.Write(ctx, func(tx gatehouse.Tx) error {
		o, err := tx.GetOrg(ctx, f.org.ID)
		if err != nil {
			return err
		}
		o.Settings.MaxTokenLifetime = 30 * time.Minute
		return tx.UpdateOrg(ctx, o)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.az.Refresh(ctx, f.org.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.az.Authenticate("token " + value); err == nil {
		t.Fatal("a token living longer than the organization's maximum authenticated")
	}
	// The admin's personal token never expires, so it is over the cap in
	// this organization too: it authenticates but holds nothing there.
	id, err = f.az.Authenticate("token " + f.admin)
	if err != nil {
		t.Fatal(err)
	}
	if f.az.Member(ctx, id, f.org.ID) {
		t.Errorf("a personal token over the lifetime cap still acts in the organization")
	}
	for _, h := range []string{"", "token", "Basic abc", "token " + value + "x", "Token  "} {
		if _, err := f.az.Authenticate(h); err == nil {
			t.Errorf("Authenticate(%q) succeeded", h)
		}
	}
}

func TestLastUsedIsBatched(t *testing.T) {
	f := newFixture(t)
	if _, err := f.az.Authenticate("token " + f.admin); err != nil {
		t.Fatal(err)
	}
	used := f.az.TakeUsed()
	if len(used) != 1 {
		t.Fatalf("used = %v", used)
	}
	if len(f.az.TakeUsed()) != 0 {
		t.Errorf("TakeUsed did not forget")
	}
}

// TestWatchPicksUpOtherWriters: a change written straight to the store (as
// another replica or the admin CLI would) reaches the snapshot through
// Watch.
func TestWatchCatchesUpAtOnceWhenAnnouncementsWereMissed(t *testing.T) {
	f := newFixture(t)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	changed := make(chan gatehouse.Change, 1)
	// Polling would take an hour: only the resynchronization can do it.
	go f.az.Watch(wctx, time.Hour, changed, nil)
	other := authz.New(f.db, nil)
	value, err := service.New(f.db, other, nil).IssueToken(ctx, "acme", "admin", "while not listening", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	changed <- gatehouse.Change{} // the listener reconnected
	deadline := time.Now().Add(2 * time.Second)
	for {
		if _, err := f.az.Authenticate("token " + value); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a change missed while not listening was not caught up on resynchronization")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestWatchPicksUpOtherWriters(t *testing.T) {
	f := newFixture(t)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go f.az.Watch(wctx, 20*time.Millisecond, nil, nil)
	other := authz.New(f.db, nil)
	otherSvc := service.New(f.db, other, nil)
	value, err := otherSvc.IssueToken(ctx, "acme", "admin", "from elsewhere", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		if _, err := f.az.Authenticate("token " + value); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a token created elsewhere never authenticated")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDecideAndExplain(t *testing.T) {
	f := newFixture(t)
	id, err := f.az.Authenticate("token " + f.admin)
	if err != nil {
		t.Fatal(err)
	}
	org := &gatehouse.Entity{Type: gatehouse.EntityGlobal, ID: f.org.ID}
	for i := 0; i < catalog.Len(); i++ {
		sc := catalog.Scope(i)
		if !sc.Info().AppliesTo(gatehouse.EntityGlobal) {
			continue
		}
		if ok, err := f.az.Decide(ctx, id, f.org.ID, sc, org); !ok || err != nil {
			t.Fatalf("admin denied %s: %v", sc, err)
		}
	}
	_, value, err := f.svc.CreateToken(ctx, service.TokenInput{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "plain"})
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := f.az.Authenticate("token " + value)
	ex, err := f.az.Explain(ctx, plain, f.org.ID, catalog.MustLookup("audit_logs:read"), org)
	if err != nil || ex.Allowed || ex.Reason != `no role grants audit_logs:read (roles held: "Member")` {
		t.Errorf("Explain = %+v, %v", ex, err)
	}
	if _, err := f.az.Decide(ctx, plain, gatehouse.NewID(), catalog.MustLookup("stack:read"), org); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("deciding in an unknown organization: %v", err)
	}
}

// BenchmarkAuthenticateAndDecide: authentication (a SHA-256 and a map
// lookup) plus a decision, in process, with 50,000 tokens and 10,000
// stacks loaded.
func BenchmarkAuthenticateAndDecide(b *testing.B) {
	f := newFixture(b)
	sets := map[string]string{}
	var roles []string
	err := f.db.Read(ctx, func(tx gatehouse.Tx) error {
		ds, _, err := tx.ListDescriptors(ctx, f.org.ID, "", gatehouse.ListOptions{Limit: 1000})
		for _, d := range ds {
			if d.Purpose == gatehouse.PurposeSet {
				sets[d.DefaultIdentifier] = d.ID
			} else if d.Purpose == gatehouse.PurposeRole {
				roles = append(roles, d.ID)
			}
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	var stackIDs []string
	var values []string
	batch := func(n int, fn func(tx gatehouse.Tx, i int) error) {
		for start := 0; start < n; start += 1000 {
			if err := f.db.Write(ctx, func(tx gatehouse.Tx) error {
				for i := start; i < min(start+1000, n); i++ {
					if err := fn(tx, i); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
	}
	batch(50, func(tx gatehouse.Tx, i int) error {
		details, _ := json.Marshal(map[string]any{"__type": "PermissionDescriptorCondition",
			"condition": map[string]any{"__type": "PermissionExpressionEqual",
				"left":  map[string]any{"__type": "PermissionExpressionTag", "context": map[string]any{"__type": "PermissionExpressionStack"}, "key": "team"},
				"right": map[string]any{"__type": "PermissionLiteralExpressionString", "value": fmt.Sprintf("team-%d", i)}},
			"subNode": map[string]any{"__type": "PermissionDescriptorCompose", "permissionDescriptors": []string{sets["stack-write"]}}})
		d := &gatehouse.Descriptor{OrgID: f.org.ID, Name: fmt.Sprintf("team role %d", i), Purpose: gatehouse.PurposeRole, Details: details, Refs: []string{sets["stack-write"]}}
		roles = append(roles, "")
		err := tx.CreateDescriptor(ctx, d)
		roles[len(roles)-1] = d.ID
		return err
	})
	batch(10000, func(tx gatehouse.Tx, i int) error {
		s := &gatehouse.Stack{OrgID: f.org.ID, Project: "p", Name: fmt.Sprintf("s%d", i),
			Tags: map[string]string{"team": fmt.Sprintf("team-%d", i%50), "env": "prod", "region": "eu", "tier": "1"}}
		stackIDs = append(stackIDs, "")
		err := tx.CreateStack(ctx, s)
		stackIDs[len(stackIDs)-1] = s.ID
		return err
	})
	batch(50000, func(tx gatehouse.Tx, i int) error {
		v, d := gatehouse.NewTokenValue()
		values = append(values, v)
		return tx.CreateToken(ctx, &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: fmt.Sprintf("t%d", i),
			Digest: d, RoleID: roles[i%len(roles)]})
	})
	if err := f.az.Refresh(ctx, f.org.ID); err != nil {
		b.Fatal(err)
	}
	entities := make([]*gatehouse.Entity, 1024)
	for i := range entities {
		e, err := f.az.EntityByID(ctx, f.org.ID, stackIDs[(i*37)%len(stackIDs)])
		if err != nil {
			b.Fatal(err)
		}
		entities[i] = e
	}
	headers := make([]string, 1024)
	for i := range headers {
		headers[i] = "token " + values[(i*7919)%len(values)]
	}
	sc := catalog.MustLookup("stack:write")
	b.Run("mixed", func(b *testing.B) {
		b.ReportAllocs()
		allowed := 0
		for i := 0; i < b.N; i++ {
			id, err := f.az.Authenticate(headers[i&1023])
			if err != nil {
				b.Fatal(err)
			}
			ok, err := f.az.Decide(ctx, id, f.org.ID, sc, entities[i&1023])
			if err != nil {
				b.Fatal(err)
			}
			if ok {
				allowed++
			}
		}
		b.ReportMetric(float64(allowed)/float64(b.N), "allowed/op")
	})
	// The allow path alone, through Decide and through Authorize: the
	// pairs of token and stack that are allowed.
	var ids []*gatehouse.Identity
	var ents []*gatehouse.Entity
	for i := 0; len(ids) < 1024 && i < 1<<20; i++ {
		id, _ := f.az.Authenticate(headers[i&1023])
		if ok, _ := f.az.Decide(ctx, id, f.org.ID, sc, entities[(i/1024)&1023]); ok {
			ids, ents = append(ids, id), append(ents, entities[(i/1024)&1023])
		}
	}
	if len(ids) < 1024 {
		b.Fatalf("only %d allowed pairs", len(ids))
	}
	b.Run("allow/Decide", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if ok, err := f.az.Decide(ctx, ids[i&1023], f.org.ID, sc, ents[i&1023]); !ok || err != nil {
				b.Fatal("denied")
			}
		}
	})
	b.Run("allow/Authorize", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if d, err := f.az.Authorize(ctx, ids[i&1023], f.org.ID, sc, ents[i&1023]); !d.Allowed || err != nil {
				b.Fatal("denied")
			}
		}
	})
}

// TestAddTokenAtSkipsTheRebuildOnlyWhenNothingElseChanged: a token whose
// creation was the organization's only change since the snapshot marks the
// snapshot current; with another change between, the snapshot stays behind
// so that the next sync rebuilds it.
func TestAddTokenAtSkipsTheRebuildOnlyWhenNothingElseChanged(t *testing.T) {
	f := newFixture(t)
	if err := f.az.Refresh(ctx, f.org.ID); err != nil {
		t.Fatal(err)
	}
	create := func(name string) (*gatehouse.Token, int64) {
		t.Helper()
		tok := &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: name, Expires: f.clock.Add(time.Hour)}
		_, tok.Digest = gatehouse.NewTokenValue()
		var rev int64
		err := f.db.Write(ctx, func(tx gatehouse.Tx) error {
			if err := tx.CreateToken(ctx, tok); err != nil {
				return err
			}
			o, err := tx.GetOrg(ctx, f.org.ID)
			rev = o.Revision
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return tok, rev
	}
	before := f.az.Revision(f.org.ID)
	tok, rev := create("first")
	if rev != before+1 {
		t.Fatalf("creating a token moved the revision from %d to %d", before, rev)
	}
	f.az.AddTokenAt(rev, tok)
	if got := f.az.Revision(f.org.ID); got != rev {
		t.Errorf("after the only change, Revision = %d, want %d", got, rev)
	}

	// Tokens committed together may be reported in either order.
	tokA, revA := create("a")
	tokB, revB := create("b")
	f.az.AddTokenAt(revB, tokB)
	if got := f.az.Revision(f.org.ID); got != rev {
		t.Fatalf("with %d not yet reported, Revision = %d, want %d", revA, got, rev)
	}
	f.az.AddTokenAt(revA, tokA)
	if got := f.az.Revision(f.org.ID); got != revB {
		t.Fatalf("after both, Revision = %d, want %d", got, revB)
	}
	rev = revB

	// Another writer changes a setting; then this process adds a token.
	err := f.db.Write(ctx, func(tx gatehouse.Tx) error {
		o, err := tx.GetOrg(ctx, f.org.ID)
		if err != nil {
			return err
		}
		o.Settings.AuditRetention = 48 * time.Hour
		return tx.UpdateOrg(ctx, o)
	})
	if err != nil {
		t.Fatal(err)
	}
	tok2, rev2 := create("second")
	f.az.AddTokenAt(rev2, tok2)
	if got := f.az.Revision(f.org.ID); got != rev {
		t.Fatalf("with another change between, Revision = %d, want it left at %d", got, rev)
	}
	// The next sync picks up the other change.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go f.az.Watch(wctx, 10*time.Millisecond, nil, nil)
	deadline := time.Now().Add(2 * time.Second)
	for f.az.Revision(f.org.ID) != rev2 {
		if time.Now().After(deadline) {
			t.Fatalf("Watch never rebuilt: Revision = %d, want %d", f.az.Revision(f.org.ID), rev2)
		}
		time.Sleep(5 * time.Millisecond)
	}
	o, err := f.az.Org(ctx, "acme")
	if err != nil || o.Settings.AuditRetention != 48*time.Hour {
		t.Errorf("after the rebuild the organization is %+v, %v", o, err)
	}
}

// TestReplicaAppliesAnnouncedChanges: on PostgreSQL, a token created
// through one replica reaches another through its announcement, without a
// rebuild; so does any other change (a delta). Needs
// GATEHOUSE_TEST_POSTGRES_DSN.
func TestReplicaAppliesAnnouncedChanges(t *testing.T) {
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
	if _, err := svc1.Bootstrap(ctx, "acme", "admin"); err != nil {
		t.Fatal(err)
	}
	az2 := authz.New(db2, nil)
	if err := az2.LoadAll(ctx); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go az2.Watch(wctx, time.Hour, db2.Changes(wctx), nil) // announcements only
	var org *gatehouse.Organization
	if err := db1.Read(ctx, func(tx gatehouse.Tx) (err error) { org, err = tx.GetOrgByName(ctx, "acme"); return err }); err != nil {
		t.Fatal(err)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("replica 2 never %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	before := az2.Rebuilds()
	tok := &gatehouse.Token{Kind: gatehouse.TokenOrganization, OrgID: org.ID, Name: "exchanged", Expires: time.Now().Add(time.Hour)}
	value, digest := gatehouse.NewTokenValue()
	tok.Digest = digest
	var rev int64
	if err := db1.Write(ctx, func(tx gatehouse.Tx) error {
		if err := tx.CreateToken(ctx, tok); err != nil {
			return err
		}
		o, err := tx.GetOrg(ctx, org.ID)
		rev = o.Revision
		return err
	}); err != nil {
		t.Fatal(err)
	}
	az1.AddTokenAt(rev, tok)
	waitFor("authenticated the new token", func() bool { _, err := az2.Authenticate("token " + value); return err == nil })
	if got := az2.Revision(org.ID); got != rev {
		t.Errorf("replica 2 is at revision %d, want %d", got, rev)
	}
	if got := az2.Rebuilds(); got != before {
		t.Errorf("replica 2 rebuilt %d times for a new token", got-before)
	}
	if got := az1.Revision(org.ID); got != rev {
		t.Errorf("replica 1 is at revision %d, want %d", got, rev)
	}
	// Anything else applies as a delta too.
	deltas := az2.Deltas()
	if err := db1.Write(ctx, func(tx gatehouse.Tx) error {
		o, err := tx.GetOrg(ctx, org.ID)
		if err != nil {
			return err
		}
		o.Settings.AuditRetention = 72 * time.Hour
		return tx.UpdateOrg(ctx, o)
	}); err != nil {
		t.Fatal(err)
	}
	waitFor("took a settings change", func() bool {
		o, err := az2.Org(ctx, "acme")
		return err == nil && o.Settings.AuditRetention == 72*time.Hour
	})
	if az2.Rebuilds() != before || az2.Deltas() == deltas {
		t.Errorf("replica 2 rebuilt %d times and applied %d deltas for a settings change, want 0 and 1", az2.Rebuilds()-before, az2.Deltas()-deltas)
	}
}

// TestVisibleStacksAndWhoCan: lists in id order, page by page, only what
// the identity may read; the reverse question names members, teams and
// organization tokens that hold a scope on an entity.
func TestVisibleStacksAndWhoCan(t *testing.T) {
	f := newFixture(t)
	var ids []string
	err := f.db.Write(ctx, func(tx gatehouse.Tx) error {
		for i := 0; i < 7; i++ {
			env := "dev"
			if i%2 == 1 {
				env = "prod"
			}
			st := &gatehouse.Stack{OrgID: f.org.ID, Project: "app", Name: fmt.Sprint("s", i), Tags: map[string]string{"env": env}}
			if err := tx.CreateStack(ctx, st); err != nil {
				return err
			}
			if env == "dev" {
				ids = append(ids, st.ID)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
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
	tok, value, err := f.svc.CreateToken(ctx, service.TokenInput{Kind: gatehouse.TokenOrganization, OrgID: f.org.ID, Name: "reader", RoleID: role.ID})
	if err != nil {
		t.Fatal(err)
	}
	id, err := f.az.Authenticate("token " + value)
	if err != nil {
		t.Fatal(err)
	}
	read := catalog.MustLookup("stack:read")
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		refs, next, err := f.az.VisibleStacks(ctx, id, f.org.ID, read, after, 2, nil)
		if err != nil || pages > 10 {
			t.Fatalf("VisibleStacks: %v after %d pages", err, pages)
		}
		for _, r := range refs {
			got = append(got, r.ID)
		}
		if after = next; next == "" {
			break
		}
	}
	slices.Sort(ids)
	if !slices.Equal(got, ids) {
		t.Errorf("visible stacks %v, want the dev ones in id order %v", got, ids)
	}
	refs, _, _ := f.az.VisibleStacks(ctx, id, f.org.ID, read, "", 10, func(r *authz.StackRef) bool { return r.Name == "s2" })
	if len(refs) != 1 || refs[0].Name != "s2" {
		t.Errorf("filtered = %+v", refs)
	}

	e, err := f.az.Entity(ctx, f.org.ID, gatehouse.EntityStack, "app/s0")
	if err != nil {
		t.Fatal(err)
	}
	holders, err := f.az.WhoCan(ctx, f.org.ID, read, e)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, h := range holders {
		names = append(names, h.Kind+":"+h.Name)
	}
	if !slices.Contains(names, "token:"+tok.Name) || !slices.Contains(names, "user:admin") {
		t.Errorf("who can read app/s0: %v", names)
	}
	prod, _ := f.az.Entity(ctx, f.org.ID, gatehouse.EntityStack, "app/s1")
	holders, _ = f.az.WhoCan(ctx, f.org.ID, read, prod)
	for _, h := range holders {
		if h.Kind == "token" && h.Name == tok.Name {
			t.Errorf("the dev reader can read a prod stack")
		}
	}
}
