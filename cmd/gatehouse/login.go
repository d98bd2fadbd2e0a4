package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse/api"
)

func newLoginCmd() *cobra.Command {
	var token, org string
	cmd := &cobra.Command{
		Use:   "login URL",
		Short: "Log in to a Gatehouse server and remember the URL and token",
		Long: "Log in to a Gatehouse server. The token comes from --token, $GATEHOUSE_TOKEN, or standard input.\n" +
			"The URL, token and organization are saved in $GATEHOUSE_CONFIG_DIR/credentials.json (mode 0600).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if token == "" {
				token = os.Getenv("GATEHOUSE_TOKEN")
			}
			if token == "" {
				fmt.Fprint(cmd.ErrOrStderr(), "Access token: ")
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if err != nil && line == "" {
					return errors.New("no token: pass --token or type it")
				}
				token = strings.TrimSpace(line)
			}
			c := &api.Client{BaseURL: strings.TrimRight(args[0], "/"), Token: token}
			who, err := c.WhoAmI(cmd.Context())
			if err != nil {
				return fmt.Errorf("login to %s: %w", args[0], err)
			}
			if org == "" && len(who.Organizations) > 0 {
				org = who.Organizations[0]
			}
			path, err := saveCredentials(credentials{URL: c.BaseURL, Token: token, Org: org})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Logged in to %s as %s (organization %s); credentials in %s\n", c.BaseURL, who.Login, org, path)
			return nil
		},
	}
	cmd.Flags().StringVar(&token, "token", "", "access token")
	cmd.Flags().StringVar(&org, "org", "", "default organization (default: your first)")
	return cmd
}

func newWhoAmICmd() *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Show who the saved token belongs to",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, _, err := f.client()
			if err != nil {
				return err
			}
			w, err := c.WhoAmI(cmd.Context())
			if err != nil {
				return err
			}
			row := []string{w.Login, strings.Join(w.Organizations, ","), w.TokenName, w.Team}
			return f.print(cmd.OutOrStdout(), w, []string{"LOGIN", "ORGANIZATIONS", "TOKEN", "TEAM"}, [][]string{row})
		},
	}
	f.bind(cmd)
	return cmd
}
