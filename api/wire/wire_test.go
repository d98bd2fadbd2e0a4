package wire

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"reflect"
	"strings"
	"testing"
)

// TestEveryFieldHasAJSONName: a field without a json tag would go on the
// wire under its Go name, which no client expects.
func TestEveryFieldHasAJSONName(t *testing.T) {
	pkgs, err := parser.ParseDir(token.NewFileSet(), ".", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	ast.Inspect(pkgs["wire"], func(node ast.Node) bool {
		st, ok := node.(*ast.StructType)
		if !ok {
			return true
		}
		for _, f := range st.Fields.List {
			if len(f.Names) == 0 {
				continue // embedded: its fields are promoted
			}
			n++
			tag := ""
			if f.Tag != nil {
				tag = reflect.StructTag(strings.Trim(f.Tag.Value, "`")).Get("json")
			}
			if name, _, _ := strings.Cut(tag, ","); name == "" {
				t.Errorf("field %s has no JSON name", f.Names[0].Name)
			}
		}
		return true
	})
	if n < 100 {
		t.Errorf("checked %d fields; the package declares far more", n)
	}
}

// TestMirroredAreStructs: each mirrored type is a struct of this package,
// named once.
func TestMirroredAreStructs(t *testing.T) {
	seen := map[reflect.Type]string{}
	for name, v := range Mirrored() {
		rt := reflect.TypeOf(v)
		if rt.Kind() != reflect.Struct || rt.PkgPath() != reflect.TypeOf(Error{}).PkgPath() {
			t.Errorf("%s: %v is not a struct of package wire", name, rt)
		}
		if other, ok := seen[rt]; ok {
			t.Errorf("%s and %s are both %v", name, other, rt)
		}
		seen[rt] = name
	}
}
