package main

import (
	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse"
)

func newTeamCmd() *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{Use: "team", Short: "Manage teams"}
	f.bind(cmd)
	list := &cobra.Command{Use: "list", Short: "List teams", Args: cobra.NoArgs,
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, _ []string) error {
			ts, err := c.Teams(cmd.Context(), org)
			if err != nil {
				return err
			}
			rows := make([][]string, len(ts))
			for i, t := range ts {
				rows[i] = []string{t.Name, t.DisplayName, t.Kind, t.Description}
			}
			return f.print(cmd.OutOrStdout(), ts, []string{"NAME", "DISPLAY NAME", "KIND", "DESCRIPTION"}, rows)
		})}
	var display, description string
	create := &cobra.Command{Use: "create NAME", Short: "Create a team", Args: cobra.ExactArgs(1),
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			t, err := c.CreateTeam(cmd.Context(), org, args[0], display, description)
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), t, []string{"NAME", "DISPLAY NAME"}, [][]string{{t.Name, t.DisplayName}})
		})}
	create.Flags().StringVar(&display, "display-name", "", "display name")
	create.Flags().StringVar(&description, "description", "", "description")
	del := &cobra.Command{Use: "delete NAME", Short: "Delete a team (its tokens are revoked)", Args: cobra.ExactArgs(1),
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			return c.DeleteTeam(cmd.Context(), org, args[0])
		})}
	member := func(use, action, short string) *cobra.Command {
		return &cobra.Command{Use: use + " TEAM LOGIN", Short: short, Args: cobra.ExactArgs(2),
			RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
				return c.TeamMember(cmd.Context(), org, args[0], args[1], action)
			})}
	}
	cmd.AddCommand(list, create, del, member("add-member", "add", "Add a member to a team"),
		member("remove-member", "remove", "Remove a member from a team"), member("promote", "promote", "Make a member a team admin"),
		member("demote", "demote", "Make a team admin a plain member"))
	return cmd
}
