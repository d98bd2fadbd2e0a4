package main

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

// Dynamic completion: cobra's `gatehouse completion bash|zsh|fish|powershell`
// scripts call back into the binary (`gatehouse __complete ...`), which
// answers with the names below, asked of the server with the saved
// credentials (or the command line's --url, --token and --org). Failing to
// reach it completes nothing, quietly: completion must never print errors
// into a shell prompt.

// completionTimeout bounds a completion's requests: a shell waits on them.
const completionTimeout = 3 * time.Second

type completer func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective)

// complete builds a completer from names, the candidates that list
// returns with the command's connection; "desc" after a tab is shown by
// zsh and fish.
func complete(f *clientFlags, needOrg bool, list func(ctx context.Context, c gatehouse.IAM, org string) ([]string, error)) completer {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		c, org, err := f.client()
		if err != nil || needOrg && org == "" {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
		defer cancel()
		names, err := list(ctx, c, org)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return filterPrefix(names, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// filterPrefix keeps the candidates that start with prefix (the part
// before a tab, for those with a description).
func filterPrefix(names []string, prefix string) []string {
	var out []string
	for _, n := range names {
		name, _, _ := strings.Cut(n, "\t")
		if strings.HasPrefix(name, prefix) {
			out = append(out, n)
		}
	}
	return out
}

// completeDescriptors completes role (or permission set) names.
func completeDescriptors(f *clientFlags, purpose string) completer {
	return complete(f, true, func(ctx context.Context, c gatehouse.IAM, org string) ([]string, error) {
		ds, err := c.Roles(ctx, org, purpose)
		var out []string
		for _, d := range ds {
			out = append(out, d.Name+"\t"+d.Description)
		}
		return out, err
	})
}

// completeTeams completes team names.
func completeTeams(f *clientFlags) completer {
	return complete(f, true, func(ctx context.Context, c gatehouse.IAM, org string) ([]string, error) {
		ts, err := c.Teams(ctx, org)
		var out []string
		for _, t := range ts {
			out = append(out, t.Name+"\t"+t.DisplayName)
		}
		return out, err
	})
}

// completeMembers completes member logins.
func completeMembers(f *clientFlags) completer {
	return complete(f, true, func(ctx context.Context, c gatehouse.IAM, org string) ([]string, error) {
		ms, err := c.Members(ctx, org)
		var out []string
		for _, m := range ms {
			out = append(out, m.Login+"\t"+m.RoleName)
		}
		return out, err
	})
}

// completeIssuers completes OIDC issuer names.
func completeIssuers(f *clientFlags) completer {
	return complete(f, true, func(ctx context.Context, c gatehouse.IAM, org string) ([]string, error) {
		is, err := c.Issuers(ctx, org)
		var out []string
		for _, i := range is {
			out = append(out, i.Name+"\t"+i.Issuer)
		}
		return out, err
	})
}

// completeOrgs completes the caller's organizations.
func completeOrgs(f *clientFlags) completer {
	return complete(f, false, func(ctx context.Context, c gatehouse.IAM, _ string) ([]string, error) {
		w, err := c.WhoAmI(ctx)
		if err != nil {
			return nil, err
		}
		return w.Organizations, nil
	})
}

// completeScopes completes scope names from the embedded catalog, with no
// request.
func completeScopes(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	var out []string
	for _, info := range catalog.All() {
		out = append(out, info.Name+"\t"+info.Description)
	}
	return filterPrefix(out, toComplete), cobra.ShellCompDirectiveNoFileComp
}

// completeScopeList completes a comma-separated list of scopes: the part
// after the last comma.
func completeScopeList(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	i := strings.LastIndex(toComplete, ",")
	head := toComplete[:i+1]
	names, dir := completeScopes(cmd, args, toComplete[i+1:])
	for j := range names {
		names[j] = head + names[j]
	}
	return names, dir | cobra.ShellCompDirectiveNoSpace
}
