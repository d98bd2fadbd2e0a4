package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse"
)

func descriptorRows(ds []*gatehouse.Descriptor) [][]string {
	rows := make([][]string, len(ds))
	for i, d := range ds {
		rows[i] = []string{d.ID, d.Name, d.Purpose, d.ResourceType.String(), fmt.Sprint(d.Version), d.DefaultIdentifier}
	}
	return rows
}

var descriptorHeader = []string{"ID", "NAME", "PURPOSE", "TYPE", "VERSION", "BUILT-IN"}

// readDetails reads a descriptor tree from a file, or "-" for stdin.
func readDetails(cmd *cobra.Command, path string) (json.RawMessage, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(cmd.InOrStdin())
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("--details: %w", err)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("--details: %s is not JSON", path)
	}
	return b, nil
}

// newDescriptorCmd builds `role` (purpose role) and `set` (purpose set).
func newDescriptorCmd(use, purpose, what string) *cobra.Command {
	f := &clientFlags{}
	cmd := newGroup(use, "Manage "+what+"s")
	f.bind(cmd)
	cmd.AddCommand(newDescriptorListCmd(f, purpose, what), newDescriptorGetCmd(f, purpose, what), newDescriptorCreateCmd(f, purpose, what),
		newDescriptorUpdateCmd(f, purpose, what), newDescriptorDeleteCmd(f, purpose, what))
	if purpose == gatehouse.PurposeRole {
		cmd.AddCommand(newRoleAssignCmd(f), newRoleDefaultCmd(f))
	}
	return cmd
}

func newDescriptorListCmd(f *clientFlags, purpose, what string) *cobra.Command {
	var listPurpose string
	list := &cobra.Command{
		Use: "list", Aliases: []string{"ls"}, Short: "List " + what + "s", Args: cobra.NoArgs,
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, _ []string) error {
			ds, err := c.Roles(cmd.Context(), org, listPurpose)
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), ds, descriptorHeader, descriptorRows(ds))
		}),
	}
	list.Flags().StringVar(&listPurpose, "purpose", purpose, "uxPurpose to list")
	return list
}

func newDescriptorGetCmd(f *clientFlags, purpose, what string) *cobra.Command {
	return &cobra.Command{
		Use: "get NAME|ID", Short: "Show a " + what + " with its details", Args: cobra.ExactArgs(1),
		ValidArgsFunction: completeDescriptors(f, purpose),
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			id, err := resolveRole(cmd.Context(), c, org, purpose, args[0])
			if err != nil {
				return err
			}
			d, err := c.Role(cmd.Context(), org, id)
			if err != nil {
				return err
			}
			if f.output == "json" {
				return f.print(cmd.OutOrStdout(), d, nil, nil)
			}
			if err := f.print(cmd.OutOrStdout(), d, descriptorHeader, descriptorRows([]*gatehouse.Descriptor{d})); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "\n%s\n", d.Details)
			return nil
		}),
	}
}

func newDescriptorCreateCmd(f *clientFlags, purpose, what string) *cobra.Command {
	var details, description, resourceType, scopes string
	var both bool
	create := &cobra.Command{
		Use: "create NAME", Short: "Create a " + what, Args: cobra.ExactArgs(1),
		Long: "Create a " + what + " from a descriptor tree in --details FILE (or - for stdin)" +
			map[bool]string{true: ", or from --scopes for a flat permission set.", false: "."}[purpose == gatehouse.PurposeSet],
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			in := gatehouse.RoleInput{Name: &args[0], Purpose: purpose, ResourceType: resourceType}
			var err error
			if description != "" {
				in.Description = &description
			}
			switch {
			case details != "":
				if in.Details, err = readDetails(cmd, details); err != nil {
					return err
				}
			case scopes != "":
				in.Details, _ = json.Marshal(map[string]any{"__type": "PermissionDescriptorAllow", "permissions": strings.Split(scopes, ",")})
			default:
				return errors.New("--details FILE is required" + map[bool]string{true: " (or --scopes)", false: ""}[purpose == gatehouse.PurposeSet])
			}
			d, err := c.CreateRole(cmd.Context(), org, in, both)
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), d, descriptorHeader, descriptorRows([]*gatehouse.Descriptor{d}))
		}),
	}
	create.Flags().StringVar(&details, "details", "", "descriptor tree JSON file, - for stdin")
	create.Flags().StringVar(&description, "description", "", "description")
	if purpose == gatehouse.PurposeSet {
		create.Flags().StringVar(&resourceType, "type", "stack", "entity type: stack, environment, insights-account or global")
		create.Flags().StringVar(&scopes, "scopes", "", "comma-separated scopes, for a flat set")
		create.RegisterFlagCompletionFunc("scopes", completeScopeList)
		create.RegisterFlagCompletionFunc("type", cobra.FixedCompletions([]string{"stack", "environment", "insights-account", "global"}, cobra.ShellCompDirectiveNoFileComp))
	} else {
		create.Flags().BoolVar(&both, "policy-and-role", true, "store the details in a policy the role composes, as the Pulumi console does")
	}
	return create
}

