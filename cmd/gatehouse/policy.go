package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/gatehouse-iam/gatehouse/policy"
)

func newPolicyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Validate and evaluate role, permission set and policy documents offline",
		Long: `Work with permission descriptor documents without a server.

A document file holds either a descriptor as the API takes it
({"name", "description", "resourceType", "uxPurpose", "details", and optionally "id"})
or a bare descriptor tree (an object with "__type"), which is taken as a role.

Compose references resolve, in order, to: a document whose "id" matches, a
document in --sets whose file name (without .json) matches, and a document
whose "name" matches (the one of that name). validate resolves nothing else,
as the server: there, built-in sets and roles have an ID of their own in each
organization, so a reference to "org-standard" is an unknown permission
descriptor, and the error says which built-in it names. eval also resolves
the built-ins by their identifier (stack-read, stack-write, stack-admin,
environment-open, org-standard, member, admin, ...), to answer what a role
would grant.`,
	}
	cmd.AddCommand(newValidateCmd(), newEvalCmd())
	return cmd
}

// document is a descriptor file: the API's PermissionDescriptorBase plus an
// optional id.
type document struct {
	ID                string          `json:"id"`
	Name              string          `json:"name"`
	Description       string          `json:"description"`
	ResourceType      string          `json:"resourceType"`
	UXPurpose         string          `json:"uxPurpose"`
	DefaultIdentifier string          `json:"defaultIdentifier"`
	Details           json.RawMessage `json:"details"`
}

// loaded is a document file decoded, not yet validated.
type loaded struct {
	file string
	desc *policy.Descriptor
	raw  json.RawMessage
	root string // error path root: "details" for documents, "" for bare trees
}

var purposes = []string{"role", "role_private", "role_user_private", "role_temporary", "policy", "set"}

// loadDocument reads one file. defaultPurpose applies to bare trees.
func loadDocument(path, defaultPurpose string) (*loaded, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, fmt.Errorf("%s: not a JSON object: %v", path, err)
	}
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	l := &loaded{file: path, desc: &policy.Descriptor{ID: base, Name: base, Purpose: defaultPurpose}}
	if _, bare := top["__type"]; bare {
		l.raw, l.root = b, "details"
		return l, nil
	}
	var doc document
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if doc.Details == nil {
		return nil, fmt.Errorf("%s: details: missing (a document needs details, or the file must be a bare tree with __type)", path)
	}
	if doc.ID != "" {
		l.desc.ID = doc.ID
	}
	if doc.Name != "" {
		l.desc.Name = doc.Name
	}
	if doc.UXPurpose != "" {
		if !slices.Contains(purposes, doc.UXPurpose) {
			return nil, fmt.Errorf("%s: uxPurpose: %q is not one of %s", path, doc.UXPurpose, strings.Join(purposes, ", "))
		}
		l.desc.Purpose = doc.UXPurpose
	}
	if doc.ResourceType != "" {
		t, ok := gatehouse.ParseEntityType(doc.ResourceType)
		if !ok || t == gatehouse.EntityTeam {
			return nil, fmt.Errorf("%s: resourceType: %q is not one of global, stack, environment, insights-account", path, doc.ResourceType)
		}
		l.desc.ResourceType = t
	} else if l.desc.Purpose == "set" {
		return nil, fmt.Errorf("%s: resourceType: a permission set needs one (stack, environment, insights-account or global)", path)
	}
	l.raw, l.root = doc.Details, "details"
	return l, nil
}

// library holds every descriptor references may resolve to: by ID (a
// document's "id", or its file name without .json), by the name of a set
// or policy document, and, when builtins, by a built-in's identifier.
type library struct {
	byID   map[string]*policy.Descriptor
	byName map[string][]*policy.Descriptor
	// builtins resolves the built-ins' identifiers ("stack-read"). The
	// server does not: built-ins have an ID of their own in each
	// organization, and Compose takes IDs. validate follows the server and
	// leaves them out; eval, which only answers what a role would grant,
	// keeps them.
	builtins map[string]*policy.Descriptor
}

func newLibrary(builtins bool) *library {
	lib := &library{byID: map[string]*policy.Descriptor{}, byName: map[string][]*policy.Descriptor{}, builtins: map[string]*policy.Descriptor{}}
	for _, d := range policy.Builtins(func(id string) string { return id }, gatehouse.DefaultMemberDefaults()) {
		lib.builtins[d.ID] = d
	}
	if builtins {
		maps.Copy(lib.byID, lib.builtins)
	}
	return lib
}

func (lib *library) add(d *policy.Descriptor) {
	lib.byID[d.ID] = d
	if d.Name != d.ID {
		lib.byName[d.Name] = append(lib.byName[d.Name], d)
	}
}

