package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/service"
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
	cmd := newGroup("audit", "Read, export and verify the audit log")
	cmd.AddCommand(newAuditListCmd(), newAuditExportCmd(), newAuditVerifyCmd(), newAuditCheckpointCmd())
	return cmd
}

// auditFilterFlags are the flags that filter audit events, shared by audit
// list and audit export.
type auditFilterFlags struct {
	from, to, class string
	events, users   []string
}

// bind binds the filters; class is --class's default: change for lists
// (reads left out, as by the API), all for exports.
func (a *auditFilterFlags) bind(c *cobra.Command, class string) {
	c.Flags().StringVar(&a.class, "class", class, "change (reads left out), read (exports, decryptions, environments opened) or all")
	c.RegisterFlagCompletionFunc("class", cobra.FixedCompletions([]string{gatehouse.AuditClassChange, gatehouse.AuditClassRead, gatehouse.AuditClassAll}, cobra.ShellCompDirectiveNoFileComp))
	c.RegisterFlagCompletionFunc("event", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, t := range gatehouse.AuditEventTypes {
			out = append(out, t.Event+"\t"+t.DisplayName)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
	c.Flags().StringVar(&a.from, "from", "", "events at or after (unix seconds or RFC 3339)")
	c.Flags().StringVar(&a.to, "to", "", "events before (unix seconds or RFC 3339)")
	c.Flags().StringSliceVar(&a.events, "event", nil, "event types (repeat or comma-separate)")
	c.Flags().StringSliceVar(&a.users, "user", nil, "actor logins (repeat or comma-separate)")
}

func (a *auditFilterFlags) filter() (gatehouse.AuditFilter, error) {
	var af gatehouse.AuditFilter
	var err error
	if af.From, err = parseWhen("from", a.from); err != nil {
		return af, err
	}
	if af.To, err = parseWhen("to", a.to); err != nil {
		return af, err
	}
	af.Types, af.ActorLogins, af.Class = a.events, a.users, a.class
	return af, nil
}

func newAuditListCmd() *cobra.Command {
	f := &clientFlags{}
	a := &auditFilterFlags{}
	var limit int
	list := &cobra.Command{Use: "list", Aliases: []string{"ls"}, Short: "List audit events, newest first", Args: cobra.NoArgs,
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, _ []string) error {
			af, err := a.filter()
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
			if f.output == "json" {
				return writeAuditPages(cmd.OutOrStdout(), f.bodies, limit)
			}
			rows := make([][]string, len(out))
			for i, e := range out {
				rows[i] = []string{e.Time.UTC().Format(time.RFC3339), e.ActorLogin, e.Type, e.Description, e.SourceIP}
			}
			return printTable(cmd.OutOrStdout(), []string{"TIME", "ACTOR", "EVENT", "DESCRIPTION", "SOURCE"}, rows)
		})}
	f.bind(list)
	a.bind(list, gatehouse.AuditClassChange)
	list.Flags().IntVar(&limit, "limit", 100, "most events to show")
	return list
}

func newAuditExportCmd() *cobra.Command {
	f := &clientFlags{}
	a := &auditFilterFlags{}
	var format, file string
	export := &cobra.Command{Use: "export", Short: "Export audit events as CSV or CEF", Args: cobra.NoArgs,
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, _ []string) error {
			af, err := a.filter()
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
	f.bind(export)
	a.bind(export, gatehouse.AuditClassAll)
	export.Flags().StringVar(&format, "format", "csv", "csv or cef")
	export.Flags().StringVar(&file, "file", "", "write to this new file instead of standard output")
	return export
}

func newAuditVerifyCmd() *cobra.Command {
	d := &directOrgFlags{}
	var checkpointFile string
	var cps []*service.AuditCheckpoint
	verifyChain := d.withOrg(func(cmd *cobra.Command, svc *service.Service, org *gatehouse.Organization, _ []string) error {
		v, err := svc.VerifyAudit(cmd.Context(), org.ID, cps...)
		if err != nil {
			return err
		}
		return printVerification(cmd.OutOrStdout(), v)
	})
	verify := &cobra.Command{
		Use:   "verify --org ORG [--checkpoint FILE]",
		Short: "Walk an organization's tamper-evident audit chain and name the first broken link",
		Long: "Walk an organization's audit chain in the database (direct access, from the host) and check that\n" +
			"every event links to the one before and matches its link (HMAC-SHA256 under a key derived from\n" +
			"the master key; events written before the chain was keyed, with plain SHA-256), and that the\n" +
			"chain's head and anchor match their MAC. With --checkpoint, also check that the chain still holds\n" +
			"the checkpoint's event with its hash. Exit status 0 when intact, 1 when broken.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := d.needOrg(); err != nil {
				return err
			}
			if checkpointFile != "" { // read before the database is opened
				cp, err := readCheckpoint(checkpointFile)
				if err != nil {
					return err
				}
				cps = []*service.AuditCheckpoint{cp}
			}
			return verifyChain(cmd, args)
		},
	}
	d.bind(verify, true)
	verify.Flags().StringVar(&checkpointFile, "checkpoint", "", "a checkpoint written by `gatehouse audit checkpoint` that the chain must still hold")
	return verify
}