func newDescriptorUpdateCmd(f *clientFlags, purpose, what string) *cobra.Command {
	var newName, newDescription, newDetails string
	edit := &cobra.Command{
		Use: "update NAME|ID", Aliases: []string{"edit"}, Short: "Change a " + what + "'s name, description or details", Args: cobra.ExactArgs(1),
		ValidArgsFunction: completeDescriptors(f, purpose),
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			var in gatehouse.RoleInput
			id, err := resolveRole(cmd.Context(), c, org, purpose, args[0])
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("name") {
				in.Name = &newName
			}
			if cmd.Flags().Changed("description") {
				in.Description = &newDescription
			}
			if newDetails != "" {
				if in.Details, err = readDetails(cmd, newDetails); err != nil {
					return err
				}
			}
			if in.Name == nil && in.Description == nil && in.Details == nil {
				return errors.New("nothing to change: give --name, --description or --details")
			}
			d, err := c.UpdateRole(cmd.Context(), org, id, in)
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), d, descriptorHeader, descriptorRows([]*gatehouse.Descriptor{d}))
		}),
	}
	edit.Flags().StringVar(&newName, "name", "", "new name")
	edit.Flags().StringVar(&newDescription, "description", "", "new description")
	edit.Flags().StringVar(&newDetails, "details", "", "new descriptor tree JSON file, - for stdin")
	return edit
}

func newDescriptorDeleteCmd(f *clientFlags, purpose, what string) *cobra.Command {
	var force bool
	del := &cobra.Command{
		Use: "delete NAME|ID", Aliases: []string{"rm"}, Short: "Delete a " + what, Args: cobra.ExactArgs(1),
		ValidArgsFunction: completeDescriptors(f, purpose),
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			id, err := resolveRole(cmd.Context(), c, org, purpose, args[0])
			if err != nil {
				return err
			}
			if err := c.DeleteRole(cmd.Context(), org, id, force); err != nil {
				return err
			}
			return f.done(cmd, "deleted %s %s", what, args[0])
		}),
	}
	del.Flags().BoolVar(&force, "force", false, "also unassign it from members (who fall back to the default role) and teams")
	return del
}

func newRoleAssignCmd(f *clientFlags) *cobra.Command {
	var member, team string
	assign := &cobra.Command{
		Use: "assign ROLE (--member LOGIN | --team TEAM)", Short: "Give a member or a team a role (by name or ID)", Args: cobra.ExactArgs(1),
		ValidArgsFunction: completeDescriptors(f, gatehouse.PurposeRole),
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			if (member == "") == (team == "") {
				return errors.New("give exactly one of --member and --team")
			}
			id, err := resolveRole(cmd.Context(), c, org, gatehouse.PurposeRole, args[0])
			if err != nil {
				return err
			}
			if member != "" {
				err = c.SetMemberRole(cmd.Context(), org, member, id)
			} else {
				err = c.AssignTeamRole(cmd.Context(), org, team, id)
			}
			if err != nil {
				return err
			}
			return f.done(cmd, "assigned role %s to %s%s", args[0], member, team)
		}),
	}
	assign.Flags().StringVar(&member, "member", "", "member login")
	assign.Flags().StringVar(&team, "team", "", "team name")
	assign.RegisterFlagCompletionFunc("member", completeMembers(f))
	assign.RegisterFlagCompletionFunc("team", completeTeams(f))
	return assign
}

func newRoleDefaultCmd(f *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use: "default ROLE", Short: "Make a role (by name or ID) the organization's default", Args: cobra.ExactArgs(1),
		ValidArgsFunction: completeDescriptors(f, gatehouse.PurposeRole),
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			id, err := resolveRole(cmd.Context(), c, org, gatehouse.PurposeRole, args[0])
			if err != nil {
				return err
			}
			if err := c.SetDefaultRole(cmd.Context(), org, id); err != nil {
				return err
			}
			return f.done(cmd, "role %s is now the default of %s", args[0], org)
		}),
	}
}
