package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
	"github.com/gatehouse-iam/gatehouse/store"
	"github.com/gatehouse-iam/gatehouse/store/storetest"
)

// These tests race the check-then-write use cases that do not go through
// the service's write (and so took no organization lock): tag changes,
// environment definitions, invitation changes. Each fails on PostgreSQL
// at READ COMMITTED without the lock.

// raceTags adds n distinct tags at once through both replicas, and
// returns the entity's tags after.
func raceTags(t *testing.T, n int, add func(i int) error, tags func() map[string]string) map[string]string {
	t.Helper()
	mustRace(t, n, add)
	got := tags()
	for i := range n {
		if k := fmt.Sprintf("k%d", i); got[k] != "v" {
			t.Errorf("tag %s lost: the tags after %d concurrent adds are %v", k, n, got)
			break
		}
	}
	return got
}

// mustRace races fn n times, failing the test on any error.
func mustRace(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	for _, err := range storetest.Race(n, fn) {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// invite invites login to the organization orgID and returns the view.
func invite(t *testing.T, e *testenv.Env, orgID, login string) *service.InviteView {
	t.Helper()
	v, err := e.Svc.Invite(context.Background(), orgID, service.InviteInput{Login: login})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// tagsChainHolds checks that each tag event's "before" is the tags the
// previous event left.
func tagsChainHolds(t *testing.T, e *testenv.Env, typ string, first map[string]string) {
	t.Helper()
	events, _, err := e.Svc.AuditEvents(context.Background(), e.Org.ID, gatehouse.AuditFilter{Types: []string{typ}}, gatehouse.ListOptions{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) == 0 {
		t.Fatalf("no %s events", typ)
	}
	prev := first
	for _, ev := range events {
		var d struct{ Before, After map[string]string }
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(d.Before, prev) {
			t.Errorf("%s event %d: before %v, but the previous change left %v", typ, ev.Seq, d.Before, prev)
			return
		}
		prev = d.After
	}
}

// Tags added to one stack at once, each a different one: none is lost.
func TestStackTagsConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		r := newStackRace(t, e)
		const n = 16
		raceTags(t, n, func(i int) error {
			return r.svcs[i%2].ChangeStackTags(ctx, r.st, service.TagUpdate{Add: &[2]string{fmt.Sprintf("k%d", i), "v"}})
		}, func() map[string]string {
			st, err := e.Svc.Stack(ctx, e.Org.ID, "app", "dev")
			if err != nil {
				t.Fatal(err)
			}
			return st.Tags
		})
		tagsChainHolds(t, e, gatehouse.EventStackTagsChanged, r.st.Tags)
	})
}

// Tags added to one environment at once: none is lost.
func TestEnvironmentTagsConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		svcs := replicas(t, e)
		env, err := e.Svc.CreateEnvironment(ctx, e.Org.ID, e.Identity(t, e.Admin), "app", "dev")
		if err != nil {
			t.Fatal(err)
		}
		const n = 16
		raceTags(t, n, func(i int) error {
			return svcs[i%2].ChangeEnvironmentTags(ctx, env, service.TagUpdate{Add: &[2]string{fmt.Sprintf("k%d", i), "v"}})
		}, func() map[string]string {
			cur, err := e.Svc.Environment(ctx, e.Org.ID, "app", "dev")
			if err != nil {
				t.Fatal(err)
			}
			return cur.Tags
		})
		tagsChainHolds(t, e, gatehouse.EventEnvTagsChanged, env.Tags)
	})
}

// Definitions written at once without a version (-1) never conflict:
// each applies over the one before, as on SQLite.
func TestEnvironmentDefinitionsConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		svcs := replicas(t, e)
		by := e.Identity(t, e.Admin)
		env, err := e.Svc.CreateEnvironment(ctx, e.Org.ID, by, "app", "dev")
		if err != nil {
			t.Fatal(err)
		}
		const n = 24
		conflicts := 0
		for _, err := range storetest.Race(n, func(i int) error {
			_, err := svcs[i%2].UpdateDefinition(ctx, env, fmt.Appendf(nil, "values:\n  n: %d\n", i), -1, by)
			return err
		}) {
			if gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
				conflicts++
			} else if err != nil {
				t.Fatal(err)
			}
		}
		if conflicts > 0 {
			t.Errorf("%s: %d of %d definitions written without a version got a conflict", e.DB.Dialect(), conflicts, n)
		}
		if cur, err := e.Svc.Environment(ctx, e.Org.ID, "app", "dev"); err != nil || cur.Version != env.Version+n-conflicts {
			t.Errorf("the environment after %d writes: %+v, %v; want version %d", n-conflicts, cur, err, env.Version+n-conflicts)
		}
	})
}

