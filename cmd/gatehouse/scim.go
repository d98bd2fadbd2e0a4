package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse/api"
)

func newSCIMCmd() *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{Use: "scim", Short: "SCIM 2.0 provisioning of an organization's users and groups"}
	f.bind(cmd)
	token := &cobra.Command{Use: "token", Short: "Make the organization's SCIM token (shown once; the previous one stops working)", Args: cobra.NoArgs,
		RunE: f.withClient(true, func(cmd *cobra.Command, c *api.Client, org string, _ []string) error {
			t, err := c.CreateSCIMToken(cmd.Context(), org)
			if err != nil {
				return err
			}
			if f.output == "json" {
				return f.print(cmd.OutOrStdout(), t, nil, nil)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "SCIM base URL: %s%s\nToken (shown once): %s\n", c.BaseURL, t.BaseURL, t.Token)
			return err
		})}
	cmd.AddCommand(token)
	return cmd
}
