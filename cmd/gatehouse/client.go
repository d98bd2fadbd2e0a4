package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api"
)

// credentials is what `gatehouse login` keeps, in a 0600 file.
type credentials struct {
	URL   string `json:"url"`
	Token string `json:"token"`
	Org   string `json:"org,omitempty"`
}

// credentialsPath is $GATEHOUSE_CONFIG_DIR/credentials.json, by default
// under the user's configuration directory.
func credentialsPath() (string, error) {
	dir := os.Getenv("GATEHOUSE_CONFIG_DIR")
	if dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(base, "gatehouse")
	}
	return filepath.Join(dir, "credentials.json"), nil
}

func loadCredentials() (credentials, error) {
	var c credentials
	path, err := credentialsPath()
	if err != nil {
		return c, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	return c, json.Unmarshal(b, &c)
}

func saveCredentials(c credentials) (string, error) {
	path, err := credentialsPath()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	b, _ := json.MarshalIndent(c, "", "  ")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return "", err
	}
	return path, os.Chmod(path, 0o600)
}

// clientFlags are the flags every client command shares.
type clientFlags struct {
	url, token, org, output string
}

func (f *clientFlags) bind(cmd *cobra.Command) {
	f.bindWithout(cmd)
	cmd.PersistentFlags().StringVar(&f.token, "token", "", "access token (default: from gatehouse login, or $GATEHOUSE_TOKEN)")
}

// bindWithout binds every shared flag but --token, for a command whose
// --token means something else.
func (f *clientFlags) bindWithout(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&f.url, "url", "", "Gatehouse URL (default: from gatehouse login, or $GATEHOUSE_URL)")
	cmd.PersistentFlags().StringVar(&f.org, "org", "", "organization (default: from gatehouse login, or $GATEHOUSE_ORG)")
	cmd.PersistentFlags().StringVarP(&f.output, "output", "o", "table", "output format: table or json")
}

// client resolves the connection: flags, then environment, then the saved
// credentials.
func (f *clientFlags) client() (gatehouse.IAM, string, error) {
	c, err := loadCredentials()
	if err != nil {
		return nil, "", fmt.Errorf("read credentials: %w", err)
	}
	pick := func(flag, env, saved string) string {
		if flag != "" {
			return flag
		}
		if v := os.Getenv(env); v != "" {
			return v
		}
		return saved
	}
	url, token, org := pick(f.url, "GATEHOUSE_URL", c.URL), pick(f.token, "GATEHOUSE_TOKEN", c.Token), pick(f.org, "GATEHOUSE_ORG", c.Org)
	if url == "" || token == "" {
		return nil, "", errors.New("not logged in: run gatehouse login URL (or pass --url and --token)")
	}
	if f.output != "table" && f.output != "json" {
		return nil, "", fmt.Errorf("--output: %q is not table or json", f.output)
	}
	return &api.Client{BaseURL: url, Token: token}, org, nil
}

// withOrg wraps a command body that needs a client and an organization.
func (f *clientFlags) withOrg(run func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c, org, err := f.client()
		if err == nil {
			err = f.needOrg(org)
		}
		if err != nil {
			return err
		}
		return run(cmd, c, org, args)
	}
}

func (f *clientFlags) needOrg(org string) error {
	if org == "" {
		return errors.New("no organization: pass --org (or log in, which remembers your first one)")
	}
	return nil
}

// print writes v as JSON, or rows as a table.
func (f *clientFlags) print(w io.Writer, v any, header []string, rows [][]string) error {
	if f.output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func newLoginCmd() *cobra.Command {
	var token, org string
	cmd := &cobra.Command{
		Use:   "login URL",
		Short: "Log in to a Gatehouse server and remember the URL and token",
		Long: "Log in to a Gatehouse server. The token comes from --token, $GATEHOUSE_TOKEN, or standard input.\n" +
			"The URL, token and organization are saved in $GATEHOUSE_CONFIG_DIR/credentials.json (mode 0600).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if token == "" {
				token = os.Getenv("GATEHOUSE_TOKEN")
			}
			if token == "" {
				fmt.Fprint(cmd.ErrOrStderr(), "Access token: ")
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if err != nil && line == "" {
					return errors.New("no token: pass --token or type it")
				}
				token = strings.TrimSpace(line)
			}
			c := &api.Client{BaseURL: strings.TrimRight(args[0], "/"), Token: token}
			who, err := c.WhoAmI(cmd.Context())
			if err != nil {
				return fmt.Errorf("login to %s: %w", args[0], err)
			}
			if org == "" && len(who.Organizations) > 0 {
				org = who.Organizations[0]
			}
			path, err := saveCredentials(credentials{URL: c.BaseURL, Token: token, Org: org})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Logged in to %s as %s (organization %s); credentials in %s\n", c.BaseURL, who.Login, org, path)
			return nil
		},
	}
	cmd.Flags().StringVar(&token, "token", "", "access token")
	cmd.Flags().StringVar(&org, "org", "", "default organization (default: your first)")
	return cmd
}

