package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse/api"
)

// Config is everything `gatehouse serve` can be told. Values come from, in
// rising precedence: the defaults, a JSON file (--config), GATEHOUSE_*
// environment variables, and flags.
type Config struct {
	Listen             string `json:"listen" flag:"listen" help:"address to listen on"`
	Database           string `json:"database" flag:"database" help:"SQLite file path or postgres:// URL"`
	TLSCert            string `json:"tlsCert" flag:"tls-cert" help:"TLS certificate file (PEM); with --tls-key, serve HTTPS"`
	TLSKey             string `json:"tlsKey" flag:"tls-key" help:"TLS private key file (PEM)"`
	BootstrapOrg       string `json:"bootstrapOrg" flag:"bootstrap-org" help:"organization to create on an empty database"`
	BootstrapAdmin     string `json:"bootstrapAdmin" flag:"bootstrap-admin" help:"login of the first admin created on an empty database"`
	BootstrapTokenFile string `json:"bootstrapTokenFile" flag:"bootstrap-token-file" help:"write the first admin's token to this file (mode 0600) instead of showing it"`
	LogFormat          string `json:"logFormat" flag:"log-format" help:"log format: text or json"`
	LogLevel           string `json:"logLevel" flag:"log-level" help:"log level: debug, info, warn or error"`
	AuthFailureLimit   int    `json:"authFailureLimit" flag:"auth-failure-limit" help:"failed authentications per source address per minute before 429s"`
	RefreshInterval    string `json:"refreshInterval" flag:"refresh-interval" help:"how often to check for changes made by other replicas"`
	// DatabaseTimeout bounds every database transaction (and statement).
	DatabaseTimeout string `json:"databaseTimeout" flag:"database-timeout" help:"longest a request waits for the database before it gets 503 database unavailable (and, on PostgreSQL, each statement's statement_timeout)"`
	// TrustedProxies lists the CIDR prefixes of the reverse proxies whose
	// X-Forwarded-For names the client.
	TrustedProxies string `json:"trustedProxies" flag:"trusted-proxies" help:"comma-separated CIDR prefixes of the reverse proxies in front of Gatehouse; only from them is X-Forwarded-For believed (for the failure limit, audit events and logs)"`
	// MetricsListen serves /metrics on a listener of its own (and not on
	// the main one).
	MetricsListen string `json:"metricsListen" flag:"metrics-listen" help:"serve /metrics on this address instead of the main listener"`
	// MasterKey (base64) or MasterKeyFile wraps every stack's data key.
	MasterKey     string `json:"masterKey" flag:"master-key" help:"master key wrapping the stacks' data keys, 32 bytes in base64 (prefer the environment variable or a key file to a flag)"`
	MasterKeyFile string `json:"masterKeyFile" flag:"master-key-file" help:"file holding the master key; with SQLite it defaults to the database path plus .key and is created (mode 0600) on first start"`
	// AllowInsecureIssuers permits OIDC issuers on loopback and private
	// addresses and trusts their certificates on first use.
	AllowInsecureIssuers bool `json:"allowInsecureIssuers" flag:"allow-insecure-issuers" help:"allow OIDC issuers on loopback and private addresses, trusting their certificate on first use (local testing only)"`
	// PublicURL is the server's base URL as browsers and identity
	// providers reach it: single sign-on's redirect URIs and SAML entity ids
	// are made from it, and SSO is off without it.
	PublicURL string `json:"publicURL" flag:"public-url" help:"the server's base URL as browsers reach it, such as https://gatehouse.example.com (single sign-on needs it)"`
	// SSOCAFile adds the certificates that OpenID providers' TLS chains
	// may end at (beyond the system's).
	SSOCAFile string `json:"ssoCAFile" flag:"sso-ca-file" help:"PEM file of extra CA certificates trusted for OpenID providers' HTTPS (beyond the system's)"`
	// MaxCheckpointMiB bounds a stack checkpoint or import, decompressed.
	MaxCheckpointMiB int `json:"maxCheckpointMiB" flag:"max-checkpoint-mib" help:"largest stack checkpoint or import accepted, in MiB once decompressed (at most 256)"`

	// Timeouts and the drain (durations, as time.ParseDuration reads
	// them). On SIGTERM /readyz turns 503 at once; the server keeps
	// serving for ShutdownDelay, then stops accepting and waits up to
	// ShutdownTimeout for the requests in flight.
	ShutdownDelay   string `json:"shutdownDelay" flag:"shutdown-delay" help:"on SIGTERM, how long to keep serving with /readyz at 503 before the listener closes, so that load balancers stop sending"`
	ShutdownTimeout string `json:"shutdownTimeout" flag:"shutdown-timeout" help:"after the listener closes, how long requests in flight may take to finish before their connections are closed"`

	// TokenRetention is how long expired and revoked tokens are kept
	// before the hourly prune deletes them (their names stay reserved).
	TokenRetention string `json:"tokenRetention" flag:"token-retention" help:"how long expired and revoked tokens are kept before they are deleted (their names stay reserved), such as 720h"`
}

