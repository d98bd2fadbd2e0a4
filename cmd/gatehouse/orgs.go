package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// newAdminOrgCmd is `gatehouse admin org create|list`: operators make
// organizations from the host, with direct database access.
func newAdminOrgCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "org", Short: "Create and list organizations, with direct database access"}
	var database, admin string
	var invite bool
	create := &cobra.Command{
		Use:   "create NAME --admin LOGIN [--invite]",
		Short: "Create an organization with its built-in roles and its first admin",
		Long: "Create an organization with its built-in roles and its first admin. A new LOGIN becomes a user\n" +
			"the organization manages, and the admin's first personal token is printed once. A LOGIN that\n" +
			"exists already belongs to someone who has not consented: the command refuses, unless --invite\n" +
			"is given, in which case that user is invited as admin and accepts with their own token\n" +
			"(POST /api/user/pending-invites/ID/accept, or the console's Invitations page).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if admin == "" {
				return fmt.Errorf("--admin is required")
			}
			db, svc, err := openDirect(cmd.Context(), database)
			if err != nil {
				return err
			}
			defer db.Close()
			res, err := svc.CreateOrgWithAdmin(cmd.Context(), args[0], admin, invite)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if res.Invite != nil {
				fmt.Fprintf(out, "created organization %q; %q exists already and was invited as its admin (invitation %s, expires %s): no token was issued\n",
					res.Org.Name, admin, res.Invite.ID, res.Invite.Expires.UTC().Format(time.RFC3339))
				return nil
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "created organization %q and its first admin %q; the admin's access token, shown this once and never again:\n", res.Org.Name, admin)
			fmt.Fprintln(out, res.Token)
			return nil
		},
	}
	databaseFlag(create, &database)
	create.Flags().StringVar(&admin, "admin", "", "login of the first admin")
	create.Flags().BoolVar(&invite, "invite", false, "invite an existing user as admin instead of refusing")
	var listDB string
	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List organizations",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, svc, err := openDirect(cmd.Context(), listDB)
			if err != nil {
				return err
			}
			defer db.Close()
			orgs, err := svc.Orgs(cmd.Context())
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tID\tCREATED")
			for _, o := range orgs {
				fmt.Fprintf(w, "%s\t%s\t%s\n", o.Name, o.ID, o.Created.UTC().Format(time.RFC3339))
			}
			return w.Flush()
		},
	}
	databaseFlag(list, &listDB)
	cmd.AddCommand(create, list)
	return cmd
}
