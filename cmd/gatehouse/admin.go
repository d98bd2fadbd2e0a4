package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/service"
	"github.com/gatehouse-iam/gatehouse/state"
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
			db, svc, err := openDirect(cmd.Context(), database)
			if err != nil {
				return err
			}
			defer db.Close()
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
	masterKey := &cobra.Command{
		Use:   "master-key FILE",
		Short: "Make a new master key file (mode 0600) for stack secrets and the audit chain",
		Long: "Make a new random master key in FILE, readable by its owner only. Every replica on one\n" +
			"PostgreSQL database must use the same key (--master-key-file); back it up with the database.\n" +
			"An existing file is never overwritten.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := os.Stat(args[0]); err == nil {
				return fmt.Errorf("%s exists already; a master key is never overwritten", args[0])
			}
			if _, _, err := state.LoadMasterKey(args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote a new master key to %s (mode 0600)\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(issue, masterKey, newAdminSettingsCmd(), newAdminGrantAdminCmd(), newAdminOrgCmd())
	return cmd
}

func newAdminSettingsCmd() *cobra.Command {
	d := &directOrgFlags{}
	var stackDefault, envDefault, accountDefault string
	var quotas []string
	var maxLifetime, retention time.Duration
	cmd := &cobra.Command{
		Use:   "settings --org ORG [--max-token-lifetime D] [--audit-retention D] [--default-stack-permission P] ...",
		Short: "Change an organization's access settings, with direct database access",
		Args:  cobra.NoArgs,
		RunE: d.withOrg(func(cmd *cobra.Command, svc *service.Service, o *gatehouse.Organization, _ []string) error {
			var c service.SettingsUpdate
			if cmd.Flags().Changed("max-token-lifetime") {
				c.MaxTokenLifetime = &maxLifetime
			}
			if cmd.Flags().Changed("audit-retention") {
				c.AuditRetention = &retention
			}
			if stackDefault != "" || envDefault != "" || accountDefault != "" {
				d := o.Settings.MemberDefaults
				if stackDefault != "" {
					d.StackPermission = stackDefault
				}
				if envDefault != "" {
					d.EnvironmentPermission = envDefault
				}
				if accountDefault != "" {
					d.AccountPermission = accountDefault
				}
				c.MemberDefaults = &d
			}
			if len(quotas) > 0 {
				q, err := parseQuotas(o.Settings.Quotas, quotas)
				if err != nil {
					return err
				}
				c.Quotas = &q
			}
			ctx := gatehouse.WithActor(cmd.Context(), gatehouse.Actor{Login: "host: gatehouse admin settings"})
			if err := svc.UpdateSettings(ctx, o.ID, c); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "updated the settings of %s\n", d.org)
			return nil
		}),
	}
	d.bind(cmd, false)
	cmd.Flags().DurationVar(&maxLifetime, "max-token-lifetime", 0, "longest total lifetime of tokens used against the organization (0: no cap)")
	cmd.Flags().DurationVar(&retention, "audit-retention", 0, "how long audit events are kept (0: forever)")
	cmd.Flags().StringVar(&stackDefault, "default-stack-permission", "", "members' permission on every stack: none, read, write")
	cmd.Flags().StringVar(&envDefault, "default-environment-permission", "", "members' permission on every environment: none, read, open, write")
	cmd.Flags().StringVar(&accountDefault, "default-account-permission", "", "members' permission on every account: none, read, write, admin")
	cmd.Flags().StringArrayVar(&quotas, "quota", nil, "a quota as NAME=N (stacks, environments, tokens, descriptors, descriptorBytes, previewEvents; 0: the default); repeatable")
	return cmd
}

// hostGrantAdmin is the actor the audit log names for grant-admin.
const hostGrantAdmin = "host: gatehouse admin grant-admin"

// newAdminGrantAdminCmd gives an existing member the Admin role from the
// host: the recovery of an organization left without an admin, which no
// API call can mend. It adds nobody: a user who is not a member joins by
// invitation first, so that the host never makes a stranger an admin.
func newAdminGrantAdminCmd() *cobra.Command {
	d := &directOrgFlags{}
	var login string
	cmd := &cobra.Command{
		Use:   "grant-admin --org ORG --user LOGIN",
		Short: "Give a member the Admin role, with direct database access (to recover an organization without an admin)",
		Long: "Give an existing member of an organization the built-in Admin role, writing straight to the\n" +
			"database: the way back for an organization left without an admin. The change is audited\n" +
			"(member_role_changed) with the actor \"" + hostGrantAdmin + "\". A user who is not a member\n" +
			"is refused: invite them first, or name a member.",
		Args: cobra.NoArgs,
		RunE: d.withOrg(func(cmd *cobra.Command, svc *service.Service, o *gatehouse.Organization, _ []string) error {
			if login == "" {
				return fmt.Errorf("--user is required")
			}
			ctx := gatehouse.WithActor(cmd.Context(), gatehouse.Actor{Login: hostGrantAdmin})
			m, err := svc.Member(ctx, o.ID, login)
			if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
				return fmt.Errorf("%s is not a member of %s: grant-admin adds nobody; invite them first, or name a member", login, o.Name)
			}
			if err != nil {
				return err
			}
			if m.Role.DefaultIdentifier == catalog.RoleAdmin {
				fmt.Fprintf(cmd.OutOrStdout(), "%s is an admin of %s already\n", login, o.Name)
				return nil
			}
			if err := svc.UpdateMember(ctx, o.ID, login, catalog.RoleAdmin, ""); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s is now an admin of %s (was %s)\n", login, o.Name, m.Role.Name)
			return nil
		}),
	}
	d.bind(cmd, true)
	cmd.Flags().StringVar(&login, "user", "", "the member's login")
	return cmd
}

// parseQuotas applies NAME=N settings to the organization's quotas.
func parseQuotas(q gatehouse.Quotas, settings []string) (gatehouse.Quotas, error) {
	fields := map[string]*int{"stacks": &q.Stacks, "environments": &q.Environments, "tokens": &q.Tokens,
		"descriptors": &q.Descriptors, "descriptorBytes": &q.DescriptorBytes, "previewEvents": &q.PreviewEvents}
	for _, s := range settings {
		name, v, _ := strings.Cut(s, "=")
		f, ok := fields[name]
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 0 {
			return q, fmt.Errorf("--quota %s: want NAME=N with NAME one of stacks, environments, tokens, descriptors, descriptorBytes, previewEvents and N at least 0", s)
		}
		*f = n
	}
	return q, nil
}
