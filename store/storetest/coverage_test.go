package storetest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
)

// TestSuiteCallsEveryMethod checks that the conformance suite exercises
// every method of gatehouse.Tx, so that a new method cannot land untested.
func TestSuiteCallsEveryMethod(t *testing.T) {
	called := suiteCalls(t)
	txType := reflect.TypeOf((*gatehouse.Tx)(nil)).Elem()
	if txType.NumMethod() < 50 {
		t.Fatalf("gatehouse.Tx has %d methods; the reflection is broken", txType.NumMethod())
	}
	for i := 0; i < txType.NumMethod(); i++ {
		if name := txType.Method(i).Name; !called[name] {
			t.Errorf("the suite never calls Tx.%s", name)
		}
	}
}

// suiteCalls parses the suite's files (not its tests) and returns the names
// of the methods called in them: x.Name(...) call expressions only, so that
// a name in a comment or a string does not count.
func suiteCalls(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	called := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok {
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
					called[sel.Sel.Name] = true
				}
			}
			return true
		})
	}
	if len(called) == 0 {
		t.Fatal("found no calls in the suite's files")
	}
	return called
}
