package gatehouse_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/gatehouse-iam/gatehouse"

// allowedImports is the dependency rule of ARCHITECTURE §3: for each package
// of the module, the module's packages its non-test code may import ("." is
// the root package). cmd/gatehouse, which wires everything, may import any.
var allowedImports = map[string][]string{
	".":                {},
	"catalog":          {"."},
	"policy":           {".", "catalog"},
	"policy/workload":  {".", "catalog", "policy"},
	"authz":            {".", "catalog", "policy"},
	"service":          {".", "catalog", "policy", "authz", "state"},
	"store":            {"."},
	"store/storetest":  {"."},
	"oidc":             {"."},
	"state":            {"."},
	"api":              {".", "catalog", "authz", "service", "state", "api/wire"},
	"api/wire":         {"."},
	"web":              {".", "catalog", "policy", "authz", "service", "api", "api/wire"},
	"internal/testenv": {".", "authz", "service", "state", "store", "store/storetest"},
	"internal/ssotest": {},  // identity providers for tests: third-party only
	"cmd/gatehouse":    nil, // anything
}

type pkgInfo struct {
	imports    []string // module-relative imports of non-test files
	thirdParty []string
	hasDoc     bool
}

// packages parses every Go package of the module (not nested modules such
// as bench/ and compat/, nor testdata).
func packages(t *testing.T) map[string]*pkgInfo {
	t.Helper()
	out := map[string]*pkgInfo{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." {
				if d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		p := out[dir]
		if p == nil {
			p = &pkgInfo{}
			out[dir] = p
		}
		if f.Doc != nil && strings.HasPrefix(strings.TrimSpace(f.Doc.Text()), "Package "+f.Name.Name) ||
			f.Doc != nil && f.Name.Name == "main" && strings.HasPrefix(strings.TrimSpace(f.Doc.Text()), "Command ") {
			p.hasDoc = true
		}
		for _, imp := range f.Imports {
			ip, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case ip == module:
				p.imports = append(p.imports, ".")
			case strings.HasPrefix(ip, module+"/"):
				p.imports = append(p.imports, strings.TrimPrefix(ip, module+"/"))
			case strings.Contains(strings.Split(ip, "/")[0], "."):
				p.thirdParty = append(p.thirdParty, ip)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDependencyRule enforces ARCHITECTURE §3: domain at the root with no
// third-party imports, each package importing only what is below it, store
// never imported except by cmd.
func TestDependencyRule(t *testing.T) {
	pkgs := packages(t)
	if len(pkgs) < 4 {
		t.Fatalf("found only %d packages; the walk is broken", len(pkgs))
	}
	for dir, p := range pkgs {
		allowed, known := allowedImports[dir]
		if !known {
			t.Errorf("package %s has no dependency rule: add it to allowedImports and to ARCHITECTURE §3", dir)
			continue
		}
		if dir == "." && len(p.thirdParty) > 0 {
			t.Errorf("the root package imports third-party packages %v; it must use the standard library only", p.thirdParty)
		}
		if allowed == nil {
			continue
		}
		for _, imp := range p.imports {
			if !slices.Contains(allowed, imp) {
				t.Errorf("package %s imports %s, which the dependency rule forbids (allowed: %v)", dir, imp, allowed)
			}
		}
	}
}

// TestPackageDocs checks that every package has a doc comment.
func TestPackageDocs(t *testing.T) {
	for dir, p := range packages(t) {
		if !p.hasDoc {
			t.Errorf("package %s has no package doc comment", dir)
		}
	}
}
