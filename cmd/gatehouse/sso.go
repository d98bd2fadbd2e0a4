package main

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api"
	"github.com/gatehouse-iam/gatehouse/api/wire"
)

func newSSOCmd() *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{Use: "sso", Short: "Configure console sign-in through the organization's OpenID provider or SAML identity provider"}
	f.bind(cmd)
	oidc := &cobra.Command{Use: "oidc", Short: "OpenID Connect sign-in"}
	oidc.AddCommand(newSSOOIDCSetCmd(f), &cobra.Command{Use: "delete", Aliases: []string{"rm"}, Short: "Turn OIDC sign-in off", Args: cobra.NoArgs,
		RunE: withAPI(f, func(cmd *cobra.Command, c *api.Client, org string, _ []string) error {
			return c.DeleteOIDCSSO(cmd.Context(), org)
		})})
	saml := &cobra.Command{Use: "saml", Short: "SAML 2.0 sign-in"}
	saml.AddCommand(newSSOSAMLSetCmd(f), newSSOSAMLKeysCmd(f))
	cmd.AddCommand(newSSOShowCmd(f), oidc, saml)
	return cmd
}

// withAPI is withOrg for the routes only Gatehouse's API client has.
func withAPI(f *clientFlags, run func(cmd *cobra.Command, c *api.Client, org string, args []string) error) func(*cobra.Command, []string) error {
	return f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
		ac, ok := c.(*api.Client)
		if !ok {
			return errors.New("sso needs a Gatehouse server")
		}
		return run(cmd, ac, org, args)
	})
}

// ssoEndpoints are the URLs an identity provider is given, at the server
// the CLI talks to (the server's --public-url must be the same).
func ssoEndpoints(c *api.Client, org string) [][]string {
	base := strings.TrimRight(c.BaseURL, "/") + "/console/-/sso/" + url.PathEscape(org)
	return [][]string{{"sign-in URL", base}, {"OIDC redirect URI", base + "/oidc/callback"},
		{"SAML SP metadata / entity ID", base + "/saml/metadata"}, {"SAML ACS (HTTP-POST)", base + "/saml/acs"},
		{"SAML SP certificate (PEM)", base + "/saml/certificate"}}
}

func newSSOShowCmd(f *clientFlags) *cobra.Command {
	return &cobra.Command{Use: "show", Short: "Show the SSO settings and the URLs to give the identity provider", Args: cobra.NoArgs,
		RunE: withAPI(f, func(cmd *cobra.Command, c *api.Client, org string, _ []string) error {
			o, err := c.OIDCSSO(cmd.Context(), org)
			if err != nil {
				return err
			}
			s, err := c.SAML(cmd.Context(), org)
			if err != nil {
				return err
			}
			keys, err := c.SAMLSPKeys(cmd.Context(), org)
			if err != nil {
				return err
			}
			rows := [][]string{{"OIDC issuer", o.Issuer}, {"OIDC client ID", o.ClientID}, {"OIDC client secret", yesNo(o.HasClientSecret, "set", "none")},
				{"OIDC user claim", o.UserClaim}, {"OIDC groups claim", o.GroupsClaim}, {"SAML IdP entity ID", s.EntityID}, {"SAML IdP SSO URL", s.SSOURL},
				{"SAML certificate valid until", s.ValidUntil}, {"SAML groups attribute", s.GroupsAttribute},
				{"first sign-in creates members", strconv.FormatBool(o.AllowCreate)}, {"their role", firstOf(o.DefaultRole, o.DefaultRoleID)},
				{"only for e-mail domains", firstOf(strings.Join(o.EmailDomains, ", "), "any")}}
			if s.ValidationError != "" {
				rows = append(rows, []string{"SAML metadata error", s.ValidationError})
			}
			for _, k := range keys.Keys {
				rows = append(rows, []string{"SAML SP certificate (" + k.Status + ")", k.FingerprintSHA256 + " until " + k.NotAfter})
			}
			rows = append(rows, ssoEndpoints(c, org)...)
			return f.printComposed(cmd.OutOrStdout(), map[string]any{"oidc": o, "saml": s, "spKeys": keys}, []string{"SETTING", "VALUE"}, rows)
		})}
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// changed returns a flag's value when it was given, else nil.
func changed(cmd *cobra.Command, name string) *string {
	if !cmd.Flags().Changed(name) {
		return nil
	}
	v, _ := cmd.Flags().GetString(name)
	return &v
}

func changedBool(cmd *cobra.Command, name string) *bool {
	if !cmd.Flags().Changed(name) {
		return nil
	}
	v, _ := cmd.Flags().GetBool(name)
	return &v
}

// readArgFile reads a file, or standard input for "-".
func readArgFile(cmd *cobra.Command, path string) (string, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), 1<<20))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