// DefaultConfig is the embedded default: a SQLite file in the working
// directory, served on loopback.
func DefaultConfig() Config {
	return Config{Listen: "127.0.0.1:8080", Database: defaultDatabase, BootstrapOrg: "default", BootstrapAdmin: "admin",
		LogFormat: "text", LogLevel: "info", AuthFailureLimit: 60, RefreshInterval: "500ms",
		DatabaseTimeout: "5s", MaxCheckpointMiB: 64, ShutdownDelay: "5s", ShutdownTimeout: "15s",
		TokenRetention: "720h"}
}

// Validate reports the first field that is unusable.
func (c *Config) Validate() error {
	switch {
	case c.Listen == "":
		return fmt.Errorf("listen: must not be empty")
	case c.PublicURL != "" && !validPublicURL(c.PublicURL):
		return fmt.Errorf("public-url: %q must be an http:// or https:// URL with a host and no path, query or fragment", c.PublicURL)
	case c.Database == "":
		return fmt.Errorf("database: must not be empty")
	case (c.TLSCert == "") != (c.TLSKey == ""):
		return fmt.Errorf("tls-cert and tls-key: give both or neither")
	case c.LogFormat != "text" && c.LogFormat != "json":
		return fmt.Errorf("log-format: %q is not text or json", c.LogFormat)
	case c.MasterKey != "" && c.MasterKeyFile != "":
		return fmt.Errorf("master-key and master-key-file: give one, not both")
	case c.AuthFailureLimit < 1:
		return fmt.Errorf("auth-failure-limit: must be at least 1")
	case c.MetricsListen != "" && c.MetricsListen == c.Listen:
		return fmt.Errorf("metrics-listen: must differ from listen")
	case c.MaxCheckpointMiB < 1 || c.MaxCheckpointMiB > 256:
		return fmt.Errorf("max-checkpoint-mib: %d is not from 1 to 256", c.MaxCheckpointMiB)
	}
	if err := c.validateDurations(); err != nil {
		return err
	}
	if d, err := time.ParseDuration(c.TokenRetention); err != nil || d < time.Hour {
		return fmt.Errorf("token-retention: %q is not a duration of an hour or more, such as 720h", c.TokenRetention)
	}
	if d, err := time.ParseDuration(c.DatabaseTimeout); err != nil || d <= 0 {
		return fmt.Errorf("database-timeout: %q is not a positive duration", c.DatabaseTimeout)
	}
	if _, err := api.ParseTrustedProxies(c.TrustedProxies); err != nil {
		return fmt.Errorf("trusted-proxies: %v", err)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log-level: %q is not debug, info, warn or error", c.LogLevel)
	}
	return nil
}

