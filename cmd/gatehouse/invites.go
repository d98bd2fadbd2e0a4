package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse/api"
	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// apiClient is the client as *api.Client, for the routes gatehouse.IAM
// does not cover (invitations, SCIM).
func (f *clientFlags) apiClient() (*api.Client, string, error) {
	c, org, err := f.client()
	if err != nil {
		return nil, "", err
	}
	ac, ok := c.(*api.Client)
	if !ok {
		return nil, "", errors.New("this command needs the HTTP client")
	}
	return ac, org, nil
}

// withClient wraps a command body that needs the HTTP client; needOrg
// requires an organization.
func (f *clientFlags) withClient(needOrg bool, run func(cmd *cobra.Command, c *api.Client, org string, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c, org, err := f.apiClient()
		if err == nil && needOrg {
			err = f.needOrg(cmd, c, org)
		}
		if err != nil {
			return err
		}
		return run(cmd, c, org, args)
	}
}

func inviteRows(invs []wire.Invite) [][]string {
	rows := make([][]string, len(invs))
	for i, v := range invs {
		rows[i] = []string{v.ID, v.Organization, v.User.GitHubLogin, v.RoleName, v.Status, v.SentBy.GitHubLogin, stamp(time.Unix(v.ExpiresAt, 0))}
	}
	return rows
}

var inviteHeader = []string{"ID", "ORGANIZATION", "USER", "ROLE", "STATUS", "SENT BY", "EXPIRES"}

// inviteFlags are the role and expiry of an invitation.
type inviteFlags struct {
	role, roleID string
	expiresIn    time.Duration
}

func (i *inviteFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringVar(&i.role, "role", "", "built-in role: member, admin, billing-manager, ... (default: the organization's default)")
	cmd.Flags().StringVar(&i.roleID, "role-id", "", "any role of the organization, by id (wins over --role)")
	cmd.Flags().DurationVar(&i.expiresIn, "expires-in", 0, "how long the invitation stays open, e.g. 72h (default: the server's, 7 days)")
}

func (i *inviteFlags) request(login string) (wire.InviteRequest, error) {
	req := wire.InviteRequest{UserLogin: login, Role: i.role, RoleID: i.roleID}
	switch {
	case i.expiresIn < 0:
		return req, fmt.Errorf("--expires-in: %s is negative", i.expiresIn)
	case i.expiresIn > 0:
		req.Expires = time.Now().Add(i.expiresIn).Unix()
	}
	return req, nil
}

func newInviteCmd() *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{Use: "invite", Short: "Invite users to an organization, and answer your own invitations"}
	f.bind(cmd)
	var created, updated inviteFlags
	create := &cobra.Command{Use: "create LOGIN", Short: "Invite an existing user (they join on accepting)", Args: cobra.ExactArgs(1),
		RunE: f.withClient(true, func(cmd *cobra.Command, c *api.Client, org string, args []string) error {
			req, err := created.request(args[0])
			if err != nil {
				return err
			}
			v, err := c.Invite(cmd.Context(), org, req)
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), v, inviteHeader, inviteRows([]wire.Invite{*v}))
		})}
	created.bind(create)
	list := &cobra.Command{Use: "list", Aliases: []string{"ls"}, Short: "List the organization's pending invitations", Args: cobra.NoArgs,
		RunE: f.withClient(true, func(cmd *cobra.Command, c *api.Client, org string, _ []string) error {
			invs, err := c.Invites(cmd.Context(), org)
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), invs, inviteHeader, inviteRows(invs))
		})}
	update := &cobra.Command{Use: "update ID", Short: "Change a pending invitation's role or expiry", Args: cobra.ExactArgs(1),
		RunE: f.withClient(true, func(cmd *cobra.Command, c *api.Client, org string, args []string) error {
			req, err := updated.request("")
			if err != nil {
				return err
			}
			if req.Role == "" && req.RoleID == "" && req.Expires == 0 {
				return errors.New("nothing to change: pass --role, --role-id or --expires-in")
			}
			v, err := c.UpdateInvite(cmd.Context(), org, args[0], req)
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), v, inviteHeader, inviteRows([]wire.Invite{*v}))
		})}
	updated.bind(update)
	del := &cobra.Command{Use: "delete ID", Aliases: []string{"rm"}, Short: "Revoke a pending invitation", Args: cobra.ExactArgs(1),
		RunE: f.withClient(true, func(cmd *cobra.Command, c *api.Client, org string, args []string) error {
			return c.RevokeInvite(cmd.Context(), org, args[0])
		})}
	cmd.AddCommand(create, list, update, del)
	cmd.AddCommand(newInviteAnswerCmds(f)...)
	return cmd
}

// newInviteAnswerCmds are the signed-in user's side: pending, accept,
// decline (no organization needed).
func newInviteAnswerCmds(f *clientFlags) []*cobra.Command {
	pending := &cobra.Command{Use: "pending", Short: "List the invitations sent to you", Args: cobra.NoArgs,
		RunE: f.withClient(false, func(cmd *cobra.Command, c *api.Client, _ string, _ []string) error {
			invs, err := c.PendingInvites(cmd.Context())
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), invs, inviteHeader, inviteRows(invs))
		})}
	accept := &cobra.Command{Use: "accept ID", Short: "Accept an invitation and join its organization", Args: cobra.ExactArgs(1),
		RunE: f.withClient(false, func(cmd *cobra.Command, c *api.Client, _ string, args []string) error {
			v, err := c.AcceptInvite(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if f.output == "json" {
				return f.print(cmd.OutOrStdout(), v, nil, nil)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Joined %s as %s.\n", v.Organization, v.RoleName)
			return err
		})}
	decline := &cobra.Command{Use: "decline ID", Short: "Decline an invitation", Args: cobra.ExactArgs(1),
		RunE: f.withClient(false, func(cmd *cobra.Command, c *api.Client, _ string, args []string) error {
			return c.DeclineInvite(cmd.Context(), args[0])
		})}
	return []*cobra.Command{pending, accept, decline}
}
