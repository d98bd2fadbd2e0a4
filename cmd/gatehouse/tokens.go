package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse"
)

func newTokenCmd() *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{Use: "token", Short: "Manage personal, organization and team tokens"}
	f.bind(cmd)
	var team string
	var personal bool
	scope := func(c *cobra.Command) {
		c.Flags().StringVar(&team, "team", "", "a team's tokens")
		c.Flags().BoolVar(&personal, "personal", false, "your personal tokens")
	}
	target := func() (gatehouse.IAM, string, error) {
		c, org, err := f.client()
		if err != nil {
			return nil, "", err
		}
		if personal {
			return c, "", nil
		}
		return c, org, f.needOrg(org)
	}
	var name, description, role string
	var expires time.Duration
	create := &cobra.Command{
		Use: "create", Short: "Create a token; its value is shown once", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, org, err := target()
			if err != nil {
				return err
			}
			req := gatehouse.TokenRequest{Team: team, Name: name, Description: description, RoleID: role}
			if expires > 0 {
				req.Expires = time.Now().Add(expires)
			}
			t, err := c.CreateToken(cmd.Context(), org, req)
			if err != nil {
				return err
			}
			if f.output == "json" {
				return f.print(cmd.OutOrStdout(), t, nil, nil)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s\n", t.Value)
			fmt.Fprintf(cmd.ErrOrStderr(), "token %s created; its value is shown this once\n", t.ID)
			return nil
		},
	}
	scope(create)
	create.Flags().StringVar(&name, "name", "", "name (organization and team tokens; never reused)")
	create.Flags().StringVar(&description, "description", "", "description")
	create.Flags().StringVar(&role, "role", "", "role id (organization tokens; default: the organization's default role)")
	create.Flags().DurationVar(&expires, "expires", 0, "lifetime, e.g. 720h (default: never expires)")
	list := &cobra.Command{
		Use: "list", Short: "List tokens", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, org, err := target()
			if err != nil {
				return err
			}
			ts, err := c.Tokens(cmd.Context(), org, team)
			if err != nil {
				return err
			}
			rows := make([][]string, len(ts))
			for i, t := range ts {
				rows[i] = []string{t.ID, t.Name, t.Description, t.RoleID, stamp(t.Created), stamp(t.LastUsed), stamp(t.Expires)}
			}
			return f.print(cmd.OutOrStdout(), ts, []string{"ID", "NAME", "DESCRIPTION", "ROLE", "CREATED", "LAST USED", "EXPIRES"}, rows)
		},
	}
	scope(list)
	revoke := &cobra.Command{
		Use: "revoke ID", Short: "Revoke a token at once", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, org, err := target()
			if err != nil {
				return err
			}
			if err := c.RevokeToken(cmd.Context(), org, team, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked %s\n", args[0])
			return nil
		},
	}
	scope(revoke)
	cmd.AddCommand(create, list, revoke)
	return cmd
}
