package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

func newScopesCmd() *cobra.Command {
	var typ, output string
	cmd := &cobra.Command{
		Use:   "scopes",
		Short: "List the scope catalog",
		Long: "List every scope Gatehouse knows, with the entity types it applies to, its group and what it allows.\n" +
			"--type keeps the scopes of one entity type: global, stack, environment or insights-account.\n" +
			"-o json prints the catalog as the API serves it (GET /api/orgs/ORG/roles/scopes), from the binary.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			infos := catalog.All()
			var types []gatehouse.EntityType
			if typ != "" {
				t, ok := gatehouse.ParseEntityType(typ)
				if !ok || t == gatehouse.EntityTeam {
					return fmt.Errorf("--type: unknown entity type %q (want global, stack, environment or insights-account)", typ)
				}
				types = append(types, t)
				kept := infos[:0]
				for _, info := range infos {
					if info.AppliesTo(t) {
						kept = append(kept, info)
					}
				}
				infos = kept
			}
			out := cmd.OutOrStdout()
			switch output {
			case "json": // the API's GET /api/orgs/{org}/roles/scopes
				return encodeJSON(out, api.ScopeCatalog(types...))
			case "table":
				w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "SCOPE\tTYPES\tGROUP\tDESCRIPTION")
				for _, info := range infos {
					types := make([]string, len(info.Types))
					for i, t := range info.Types {
						types[i] = t.String()
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", info.Name, strings.Join(types, ","), info.Group, info.Description)
				}
				return w.Flush()
			}
			return fmt.Errorf("--output: unknown format %q (want table or json)", output)
		},
	}
	cmd.Flags().StringVar(&typ, "type", "", "only scopes of this entity type (global, stack, environment, insights-account)")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}