// Concurrent changes of one invitation's expiry: each invite_updated
// event's "before" is the expiry the previous change left.
func TestInviteUpdatedBeforeConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		svcs := replicas(t, e)
		if _, err := e.Svc.CreateOrgWithAdmin(ctx, "other", "carol", false); err != nil {
			t.Fatal(err)
		}
		v := invite(t, e, e.Org.ID, "carol")
		const n = 16
		base := e.Clock.Now().Add(time.Hour).Unix()
		mustRace(t, n, func(i int) error {
			_, err := svcs[i%2].UpdateInvite(ctx, e.Org.ID, v.Invite.ID, service.InviteInput{Expires: base + int64(i)})
			return err
		})
		events := eventsOf(t, e, gatehouse.EventInviteUpdated, n)
		prev := v.Invite.Expires.Truncate(time.Microsecond)
		for _, ev := range events {
			var d struct{ Before, After struct{ Expires time.Time } }
			if err := json.Unmarshal(ev.Data, &d); err != nil {
				t.Fatal(err)
			}
			if !d.Before.Expires.Equal(prev) {
				t.Errorf("event %d: before %v, but the previous change left %v", ev.Seq, d.Before.Expires, prev)
			}
			prev = d.After.Expires
		}
	})
}

// Tags of one Insights account replaced at once: each
// account_tags_changed event's "before" is what the previous one left.
func TestAccountTagsBeforeConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		svcs := replicas(t, e)
		a, err := e.Svc.CreateAccount(ctx, e.Org.ID, e.Identity(t, e.Admin), service.AccountInput{Name: "prod", Provider: "aws", Environment: "app/creds"})
		if err != nil {
			t.Fatal(err)
		}
		const n = 16
		mustRace(t, n, func(i int) error {
			return svcs[i%2].SetAccountTags(ctx, a, map[string]string{fmt.Sprintf("k%d", i): "v"})
		})
		tagsChainHolds(t, e, gatehouse.EventAccountTagsChanged, a.Tags)
	})
}

// dyingStore is a store whose next transaction loses its connection at
// the end of its closure, once (after meanwhile, when set, has run): the
// store runs the transaction again on a fresh connection, so the closure
// runs twice.
type dyingStore struct {
	gatehouse.Store
	p         *storetest.Proxy
	armed     atomic.Bool
	meanwhile func()
}

func (d *dyingStore) Read(ctx context.Context, fn func(gatehouse.Tx) error) error {
	return d.Store.Read(ctx, d.dying(ctx, fn))
}

func (d *dyingStore) Write(ctx context.Context, fn func(gatehouse.Tx) error) error {
	return d.Store.Write(ctx, d.dying(ctx, fn))
}

func (d *dyingStore) dying(ctx context.Context, fn func(gatehouse.Tx) error) func(gatehouse.Tx) error {
	return func(tx gatehouse.Tx) error {
		if err := fn(tx); err != nil || !d.armed.CompareAndSwap(true, false) {
			return err
		}
		if d.meanwhile != nil {
			d.meanwhile()
		}
		d.p.Kill()
		_, _, err := tx.ListOrgs(ctx, gatehouse.ListOptions{Limit: 1})
		return err
	}
}

