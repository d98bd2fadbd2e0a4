// Command gatehouse is Gatehouse's single binary, and the only place where
// the packages are wired together. It holds:
//
//   - serve: the server (Main opens the store, builds the authorizer, the
//     service, the API and the console, and serves them);
//   - host commands, with direct database access and no authorization:
//     admin issue-token|master-key|settings|org, audit verify|checkpoint
//     and backup;
//   - client commands, over the HTTP API through api.Client (a
//     gatehouse.IAM): login, whoami, role, set, token, team, member, check,
//     audit list|export and oidc issuer|policy|test;
//   - offline tools for policy authors: scopes and policy validate|eval.
//
// Each command group has its own file (`gatehouse team` is in teams.go);
// client.go holds what the client commands share (flags, saved
// credentials, output), backup.go what the host commands share.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse"
)

func main() {
	os.Exit(Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit statuses. policy eval uses 0 for allow and 1 for deny so that policy
// authors can test role files in their own CI.
const (
	exitOK    = 0
	exitDeny  = 1
	exitError = 2
)

// exitCode is an error that carries the process's exit status. Its message,
// if any, has already been printed.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// Run runs the gatehouse command line with args and returns the exit status.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	var code exitCode
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &code):
		return int(code)
	default:
		fmt.Fprintln(stderr, "gatehouse:", describeError(err))
		return exitError
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "gatehouse",
		Short:         "Gatehouse: self-hosted access control for infrastructure as code",
		Long:          "Gatehouse implements Pulumi Cloud's identity and access management model as a service you run.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCmd(), newAdminCmd(), newScopesCmd(), newPolicyCmd(), newBackupCmd(),
		newLoginCmd(), newWhoAmICmd(), newDescriptorCmd("role", gatehouse.PurposeRole, "role"),
		newDescriptorCmd("set", gatehouse.PurposeSet, "permission set"), newTokenCmd(), newTeamCmd(), newMemberCmd(), newCheckCmd(), newAuditCmd(), newOIDCCmd(), newStackCmd(),
		newInviteCmd(), newSCIMCmd(), newSSOCmd())
	root.AddCommand(newVersionCmd(), newLogoutCmd())
	strictGroups(root)
	return root
}