func newWhoAmICmd() *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Show who the saved token belongs to",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, _, err := f.client()
			if err != nil {
				return err
			}
			w, err := c.WhoAmI(cmd.Context())
			if err != nil {
				return err
			}
			row := []string{w.Login, strings.Join(w.Organizations, ","), w.TokenName, w.Team}
			return f.print(cmd.OutOrStdout(), w, []string{"LOGIN", "ORGANIZATIONS", "TOKEN", "TEAM"}, [][]string{row})
		},
	}
	f.bind(cmd)
	return cmd
}

func descriptorRows(ds []*gatehouse.Descriptor) [][]string {
	rows := make([][]string, len(ds))
	for i, d := range ds {
		rows[i] = []string{d.ID, d.Name, d.Purpose, d.ResourceType.String(), fmt.Sprint(d.Version), d.DefaultIdentifier}
	}
	return rows
}

var descriptorHeader = []string{"ID", "NAME", "PURPOSE", "TYPE", "VERSION", "BUILT-IN"}

// readDetails reads a descriptor tree from a file, or "-" for stdin.
func readDetails(cmd *cobra.Command, path string) (json.RawMessage, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(cmd.InOrStdin())
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("--details: %w", err)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("--details: %s is not JSON", path)
	}
	return b, nil
}

// newDescriptorCmd builds `role` (purpose role) and `set` (purpose set).
func newDescriptorCmd(use, purpose, what string) *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{Use: use, Short: "Manage " + what + "s"}
	f.bind(cmd)
	var listPurpose string
	list := &cobra.Command{
		Use: "list", Short: "List " + what + "s", Args: cobra.NoArgs,
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, _ []string) error {
			ds, err := c.Roles(cmd.Context(), org, listPurpose)
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), ds, descriptorHeader, descriptorRows(ds))
		}),
	}
	list.Flags().StringVar(&listPurpose, "purpose", purpose, "uxPurpose to list")
	get := &cobra.Command{
		Use: "get ID", Short: "Show a " + what + " with its details", Args: cobra.ExactArgs(1),
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			d, err := c.Role(cmd.Context(), org, args[0])
			if err != nil {
				return err
			}
			if f.output == "json" {
				return f.print(cmd.OutOrStdout(), d, nil, nil)
			}
			if err := f.print(cmd.OutOrStdout(), d, descriptorHeader, descriptorRows([]*gatehouse.Descriptor{d})); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "\n%s\n", d.Details)
			return nil
		}),
	}
	var details, description, resourceType, scopes string
	var both bool
	create := &cobra.Command{
		Use: "create NAME", Short: "Create a " + what, Args: cobra.ExactArgs(1),
		Long: "Create a " + what + " from a descriptor tree in --details FILE (or - for stdin)" +
			map[bool]string{true: ", or from --scopes for a flat permission set.", false: "."}[purpose == gatehouse.PurposeSet],
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			in := gatehouse.RoleInput{Name: &args[0], Purpose: purpose, ResourceType: resourceType}
			var err error
			if description != "" {
				in.Description = &description
			}
			switch {
			case details != "":
				if in.Details, err = readDetails(cmd, details); err != nil {
					return err
				}
			case scopes != "":
				in.Details, _ = json.Marshal(map[string]any{"__type": "PermissionDescriptorAllow", "permissions": strings.Split(scopes, ",")})
			default:
				return errors.New("--details FILE is required" + map[bool]string{true: " (or --scopes)", false: ""}[purpose == gatehouse.PurposeSet])
			}
			d, err := c.CreateRole(cmd.Context(), org, in, both)
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), d, descriptorHeader, descriptorRows([]*gatehouse.Descriptor{d}))
		}),
	}
	create.Flags().StringVar(&details, "details", "", "descriptor tree JSON file, - for stdin")
	create.Flags().StringVar(&description, "description", "", "description")
	if purpose == gatehouse.PurposeSet {
		create.Flags().StringVar(&resourceType, "type", "stack", "entity type: stack, environment, insights-account or global")
		create.Flags().StringVar(&scopes, "scopes", "", "comma-separated scopes, for a flat set")
	} else {
		create.Flags().BoolVar(&both, "policy-and-role", true, "store the details in a policy the role composes, as the Pulumi console does")
	}
	var newName, newDescription, newDetails string
	edit := &cobra.Command{
		Use: "edit ID", Short: "Change a " + what + "'s name, description or details", Args: cobra.ExactArgs(1),
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			var in gatehouse.RoleInput
			var err error
			if cmd.Flags().Changed("name") {
				in.Name = &newName
			}
			if cmd.Flags().Changed("description") {
				in.Description = &newDescription
			}
			if newDetails != "" {
				if in.Details, err = readDetails(cmd, newDetails); err != nil {
					return err
				}
			}
			if in.Name == nil && in.Description == nil && in.Details == nil {
				return errors.New("nothing to change: give --name, --description or --details")
			}
			d, err := c.UpdateRole(cmd.Context(), org, args[0], in)
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), d, descriptorHeader, descriptorRows([]*gatehouse.Descriptor{d}))
		}),
	}
	edit.Flags().StringVar(&newName, "name", "", "new name")
	edit.Flags().StringVar(&newDescription, "description", "", "new description")
	edit.Flags().StringVar(&newDetails, "details", "", "new descriptor tree JSON file, - for stdin")
	var force bool
	del := &cobra.Command{
		Use: "delete ID", Short: "Delete a " + what, Args: cobra.ExactArgs(1),
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			if err := c.DeleteRole(cmd.Context(), org, args[0], force); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted %s\n", args[0])
			return nil
		}),
	}
	del.Flags().BoolVar(&force, "force", false, "also unassign it from members (who fall back to the default role) and teams")
	cmd.AddCommand(list, get, create, edit, del)
	if purpose == gatehouse.PurposeRole {
		var member, team string
		assign := &cobra.Command{
			Use: "assign ROLE-ID (--member LOGIN | --team TEAM)", Short: "Give a member or a team a role", Args: cobra.ExactArgs(1),
			RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
				var err error
				switch {
				case (member == "") == (team == ""):
					return errors.New("give exactly one of --member and --team")
				case member != "":
					err = c.SetMemberRole(cmd.Context(), org, member, args[0])
				default:
					err = c.AssignTeamRole(cmd.Context(), org, team, args[0])
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "assigned %s to %s%s\n", args[0], member, team)
				return nil
			}),
		}
		assign.Flags().StringVar(&member, "member", "", "member login")
		assign.Flags().StringVar(&team, "team", "", "team name")
		def := &cobra.Command{
			Use: "default ROLE-ID", Short: "Make a role the organization's default", Args: cobra.ExactArgs(1),
			RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
				return c.SetDefaultRole(cmd.Context(), org, args[0])
			}),
		}
		cmd.AddCommand(assign, def)
	}
	return cmd
}

