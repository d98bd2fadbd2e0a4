package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/service"
)

func newOIDCCmd() *cobra.Command {
	f := &clientFlags{}
	cmd := newGroup("oidc", "Manage OIDC issuers and their authorization policies")
	f.bind(cmd)
	issuer := newGroup("issuer", "Register, list and remove OIDC issuers")
	issuer.AddCommand(newOIDCIssuerAddCmd(f), newOIDCIssuerListCmd(f), newOIDCIssuerGetCmd(f), newOIDCIssuerRmCmd(f))
	policy := newGroup("policy", "Read and replace an issuer's authorization policy")
	policy.AddCommand(newOIDCPolicyGetCmd(f), newOIDCPolicySetCmd(f))
	cmd.AddCommand(issuer, policy, newOIDCTestCmd(f))
	return cmd
}

// findIssuer resolves an issuer by name or id.
func findIssuer(cmd *cobra.Command, c gatehouse.IAM, org, nameOrID string) (*gatehouse.Issuer, error) {
	return resolveIssuer(cmd.Context(), c, org, nameOrID)
}

func newOIDCIssuerAddCmd(f *clientFlags) *cobra.Command {
	var maxExp time.Duration
	add := &cobra.Command{Use: "create NAME URL", Aliases: []string{"add"}, Short: "Register an issuer; its policy starts by denying everything", Args: cobra.ExactArgs(2),
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			i, err := c.RegisterIssuer(cmd.Context(), org, args[0], args[1], maxExp)
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), i, []string{"ID", "NAME", "ISSUER", "THUMBPRINTS"},
				[][]string{{i.ID, i.Name, i.Issuer, strings.Join(i.Thumbprints, ",")}})
		})}
	add.Flags().DurationVar(&maxExp, "max-expiration", 0, "longest lifetime of exchanged tokens (default 25h)")
	return add
}

func newOIDCIssuerListCmd(f *clientFlags) *cobra.Command {
	return &cobra.Command{Use: "list", Aliases: []string{"ls"}, Short: "List issuers", Args: cobra.NoArgs,
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, _ []string) error {
			is, err := c.Issuers(cmd.Context(), org)
			if err != nil {
				return err
			}
			rows := make([][]string, len(is))
			for i, x := range is {
				rows[i] = []string{x.ID, x.Name, x.Issuer, x.MaxExpiration.String(), stamp(x.LastUsed)}
			}
			return f.print(cmd.OutOrStdout(), is, []string{"ID", "NAME", "ISSUER", "MAX EXPIRATION", "LAST USED"}, rows)
		})}
}

func newOIDCIssuerRmCmd(f *clientFlags) *cobra.Command {
	return &cobra.Command{Use: "delete NAME|ID", Aliases: []string{"rm"}, Short: "Remove an issuer and its policy", Args: cobra.ExactArgs(1),
		ValidArgsFunction: completeIssuers(f),
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			i, err := findIssuer(cmd, c, org, args[0])
			if err != nil {
				return err
			}
			if err := c.DeleteIssuer(cmd.Context(), org, i.ID); err != nil {
				return err
			}
			return f.done(cmd, "deleted OIDC issuer %s", i.Name)
		})}
}

func newOIDCIssuerGetCmd(f *clientFlags) *cobra.Command {
	return &cobra.Command{Use: "get NAME|ID", Short: "Show an issuer", Args: cobra.ExactArgs(1),
		ValidArgsFunction: completeIssuers(f),
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			i, err := findIssuer(cmd, c, org, args[0])
			if err != nil {
				return err
			}
			if f.output == "json" { // the issuer's entry in the list the server sent
				return writeJSON(cmd.OutOrStdout(), pickFromList(f.last, "oidcIssuers", "id", i.ID))
			}
			return f.print(cmd.OutOrStdout(), nil, []string{"ID", "NAME", "ISSUER", "MAX EXPIRATION", "THUMBPRINTS", "LAST USED"},
				[][]string{{i.ID, i.Name, i.Issuer, i.MaxExpiration.String(), strings.Join(i.Thumbprints, ","), stamp(i.LastUsed)}})
		})}
}

func newOIDCPolicyGetCmd(f *clientFlags) *cobra.Command {
	return &cobra.Command{Use: "get ISSUER", Short: "Print an issuer's rules as JSON (-o json: the whole policy, as the API returns it)", Args: cobra.ExactArgs(1),
		ValidArgsFunction: completeIssuers(f),
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			i, err := findIssuer(cmd, c, org, args[0])
			if err != nil {
				return err
			}
			_, rules, err := c.IssuerPolicy(cmd.Context(), org, i.ID)
			if err != nil {
				return err
			}
			if f.output == "json" {
				return writeJSON(cmd.OutOrStdout(), f.last)
			}
			return encodeJSON(cmd.OutOrStdout(), rules)
		})}
}

