package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/service"
	"github.com/gatehouse-iam/gatehouse/store"
)

func newAdminCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Administer Gatehouse from its host, with direct database access",
	}
	var database, org, user, description string
	var expires time.Duration
	issue := &cobra.Command{
		Use:   "issue-token --org ORG --user LOGIN",
		Short: "Issue a personal access token for a member (to recover access)",
		Long: "Issue a personal access token for a member of an organization, writing it straight to the\n" +
			"database. Use it to recover when no admin token is left. The value is printed once.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if org == "" || user == "" {
				return fmt.Errorf("--org and --user are required")
			}
			db, err := store.Open(cmd.Context(), database, store.Options{})
			if err != nil {
				return err
			}
			defer db.Close()
			svc := service.New(db, authz.New(db, nil), nil)
			var exp time.Time
			if expires > 0 {
				exp = time.Now().Add(expires)
			}
			value, err := svc.IssueToken(cmd.Context(), org, user, description, exp)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), value)
			return nil
		},
	}
	databaseFlag(issue, &database)
	issue.Flags().StringVar(&org, "org", "", "organization name")
	issue.Flags().StringVar(&user, "user", "", "member's login")
	issue.Flags().StringVar(&description, "description", "issued with gatehouse admin issue-token", "token description")
	issue.Flags().DurationVar(&expires, "expires", 0, "lifetime, e.g. 720h (default: never expires)")
	cmd.AddCommand(issue)
	return cmd
}
