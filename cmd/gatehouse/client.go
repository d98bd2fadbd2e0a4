package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse"
)

// credentials is what `gatehouse login` keeps, in a 0600 file.
type credentials struct {
	URL   string `json:"url"`
	Token string `json:"token"`
	Org   string `json:"org,omitempty"`
}

// credentialsPath is $GATEHOUSE_CONFIG_DIR/credentials.json, by default
// under the user's configuration directory.
func credentialsPath() (string, error) {
	dir := os.Getenv("GATEHOUSE_CONFIG_DIR")
	if dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(base, "gatehouse")
	}
	return filepath.Join(dir, "credentials.json"), nil
}

func loadCredentials() (credentials, error) {
	var c credentials
	path, err := credentialsPath()
	if err != nil {
		return c, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	return c, json.Unmarshal(b, &c)
}

func saveCredentials(c credentials) (string, error) {
	path, err := credentialsPath()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	b, _ := json.MarshalIndent(c, "", "  ")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return "", err
	}
	return path, os.Chmod(path, 0o600)
}

// clientFlags are the flags every client command shares.
type clientFlags struct {
	url, token, org, output string
	// last is the body of the API's last response, bodies all of them
	// (see observe).
	last   []byte
	bodies [][]byte
}

func (f *clientFlags) bind(cmd *cobra.Command) {
	f.bindWithout(cmd)
	cmd.PersistentFlags().StringVar(&f.token, "token", "", "access token (default: from gatehouse login, or $GATEHOUSE_TOKEN)")
}

// bindWithout binds every shared flag but --token, for a command whose
// --token means something else.
func (f *clientFlags) bindWithout(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&f.url, "url", "", "Gatehouse URL (default: from gatehouse login, or $GATEHOUSE_URL)")
	cmd.PersistentFlags().StringVar(&f.org, "org", "", "organization (default: from gatehouse login, or $GATEHOUSE_ORG)")
	cmd.PersistentFlags().StringVarP(&f.output, "output", "o", "table", "output format: table or json (the API's own JSON)")
	cmd.RegisterFlagCompletionFunc("org", completeOrgs(f))
	cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
}

// client resolves the connection: flags, then environment, then the saved
// credentials.
func (f *clientFlags) client() (gatehouse.IAM, string, error) {
	c, err := loadCredentials()
	if err != nil {
		return nil, "", fmt.Errorf("read credentials: %w", err)
	}
	pick := func(flag, env, saved string) string {
		if flag != "" {
			return flag
		}
		if v := os.Getenv(env); v != "" {
			return v
		}
		return saved
	}
	url, token, org := pick(f.url, "GATEHOUSE_URL", c.URL), pick(f.token, "GATEHOUSE_TOKEN", c.Token), pick(f.org, "GATEHOUSE_ORG", c.Org)
	if url == "" || token == "" {
		return nil, "", errors.New("not logged in: run gatehouse login URL (or pass --url and --token)")
	}
	if f.output != "table" && f.output != "json" {
		return nil, "", fmt.Errorf("--output: %q is not table or json", f.output)
	}
	return f.newAPIClient(url, token), org, nil
}

// withOrg wraps a command body that needs a client and an organization.
func (f *clientFlags) withOrg(run func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c, org, err := f.client()
		if err == nil {
			err = f.needOrg(cmd, c, org)
		}
		if err != nil {
			return err
		}
		return run(cmd, c, org, args)
	}
}

// needOrg says an organization is needed when org is "". It asks the
// server who the caller is first, so that a server that is down, or a
// token it refuses, is reported as such rather than as a missing --org;
// and it names the caller's organizations.
func (f *clientFlags) needOrg(cmd *cobra.Command, c gatehouse.IAM, org string) error {
	if org != "" {
		return nil
	}
	who, err := c.WhoAmI(cmd.Context())
	if err != nil {
		return err
	}
	f.last, f.bodies = nil, nil
	if len(who.Organizations) == 0 {
		return fmt.Errorf("no organization: %s belongs to none; pass --org", who.Login)
	}
	return fmt.Errorf("no organization: pass --org (one of %s), or log in again, which remembers your first one", strings.Join(who.Organizations, ", "))
}

// printTable writes rows as a table under header.
func printTable(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