func newTokenCmd() *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{Use: "token", Short: "Manage personal, organization and team tokens"}
	f.bind(cmd)
	var team string
	var personal bool
	scope := func(c *cobra.Command) {
		c.Flags().StringVar(&team, "team", "", "a team's tokens")
		c.Flags().BoolVar(&personal, "personal", false, "your personal tokens")
	}
	target := func() (gatehouse.IAM, string, error) {
		c, org, err := f.client()
		if err != nil {
			return nil, "", err
		}
		if personal {
			return c, "", nil
		}
		return c, org, f.needOrg(org)
	}
	var name, description, role string
	var expires time.Duration
	create := &cobra.Command{
		Use: "create", Short: "Create a token; its value is shown once", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, org, err := target()
			if err != nil {
				return err
			}
			req := gatehouse.TokenRequest{Team: team, Name: name, Description: description, RoleID: role}
			if expires > 0 {
				req.Expires = time.Now().Add(expires)
			}
			t, err := c.CreateToken(cmd.Context(), org, req)
			if err != nil {
				return err
			}
			if f.output == "json" {
				return f.print(cmd.OutOrStdout(), t, nil, nil)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s\n", t.Value)
			fmt.Fprintf(cmd.ErrOrStderr(), "token %s created; its value is shown this once\n", t.ID)
			return nil
		},
	}
	scope(create)
	create.Flags().StringVar(&name, "name", "", "name (organization and team tokens; never reused)")
	create.Flags().StringVar(&description, "description", "", "description")
	create.Flags().StringVar(&role, "role", "", "role id (organization tokens; default: the organization's default role)")
	create.Flags().DurationVar(&expires, "expires", 0, "lifetime, e.g. 720h (default: never expires)")
	list := &cobra.Command{
		Use: "list", Short: "List tokens", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, org, err := target()
			if err != nil {
				return err
			}
			ts, err := c.Tokens(cmd.Context(), org, team)
			if err != nil {
				return err
			}
			rows := make([][]string, len(ts))
			for i, t := range ts {
				rows[i] = []string{t.ID, t.Name, t.Description, t.RoleID, stamp(t.Created), stamp(t.LastUsed), stamp(t.Expires)}
			}
			return f.print(cmd.OutOrStdout(), ts, []string{"ID", "NAME", "DESCRIPTION", "ROLE", "CREATED", "LAST USED", "EXPIRES"}, rows)
		},
	}
	scope(list)
	revoke := &cobra.Command{
		Use: "revoke ID", Short: "Revoke a token at once", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, org, err := target()
			if err != nil {
				return err
			}
			if err := c.RevokeToken(cmd.Context(), org, team, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked %s\n", args[0])
			return nil
		},
	}
	scope(revoke)
	cmd.AddCommand(create, list, revoke)
	return cmd
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func newTeamCmd() *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{Use: "team", Short: "Manage teams"}
	f.bind(cmd)
	list := &cobra.Command{Use: "list", Short: "List teams", Args: cobra.NoArgs,
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, _ []string) error {
			ts, err := c.Teams(cmd.Context(), org)
			if err != nil {
				return err
			}
			rows := make([][]string, len(ts))
			for i, t := range ts {
				rows[i] = []string{t.Name, t.DisplayName, t.Kind, t.Description}
			}
			return f.print(cmd.OutOrStdout(), ts, []string{"NAME", "DISPLAY NAME", "KIND", "DESCRIPTION"}, rows)
		})}
	var display, description string
	create := &cobra.Command{Use: "create NAME", Short: "Create a team", Args: cobra.ExactArgs(1),
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			t, err := c.CreateTeam(cmd.Context(), org, args[0], display, description)
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), t, []string{"NAME", "DISPLAY NAME"}, [][]string{{t.Name, t.DisplayName}})
		})}
	create.Flags().StringVar(&display, "display-name", "", "display name")
	create.Flags().StringVar(&description, "description", "", "description")
	del := &cobra.Command{Use: "delete NAME", Short: "Delete a team (its tokens are revoked)", Args: cobra.ExactArgs(1),
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			return c.DeleteTeam(cmd.Context(), org, args[0])
		})}
	member := func(use, action, short string) *cobra.Command {
		return &cobra.Command{Use: use + " TEAM LOGIN", Short: short, Args: cobra.ExactArgs(2),
			RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
				return c.TeamMember(cmd.Context(), org, args[0], args[1], action)
			})}
	}
	cmd.AddCommand(list, create, del, member("add-member", "add", "Add a member to a team"),
		member("remove-member", "remove", "Remove a member from a team"), member("promote", "promote", "Make a member a team admin"),
		member("demote", "demote", "Make a team admin a plain member"))
	return cmd
}