// lookup resolves a Compose reference: an ID first, then the one
// document of that name.
func (lib *library) lookup(id string) (*policy.Descriptor, bool) {
	if d, ok := lib.byID[id]; ok {
		return d, true
	}
	if ds := lib.byName[id]; len(ds) == 1 {
		return ds[0], true
	}
	return nil, false
}

// hint says why a reference that did not resolve would resolve on the
// server, or not: a built-in's identifier, or a name two documents share.
func (lib *library) hint(ref string) string {
	if d, ok := lib.builtins[ref]; ok {
		return fmt.Sprintf("%q is the identifier of the built-in %s %q; as on the server, Compose takes descriptor IDs, and each organization gives its built-ins IDs of their own (`gatehouse %s get %q -o json` shows it)",
			ref, d.Purpose, d.Name, map[string]string{"set": "set", "role": "role"}[d.Purpose], d.Name)
	}
	if n := len(lib.byName[ref]); n > 1 {
		return fmt.Sprintf("%d documents are named %q: refer to one by its id", n, ref)
	}
	return ""
}

// loadSets decodes every *.json file of dir into the library.
func (lib *library) loadSets(dir string) ([]*loaded, error) {
	if dir == "" {
		return nil, nil
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("--sets: no *.json files in %s", dir)
	}
	var out []*loaded
	for _, f := range files {
		l, err := loadDocument(f, "set")
		if err != nil {
			return nil, err
		}
		if err := l.decode(); err != nil {
			return nil, err
		}
		lib.add(l.desc)
		out = append(out, l)
	}
	return out, nil
}

func (l *loaded) decode() error {
	n, err := policy.DecodeAt(l.raw, l.root)
	if err != nil {
		return prefixErrors(l.file, err)
	}
	l.desc.Details = n
	return nil
}

func (l *loaded) validate(lib *library) error {
	err := policy.Validate(l.desc.Details, policy.Options{
		Root: l.root, Purpose: l.desc.Purpose, ResourceType: l.desc.ResourceType,
		SelfID: l.desc.ID, Lookup: lib.lookup,
	})
	var es policy.Errors
	if errors.As(err, &es) {
		for i, e := range es {
			if ref, ok := strings.CutPrefix(e.Message, "unknown permission descriptor "); ok {
				if unq, uerr := strconv.Unquote(ref); uerr == nil {
					if h := lib.hint(unq); h != "" {
						es[i].Message += ": " + h
					}
				}
			}
		}
		err = es
	}
	return prefixErrors(l.file, err)
}

// fileErrors are a file's problems, one per line, each prefixed with the file.
type fileErrors struct {
	file string
	errs policy.Errors
}

func (e *fileErrors) Error() string {
	var b strings.Builder
	for i, x := range e.errs {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s: %s", e.file, x)
	}
	return b.String()
}

func prefixErrors(file string, err error) error {
	var es policy.Errors
	if errors.As(err, &es) {
		return &fileErrors{file: file, errs: es}
	}
	return err
}

func newValidateCmd() *cobra.Command {
	var setsDir string
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Validate role, permission set and policy documents",
		Long: "Validate each document: its structure, every scope (with the nearest valid one suggested),\n" +
			"conditions, limits, and Compose references and cycles among the files, --sets and the built-ins.\n" +
			"Exit status: 0 when every document is valid, 1 when one is not, 2 on a usage or read error.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lib := newLibrary(false)
			if _, err := lib.loadSets(setsDir); err != nil {
				return err
			}
			var docs []*loaded
			for _, f := range args {
				l, err := loadDocument(f, "role")
				if err != nil {
					return err
				}
				docs = append(docs, l)
			}
			invalid := false
			report := func(err error) {
				invalid = true
				fmt.Fprintln(cmd.ErrOrStderr(), err)
			}
			for _, l := range docs {
				if err := l.decode(); err != nil {
					report(err)
					continue
				}
				lib.add(l.desc)
			}
			for _, l := range docs {
				if l.desc.Details == nil {
					continue
				}
				if err := l.validate(lib); err != nil {
					report(err)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: valid %s %q\n", l.file, l.desc.Purpose, l.desc.Name)
			}
			if invalid {
				return exitCode(exitDeny)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&setsDir, "sets", "", "directory of permission set and policy documents that Compose may reference")
	return cmd
}

// entityFlag is the --entity argument of policy eval.
type entityFlag struct {
	Type string            `json:"type"`
	ID   string            `json:"id"`
	Tags map[string]string `json:"tags"`
}

func parseEntity(s string) (*gatehouse.Entity, error) {
	var ef entityFlag
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ef); err != nil {
		return nil, fmt.Errorf("--entity: want {\"type\":..., \"id\":..., \"tags\":{...}}: %v", err)
	}
	t, ok := gatehouse.ParseEntityType(ef.Type)
	if !ok || t == gatehouse.EntityTeam {
		return nil, fmt.Errorf("--entity: type: %q is not one of global, stack, environment, insights-account", ef.Type)
	}
	if ef.ID == "" && t != gatehouse.EntityGlobal {
		return nil, fmt.Errorf("--entity: id: missing (the %s's UUID)", t)
	}
	return &gatehouse.Entity{Type: t, ID: strings.ToLower(ef.ID), Tags: gatehouse.TagsFromMap(ef.Tags)}, nil
}

