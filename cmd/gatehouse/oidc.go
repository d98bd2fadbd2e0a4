package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/service"
)

func newOIDCCmd() *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{Use: "oidc", Short: "Manage OIDC issuers and their authorization policies"}
	f.bind(cmd)
	issuer := &cobra.Command{Use: "issuer", Short: "Register, list and remove OIDC issuers"}
	issuer.AddCommand(newOIDCIssuerAddCmd(f), newOIDCIssuerListCmd(f), newOIDCIssuerRmCmd(f))
	policy := &cobra.Command{Use: "policy", Short: "Read and replace an issuer's authorization policy"}
	policy.AddCommand(newOIDCPolicyGetCmd(f), newOIDCPolicySetCmd(f))
	cmd.AddCommand(issuer, policy, newOIDCTestCmd(f))
	return cmd
}

// findIssuer resolves an issuer by name or id.
func findIssuer(cmd *cobra.Command, c gatehouse.IAM, org, nameOrID string) (*gatehouse.Issuer, error) {
	is, err := c.Issuers(cmd.Context(), org)
	if err != nil {
		return nil, err
	}
	for _, i := range is {
		if i.Name == nameOrID || i.ID == nameOrID {
			return i, nil
		}
	}
	return nil, fmt.Errorf("no OIDC issuer %q in %s", nameOrID, org)
}

func newOIDCIssuerAddCmd(f *clientFlags) *cobra.Command {
	var maxExp time.Duration
	add := &cobra.Command{Use: "add NAME URL", Short: "Register an issuer; its policy starts by denying everything", Args: cobra.ExactArgs(2),
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
	return &cobra.Command{Use: "list", Short: "List issuers", Args: cobra.NoArgs,
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
	return &cobra.Command{Use: "rm NAME", Short: "Remove an issuer and its policy", Args: cobra.ExactArgs(1),
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			i, err := findIssuer(cmd, c, org, args[0])
			if err != nil {
				return err
			}
			return c.DeleteIssuer(cmd.Context(), org, i.ID)
		})}
}

func newOIDCPolicyGetCmd(f *clientFlags) *cobra.Command {
	return &cobra.Command{Use: "get ISSUER", Short: "Print an issuer's rules as JSON", Args: cobra.ExactArgs(1),
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			i, err := findIssuer(cmd, c, org, args[0])
			if err != nil {
				return err
			}
			_, rules, err := c.IssuerPolicy(cmd.Context(), org, i.ID)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(rules)
		})}
}

func newOIDCPolicySetCmd(f *clientFlags) *cobra.Command {
	return &cobra.Command{Use: "set ISSUER FILE", Short: "Replace an issuer's rules with those in FILE (a JSON list)", Args: cobra.ExactArgs(2),
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
			fmt.Fprintf(cmd.OutOrStdout(), "policy of %s is at version %d with %d rules\n", i.Name, p.Version, len(rules))
			return nil
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
			if !d.Allowed {
				fmt.Fprintf(cmd.OutOrStdout(), "deny: %s\n", d.Reason)
				return exitCode(exitDeny)
			}
			return printIssued(cmd.OutOrStdout(), i, rules[d.Rule], d.Rule, tokenType, subject, scope)
		}),
	}
	test.Flags().String("issuer", "", "issuer name or id")
	test.Flags().StringVar(&claimsFile, "claims", "", "JSON file of the token's claims")
	test.Flags().StringVar(&tokenType, "token-type", gatehouse.TokenOrganization, "organization, team, personal or runner")
	test.Flags().StringVar(&scope, "scope", "", "admin, team:NAME, user:LOGIN or runner:NAME")
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

// printIssued says what an exchange matching rule r (number n) of issuer i
// would issue; asking for admin from a rule that does not authorize it is
// a denial (exit status 1).
func printIssued(w io.Writer, i *gatehouse.Issuer, r gatehouse.AuthPolicyRule, n int, tokenType, subject, scope string) error {
	role := r.RoleID
	if role == "" {
		role = "the organization's default role"
	}
	if scope == "admin" {
		if !containsString(r.AuthorizedPermissions, "admin") {
			fmt.Fprintf(w, "deny: rule %d does not list admin in authorizedPermissions\n", n)
			return exitCode(exitDeny)
		}
		role = "Admin"
	}
	switch tokenType {
	case gatehouse.TokenTeam:
		role = "the roles of team " + subject + " and the Member role"
	case gatehouse.TokenPersonal:
		role = "the permissions of user " + subject
	}
	fmt.Fprintf(w, "allow: rule %d matches; an exchange would issue a %s token holding %s, for at most %s\n",
		n, tokenType, role, i.MaxExpiration)
	return nil
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