// printVerification writes what audit verify found; a broken chain is
// exit status 1.
func printVerification(w io.Writer, v *gatehouse.AuditVerification) error {
	if v.Broken != 0 {
		fmt.Fprintf(w, "broken: event %d: %s (%d events checked)\n", v.Broken, v.Problem, v.Events)
		return exitCode(exitDeny)
	}
	switch {
	case v.Unkeyed == 0:
		fmt.Fprintf(w, "intact: %d events, all keyed\n", v.Events)
	case v.KeyedFrom == 0:
		fmt.Fprintf(w, "intact: %d events, all unkeyed (written before the chain was keyed; a later event starts the keyed part): anyone who can write the database could have rewritten them\n", v.Events)
	default:
		fmt.Fprintf(w, "intact: %d events: %d unkeyed (before event %d, written before the chain was keyed; anyone who can write the database could have rewritten them) and %d keyed\n",
			v.Events, v.Unkeyed, v.KeyedFrom, v.Keyed)
	}
	if v.Checkpoint != "" {
		fmt.Fprintf(w, "checkpoint: %s\n", v.Checkpoint)
	}
	return nil
}

func newAuditCheckpointCmd() *cobra.Command {
	d := &directOrgFlags{}
	var out string
	checkpoint := &cobra.Command{
		Use:   "checkpoint --org ORG [--out FILE]",
		Short: "Verify an organization's audit chain and write a signed checkpoint of its head",
		Long: "Verify an organization's audit chain (direct access, from the host) and write a checkpoint of its\n" +
			"head as JSON (organization, last event, its hash, the event count, the time), signed with HMAC-SHA256\n" +
			"under a key derived from the master key. Keep checkpoints outside the database (another machine, a\n" +
			"write-once store): `gatehouse audit verify --checkpoint FILE` then finds a chain cut back before the\n" +
			"checkpoint or rewritten up to it, even by someone who could write the whole database.",
		Args: cobra.NoArgs,
		RunE: d.withOrg(func(cmd *cobra.Command, svc *service.Service, org *gatehouse.Organization, _ []string) error {
			cp, err := svc.CheckpointAudit(cmd.Context(), org.ID, org.Name)
			if err != nil {
				return err
			}
			data, err := json.MarshalIndent(cp, "", "  ")
			if err != nil {
				return err
			}
			data = append(data, '\n')
			if out == "" {
				_, err = cmd.OutOrStdout().Write(data)
				return err
			}
			fh, err := os.OpenFile(out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return err
			}
			if _, err := fh.Write(data); err != nil {
				fh.Close()
				return err
			}
			if err := fh.Close(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote a checkpoint of %s at event %d to %s\n", org.Name, cp.Seq, out)
			return nil
		}),
	}
	d.bind(checkpoint, true)
	checkpoint.Flags().StringVar(&out, "out", "", "write to this new file (mode 0600) instead of standard output")
	return checkpoint
}

// readCheckpoint reads a checkpoint file, strictly.
func readCheckpoint(path string) (*service.AuditCheckpoint, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--checkpoint: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	cp := &service.AuditCheckpoint{}
	if err := dec.Decode(cp); err != nil {
		return nil, fmt.Errorf("--checkpoint %s: not a checkpoint: %v", path, err)
	}
	return cp, nil
}

// writeAuditPages writes the pages the server sent as one page of the
// API's shape ({"auditLogEvents": [...]}), the first limit events, each as
// the server sent it.
func writeAuditPages(w io.Writer, bodies [][]byte, limit int) error {
	events := []json.RawMessage{}
	for _, b := range bodies {
		var page struct {
			AuditLogEvents []json.RawMessage `json:"auditLogEvents"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			return fmt.Errorf("the server's response is not an audit page: %w", err)
		}
		events = append(events, page.AuditLogEvents...)
	}
	if len(events) > limit {
		events = events[:limit]
	}
	body, err := json.Marshal(map[string]any{"auditLogEvents": events})
	if err != nil {
		return err
	}
	return writeJSON(w, body)
}