func newEvalCmd() *cobra.Command {
	var roleFiles []string
	var setsDir, scopeName, entityJSON, output string
	cmd := &cobra.Command{
		Use:   "eval --role FILE [--role FILE...] [--sets DIR] --scope SCOPE --entity JSON",
		Short: "Decide whether roles grant a scope on an entity, and explain why",
		Long: "Decide whether a principal holding the given roles may use SCOPE on the entity, and explain the decision.\n" +
			"--entity is JSON: {\"type\":\"stack\",\"id\":\"<uuid>\",\"tags\":{\"env\":\"prod\"}}; type global means the organization.\n" +
			"Exit status: 0 allow, 1 deny, 2 error.",
		Example: `  gatehouse policy eval --role ops.json --sets sets/ --scope stack:write \
    --entity '{"type":"stack","id":"20dede8f-6a2b-4d8e-9a6e-3c1f2b7a9d10","tags":{"env":"prod"}}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(roleFiles) == 0 {
				return errors.New("--role: at least one role file is required")
			}
			sc, ok := catalog.Lookup(scopeName)
			if !ok {
				msg := fmt.Sprintf("--scope: unknown scope %q", scopeName)
				if s := catalog.Suggest(scopeName); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				return errors.New(msg)
			}
			ent, err := parseEntity(entityJSON)
			if err != nil {
				return err
			}
			if output != "text" && output != "json" {
				return fmt.Errorf("--output: unknown format %q (want text or json)", output)
			}
			lib := newLibrary(true)
			if _, err := lib.loadSets(setsDir); err != nil {
				return err
			}
			var roles []*loaded
			for _, f := range roleFiles {
				l, err := loadDocument(f, "role")
				if err != nil {
					return err
				}
				if err := l.decode(); err != nil {
					return err
				}
				lib.add(l.desc)
				roles = append(roles, l)
			}
			var descs []*policy.Descriptor
			var compiled []*policy.Compiled
			for _, l := range roles {
				if err := l.validate(lib); err != nil {
					return err
				}
				descs = append(descs, l.desc)
				compiled = append(compiled, policy.Compile(l.desc.Details, lib.lookup))
			}
			allowed := policy.Union(compiled...).Decide(sc, ent)
			ex := policy.Explain(descs, lib.lookup, sc, ent)
			if ex.Allowed != allowed {
				return fmt.Errorf("internal error: the engine decided %v but the explanation %v; please report this", allowed, ex.Allowed)
			}
			if err := printExplanation(cmd.OutOrStdout(), output, ex); err != nil {
				return err
			}
			if !allowed {
				return exitCode(exitDeny)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&roleFiles, "role", nil, "role document (repeat for a principal holding several roles)")
	cmd.Flags().StringVar(&setsDir, "sets", "", "directory of permission set and policy documents that Compose may reference")
	cmd.Flags().StringVar(&scopeName, "scope", "", "the scope to decide, e.g. stack:write")
	cmd.Flags().StringVar(&entityJSON, "entity", "", `the entity, e.g. {"type":"stack","id":"<uuid>","tags":{"env":"prod"}}`)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.MarkFlagRequired("scope")
	cmd.MarkFlagRequired("entity")
	return cmd
}

func printExplanation(w io.Writer, output string, ex policy.Explanation) error {
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(ex)
	}
	verdict := "deny"
	if ex.Allowed {
		verdict = "allow"
	}
	fmt.Fprintf(w, "%s: %s\n", verdict, ex.Reason)
	for _, g := range ex.Grants {
		fmt.Fprintf(w, "  granted by role %q at %s\n", g.Role, g.Path)
	}
	for _, u := range ex.Unmet {
		fmt.Fprintf(w, "  not granted by role %q at %s: needs %s; %s\n", u.Role, u.Path, u.Condition, u.Because)
	}
	return nil
}
