package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse"
)

func newTokenCmd() *cobra.Command {
	f := &clientFlags{}
	cmd := newGroup("token", "Manage personal, organization and team tokens")
	f.bind(cmd)
	t := &tokenTarget{f: f}
	cmd.AddCommand(newTokenCreateCmd(t), newTokenListCmd(t), newTokenDeleteCmd(t))
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
	c.RegisterFlagCompletionFunc("team", completeTeams(t.f))
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
		} else if err := t.f.needOrg(cmd, c, org); err != nil {
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
			req := gatehouse.TokenRequest{Team: t.team, Name: name, Description: description}
			if role != "" {
				id, err := resolveRole(cmd.Context(), c, org, gatehouse.PurposeRole, role)
				if err != nil {
					return fmt.Errorf("--role: %w", err)
				}
				req.RoleID = id
			}
			if expires > 0 {
				req.Expires = time.Now().Add(expires)
			}
			tok, err := c.CreateToken(cmd.Context(), org, req)
			if err != nil {
				return err
			}
			if f.output == "json" {
				return f.print(cmd.OutOrStdout(), nil, nil, nil)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s\n", tok.Value)
			fmt.Fprintf(cmd.ErrOrStderr(), "token %s created; its value is shown this once\n", tok.ID)
			return nil
		}),
	}
	t.bind(create)
	create.Flags().StringVar(&name, "name", "", "name (organization and team tokens; never reused)")
	create.Flags().StringVar(&description, "description", "", "description")
	create.Flags().StringVar(&role, "role", "", "role name or ID (organization tokens; default: the organization's default role)")
	create.RegisterFlagCompletionFunc("role", completeDescriptors(f, gatehouse.PurposeRole))
	create.Flags().DurationVar(&expires, "expires", 0, "lifetime, e.g. 720h (default: never expires)")
	return create
}

func newTokenListCmd(t *tokenTarget) *cobra.Command {
	list := &cobra.Command{
		Use: "list", Aliases: []string{"ls"}, Short: "List tokens", Args: cobra.NoArgs,
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

func newTokenDeleteCmd(t *tokenTarget) *cobra.Command {
	revoke := &cobra.Command{
		Use: "delete NAME|ID", Aliases: []string{"rm", "revoke"}, Short: "Revoke a token at once", Args: cobra.ExactArgs(1),
		ValidArgsFunction: t.completeTokens,
		RunE: t.withClient(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			id, err := resolveToken(cmd.Context(), c, org, t.team, args[0])
			if err != nil {
				return err
			}
			if err := c.RevokeToken(cmd.Context(), org, t.team, id); err != nil {
				return err
			}
			return t.f.done(cmd, "revoked token %s", args[0])
		}),
	}
	t.bind(revoke)
	return revoke
}

// completeTokens completes the names (or, for unnamed personal tokens, the
// IDs) of the tokens --team and --personal select.
func (t *tokenTarget) completeTokens(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return complete(t.f, false, func(ctx context.Context, c gatehouse.IAM, org string) ([]string, error) {
		switch {
		case t.personal:
			org = ""
		case org == "":
			return nil, nil // no organization: nothing to complete from
		}
		ts, err := c.Tokens(ctx, org, t.team)
		var out []string
		for _, x := range ts {
			name := x.Name
			if name == "" {
				name = x.ID
			}
			out = append(out, name+"\t"+x.Description)
		}
		return out, err
	})(cmd, args, toComplete)
}