func newOIDCPolicySetCmd(f *clientFlags) *cobra.Command {
	return &cobra.Command{Use: "set ISSUER FILE", Aliases: []string{"update"}, ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) == 0 {
			return completeIssuers(f)(cmd, args, toComplete)
		}
		return nil, cobra.ShellCompDirectiveDefault
	}, Short: "Replace an issuer's rules with those in FILE (a JSON list)", Args: cobra.ExactArgs(2),
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			i, err := findIssuer(cmd, c, org, args[0])
			if err != nil {
				return err
			}
			rules, err := readRules(args[1])
			if err != nil {
				return err
			}
			p, err := c.SetIssuerPolicy(cmd.Context(), org, i.ID, rules)
			if err != nil {
				return err
			}
			return f.done(cmd, "policy of %s is at version %d with %d rules", i.Name, p.Version, len(rules))
		})}
}

func newOIDCTestCmd(f *clientFlags) *cobra.Command {
	var claimsFile, tokenType, scope string
	test := &cobra.Command{
		Use:   "test --issuer NAME --claims FILE [--token-type T] [--scope S]",
		Short: "Show which rule would match a token's claims, and what would be issued, without issuing anything",
		Long: "Evaluate an issuer's policy against the claims in FILE (a JSON object, as the ID token would carry)\n" +
			"and show the deciding rule and the token an exchange would issue. Exit status 0 allow, 1 deny.",
		Args: cobra.NoArgs,
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, _ []string) error {
			name, _ := cmd.Flags().GetString("issuer")
			i, err := findIssuer(cmd, c, org, name)
			if err != nil {
				return err
			}
			claims, err := readClaims(claimsFile)
			if err != nil {
				return err
			}
			_, rules, err := c.IssuerPolicy(cmd.Context(), org, i.ID)
			if err != nil {
				return err
			}
			subject := ""
			if tokenType != gatehouse.TokenOrganization {
				var ok bool
				if _, subject, ok = strings.Cut(scope, ":"); !ok || subject == "" {
					return errors.New("--scope: team:NAME, user:LOGIN or runner:NAME for that token type")
				}
			}
			d := service.EvaluatePolicy(rules, claims, tokenType, subject, i.Name)
			res := wire.PolicyTestResult{Allowed: d.Allowed, Issuer: i.Name, TokenType: tokenType, Subject: subject, Reason: d.Reason}
			if d.Allowed {
				res = issued(res, i, rules[d.Rule], d.Rule, scope)
			}
			if f.output == "json" {
				err = encodeJSON(cmd.OutOrStdout(), res)
			} else {
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", map[bool]string{true: "allow", false: "deny"}[res.Allowed], res.Reason)
			}
			if err == nil && !res.Allowed {
				err = exitCode(exitDeny)
			}
			return err
		}),
	}
	test.Flags().String("issuer", "", "issuer name or id")
	test.Flags().StringVar(&claimsFile, "claims", "", "JSON file of the token's claims")
	test.Flags().StringVar(&tokenType, "token-type", gatehouse.TokenOrganization, "organization, team, personal or runner")
	test.Flags().StringVar(&scope, "scope", "", "admin, team:NAME, user:LOGIN or runner:NAME")
	test.RegisterFlagCompletionFunc("issuer", completeIssuers(f))
	test.MarkFlagRequired("issuer")
	test.MarkFlagRequired("claims")
	return test
}

// readClaims reads oidc test's --claims file, a JSON object.
func readClaims(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--claims: %w", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(b, &claims); err != nil {
		return nil, fmt.Errorf("--claims: %s is not a JSON object: %v", path, err)
	}
	return claims, nil
}

// issued completes res, allowed by rule r (number n) of issuer i, with
// what an exchange would issue; asking for admin from a rule that does not
// authorize it is a denial.
func issued(res wire.PolicyTestResult, i *gatehouse.Issuer, r gatehouse.AuthPolicyRule, n int, scope string) wire.PolicyTestResult {
	res.Rule = &n
	role := r.RoleID
	if role == "" {
		role = "the organization's default role"
	}
	if scope == "admin" {
		if !containsString(r.AuthorizedPermissions, "admin") {
			res.Allowed, res.Reason = false, fmt.Sprintf("rule %d does not list admin in authorizedPermissions", n)
			return res
		}
		role = "Admin"
	}
	switch res.TokenType {
	case gatehouse.TokenTeam:
		role = "the roles of team " + res.Subject + " and the Member role"
	case gatehouse.TokenPersonal:
		role = "the permissions of user " + res.Subject
	}
	res.RoleID, res.Grants, res.MaxExpiration = r.RoleID, role, i.MaxExpiration.String()
	res.Reason = fmt.Sprintf("rule %d matches; an exchange would issue a %s token holding %s, for at most %s", n, res.TokenType, role, i.MaxExpiration)
	return res
}

func readRules(path string) ([]gatehouse.AuthPolicyRule, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rules []gatehouse.AuthPolicyRule
	if err := json.Unmarshal(b, &rules); err != nil {
		var wrapped struct {
			Policies []gatehouse.AuthPolicyRule `json:"policies"`
		}
		if err2 := json.Unmarshal(b, &wrapped); err2 != nil || wrapped.Policies == nil {
			return nil, fmt.Errorf("%s: want a JSON list of rules (or {\"policies\": [...]}): %v", path, err)
		}
		rules = wrapped.Policies
	}
	return rules, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
