package storetest

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
)

// TestSuiteCallsEveryMethod checks that the conformance suite exercises
// every method of gatehouse.Tx, so that a new method cannot land untested.
func TestSuiteCallsEveryMethod(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var src []byte
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src = append(src, b...)
	}
	txType := reflect.TypeOf((*gatehouse.Tx)(nil)).Elem()
	if txType.NumMethod() < 50 {
		t.Fatalf("gatehouse.Tx has %d methods; the reflection is broken", txType.NumMethod())
	}
	for i := 0; i < txType.NumMethod(); i++ {
		name := txType.Method(i).Name
		if !strings.Contains(string(src), "."+name+"(ctx") {
			t.Errorf("the suite never calls Tx.%s", name)
		}
	}
}
