package main

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api"
	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// stackTagFlags select stacks and say how to retag them.
type stackTagFlags struct {
	project, name string
	tags          []string // key=value or key, all must match
	set, remove   []string
	dryRun        bool
	batch         int
}

func newStackCmd() *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{Use: "stack", Short: "Work on many stacks at once"}
	f.bind(cmd)
	t := &stackTagFlags{}
	tag := &cobra.Command{Use: "tag", Short: "Set or remove tags on the stacks selected by project, tag and name, in batches", Args: cobra.NoArgs,
		Long: `Selects the stacks you may read (--project, --tag key=value or key, repeatable, all
must match; --name, a shell pattern on the stack's name) and sets (--set key=value)
or removes (--remove key) tags on them, up to --batch-size stacks per transaction.
With --dry-run nothing changes: the server applies and checks every change, rolls
it back, and lists which stacks would change and whose access would move (which
principals gain or lose which scopes on which stacks through tag rules).`,
		RunE: f.withOrg(func(cmd *cobra.Command, iam gatehouse.IAM, org string, _ []string) error {
			c, ok := iam.(*api.Client)
			if !ok {
				return errors.New("stack tag needs the Gatehouse API")
			}
			return t.run(cmd, f, c, org)
		})}
	tag.Flags().StringVar(&t.project, "project", "", "only stacks of this project")
	tag.Flags().StringArrayVar(&t.tags, "tag", nil, "only stacks with this tag, key=value or key (repeatable: all must match)")
	tag.Flags().StringVar(&t.name, "name", "", "only stacks whose name matches this shell pattern (such as 'prod-*')")
	tag.Flags().StringArrayVar(&t.set, "set", nil, "set a tag, key=value (repeatable)")
	tag.Flags().StringArrayVar(&t.remove, "remove", nil, "remove a tag, by key (repeatable)")
	tag.Flags().BoolVar(&t.dryRun, "dry-run", false, "change nothing; list the stacks that would change and whose access would move")
	tag.Flags().IntVar(&t.batch, "batch-size", 1000, "stacks per request and transaction (at most 1000)")
	cmd.AddCommand(tag)
	return cmd
}

// stackTagResult is what stack tag did (or would do), over every batch.
type stackTagResult struct {
	DryRun          bool                  `json:"dryRun"`
	Selected        int                   `json:"selected"`
	Changes         []wire.TagBatchResult `json:"changes"`
	Access          []wire.TagBatchAccess `json:"access,omitempty"`
	AccessTruncated bool                  `json:"accessTruncated,omitempty"`
	AccessOmitted   string                `json:"accessOmitted,omitempty"`
}

func (t *stackTagFlags) run(cmd *cobra.Command, f *clientFlags, c *api.Client, org string) error {
	set, err := parseTags("--set", t.set, true)
	if err != nil {
		return err
	}
	if len(set) == 0 && len(t.remove) == 0 {
		return errors.New("nothing to do: give --set key=value or --remove key")
	}
	if t.batch < 1 || t.batch > 1000 {
		return fmt.Errorf("--batch-size: %d is not from 1 to 1000", t.batch)
	}
	if t.name != "" {
		if _, err := path.Match(t.name, ""); err != nil {
			return fmt.Errorf("--name: %q is not a pattern: %v", t.name, err)
		}
	}
	names, err := t.selectStacks(cmd.Context(), c, org)
	if err != nil {
		return err
	}
	res := stackTagResult{DryRun: t.dryRun, Selected: len(names), Changes: []wire.TagBatchResult{}}
	for start := 0; start < len(names); start += t.batch {
		part := names[start:min(start+t.batch, len(names))]
		req := wire.TagBatchRequest{DryRun: t.dryRun, Changes: make([]wire.TagBatchChange, len(part))}
		for i, n := range part {
			req.Changes[i] = wire.TagBatchChange{Entity: wire.BatchEntity{Type: "stack", Name: n}, Set: set, Remove: t.remove}
		}
		out, err := c.TagBatch(cmd.Context(), org, req)
		if err != nil {
			return fmt.Errorf("stacks %d to %d of %d (the earlier batches are applied): %w", start+1, start+len(part), len(names), err)
		}
		for _, r := range out.Changes {
			r.Index += start
			res.Changes = append(res.Changes, r)
		}
		for _, a := range out.Access {
			a.Index += start
			res.Access = append(res.Access, a)
		}
		res.AccessTruncated = res.AccessTruncated || out.AccessTruncated
		res.AccessOmitted = out.AccessOmitted
	}
	return t.print(cmd, f, res)
}

