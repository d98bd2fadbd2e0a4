package api

import (
	"bytes"

	"github.com/gatehouse-iam/gatehouse"
)

// takesNoBody reports whether the route refuses a request body: every GET,
// HEAD and DELETE, and the POST and PATCH routes declared noBody. serve
// refuses a non-empty body on them before the handler runs; an empty one
// (what the pulumi CLI, the SDK and the console send) is fine.
func (rt *route) takesNoBody() bool {
	switch rt.method {
	case "GET", "HEAD", "DELETE":
		return true
	}
	return rt.noBody
}

// refuseNull refuses a body that is JSON null where the route wants an
// object: decoding null into a Go value leaves it as it was, so it would
// otherwise mean "nothing", or worse, "empty" (it used to wipe a stack's
// tags).
func refuseNull(data []byte) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return gatehouse.Errorf(gatehouse.EINVALID, "request body: null; want a JSON object")
	}
	return nil
}
