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
	t := &tokenTarget{f: f}
	cmd.AddCommand(newTokenCreateCmd(t), newTokenListCmd(t), newTokenRevokeCmd(t))
	return cmd
}

// tokenTarget is whose tokens a token command works on: --team's, with
// --personal the caller's own, or else the organization's.
type tokenTarget struct {
	f        *clientFlags
	team     string
	personal bool
}

// bind binds --team and --personal on c.
func (t *tokenTarget) bind(c *cobra.Command) {
	c.Flags().StringVar(&t.team, "team", "", "a team's tokens")
	c.Flags().BoolVar(&t.personal, "personal", false, "your personal tokens")
}

// withClient wraps a token command body: it resolves the connection and
// the organization, "" for personal tokens.
func (t *tokenTarget) withClient(run func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c, org, err := t.f.client()
		if err != nil {
			return err
		}
		if t.personal {
			org = ""
		} else if err := t.f.needOrg(org); err != nil {
			return err
		}
		return run(cmd, c, org, args)
	}
}

func newTokenCreateCmd(t *tokenTarget) *cobra.Command {
	f := t.f
	var name, description, role string
	var expires time.Duration
	create := &cobra.Command{
		Use: "create", Short: "Create a token; its value is shown once", Args: cobra.NoArgs,
		RunE: t.withClient(func(cmd *cobra.Command, c gatehouse.IAM, org string, _ []string) error {
			req := gatehouse.TokenRequest{Team: t.team, Name: name, Description: description, RoleID: role}
			if expires > 0 {
				req.Expires = time.Now().Add(expires)
			}
			tok, err := c.CreateToken(cmd.Context(), org, req)
			if err != nil {
				return err
			}
			if f.output == "json" {
				return f.print(cmd.OutOrStdout(), tok, nil, nil)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s\n", tok.Value)
			fmt.Fprintf(cmd.ErrOrStderr(), "token %s created; its value is shown this once\n", tok.ID)
			return nil
		}),
	}
	t.bind(create)
	create.Flags().StringVar(&name, "name", "", "name (organization and team tokens; never reused)")
	create.Flags().StringVar(&description, "description", "", "description")
	create.Flags().StringVar(&role, "role", "", "role id (organization tokens; default: the organization's default role)")
	create.Flags().DurationVar(&expires, "expires", 0, "lifetime, e.g. 720h (default: never expires)")
	return create
}

func newTokenListCmd(t *tokenTarget) *cobra.Command {
	list := &cobra.Command{
		Use: "list", Short: "List tokens", Args: cobra.NoArgs,
		RunE: t.withClient(func(cmd *cobra.Command, c gatehouse.IAM, org string, _ []string) error {
			ts, err := c.Tokens(cmd.Context(), org, t.team)
			if err != nil {
				return err
			}
			rows := make([][]string, len(ts))
			for i, x := range ts {
				rows[i] = []string{x.ID, x.Name, x.Description, x.RoleID, stamp(x.Created), stamp(x.LastUsed), stamp(x.Expires)}
			}
			return t.f.print(cmd.OutOrStdout(), ts, []string{"ID", "NAME", "DESCRIPTION", "ROLE", "CREATED", "LAST USED", "EXPIRES"}, rows)
		}),
	}
	t.bind(list)
	return list
}

func newTokenRevokeCmd(t *tokenTarget) *cobra.Command {
	revoke := &cobra.Command{
		Use: "revoke ID", Short: "Revoke a token at once", Args: cobra.ExactArgs(1),
		RunE: t.withClient(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			if err := c.RevokeToken(cmd.Context(), org, t.team, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked %s\n", args[0])
			return nil
		}),
	}
	t.bind(revoke)
	return revoke
}