func newMemberCmd() *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{Use: "member", Short: "Manage organization members"}
	f.bind(cmd)
	list := &cobra.Command{Use: "list", Short: "List members", Args: cobra.NoArgs,
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, _ []string) error {
			ms, err := c.Members(cmd.Context(), org)
			if err != nil {
				return err
			}
			rows := make([][]string, len(ms))
			for i, m := range ms {
				rows[i] = []string{m.Login, m.Name, m.RoleName, m.RoleID, fmt.Sprint(m.Suspended)}
			}
			return f.print(cmd.OutOrStdout(), ms, []string{"LOGIN", "NAME", "ROLE", "ROLE ID", "SUSPENDED"}, rows)
		})}
	var role string
	add := &cobra.Command{Use: "add LOGIN", Short: "Add a user (created when new) with a built-in role", Args: cobra.ExactArgs(1),
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			m, err := c.AddMember(cmd.Context(), org, args[0], role)
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), m, []string{"LOGIN", "ROLE"}, [][]string{{m.Login, m.RoleName}})
		})}
	add.Flags().StringVar(&role, "role", "", "built-in role: member, admin, billing-manager, reader, builder, maintainer (default: the organization's default)")
	setRole := &cobra.Command{Use: "set-role LOGIN ROLE-ID", Short: "Give a member any role", Args: cobra.ExactArgs(2),
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			return c.SetMemberRole(cmd.Context(), org, args[0], args[1])
		})}
	remove := &cobra.Command{Use: "remove LOGIN", Short: "Remove a member", Args: cobra.ExactArgs(1),
		RunE: f.withOrg(func(cmd *cobra.Command, c gatehouse.IAM, org string, args []string) error {
			return c.RemoveMember(cmd.Context(), org, args[0])
		})}
	cmd.AddCommand(list, add, setRole, remove)
	return cmd
}

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
			res, err := c.Check(cmd.Context(), org, []gatehouse.CheckRequest{{Token: token, Scope: scope, Entity: e}})
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
	cmd.MarkFlagRequired("scope")
	cmd.MarkFlagRequired("token")
	return cmd
}
