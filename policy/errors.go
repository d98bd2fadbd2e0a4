package policy

import (
	"strings"

	"github.com/gatehouse-iam/gatehouse"
)

// Limits on a descriptor document. They bound the work any stored or
// submitted document can cause.
const (
	// MaxDocumentBytes is the largest serialized document accepted (1 MB, as
	// Pulumi).
	MaxDocumentBytes = 1 << 20
	// MaxGroupEntries is the most entries one Group may hold (as Pulumi), and
	// the most values one set literal may hold.
	MaxGroupEntries = 2000
	// MaxDepth is the deepest nesting of descriptor and expression nodes.
	MaxDepth = 32
	// maxErrors is how many problems one document reports before stopping.
	maxErrors = 20
)

// Error is one problem in a document, at a path such as
// "details.entries[3].condition.left".
type Error struct {
	Path    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string { return e.Path + ": " + e.Message }

// Errors is every problem found in one document, in document order.
type Errors []*Error

// Error joins the problems, one per line.
func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Invalid converts es into the domain's invalid-request error, its message
// naming every problem with its path.
func (es Errors) Invalid() *gatehouse.Error {
	return &gatehouse.Error{Code: gatehouse.EINVALID, Message: strings.Join(errorStrings(es), "; ")}
}

func errorStrings(es Errors) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Error()
	}
	return out
}

// problems collects Errors up to maxErrors.
type problems struct{ errs Errors }

func (p *problems) add(path, msg string) {
	if len(p.errs) < maxErrors {
		p.errs = append(p.errs, &Error{Path: path, Message: msg})
	}
}

func (p *problems) full() bool { return len(p.errs) >= maxErrors }

func (p *problems) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	return p.errs
}