// dyingReplica is a replica of the environment's service over a dyingStore
// (through a proxy of its own).
func dyingReplica(t *testing.T, e *testenv.Env) (*dyingStore, *service.Service) {
	t.Helper()
	p, proxied := storetest.NewProxy(t, e.DSN)
	db, err := store.Open(context.Background(), proxied, store.Options{Now: e.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	dying := &dyingStore{Store: db, p: p}
	svc := service.New(dying, authz.New(db, e.Clock.Now), e.Clock.Now)
	svc.Keys = e.Svc.Keys
	return dying, svc
}

// A definition written without a version whose transaction met a dead
// connection is written again over whatever the environment is at then,
// not refused as changed meanwhile: the retried closure starts over.
func TestDefinitionRetriedAfterDeadConnection(t *testing.T) {
	e := testenv.New(t, testenv.Postgres())
	ctx := context.Background()
	by := e.Identity(t, e.Admin)
	env, err := e.Svc.CreateEnvironment(ctx, e.Org.ID, by, "app", "dev")
	if err != nil {
		t.Fatal(err)
	}
	dying, svc := dyingReplica(t, e)
	// Warm the key cache: the next write is the definition's.
	if _, err := svc.UpdateDefinition(ctx, env, []byte("values:\n  a: 1\n"), -1, by); err != nil {
		t.Fatal(err)
	}
	other := make(chan error, 1)
	dying.meanwhile = func() {
		// Another replica writes while the first attempt is open; it
		// waits for the attempt's organization lock, freed once the
		// server sees the connection die, and commits before the retry.
		go func() {
			_, err := e.Svc.UpdateDefinition(ctx, env, []byte("values:\n  b: 2\n"), -1, by)
			other <- err
		}()
		time.Sleep(200 * time.Millisecond)
	}
	dying.armed.Store(true)
	v, err := svc.UpdateDefinition(ctx, env, []byte("values:\n  c: 3\n"), -1, by)
	if err != nil {
		t.Errorf("a definition without a version, retried after a dead connection: %v", err)
	}
	if err := <-other; err != nil {
		t.Errorf("the other replica's definition: %v", err)
	}
	if cur, err := e.Svc.Environment(ctx, e.Org.ID, "app", "dev"); err != nil || cur.Version != 4 {
		t.Errorf("the environment after three writes: %+v, %v; want version 4 (the retried write made %d)", cur, err, v)
	}
}

// A list read whose connection dies under it is run again on a fresh one
// (store.guard); the second run's list must not come on top of the
// first's: each list has as many items as without the dead connection.
func TestListsAfterDeadConnection(t *testing.T) {
	e := testenv.New(t, testenv.Postgres())
	ctx := context.Background()
	if _, err := e.Svc.AddMember(ctx, e.Org.ID, "bob", "member"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.CreateOrgWithAdmin(ctx, "other", "carol", false); err != nil {
		t.Fatal(err)
	}
	carol := invite(t, e, e.Org.ID, "carol").User
	by := e.Identity(t, e.Admin)
	for _, name := range []string{"dev", "prod"} {
		if _, err := e.Svc.CreateEnvironment(ctx, e.Org.ID, by, "app", name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Svc.CreateAccount(ctx, e.Org.ID, by, service.AccountInput{Name: "prod", Provider: "aws", Environment: "app/creds"}); err != nil {
		t.Fatal(err)
	}
	dying, svc := dyingReplica(t, e)
	all := func(*gatehouse.Environment) bool { return true }
	lists := map[string]func(s *service.Service) (int, error){
		"Members": func(s *service.Service) (int, error) {
			out, _, err := s.Members(ctx, e.Org.ID, gatehouse.ListOptions{Limit: 100})
			return len(out), err
		},
		"Orgs": func(s *service.Service) (int, error) { out, err := s.Orgs(ctx); return len(out), err },
		"Invites": func(s *service.Service) (int, error) {
			out, err := s.Invites(ctx, e.Org.ID)
			return len(out), err
		},
		"PendingInvites": func(s *service.Service) (int, error) {
			out, err := s.PendingInvites(ctx, carol.ID)
			return len(out), err
		},
		"UserOrgs": func(s *service.Service) (int, error) {
			out, err := s.UserOrgs(ctx, carol.ID)
			return len(out), err
		},
		"Accounts": func(s *service.Service) (int, error) {
			out, _, err := s.Accounts(ctx, e.Org.ID, func(*gatehouse.Account) bool { return true }, gatehouse.ListOptions{Limit: 100})
			return len(out), err
		},
		"Environments": func(s *service.Service) (int, error) {
			out, _, err := s.Environments(ctx, e.Org.ID, all, gatehouse.ListOptions{Limit: 100})
			return len(out), err
		},
	}
	for name, list := range lists {
		want, err := list(e.Svc)
		if err != nil || want == 0 {
			t.Fatalf("%s: %d, %v", name, want, err)
		}
		dying.armed.Store(true)
		got, err := list(svc)
		if err != nil {
			t.Errorf("%s after a dead connection: %v", name, err)
		} else if got != want {
			t.Errorf("%s after a dead connection: %d items, want %d", name, got, want)
		}
	}
}

// A running update's checkpoints, events and renewals (under the stack's
// lock) racing tag changes of its stack (the organization's lock, then
// the stack's row): no deadlock (40P01) nor any other error reaches a
// client.
func TestStackLockAndOrgLockNoDeadlock(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		r := newStackRace(t, e)
		u := r.create(t)
		if _, err := r.svcs[0].StartUpdate(ctx, r.st, u.ID, r.by, nil, false); err != nil {
			t.Fatal(err)
		}
		const n = 60
		mustRace(t, n, func(i int) error {
			svc := r.svcs[i%2]
			switch i % 4 {
			case 0:
				return svc.ChangeStackTags(ctx, r.st, service.TagUpdate{Merge: map[string]string{"k": fmt.Sprint(i)}})
			case 1:
				return svc.PatchCheckpoint(ctx, u.ID, i, []byte(deployment))
			case 2:
				return svc.RecordEvents(ctx, u.ID, []json.RawMessage{json.RawMessage(fmt.Sprintf(`{"sequence":%d}`, i))})
			default:
				_, err := svc.RenewLease(ctx, u, 0)
				return err
			}
		})
	})
}

// An invitation accepted while the organization invites the same user
// again: the user ends a member with no invitation pending (the second
// invitation is refused, as the user is a member or still invited).
func TestInviteAcceptedWhileInvitedAgain(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		svcs := replicas(t, e)
		if _, err := e.Svc.CreateOrgWithAdmin(ctx, "other", "carol", false); err != nil {
			t.Fatal(err)
		}
		for round := range 20 {
			v := invite(t, e, e.Org.ID, "carol")
			errs := storetest.Race(2, func(i int) error {
				if i == 0 {
					_, err := svcs[0].AcceptInvite(ctx, v.User, v.Invite.ID)
					return err
				}
				_, err := svcs[1].Invite(ctx, e.Org.ID, service.InviteInput{Login: "carol"})
				return err
			})
			if errs[0] != nil {
				t.Fatalf("round %d: accept: %v", round, errs[0])
			}
			if gatehouse.ErrorCode(errs[1]) != gatehouse.ECONFLICT {
				is, _ := e.Svc.Invites(ctx, e.Org.ID)
				t.Fatalf("round %d: inviting a member: %v; %d invitations pending for a member", round, errs[1], len(is))
			}
			if err := e.Svc.RemoveMember(ctx, e.Org.ID, "carol", e.Identity(t, e.Admin)); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// A user of several organizations creates personal tokens (which lock
// the user's organizations in id order) while others of the user's
// personal tokens are revoked (which bump each organization's revision):
// no deadlock (40P01) nor any other error reaches a client.
func TestPersonalTokensNoDeadlock(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		svcs := replicas(t, e)
		if _, err := e.Svc.CreateOrgWithAdmin(ctx, "o0", "carol", false); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			orgID := e.Org.ID
			if i > 0 {
				if _, err := e.Svc.CreateOrgWithAdmin(ctx, fmt.Sprintf("o%d", i), fmt.Sprintf("admin%d", i), false); err != nil {
					t.Fatal(err)
				}
				orgID = mustOrg(t, e, fmt.Sprintf("o%d", i))
			}
			v := invite(t, e, orgID, "carol")
			if _, err := e.Svc.AcceptInvite(ctx, v.User, v.Invite.ID); err != nil {
				t.Fatal(err)
			}
		}
		m, err := e.Svc.Member(ctx, e.Org.ID, "carol")
		if err != nil {
			t.Fatal(err)
		}
		carol := m.Membership.UserID
		const n = 40
		ids := make([]string, n)
		for i := range n {
			tok, _, err := e.Svc.CreateToken(ctx, service.TokenInput{Kind: gatehouse.TokenPersonal, UserID: carol, Description: fmt.Sprint("pre ", i), CreatedBy: carol})
			if err != nil {
				t.Fatal(err)
			}
			ids[i] = tok.ID
		}
		deadlocks := 0
		for _, err := range storetest.Race(2*n, func(i int) error {
			svc := svcs[i%2]
			if i < n {
				return svc.RevokeToken(ctx, ids[i], func(*gatehouse.Token) error { return nil })
			}
			_, _, err := svc.CreateToken(ctx, service.TokenInput{Kind: gatehouse.TokenPersonal, UserID: carol, Description: fmt.Sprint("new ", i), CreatedBy: carol})
			return err
		}) {
			if err != nil {
				deadlocks++
				t.Error(err)
			}
		}
		t.Logf("%s: %d of %d concurrent personal token writes failed", e.DB.Dialect(), deadlocks, 2*n)
	})
}

func mustOrg(t *testing.T, e *testenv.Env, name string) string {
	t.Helper()
	o, err := e.OrgByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return o.ID
}

// acceptAll is an ID token verifier of one issuer that accepts any token.
type acceptAll struct{ url string }

func (a acceptAll) Discover(context.Context, string, []string) (*gatehouse.Discovery, error) {
	return &gatehouse.Discovery{Issuer: a.url, JWKSURI: a.url + "/jwks"}, nil
}
func (a acceptAll) Verify(context.Context, *gatehouse.Issuer, string, []string) (map[string]any, error) {
	return map[string]any{"sub": "repo:acme/app"}, nil
}
func (a acceptAll) PeekIssuer(string) (string, error) { return a.url, nil }

// Token exchanges racing changes of their issuer (the organization's
// lock, then the issuer's row; an exchange touches the issuer's row
// first): no deadlock (40P01) nor any other error reaches a client.
func TestExchangeAndIssuerChangeNoDeadlock(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		svcs := replicas(t, e)
		v := acceptAll{url: "https://ci.example.test"}
		iss, err := e.Svc.RegisterIssuer(ctx, v, e.Org.ID, service.IssuerInput{Name: "ci", URL: v.url})
		if err != nil {
			t.Fatal(err)
		}
		pol, err := e.Svc.IssuerPolicy(ctx, e.Org.ID, iss.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.UpdatePolicy(ctx, e.Org.ID, pol.ID, []gatehouse.AuthPolicyRule{
			{Decision: "allow", TokenType: "organization", Rules: map[string]string{"sub": "repo:acme/*"}}}); err != nil {
			t.Fatal(err)
		}
		const n = 40
		failed := 0
		for _, err := range storetest.Race(n, func(i int) error {
			svc := svcs[i%2]
			if i%4 == 0 {
				life := time.Duration(i+1) * time.Minute
				_, err := svc.UpdateIssuer(ctx, e.Org.ID, iss.ID, service.IssuerInput{Name: "ci", URL: v.url, MaxExpiration: &life})
				return err
			}
			_, err := svc.Exchange(ctx, v, service.ExchangeRequest{OrgName: e.Org.Name, Audience: e.Org.Name, SubjectToken: "x", Kind: gatehouse.TokenOrganization})
			return err
		}) {
			if err != nil {
				failed++
				t.Error(err)
			}
		}
		t.Logf("%s: %d of %d failed", e.DB.Dialect(), failed, n)
	})
}

// A read sees one consistent state on PostgreSQL too (store.DB.Read): a
// write committed between two of its statements is seen by neither, so
// that a snapshot labelled with the organization's revision holds the
// rows of that revision and no later one.
func TestReadSeesOneState(t *testing.T) {
	e := testenv.New(t, testenv.Postgres())
	ctx := context.Background()
	by := e.Identity(t, e.Admin)
	var rev int64
	var envs []*gatehouse.Environment
	err := e.DB.Read(ctx, func(tx gatehouse.Tx) error {
		o, err := tx.GetOrg(ctx, e.Org.ID)
		if err != nil {
			return err
		}
		rev = o.Revision
		// Another request commits in between.
		if _, err := e.Svc.CreateEnvironment(ctx, e.Org.ID, by, "app", "dev"); err != nil {
			return err
		}
		envs, _, err = tx.ListEnvironments(ctx, e.Org.ID, gatehouse.ListOptions{Limit: 10})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(envs) != 0 {
		t.Errorf("a read that saw revision %d also saw the environment a later write made", rev)
	}
}

// Two replicas started at once on an empty database both bootstrap it:
// one makes the organization and its admin, the other finds it made; no
// start fails.
func TestBootstrapConcurrent(t *testing.T) {
	ctx := context.Background()
	for round := range 5 {
		dsn := storetest.PostgresSchema(t)
		var svcs [2]*service.Service
		for i := range svcs {
			db, err := store.Open(ctx, dsn, store.Options{AuditKey: storetest.AuditKey})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			svcs[i] = service.New(db, authz.New(db, time.Now), time.Now)
		}
		tokens := make([]string, 2)
		errs := storetest.Race(2, func(i int) (err error) {
			tokens[i], err = svcs[i].Bootstrap(ctx, "acme", "admin")
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: replica %d's bootstrap: %v", round, i, err)
			}
		}
		if (tokens[0] == "") == (tokens[1] == "") {
			t.Fatalf("round %d: tokens %q, %q: want one bootstrap to make the admin's", round, tokens[0], tokens[1])
		}
	}
}
