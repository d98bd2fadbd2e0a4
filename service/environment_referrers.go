package service

import (
	"context"
	"encoding/json"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/gatehouse-iam/gatehouse"
)

// EnvironmentReferrer is an environment whose current definition imports
// another: its project, name and version, and the version of the
// imported environment it names (its current one unless @version or
// @tag says otherwise).
type EnvironmentReferrer struct {
	ID            string
	Project, Name string
	Version       int
	Imports       int // the version of the imported environment
}

// Referrers lists the environments of e's organization whose current
// definitions import e, in project and name order. The stacks that import
// it are StackReferrers.
func (s *Service) Referrers(ctx context.Context, e *gatehouse.Environment) ([]EnvironmentReferrer, error) {
	var out []EnvironmentReferrer
	opts := gatehouse.ListOptions{Limit: gatehouse.MaxListLimit}
	for {
		page, next, err := s.Environments(ctx, e.OrgID, func(*gatehouse.Environment) bool { return true }, opts)
		if err != nil {
			return nil, err
		}
		for _, o := range page {
			if o.ID == e.ID {
				continue
			}
			refs, err := s.importsOf(ctx, o, e)
			if err != nil {
				return nil, err
			}
			out = append(out, refs...)
		}
		if next == "" {
			break
		}
		opts.Continuation = next
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return a.Project+"/"+a.Name < b.Project+"/"+b.Name || (a.Project == b.Project && a.Name == b.Name && a.Imports < b.Imports)
	})
	return out, nil
}

// importsOf are o's imports of e in its current definition.
func (s *Service) importsOf(ctx context.Context, o, e *gatehouse.Environment) ([]EnvironmentReferrer, error) {
	def, version, err := s.Definition(ctx, o, 0, false)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Imports []any `yaml:"imports"`
	}
	if yaml.Unmarshal(def, &doc) != nil {
		return nil, nil // a definition that does not parse imports nothing
	}
	var out []EnvironmentReferrer
	for _, imp := range doc.Imports {
		name, ok := imp.(string)
		if m, isMap := imp.(map[string]any); isMap && len(m) == 1 {
			for k := range m {
				name, ok = k, true
			}
		}
		if !ok {
			continue
		}
		project, envName, at := importName(name)
		if project != e.Project || envName != e.Name {
			continue
		}
		n, err := s.ResolveVersion(ctx, e, at)
		if err != nil {
			continue // an import of a version or tag that is not there
		}
		out = append(out, EnvironmentReferrer{ID: o.ID, Project: o.Project, Name: o.Name, Version: version, Imports: n})
	}
	return out, nil
}

// StackReferrer is a stack whose program imports an environment (its
// Pulumi.<stack>.yaml environment:), as its last update said: the stack,
// its version then, and the version of the environment it names.
type StackReferrer struct {
	Stack   *gatehouse.Stack
	Version int // the stack's
	Imports int // the environment's
}

// StackReferrers lists the stacks whose last update imported e, in
// project and name order; an import of a version or tag that is not
// there is left out.
func (s *Service) StackReferrers(ctx context.Context, e *gatehouse.Environment) ([]StackReferrer, error) {
	var imps []gatehouse.StackEnvironmentImport
	var stacks []*gatehouse.Stack
	err := s.read(ctx, func(tx gatehouse.Tx) (err error) {
		stacks = nil // a retried read starts over
		if imps, err = tx.ListStackEnvironmentImports(ctx, e.OrgID, e.Project, e.Name); err != nil {
			return err
		}
		for _, imp := range imps {
			st, err := tx.GetStackByID(ctx, imp.StackID)
			if err != nil {
				return err
			}
			stacks = append(stacks, st)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []StackReferrer
	for i, imp := range imps {
		n, err := s.ResolveVersion(ctx, e, imp.Ref)
		if err != nil {
			continue
		}
		out = append(out, StackReferrer{Stack: stacks[i], Version: imp.StackVersion, Imports: n})
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Stack, out[j].Stack
		return a.Project < b.Project || a.Project == b.Project && a.Name < b.Name
	})
	return out, nil
}

// maxStackImports bounds the environments one program may say it imports.
const maxStackImports = 100

// stackEnvironments is the key of an update's metadata under which the
// pulumi CLI sends the environments the stack imports: a JSON list of
// {"id": "[project/]name[@version]"}.
const stackEnvironments = "stack.environments"

// recordStackImportsTx records the environments an update's program
// imports, from its metadata (a CLI that does not say leaves what was
// recorded as it is).
func recordStackImportsTx(ctx context.Context, tx gatehouse.Tx, st *gatehouse.Stack, metadata map[string]string) error {
	raw, ok := metadata[stackEnvironments]
	if !ok {
		return nil
	}
	field := `metadata.environment["` + stackEnvironments + `"]`
	var ids []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(raw), &ids); err != nil {
		return gatehouse.Errorf(gatehouse.EINVALID, "%s: not a JSON list of {\"id\": \"project/name\"}: %v", field, err)
	}
	if len(ids) > maxStackImports {
		return gatehouse.Errorf(gatehouse.EINVALID, "%s: %d environments, over the limit of %d", field, len(ids), maxStackImports)
	}
	imps := make([]gatehouse.StackEnvironmentImport, 0, len(ids))
	for _, id := range ids {
		project, name, ref := importName(id.ID)
		if checkStackName("project", project) != nil || checkStackName("name", name) != nil {
			return gatehouse.Errorf(gatehouse.EINVALID, "%s: %q is not an environment's [project/]name[@version]", field, id.ID)
		}
		imps = append(imps, gatehouse.StackEnvironmentImport{Project: project, Name: name, Ref: ref, StackVersion: st.Version})
	}
	// Updates of one stack are created at once (previews take no lease):
	// the stack's row lock orders their replacements.
	if err := tx.LockStack(ctx, st.ID); err != nil {
		return err
	}
	return tx.PutStackEnvironmentImports(ctx, st, imps)
}

// importName splits an import's [project/]name[@version]; the project is
// "default" when none is given, as in ESC.
func importName(s string) (project, name, ref string) {
	full, ref, _ := strings.Cut(s, "@")
	project, name, ok := strings.Cut(full, "/")
	if !ok {
		return "default", full, ref
	}
	return project, name, ref
}
