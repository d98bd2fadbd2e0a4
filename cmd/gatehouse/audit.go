package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse"
)

// parseWhen reads a time flag: unix seconds or RFC 3339.
func parseWhen(flag, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s: %q is neither unix seconds nor RFC 3339", flag, v)
	}
	return t, nil
}

func newAuditCmd() *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{Use: "audit", Short: "Read, export and verify the audit log"}
	var from, to string
	var events, users []string
	filter := func() (gatehouse.AuditFilter, error) {
		var af gatehouse.AuditFilter
		var err error
		if af.From, err = parseWhen("from", from); err != nil {
			return af, err
		}
		if af.To, err = parseWhen("to", to); err != nil {
			return af, err
		}
		af.Types, af.ActorLogins = events, users
		return af, nil
	}
	filters := func(c *cobra.Command) {
		f.bind(c)
		c.Flags().StringVar(&from, "from", "", "events at or after (unix seconds or RFC 3339)")
		c.Flags().StringVar(&to, "to", "", "events before (unix seconds or RFC 3339)")
		c.Flags().StringSliceVar(&events, "event", nil, "event types (repeat or comma-separate)")
		c.Flags().StringSliceVar(&users, "user", nil, "actor logins (repeat or comma-separate)")
	}
	var limit int
	list := &cobra.Command{Use: "list", Short: "List audit events, newest first", Args: cobra.NoArgs,
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, _ []string) error {
			af, err := filter()
			if err != nil {
				return err
			}
			var out []*gatehouse.AuditEvent
			opts := gatehouse.ListOptions{Limit: min(limit, gatehouse.MaxListLimit)}
			for len(out) < limit {
				page, next, err := c.AuditEvents(cmd.Context(), org, af, opts)
				if err != nil {
					return err
				}
				out = append(out, page...)
				if opts.Continuation = next; next == "" {
					break
				}
			}
			if len(out) > limit {
				out = out[:limit]
			}
			rows := make([][]string, len(out))
			for i, e := range out {
				rows[i] = []string{e.Time.UTC().Format(time.RFC3339), e.ActorLogin, e.Type, e.Description, e.SourceIP}
			}
			return f.print(cmd.OutOrStdout(), out, []string{"TIME", "ACTOR", "EVENT", "DESCRIPTION", "SOURCE"}, rows)
		})}
	filters(list)
	list.Flags().IntVar(&limit, "limit", 100, "most events to show")
	var format, file string
	export := &cobra.Command{Use: "export", Short: "Export audit events as CSV or CEF", Args: cobra.NoArgs,
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, _ []string) error {
			af, err := filter()
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if file != "" {
				fh, err := os.OpenFile(file, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
				if err != nil {
					return err
				}
				defer fh.Close()
				w = fh
			}
			return c.ExportAudit(cmd.Context(), org, af, format, w)
		})}
	filters(export)
	export.Flags().StringVar(&format, "format", "csv", "csv or cef")
	export.Flags().StringVar(&file, "file", "", "write to this new file instead of standard output")
	var database, orgName string
	verify := &cobra.Command{
		Use:   "verify --org ORG",
		Short: "Walk an organization's tamper-evident audit chain and name the first broken link",
		Long: "Walk an organization's audit chain in the database (direct access, from the host) and check that\n" +
			"every event links to the one before and matches its hash. Exit status 0 when intact, 1 when broken.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if orgName == "" {
				return fmt.Errorf("--org is required")
			}
			db, svc, err := openDirect(cmd.Context(), database)
			if err != nil {
				return err
			}
			defer db.Close()
			org, err := orgByName(cmd.Context(), db, orgName)
			if err != nil {
				return err
			}
			v, err := svc.VerifyAudit(cmd.Context(), org.ID)
			if err != nil {
				return err
			}
			if v.Broken != 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "broken: event %d: %s (%d events checked)\n", v.Broken, v.Problem, v.Events)
				return exitCode(exitDeny)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "intact: %d events\n", v.Events)
			return nil
		},
	}
	databaseFlag(verify, &database)
	verify.Flags().StringVar(&orgName, "org", "", "organization")
	cmd.AddCommand(list, export, verify)
	return cmd
}
