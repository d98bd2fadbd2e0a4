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
	"github.com/gatehouse-iam/gatehouse/api"
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
	cmd.PersistentFlags().StringVarP(&f.output, "output", "o", "table", "output format: table or json")
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
	return &api.Client{BaseURL: url, Token: token}, org, nil
}

// withOrg wraps a command body that needs a client and an organization.
func (f *clientFlags) withOrg(run func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c, org, err := f.client()
		if err == nil {
			err = f.needOrg(org)
		}
		if err != nil {
			return err
		}
		return run(cmd, c, org, args)
	}
}

func (f *clientFlags) needOrg(org string) error {
	if org == "" {
		return errors.New("no organization: pass --org (or log in, which remembers your first one)")
	}
	return nil
}

// print writes v as JSON, or rows as a table.
func (f *clientFlags) print(w io.Writer, v any, header []string, rows [][]string) error {
	if f.output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
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
