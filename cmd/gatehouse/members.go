package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse"
)

func newMemberCmd() *cobra.Command {
	f := &clientFlags{}
	cmd := newGroup("member", "Manage organization members")
	f.bind(cmd)
	list := &cobra.Command{Use: "list", Aliases: []string{"ls"}, Short: "List members", Args: cobra.NoArgs,
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, _ []string) error {
			ms, err := c.Members(cmd.Context(), org)
			if err != nil {
				return err
			}
			rows := make([][]string, len(ms))
			for i, m := range ms {
				rows[i] = []string{m.Login, m.Name, m.RoleName, m.RoleID, fmt.Sprint(m.Suspended)}
			}
			return f.print(cmd.OutOrStdout(), ms, []string{"LOGIN", "NAME", "ROLE", "ROLE ID", "SUSPENDED"}, rows)
		})}
	var role string
	add := &cobra.Command{Use: "add LOGIN", Aliases: []string{"create"}, Short: "Add a user (created when new) with a built-in role", Args: cobra.ExactArgs(1),
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			m, err := c.AddMember(cmd.Context(), org, args[0], role)
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), m, []string{"LOGIN", "ROLE"}, [][]string{{m.Login, m.RoleName}})
		})}
	add.Flags().StringVar(&role, "role", "", "built-in role: member, admin, billing-manager, reader, builder, maintainer (default: the organization's default)")
	setRole := &cobra.Command{Use: "set-role LOGIN ROLE", Aliases: []string{"update"}, Short: "Give a member any role (by name or ID)", Args: cobra.ExactArgs(2),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) == 0 {
				return completeMembers(f)(cmd, args, toComplete)
			}
			return completeDescriptors(f, gatehouse.PurposeRole)(cmd, args, toComplete)
		},
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			id, err := resolveRole(cmd.Context(), c, org, gatehouse.PurposeRole, args[1])
			if err != nil {
				return err
			}
			if err := c.SetMemberRole(cmd.Context(), org, args[0], id); err != nil {
				return err
			}
			return f.done(cmd, "%s now has role %s", args[0], args[1])
		})}
	remove := &cobra.Command{Use: "delete LOGIN", Aliases: []string{"rm", "remove"}, Short: "Remove a member", Args: cobra.ExactArgs(1),
		ValidArgsFunction: completeMembers(f),
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			if err := c.RemoveMember(cmd.Context(), org, args[0]); err != nil {
				return err
			}
			return f.done(cmd, "removed %s from %s", args[0], org)
		})}
	cmd.AddCommand(list, add, setRole, remove)
	return cmd
}