// selectStacks lists the stacks that match every filter, as project/name
// in order. The first --tag filters on the server; each further one costs
// a request per remaining stack.
func (t *stackTagFlags) selectStacks(ctx context.Context, c *api.Client, org string) ([]string, error) {
	filters, err := parseTags("--tag", t.tags, false)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(filters))
	for k := range filters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var first, firstValue string
	if len(keys) > 0 {
		first, firstValue = keys[0], filters[keys[0]]
	}
	stacks, err := c.Stacks(ctx, org, t.project, first, firstValue)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, st := range stacks {
		if t.name != "" {
			if ok, _ := path.Match(t.name, st.StackName); !ok {
				continue
			}
		}
		if len(keys) > 1 {
			full, err := c.Stack(ctx, org, st.ProjectName, st.StackName)
			if err != nil {
				return nil, err
			}
			if !tagsMatch(full.Tags, filters) {
				continue
			}
		}
		out = append(out, st.ProjectName+"/"+st.StackName)
	}
	sort.Strings(out)
	return out, nil
}

// parseTags reads key=value flags (with needValue; otherwise a bare key
// matches any value, kept as "").
func parseTags(flag string, in []string, needValue bool) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range in {
		k, v, ok := strings.Cut(kv, "=")
		if k == "" || (needValue && !ok) {
			return nil, fmt.Errorf("%s: %q is not key=value", flag, kv)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%s: %q is given twice", flag, k)
		}
		out[k] = v
	}
	return out, nil
}

func tagsMatch(tags, filters map[string]string) bool {
	for k, v := range filters {
		got, ok := tags[k]
		if !ok || (v != "" && got != v) {
			return false
		}
	}
	return true
}

func (t *stackTagFlags) print(cmd *cobra.Command, f *clientFlags, res stackTagResult) error {
	w := cmd.OutOrStdout()
	if f.output == "json" {
		return f.printComposed(w, res, nil, nil)
	}
	var rows [][]string
	changed := 0
	for _, r := range res.Changes {
		if r.Changed {
			changed++
			rows = append(rows, []string{r.Entity.Name, formatTags(r.Before), formatTags(r.After)})
		}
	}
	verb := "changed"
	if res.DryRun {
		verb = "would change"
	}
	fmt.Fprintf(w, "%d stacks selected, %d %s\n", res.Selected, changed, verb)
	if len(rows) > 0 {
		if err := f.print(w, nil, []string{"STACK", "TAGS BEFORE", "TAGS AFTER"}, rows); err != nil {
			return err
		}
	}
	if !res.DryRun {
		return nil
	}
	if res.AccessOmitted != "" {
		fmt.Fprintf(w, "access changes not shown: %s\n", res.AccessOmitted)
		return nil
	}
	if len(res.Access) == 0 {
		fmt.Fprintln(w, "no one's access would change")
		return nil
	}
	fmt.Fprintf(w, "\naccess that would change (%d):\n", len(res.Access))
	rows = rows[:0]
	for _, a := range res.Access {
		rows = append(rows, []string{a.Principal.Kind + " " + a.Principal.Name, a.Entity.Name, strings.Join(a.Gained, ","), strings.Join(a.Lost, ",")})
	}
	if err := f.print(w, nil, []string{"PRINCIPAL", "STACK", "GAINS", "LOSES"}, rows); err != nil {
		return err
	}
	if res.AccessTruncated {
		fmt.Fprintln(w, "(truncated: more access changes than listed)")
	}
	return nil
}

func formatTags(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ",")
}
