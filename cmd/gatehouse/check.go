package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse"
)

// parseCheckEntity reads --entity: "global", "stack:PROJECT/NAME",
// "environment:PROJECT/NAME", "insights-account:NAME", or JSON.
func parseCheckEntity(s string) (gatehouse.CheckEntity, error) {
	var e gatehouse.CheckEntity
	if strings.HasPrefix(strings.TrimSpace(s), "{") {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return e, fmt.Errorf("--entity: %v", err)
		}
		return e, nil
	}
	if s == "global" || s == "" {
		return gatehouse.CheckEntity{Type: "global"}, nil
	}
	typ, name, ok := strings.Cut(s, ":")
	if !ok || name == "" {
		return e, fmt.Errorf("--entity: %q is not global, stack:PROJECT/NAME, environment:PROJECT/NAME, insights-account:NAME or JSON", s)
	}
	e.Type = typ
	if typ == "insights-account" {
		e.Name = name
		return e, nil
	}
	project, stack, ok := strings.Cut(name, "/")
	if !ok {
		return e, fmt.Errorf("--entity: %q needs PROJECT/NAME", s)
	}
	e.Project, e.Name = project, stack
	return e, nil
}

func newCheckCmd() *cobra.Command {
	f := &clientFlags{}
	var token, scope, entity string
	cmd := &cobra.Command{
		Use:   "check --token T --scope S [--entity E]",
		Short: "Ask the server whether a token may use a scope on an entity, and why",
		Long: "Ask the server whether token T may use scope S on entity E, with the explanation.\n" +
			"E is global (the default), stack:PROJECT/NAME, environment:PROJECT/NAME, insights-account:NAME or JSON.\n" +
			"Exit status: 0 allow, 1 deny, 2 error.",
		Args: cobra.NoArgs,
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, _ []string) error {
			e, err := parseCheckEntity(entity)
			if err != nil {
				return err
			}
			res, err := c.Check(cmd.Context(), org, []gatehouse.CheckRequest{{Token: token, Scope: scope, Entity: e, Explain: true}})
			if err != nil {
				return err
			}
			r := res[0]
			if r.Error != "" {
				return errors.New(r.Error)
			}
			if f.output == "json" {
				f.print(cmd.OutOrStdout(), r, nil, nil)
			} else {
				verdict := "deny"
				if r.Allowed {
					verdict = "allow"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", verdict, r.Reason)
			}
			if !r.Allowed {
				return exitCode(exitDeny)
			}
			return nil
		}),
	}
	f.bindWithout(cmd)
	cmd.Flags().StringVar(&token, "token", "", "the token to ask about (the caller's own comes from gatehouse login or $GATEHOUSE_TOKEN)")
	cmd.Flags().StringVar(&scope, "scope", "", "the scope, e.g. stack:write")
	cmd.Flags().StringVar(&entity, "entity", "global", "the entity")
	cmd.RegisterFlagCompletionFunc("scope", completeScopes)
	cmd.MarkFlagRequired("scope")
	cmd.MarkFlagRequired("token")
	return cmd
}
