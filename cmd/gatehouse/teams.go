package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse"
)

func newTeamCmd() *cobra.Command {
	f := &clientFlags{}
	cmd := newGroup("team", "Manage teams")
	f.bind(cmd)
	list := &cobra.Command{Use: "list", Aliases: []string{"ls"}, Short: "List teams", Args: cobra.NoArgs,
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
	get := &cobra.Command{Use: "get NAME", Short: "Show a team", Args: cobra.ExactArgs(1), ValidArgsFunction: completeTeams(f),
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			ts, err := c.Teams(cmd.Context(), org)
			if err != nil {
				return err
			}
			for _, t := range ts {
				if t.Name == args[0] {
					if f.output == "json" { // the team's entry in the list the server sent
						return writeJSON(cmd.OutOrStdout(), pickFromList(f.last, "teams", "name", t.Name))
					}
					return printTable(cmd.OutOrStdout(), []string{"NAME", "DISPLAY NAME", "KIND", "DESCRIPTION"}, [][]string{{t.Name, t.DisplayName, t.Kind, t.Description}})
				}
			}
			return fmt.Errorf("no team %q in %s", args[0], org)
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
	del := &cobra.Command{Use: "delete NAME", Aliases: []string{"rm"}, Short: "Delete a team (its tokens are revoked)", Args: cobra.ExactArgs(1),
		ValidArgsFunction: completeTeams(f),
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			if err := c.DeleteTeam(cmd.Context(), org, args[0]); err != nil {
				return err
			}
			return f.done(cmd, "deleted team %s", args[0])
		})}
	teamThenLogin := func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) == 0 {
			return completeTeams(f)(cmd, args, toComplete)
		}
		if len(args) == 1 {
			return completeMembers(f)(cmd, args, toComplete)
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	member := func(use, action, short, did string) *cobra.Command {
		return &cobra.Command{Use: use + " TEAM LOGIN", Short: short, Args: cobra.ExactArgs(2), ValidArgsFunction: teamThenLogin,
			RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
				if err := c.TeamMember(cmd.Context(), org, args[0], args[1], action); err != nil {
					return err
				}
				return f.done(cmd, did, args[1], args[0])
			})}
	}
	cmd.AddCommand(list, get, create, del, member("add-member", "add", "Add a member to a team", "added %s to team %s"),
		member("remove-member", "remove", "Remove a member from a team", "removed %s from team %s"),
		member("promote", "promote", "Make a member a team admin", "%s is now an admin of team %s"),
		member("demote", "demote", "Make a team admin a plain member", "%s is now a plain member of team %s"))
	return cmd
}