func addPolicyFlags(cmd *cobra.Command) {
	cmd.Flags().Bool("allow-create", false, "let a first sign-in create the user as a member (shared by OIDC and SAML)")
	cmd.Flags().String("default-role", "", "role id such members get (\"\": the organization's default role)")
	cmd.Flags().StringSlice("email-domains", nil, "only for verified e-mail addresses in these domains (comma-separated; \"\" for any)")
}

// changedDomains returns --email-domains when it was given, else nil.
func changedDomains(cmd *cobra.Command) *[]string {
	if !cmd.Flags().Changed("email-domains") {
		return nil
	}
	v, _ := cmd.Flags().GetStringSlice("email-domains")
	return &v
}

func newSSOOIDCSetCmd(f *clientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "set", Short: "Set the OpenID provider, client and claims (only the flags given change)", Args: cobra.NoArgs,
		RunE: withAPI(f, func(cmd *cobra.Command, c *api.Client, org string, _ []string) error {
			in := wire.UpdateOIDCSSORequest{Issuer: changed(cmd, "issuer"), ClientID: changed(cmd, "client-id"), UserClaim: changed(cmd, "user-claim"),
				GroupsClaim: changed(cmd, "groups-claim"), AllowCreate: changedBool(cmd, "allow-create"), DefaultRoleID: changed(cmd, "default-role"),
				EmailDomains: changedDomains(cmd)}
			if p := changed(cmd, "client-secret-file"); p != nil {
				secret, err := readArgFile(cmd, *p)
				if err != nil {
					return fmt.Errorf("--client-secret-file: %w", err)
				}
				in.ClientSecret = &secret
			}
			o, err := c.UpdateOIDCSSO(cmd.Context(), org, in)
			if err != nil {
				return err
			}
			rows := [][]string{{"issuer", o.Issuer}, {"client ID", o.ClientID}, {"client secret", yesNo(o.HasClientSecret, "set", "none")},
				{"redirect URI", ssoEndpoints(c, org)[1][1]}}
			return f.print(cmd.OutOrStdout(), o, []string{"SETTING", "VALUE"}, rows)
		})}
	cmd.Flags().String("issuer", "", "the provider's issuer URL (https)")
	cmd.Flags().String("client-id", "", "the client registered at the provider")
	cmd.Flags().String("client-secret-file", "", "file holding the client secret (- for standard input; an empty file removes it)")
	cmd.Flags().String("user-claim", "", "claim that names the user (default email)")
	cmd.Flags().String("groups-claim", "", "claim listing the user's groups: their teams follow it")
	addPolicyFlags(cmd)
	return cmd
}

func newSSOSAMLSetCmd(f *clientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "set", Short: "Set the SAML identity provider's metadata and attributes (only the flags given change)", Args: cobra.NoArgs,
		RunE: withAPI(f, func(cmd *cobra.Command, c *api.Client, org string, _ []string) error {
			in := wire.UpdateSAMLOrganizationRequest{GroupsAttribute: changed(cmd, "groups-attribute"), AllowCreate: changedBool(cmd, "allow-create"),
				DefaultRoleID: changed(cmd, "default-role"), EmailDomains: changedDomains(cmd)}
			if p := changed(cmd, "metadata"); p != nil {
				md, err := readArgFile(cmd, *p)
				if err != nil {
					return fmt.Errorf("--metadata: %w", err)
				}
				in.NewIdPSSODescriptor = &md
			}
			s, err := c.UpdateSAML(cmd.Context(), org, in)
			if err != nil {
				return err
			}
			rows := [][]string{{"IdP entity ID", s.EntityID}, {"IdP SSO URL", s.SSOURL}, {"certificate valid until", s.ValidUntil}}
			return f.print(cmd.OutOrStdout(), s, []string{"SETTING", "VALUE"}, rows)
		})}
	cmd.Flags().String("metadata", "", "file holding the identity provider's metadata XML (- for standard input)")
	cmd.Flags().String("groups-attribute", "", "attribute listing the user's groups: their teams follow it")
	addPolicyFlags(cmd)
	return cmd
}

