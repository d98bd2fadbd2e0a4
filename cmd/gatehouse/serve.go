package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api"
	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/oidc"
	"github.com/gatehouse-iam/gatehouse/service"
	"github.com/gatehouse-iam/gatehouse/state"
	"github.com/gatehouse-iam/gatehouse/store"
	"github.com/gatehouse-iam/gatehouse/web"
)

func newServeCmd() *cobra.Command {
	return newServeCmdWith(func(cmd *cobra.Command, cfg Config) error {
		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		m := &Main{Config: cfg, Stderr: cmd.ErrOrStderr()}
		if err := m.Run(ctx); err != nil {
			return err
		}
		<-ctx.Done()
		// A second signal ends the drain's delay early.
		again, stopAgain := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stopAgain()
		stop()
		return m.Stop(again)
	})
}

// newServeCmdWith builds the serve command around run, which gets the
// resolved configuration.
func newServeCmdWith(run func(*cobra.Command, Config) error) *cobra.Command {
	cfg := DefaultConfig()
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Gatehouse server",
		Long: `Run the Gatehouse server. On an empty database it first creates an organization and
its first admin, and shows the admin's access token once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := resolveConfig(cmd, &cfg); err != nil {
				return err
			}
			return run(cmd, cfg)
		},
	}
	bindConfig(cmd, &cfg)
	return cmd
}

// Main is the running program: every part wired together. Tests start it
// on 127.0.0.1:0 with a temporary database.
type Main struct {
	Config Config
	Stderr io.Writer
	// Addr is the address the server listens on, once Run returns.
	Addr string
	// MetricsAddr is the address /metrics is served on when
	// Config.MetricsListen is set, once Run returns.
	MetricsAddr string

	db       *store.DB
	az       *authz.Authorizer
	server   *http.Server
	metrics  *http.Server
	cancel   context.CancelFunc
	done     chan struct{}
	log      *slog.Logger
	logBuf   *logBuffer
	Service  *service.Service
	Handler  http.Handler
	api      *api.Server
	serveErr chan error
	// inFlight counts the requests being served.
	inFlight atomic.Int64
}

func newLogger(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	if b, ok := w.(*logBuffer); ok {
		h = flushingHandler{h, b}
	}
	return slog.New(h)
}

// Run opens the database, bootstraps it when empty, loads the snapshots and
// starts serving. It returns once the server listens.
func (m *Main) Run(ctx context.Context) error {
	if m.Stderr == nil {
		m.Stderr = os.Stderr
	}
	m.logBuf = newLogBuffer(m.Stderr)
	defer m.logBuf.Flush() // what Run logged, at once
	m.log = newLogger(m.logBuf, m.Config.LogFormat, m.Config.LogLevel)
	interval, err := time.ParseDuration(m.Config.RefreshInterval)
	if err != nil || interval <= 0 {
		return fmt.Errorf("refresh-interval: %q is not a positive duration", m.Config.RefreshInterval)
	}
	keys, err := m.openService(ctx)
	if err != nil {
		return err
	}
	if m.Config.AllowInsecureIssuers {
		m.log.Warn("OIDC issuers on loopback and private addresses are allowed and their certificates trusted on first use: for local testing only")
	}
	if err := m.buildHandler(keys); err != nil {
		m.db.Close()
		return err
	}
	ln, err := m.listen()
	if err != nil {
		m.db.Close()
		return err
	}
	m.start(ln, interval)
	return nil
}

// openService opens the database with the keys derived from the master
// key, builds the authorizer and the service over it, bootstraps an empty
// database and loads the snapshots. On an error the database is closed.
func (m *Main) openService(ctx context.Context) (derivedKeys, error) {
	master, err := m.masterKey()
	if err != nil {
		return derivedKeys{}, err
	}
	keys, err := deriveKeys(master)
	if err != nil {
		return keys, err
	}
	timeout, _ := time.ParseDuration(m.Config.DatabaseTimeout) // Validate checked it
	db, err := store.Open(ctx, m.Config.Database, store.Options{AuditKey: keys.audit, Timeout: timeout})
	if err != nil {
		return keys, err
	}
	m.db = db
	m.az = authz.New(db, nil)
	m.Service = service.New(db, m.az, nil)
	keys.apply(m.Service)
	m.Service.MaxCheckpoint = m.Config.MaxCheckpointMiB << 20
	if m.Service.Keys, err = state.NewKeyring(master); err != nil {
		db.Close()
		return keys, err
	}
	if err := m.bootstrap(ctx); err != nil {
		db.Close()
		return keys, err
	}
	if err := m.az.LoadAll(ctx); err != nil {
		db.Close()
		return keys, err
	}
	return keys, nil
}

// buildHandler builds the API server and the console over the service and
// sets m.Handler to the mux that serves both.
func (m *Main) buildHandler(keys derivedKeys) error {
	trusted, err := api.ParseTrustedProxies(m.Config.TrustedProxies)
	if err != nil {
		return fmt.Errorf("trusted-proxies: %w", err)
	}
	db := m.db
	srv := api.New(m.Service, m.az, api.Options{Logger: m.log, AuthFailuresPerMinute: m.Config.AuthFailureLimit, ContinuationKey: keys.continuation,
		TrustedProxies: trusted, MetricsElsewhere: m.Config.MetricsListen != "",
		Verifier: oidc.New(oidc.Options{AllowInsecure: m.Config.AllowInsecureIssuers}),
		Ready:    db.Ready})
	m.api = srv
	login, err := m.ssoLogin()
	if err != nil {
		return err
	}
	console := web.New(m.Service, m.az, srv, web.Options{Logger: m.log, Secure: m.Config.TLSCert != "", OIDC: login,
		PublicURL: m.Config.PublicURL})
	root := http.NewServeMux()
	root.Handle("/console/", console.Handler())
	// The paths the pulumi CLI's browser login and identity providers
	// know, redirected into the console.
	cli := console.RootHandler()
	root.Handle("GET /cli-login", cli)
	root.Handle("GET /welcome/", cli)
	root.Handle("GET /{$}", http.RedirectHandler("/console/", http.StatusSeeOther))
	root.Handle("/", srv.Handler())
	m.Handler = m.draining(root)
	return nil
}

// draining counts the requests in flight and, once the server drains,
// asks clients to close their connection after each response, so that by
// the time the listener closes they have moved off their keep-alive
// connections (a request on one the server closes as idle would get an
// EOF).
func (m *Main) draining(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.inFlight.Add(1)
		defer m.inFlight.Add(-1)
		if m.api.Draining() {
			w.Header().Set("Connection", "close")
		}
		h.ServeHTTP(w, r)
	})
}

// listen opens the main listener, setting m.Addr, and serves the metrics
// listener when one is configured.
func (m *Main) listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", m.Config.Listen)
	if err != nil {
		return nil, err
	}
	m.Addr = ln.Addr().String()
	if m.Config.MetricsListen != "" {
		if err := m.serveMetrics(m.api.MetricsHandler()); err != nil {
			ln.Close()
			return nil, err
		}
	}
	return ln, nil
}

// start runs the background work (token use, snapshot refresh every
// interval, audit retention) and serves on ln until Close.
func (m *Main) start(ln net.Listener, interval time.Duration) {
	m.server = &http.Server{Handler: m.Handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 120 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(m.log.Handler(), slog.LevelWarn)}
	bg, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.done = make(chan struct{})
	go func() {
		defer close(m.done)
		m.background(bg, interval)
	}()
	m.serveErr = make(chan error, 1)
	go func() {
		var err error
		if m.Config.TLSCert != "" {
			err = m.server.ServeTLS(ln, m.Config.TLSCert, m.Config.TLSKey)
		} else {
			err = m.server.Serve(ln)
		}
		if !errors.Is(err, http.ErrServerClosed) {
			m.log.Error("serve", "err", err)
		}
		m.serveErr <- err
	}()
	scheme := "http"
	if m.Config.TLSCert != "" {
		scheme = "https"
	}
	m.log.Info("gatehouse serving", "url", scheme+"://"+m.Addr, "database", m.db.Dialect())
}

// serveMetrics serves /metrics alone on the metrics listener, so that the
// main listener (which clients reach) does not expose it.
func (m *Main) serveMetrics(h http.Handler) error {
	ln, err := net.Listen("tcp", m.Config.MetricsListen)
	if err != nil {
		return fmt.Errorf("metrics-listen: %w", err)
	}
	m.MetricsAddr = ln.Addr().String()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	m.metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 16 << 10,
		ErrorLog: slog.NewLogLogger(m.log.Handler(), slog.LevelWarn)}
	go func() {
		if err := m.metrics.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			m.log.Error("serve metrics", "err", err)
		}
	}()
	m.log.Info("metrics serving", "url", "http://"+m.MetricsAddr+"/metrics")
	return nil
}

// background writes last-used times in batches and follows changes made
// elsewhere.
func (m *Main) background(ctx context.Context, interval time.Duration) {
	go m.az.Watch(ctx, interval, m.db.Changes(ctx), m.log)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	m.pruneAudit(ctx)
	m.pruneTokens(ctx)
	flush := func(ctx context.Context) {
		used := m.az.TakeUsed()
		if len(used) == 0 {
			return
		}
		if err := m.db.Write(ctx, func(tx gatehouse.Tx) error { return tx.TouchTokens(ctx, used) }); err != nil {
			m.log.Warn("record token use", "err", err)
		}
	}
	for {
		select {
		case <-ctx.Done():
			flush(context.Background())
			return
		case <-t.C:
			flush(ctx)
		case <-prune.C:
			m.pruneAudit(ctx)
			m.pruneTokens(ctx)
		}
	}
}

// pruneAudit applies each organization's audit retention.
func (m *Main) pruneAudit(ctx context.Context) {
	var orgs []*gatehouse.Organization
	err := m.db.Read(ctx, func(tx gatehouse.Tx) (err error) {
		orgs, _, err = tx.ListOrgs(ctx, gatehouse.ListOptions{Limit: gatehouse.MaxListLimit})
		return err
	})
	if err != nil {
		m.log.Warn("audit retention", "err", err)
		return
	}
	for _, o := range orgs {
		if n, err := m.Service.PruneAudit(ctx, o.ID); err != nil {
			m.log.Warn("audit retention", "org", o.Name, "err", err)
		} else if n > 0 {
			m.log.Info("pruned audit events past retention", "org", o.Name, "events", n)
		}
	}
}

// pruneTokens deletes the tokens expired or revoked longer than the
// retention ago, and logs what one run deleted.
func (m *Main) pruneTokens(ctx context.Context) {
	retention := duration(m.Config.TokenRetention)
	res, err := m.Service.PruneTokens(ctx, retention)
	if err != nil {
		m.log.Warn("token retention", "err", err)
		return
	}
	m.log.Info("pruned tokens past retention", "expired", res.Expired, "revoked", res.Revoked, "orgs", res.Orgs, "retention", retention.String())
}

// bootstrap creates the first organization and admin on an empty database
// and shows the admin's token once.
func (m *Main) bootstrap(ctx context.Context) error {
	token, err := m.Service.Bootstrap(ctx, m.Config.BootstrapOrg, m.Config.BootstrapAdmin)
	if err != nil || token == "" {
		return err
	}
	m.log.Info("bootstrapped an empty database", "organization", m.Config.BootstrapOrg, "admin", m.Config.BootstrapAdmin)
	if path := m.Config.BootstrapTokenFile; path != "" {
		if err := writePrivate(path, []byte(token+"\n")); err != nil {
			return fmt.Errorf("bootstrap-token-file: %w", err)
		}
		fmt.Fprintf(m.Stderr, "\nGatehouse created organization %q and its first admin %q.\nThe admin's access token is in %s (mode 0600).\n\n",
			m.Config.BootstrapOrg, m.Config.BootstrapAdmin, path)
		return nil
	}
	url := "http://" + m.Config.Listen
	fmt.Fprintf(m.Stderr, `
Gatehouse created organization %q and its first admin %q.
The admin's access token, shown this once and never again:

    %s

Next steps:
    pulumi login %s          (paste the token when asked)
    gatehouse admin issue-token --org %s --user %s   (if the token is lost)

`, m.Config.BootstrapOrg, m.Config.BootstrapAdmin, token, url, m.Config.BootstrapOrg, m.Config.BootstrapAdmin)
	return nil
}

// Stop is what SIGTERM does, the drain: /readyz answers 503 at once
// (Drain) while the server keeps serving for Config.ShutdownDelay, so that
// load balancers notice, or until ctx is done (a second signal); then
// Close.
func (m *Main) Stop(ctx context.Context) error {
	delay := duration(m.Config.ShutdownDelay)
	m.Drain()
	m.log.Info("draining: /readyz answers 503; serving on until the shutdown delay has passed", "shutdown_delay", delay.String())
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		m.log.Warn("shutdown delay cut short")
	}
	return m.Close()
}

// Drain turns /readyz to 503 and asks clients to close their
// connections after each response; everything is still served.
func (m *Main) Drain() {
	if m.api != nil {
		m.api.Drain()
	}
}

// Close stops serving and closes the database: the listeners close; the
// requests in flight may finish within Config.ShutdownTimeout (idle
// keep-alive connections are closed at once, http.Server.Shutdown), after
// which their connections are closed; then the audit events still queued
// are written, the background work stops and the database closes.
func (m *Main) Close() error {
	err := m.stopServing()
	if m.api != nil {
		m.api.Close() // write the audit events still queued
	}
	if m.cancel != nil {
		m.cancel()
		<-m.done
	}
	if m.db != nil {
		if e := m.db.Close(); err == nil {
			err = e
		}
	}
	if m.logBuf != nil {
		m.logBuf.Close()
	}
	return err
}

// stopServing closes the listeners and waits up to the shutdown timeout
// for the requests in flight, then closes the connections of those still
// running.
func (m *Main) stopServing() error {
	timeout := 15 * time.Second
	if m.Config.ShutdownTimeout != "" {
		timeout = duration(m.Config.ShutdownTimeout)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var err error
	if m.server != nil {
		m.log.Info("closing the listener: waiting for the requests in flight", "shutdown_timeout", timeout.String())
		if err = m.server.Shutdown(ctx); err != nil {
			// What is left may be connections that never sent a request
			// (Shutdown waits 5 s for those) rather than requests.
			if n := m.inFlight.Load(); n > 0 {
				m.log.Warn("requests still in flight at the shutdown timeout: closing their connections", "requests", n, "shutdown_timeout", timeout.String())
				err = fmt.Errorf("shutdown: %d requests still in flight after %s", n, timeout)
			} else {
				err = nil
			}
			m.server.Close()
		}
	}
	if m.metrics != nil {
		m.metrics.Shutdown(ctx)
		m.metrics.Close()
	}
	return err
}

// masterKey loads the master key: given in the configuration, or read from
// its file. With SQLite the file defaults to the database's path plus
// ".key" and is made on first start. Replicas on PostgreSQL must share one
// key, so there it must be given, and a missing file is an error rather
// than a new key.
func (m *Main) masterKey() ([]byte, error) {
	if m.Config.MasterKey != "" {
		return state.ParseMasterKey(m.Config.MasterKey)
	}
	path := m.Config.MasterKeyFile
	postgres := strings.HasPrefix(m.Config.Database, "postgres://") || strings.HasPrefix(m.Config.Database, "postgresql://")
	if path == "" {
		if postgres {
			return nil, fmt.Errorf("master-key-file or master-key: required with PostgreSQL, so that every replica seals stack secrets with the same key; make one with `gatehouse admin master-key FILE`")
		}
		path = m.Config.Database + ".key"
	}
	if postgres {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("master-key-file: %v; with PostgreSQL the key is not made on first start (every replica needs the same one): make it with `gatehouse admin master-key %s` and share it", err, path)
		}
	}
	if err := m.refuseNewKey(path); err != nil {
		return nil, err
	}
	key, created, err := state.LoadMasterKey(path)
	if err != nil {
		return nil, err
	}
	if created {
		m.log.Warn("created a new master key for stack secrets and the audit chain: back it up with the database; without it, stack secrets cannot be decrypted nor the audit chain verified", "file", path)
	}
	return key, nil
}

// refuseNewKey fails when the master key file at path is missing and the
// SQLite database already holds what the master key seals: a new key would
// open none of it (every decryption a 500, the audit chain unverifiable).
func (m *Main) refuseNewKey(path string) error {
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		return nil // there, or unreadable: LoadMasterKey says which
	}
	file := sqliteFile(m.Config.Database)
	if file == "" {
		return nil
	}
	if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
		return nil // a new database: its key is made with it
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := store.Open(ctx, m.Config.Database, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	sealed, err := db.Sealed(ctx)
	if err != nil {
		return err
	}
	if sealed.Any() {
		return fmt.Errorf("master-key-file: %s is missing, but the database %s holds %s sealed under its master key; a new key would open none of them, "+
			"so none is made: restore the key file (gatehouse backup writes it beside each backup, as BACKUP.key) or give --master-key-file or GATEHOUSE_MASTER_KEY", path, file, sealed)
	}
	return nil
}

// derivedKeys are the keys derived from the master key, one per purpose.
type derivedKeys struct {
	audit, checkpoint, continuation []byte
}

func deriveKeys(master []byte) (derivedKeys, error) {
	var k derivedKeys
	var err error
	for _, d := range []struct {
		dst   *[]byte
		label string
	}{{&k.audit, state.LabelAuditChain}, {&k.checkpoint, state.LabelAuditCheckpoint}, {&k.continuation, state.LabelContinuation}} {
		if *d.dst, err = state.DeriveKey(master, d.label); err != nil {
			return k, err
		}
	}
	return k, nil
}

// apply gives the service the audit chain's keys.
func (k derivedKeys) apply(svc *service.Service) {
	svc.AuditKey, svc.CheckpointKey = k.audit, k.checkpoint
}

// writePrivate writes a secret to path at mode 0600, an existing file
// included: its mode is narrowed (through the open file) before the
// secret is written, where os.WriteFile would keep a wider one.
func writePrivate(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	err = f.Chmod(0o600)
	if err == nil {
		err = f.Truncate(0)
	}
	if err == nil {
		_, err = f.Write(data)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ssoLogin is the OIDC sign-in of the console, fetching through the oidc
// package's guarded client, trusting --sso-ca-file's certificates too.
func (m *Main) ssoLogin() (*oidc.Login, error) {
	opts := oidc.Options{AllowInsecure: m.Config.AllowInsecureIssuers}
	if m.Config.SSOCAFile != "" {
		pem, err := os.ReadFile(m.Config.SSOCAFile)
		if err != nil {
			return nil, fmt.Errorf("sso-ca-file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("sso-ca-file: %s holds no PEM certificate", m.Config.SSOCAFile)
		}
		opts.RootCAs = pool
	}
	return oidc.NewLogin(opts), nil
}
