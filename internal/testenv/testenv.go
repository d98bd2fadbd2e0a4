// Package testenv is the one test environment of Gatehouse's tests: a
// store (a SQLite file in the test's temporary directory, or a PostgreSQL
// schema of its own when asked), an authorizer and a service on one fake
// clock, and a bootstrapped organization with its admin's token. The api,
// web, compat and cmd tests add their servers on top; the service's tests
// use it as it is.
package testenv

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/service"
	"github.com/gatehouse-iam/gatehouse/state"
	"github.com/gatehouse-iam/gatehouse/store"
	"github.com/gatehouse-iam/gatehouse/store/storetest"
)

// Env is one test's environment.
type Env struct {
	DB    *store.DB
	Authz *authz.Authorizer
	Svc   *service.Service
	Clock *Clock
	// DSN is what the store was opened with: a file path or a PostgreSQL
	// URL, for tests that open the database again (the host commands).
	DSN string
	// Org is the bootstrapped organization, Admin its admin's token.
	Org   *gatehouse.Organization
	Admin string
}

// Options are New's settings, changed by the Option functions.
type Options struct {
	// Postgres runs on a schema of its own on the server that
	// GATEHOUSE_TEST_POSTGRES_DSN names (the test is skipped without it).
	Postgres bool
	// OrgName and AdminLogin name the bootstrapped organization and its
	// admin (default "acme" and "admin").
	OrgName, AdminLogin string
	// Start, when set, freezes the clock at that time: it then moves only
	// when the test advances it. By default the clock is the real time
	// plus what the test advanced it by.
	Start time.Time
	// Store is applied to the store's options before it opens.
	Store func(*store.Options)
}

// Option changes New's settings.
type Option func(*Options)

// Postgres asks for PostgreSQL.
func Postgres() Option { return func(o *Options) { o.Postgres = true } }

// Org names the bootstrapped organization and its admin.
func Org(name, adminLogin string) Option {
	return func(o *Options) { o.OrgName, o.AdminLogin = name, adminLogin }
}

// Start freezes the clock at t.
func Start(t time.Time) Option { return func(o *Options) { o.Start = t } }

// Store changes the store's options.
func Store(f func(*store.Options)) Option { return func(o *Options) { o.Store = f } }

// New opens a fresh environment, closed when the test ends.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	o := Options{OrgName: "acme", AdminLogin: "admin"}
	for _, f := range opts {
		f(&o)
	}
	clock := &Clock{}
	if !o.Start.IsZero() {
		clock = NewClock(o.Start)
	}
	dsn := filepath.Join(t.TempDir(), "gatehouse.db")
	if o.Postgres {
		dsn = storetest.PostgresSchema(t)
	}
	so := store.Options{Now: clock.Now}
	if o.Store != nil {
		o.Store(&so)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	az := authz.New(db, clock.Now)
	svc := service.New(db, az, clock.Now)
	if svc.Keys, err = state.NewKeyring(bytes.Repeat([]byte{7}, 32)); err != nil {
		t.Fatal(err)
	}
	token, err := svc.Bootstrap(ctx, o.OrgName, o.AdminLogin)
	if err != nil || token == "" {
		t.Fatalf("bootstrap: %q, %v", token, err)
	}
	e := &Env{DB: db, Authz: az, Svc: svc, Clock: clock, DSN: dsn, Admin: token}
	if e.Org, err = e.OrgByName(o.OrgName); err != nil {
		t.Fatal(err)
	}
	return e
}

// OrgByName finds an organization.
func (e *Env) OrgByName(name string) (*gatehouse.Organization, error) {
	return OrgByName(context.Background(), e.Svc, name)
}

// OrgByName finds an organization through the service.
func OrgByName(ctx context.Context, svc *service.Service, name string) (*gatehouse.Organization, error) {
	orgs, err := svc.Orgs(ctx)
	if err != nil {
		return nil, err
	}
	for _, o := range orgs {
		if o.Name == name {
			return o, nil
		}
	}
	return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "organization %q not found", name)
}

// Identity authenticates a token, failing the test when it is not valid.
func (e *Env) Identity(t testing.TB, token string) *gatehouse.Identity {
	t.Helper()
	id, err := e.Authz.Authenticate("token " + token)
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	return id
}

// Clock is the environment's clock: the real time shifted by what the
// test advanced it by, or, when frozen (NewClock), a time that moves only
// when advanced.
type Clock struct {
	mu     sync.Mutex
	frozen bool
	now    time.Time     // frozen
	offset time.Duration // not frozen
}

// NewClock returns a clock frozen at start.
func NewClock(start time.Time) *Clock { return &Clock{frozen: true, now: start} }

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		return c.now
	}
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.offset += d
	c.mu.Unlock()
}