// validateDurations checks the timeouts and the drain's durations.
func (c *Config) validateDurations() error {
	for _, d := range []struct{ flag, value string }{{"shutdown-delay", c.ShutdownDelay}, {"shutdown-timeout", c.ShutdownTimeout}} {
		if v, err := time.ParseDuration(d.value); err != nil || v < 0 {
			return fmt.Errorf("%s: %q is not a duration of zero or more, such as 5s", d.flag, d.value)
		}
	}
	return nil
}

// duration is a validated duration field's value.
func duration(s string) time.Duration {
	d, _ := time.ParseDuration(s)
	return d
}

// configFields visits every field with its flag name.
func configFields(c *Config, fn func(flag, help string, v reflect.Value)) {
	rv := reflect.ValueOf(c).Elem()
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		fn(f.Tag.Get("flag"), f.Tag.Get("help"), rv.Field(i))
	}
}

// bindConfig registers one flag per field.
func bindConfig(cmd *cobra.Command, c *Config) {
	configFields(c, func(flag, help string, v reflect.Value) {
		env := " (env GATEHOUSE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_")) + ")"
		switch v.Kind() {
		case reflect.String:
			cmd.Flags().StringVar(v.Addr().Interface().(*string), flag, v.String(), help+env)
		case reflect.Int:
			cmd.Flags().IntVar(v.Addr().Interface().(*int), flag, int(v.Int()), help+env)
		case reflect.Bool:
			cmd.Flags().BoolVar(v.Addr().Interface().(*bool), flag, v.Bool(), help+env)
		}
	})
	cmd.Flags().String("config", "", "JSON file of settings (env GATEHOUSE_CONFIG); flags and environment override it")
}

// resolveConfig applies the file and the environment under the flags the
// user set.
func resolveConfig(cmd *cobra.Command, c *Config) error {
	// The flags may be bound to c itself: read what the user set before
	// starting again from the defaults.
	set := map[string]string{}
	configFields(c, func(flag, _ string, _ reflect.Value) {
		if cmd.Flags().Changed(flag) {
			set[flag] = cmd.Flags().Lookup(flag).Value.String()
		}
	})
	*c = DefaultConfig()
	path, _ := cmd.Flags().GetString("config")
	if path == "" {
		path = os.Getenv("GATEHOUSE_CONFIG")
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(c); err != nil {
			return fmt.Errorf("config %s: %v", path, err)
		}
	}
	var err error
	configFields(c, func(flag, _ string, v reflect.Value) {
		env := "GATEHOUSE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
		if s, ok := os.LookupEnv(env); ok && err == nil {
			switch v.Kind() {
			case reflect.String:
				v.SetString(s)
			case reflect.Int:
				n, e := strconv.Atoi(s)
				if e != nil {
					err = fmt.Errorf("%s: %q is not a number", env, s)
					return
				}
				v.SetInt(int64(n))
			case reflect.Bool:
				b, e := strconv.ParseBool(s)
				if e != nil {
					err = fmt.Errorf("%s: %q is not true or false", env, s)
					return
				}
				v.SetBool(b)
			}
		}
	})
	if err != nil {
		return err
	}
	configFields(c, func(flag, _ string, v reflect.Value) {
		s, ok := set[flag]
		if !ok {
			return
		}
		switch v.Kind() {
		case reflect.String:
			v.SetString(s)
		case reflect.Int:
			n, _ := strconv.Atoi(s) // pflag has already checked it
			v.SetInt(int64(n))
		case reflect.Bool:
			b, _ := strconv.ParseBool(s)
			v.SetBool(b)
		}
	})
	return c.Validate()
}

// validPublicURL reports whether u is a base URL: a scheme and a host,
// nothing after.
func validPublicURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "https" || p.Scheme == "http") && p.Host != "" && p.User == nil &&
		strings.TrimSuffix(p.Path, "/") == "" && p.RawQuery == "" && p.Fragment == ""
}