// newSSOSAMLKeysCmd manages the SAML service provider's key pairs. A key
// argument is a key's ID or its status (current, next, previous).
func newSSOSAMLKeysCmd(f *clientFlags) *cobra.Command {
	keys := newGroup("keys", "The SAML service provider's key pairs (request signing and assertion encryption) and their rollover")
	header := []string{"ID", "STATUS", "SHA-256 FINGERPRINT", "NOT AFTER"}
	rows := func(k *wire.SAMLSPKeys) [][]string {
		var out [][]string
		for _, x := range k.Keys {
			out = append(out, []string{x.ID, x.Status, x.FingerprintSHA256, x.NotAfter})
		}
		return out
	}
	show := func(cmd *cobra.Command, k *wire.SAMLSPKeys) error {
		return f.print(cmd.OutOrStdout(), k, header, rows(k))
	}
	list := &cobra.Command{Use: "list", Aliases: []string{"ls"}, Short: "List the key pairs, the current one first", Args: cobra.NoArgs,
		RunE: withAPI(f, func(cmd *cobra.Command, c *api.Client, org string, _ []string) error {
			k, err := c.SAMLSPKeys(cmd.Context(), org)
			if err != nil {
				return err
			}
			return show(cmd, k)
		})}
	create := &cobra.Command{Use: "create", Short: "Start a rollover: a next key pair, published beside the current one; it signs once activated", Args: cobra.NoArgs,
		RunE: withAPI(f, func(cmd *cobra.Command, c *api.Client, org string, _ []string) error {
			k, err := c.CreateSAMLSPKey(cmd.Context(), org)
			if err != nil {
				return err
			}
			return show(cmd, k)
		})}
	activate := &cobra.Command{Use: "activate KEY", Short: "Make a key pair the current one, which signs the requests (the one it replaces stays published until deleted)",
		Args: cobra.ExactArgs(1), RunE: withAPI(f, func(cmd *cobra.Command, c *api.Client, org string, args []string) error {
			id, err := resolveSPKey(cmd, c, org, args[0])
			if err != nil {
				return err
			}
			k, err := c.ActivateSAMLSPKey(cmd.Context(), org, id)
			if err != nil {
				return err
			}
			return show(cmd, k)
		})}
	del := &cobra.Command{Use: "delete KEY", Aliases: []string{"rm"}, Short: "End a rollover: the key pair is no longer published, nor decrypts (not the current one)",
		Args: cobra.ExactArgs(1), RunE: withAPI(f, func(cmd *cobra.Command, c *api.Client, org string, args []string) error {
			id, err := resolveSPKey(cmd, c, org, args[0])
			if err != nil {
				return err
			}
			return c.DeleteSAMLSPKey(cmd.Context(), org, id)
		})}
	pemCmd := &cobra.Command{Use: "pem [KEY]", Short: "Print a key pair's certificate as PEM (the current one's), for an identity provider that takes a certificate file",
		Args: cobra.MaximumNArgs(1), RunE: withAPI(f, func(cmd *cobra.Command, c *api.Client, org string, args []string) error {
			k, err := c.SAMLSPKeys(cmd.Context(), org)
			if err != nil {
				return err
			}
			if f.output == "json" {
				return show(cmd, k)
			}
			want := "current"
			if len(args) == 1 {
				want = args[0]
			}
			for _, x := range k.Keys {
				if x.ID == want || x.Status == want {
					_, err := io.WriteString(cmd.OutOrStdout(), x.Certificate)
					return err
				}
			}
			return fmt.Errorf("KEY: the organization has no SAML SP key %q (an ID, or current, next or previous)", want)
		})}
	keys.AddCommand(list, create, activate, del, pemCmd)
	return keys
}

// resolveSPKey turns a key argument, an ID or a status, into the key's ID.
func resolveSPKey(cmd *cobra.Command, c *api.Client, org, arg string) (string, error) {
	switch arg {
	case "current", "next", "previous":
	default:
		return arg, nil
	}
	k, err := c.SAMLSPKeys(cmd.Context(), org)
	if err != nil {
		return "", err
	}
	for _, x := range k.Keys {
		if x.Status == arg {
			return x.ID, nil
		}
	}
	return "", fmt.Errorf("KEY: the organization has no %s SAML SP key", arg)
}
