package main

// The conventions every client command follows (a new command group, such
// as stacks.go, invites.go or sso.go, copies them):
//
//   - Verbs: a group's commands are list (alias ls), get, create, update
//     and delete (alias rm), plus verbs of its own (assign, add-member).
//     Build the group with newGroup, so that an unknown subcommand is an
//     error (exit status 2) and not help with status 0.
//   - Names: every argument or flag that takes an ID also takes a name;
//     resolve it with resolveRole, resolveToken, resolveIssuer (an ID
//     still works). Team and member arguments are names already.
//   - Output: print through clientFlags.print. With -o json it writes the
//     body of the API's last response as the server sent it (api/wire
//     shapes: what curl returns, indented), so never marshal a domain
//     struct for -o json; -o table, the default, prints the rows.
//   - Errors: return them; Run prints each once, as "gatehouse: MESSAGE"
//     (describeError), naming an unreachable server as such, and exits 2.
//     A command that has already said why it fails returns exitCode.
//   - Completion: give name arguments a ValidArgsFunction from
//     completion.go (completeRoles, completeTeams, ...) and register flag
//     completions with cmd.RegisterFlagCompletionFunc.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api"
)

// newGroup is a command group: it runs only its subcommands. Given no
// subcommand it shows its help; given an unknown one it fails with exit
// status 2, naming the subcommands it has.
func newGroup(use, short string, aliases ...string) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Aliases: aliases, Args: unknownSubcommand, RunE: groupHelp}
}

// strictGroups makes every command under root that has subcommands but
// runs nothing itself a group as newGroup makes them, so that a group
// built with a bare cobra.Command fails on an unknown subcommand too.
func strictGroups(root *cobra.Command) {
	for _, c := range root.Commands() {
		if c.HasSubCommands() && !c.Runnable() {
			c.Args, c.RunE = unknownSubcommand, groupHelp
		}
		strictGroups(c)
	}
}

func groupHelp(cmd *cobra.Command, _ []string) error { return cmd.Help() }

// unknownSubcommand is a group's Args: any argument is a subcommand it
// does not have.
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	return fmt.Errorf("%s (commands: %s)", msg, strings.Join(names, ", "))
}

// describeError is the one line Run prints for err: an API error's own
// message (once, without the Go type's "code=... message=..." wrapping),
// and a server that cannot be reached said to be down.
func describeError(err error) string {
	var ue *url.Error
	var oe *net.OpError
	if errors.As(err, &ue) && errors.As(err, &oe) {
		return fmt.Sprintf("the Gatehouse server at %s is down or unreachable (%v); start it with `gatehouse serve`, or check --url", serverOf(ue.URL), oe.Err)
	}
	msg := err.Error()
	var ge *gatehouse.Error
	if errors.As(err, &ge) {
		msg = strings.Replace(msg, ge.Error(), ge.Message, 1)
	}
	return msg
}

// serverOf is the scheme and host of a request URL.
func serverOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Scheme + "://" + u.Host
}

// observe is the api.Client hook that keeps the last response body for
// print, and every body for commands that page (audit list).
func (f *clientFlags) observe(_, _ string, body []byte) {
	f.last = body
	f.bodies = append(f.bodies, body)
}

// print writes, with -o json, the API's last response (see the
// conventions above; v only when the command made no request, as for an
// offline command), and otherwise rows as a table under header.
func (f *clientFlags) print(w io.Writer, v any, header []string, rows [][]string) error {
	if f.output == "json" {
		if f.last != nil {
			return writeJSON(w, f.last)
		}
		return encodeJSON(w, v)
	}
	return printTable(w, header, rows)
}

// printComposed prints v, which the command composed from several
// responses (no single server body is its JSON), as JSON or as a table.
func (f *clientFlags) printComposed(w io.Writer, v any, header []string, rows [][]string) error {
	if f.output == "json" {
		return encodeJSON(w, v)
	}
	return printTable(w, header, rows)
}

// writeJSON writes a JSON document indented, or nothing for an empty body
// (a 204).
func writeJSON(w io.Writer, body []byte) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, body, "", "  "); err != nil {
		return fmt.Errorf("the server's response is not JSON: %w", err)
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

// encodeJSON writes v as indented JSON, without HTML escaping.
func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// newAPIClient is the client the CLI uses: f observes its responses.
func (f *clientFlags) newAPIClient(baseURL, token string) *api.Client {
	return &api.Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, Observe: f.observe}
}

// done ends a command that changed something: with -o table it says what
// in a line; with -o json it prints the API's response, if it had a body.
func (f *clientFlags) done(cmd *cobra.Command, format string, args ...any) error {
	if f.output == "json" {
		if f.last != nil {
			return writeJSON(cmd.OutOrStdout(), f.last)
		}
		return nil
	}
	_, err := fmt.Fprintf(cmd.OutOrStdout(), format+"\n", args...)
	return err
}

// pickFromList is the element of the list under key in a response body,
// as the server sent it, whose field (a string: "id", "name") is value;
// nil when it is not there.
func pickFromList(body []byte, key, field, value string) []byte {
	var page map[string][]json.RawMessage
	if json.Unmarshal(body, &page) != nil {
		return nil
	}
	for _, raw := range page[key] {
		var x map[string]any
		if json.Unmarshal(raw, &x) == nil && x[field] == value {
			return raw
		}
	}
	return nil
}
