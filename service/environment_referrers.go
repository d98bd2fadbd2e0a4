package service

import (
	"context"
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
	Project, Name string
	Version       int
	Imports       int // the version of the imported environment
}

// Referrers lists the environments of e's organization whose current
// definitions import e, in project and name order. Stacks import
// environments from their own Pulumi.<stack>.yaml, which Gatehouse never
// sees, so they are not among them.
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
		ref, at, _ := strings.Cut(name, "@")
		project, envName, qualified := strings.Cut(ref, "/")
		if !qualified {
			project, envName = "default", ref
		}
		if project != e.Project || envName != e.Name {
			continue
		}
		n, err := s.ResolveVersion(ctx, e, at)
		if err != nil {
			continue // an import of a version or tag that is not there
		}
		out = append(out, EnvironmentReferrer{Project: o.Project, Name: o.Name, Version: version, Imports: n})
	}
	return out, nil
}
