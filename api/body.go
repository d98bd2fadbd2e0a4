package api

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
)

// Body limits. A route's maxBytes bounds its body once decompressed: a
// gzip body that inflates past it is refused (413) while it is read, never
// buffered whole. Routes that name no limit get defaultBodyLimit.
const (
	defaultBodyLimit = 64 << 10
	// maxCreateStackBody bounds creating a stack, which may carry its first
	// state.
	maxCreateStackBody = 16 << 20
)

// tooLarge is the error of a body over its route's limit.
func tooLarge(limit int64) error {
	return gatehouse.Errorf(gatehouse.ETOOLARGE, "request body: over this route's limit of %s (%d bytes) once decompressed", sizeText(limit), limit)
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// readBody reads the request body, gunzipping it when the client compressed
// it, within the route's limit on the decompressed size. It holds one copy
// of the body: exactly its size when the length is known, otherwise chunks
// that are joined once at the end.
func (q *request) readBody() ([]byte, error) {
	limit := q.maxBytes
	if limit <= 0 {
		limit = defaultBodyLimit
	}
	// The wire may carry a little more than the limit when gzip could not
	// compress the data (about 0.02% plus headers).
	wire := limit + limit/256 + 4<<10
	var r io.Reader = http.MaxBytesReader(q.w, q.r.Body, wire)
	size := int64(-1)
	if strings.EqualFold(strings.TrimSpace(q.r.Header.Get("Content-Encoding")), "gzip") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			if isMaxBytes(err) {
				return nil, tooLarge(limit)
			}
			if errors.Is(err, io.EOF) {
				return nil, nil
			}
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "request body: Content-Encoding is gzip but the body is not: %v", err)
		}
		defer zr.Close()
		r = zr
	} else if q.r.ContentLength > limit {
		return nil, tooLarge(limit)
	} else if q.r.ContentLength >= 0 {
		size = q.r.ContentLength
	}
	data, err := readLimited(r, limit, size)
	if err != nil {
		if isMaxBytes(err) {
			return nil, tooLarge(limit)
		}
		if gatehouse.ErrorCode(err) == gatehouse.ETOOLARGE {
			return nil, err
		}
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "request body: %v", err)
	}
	return data, nil
}

func isMaxBytes(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// releaseAfter is the body size from which the chunks a body was read in
// are returned to the operating system once joined.
const releaseAfter = 8 << 20

// eagerSize is the largest announced length read straight into a buffer of
// that size. A longer Content-Length is only a claim until half of it has
// arrived: a client announcing the limit and sending a byte must not make
// the server reserve the whole of it.
const eagerSize = 1 << 20

// readLimited reads r to its end, refusing more than limit bytes (it
// reads at most limit+1). With a known size it reads into one buffer of
// that size, allocated once half the body has arrived (up to eagerSize at
// once), and refuses a body shorter than that size; otherwise into chunks
// of growing size, joined into one buffer of the exact total: the peak is
// twice the body, never the repeated regrowth of one buffer.
func readLimited(r io.Reader, limit, size int64) ([]byte, error) {
	if size >= 0 && size <= eagerSize {
		return readExact(r, limit, make([]byte, size), 0)
	}
	var chunks [][]byte
	var total int64
	next := int64(32 << 10)
	for {
		if size >= 0 && 2*total >= size {
			// Half the announced body is here: take the rest into one
			// buffer of the announced size.
			buf := make([]byte, size)
			n := 0
			for i, c := range chunks {
				n += copy(buf[n:], c)
				chunks[i] = nil
			}
			if total >= releaseAfter {
				debug.FreeOSMemory()
			}
			return readExact(r, limit, buf, n)
		}
		if rest := limit + 1 - total; next > rest {
			next = rest
		}
		chunk := make([]byte, next)
		n, err := io.ReadFull(r, chunk)
		if n > 0 {
			chunks = append(chunks, chunk[:n])
			total += int64(n)
		}
		if total > limit {
			return nil, tooLarge(limit)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			if size >= 0 {
				return nil, shortBody(total, size)
			}
			break
		}
		if err != nil {
			return nil, err
		}
		if next < 4<<20 {
			next *= 2
		}
	}
	if len(chunks) == 1 {
		return chunks[0], nil
	}
	out := make([]byte, 0, total)
	for i, c := range chunks {
		out = append(out, c...)
		chunks[i] = nil // let the collector have it
	}
	if total >= releaseAfter {
		// The chunks are garbage now; what follows (the database's copies
		// of a checkpoint) is allocated outside the Go heap, which would
		// not reuse them. Hand them back rather than peak at three copies.
		debug.FreeOSMemory()
	}
	return out, nil
}

// readExact fills buf from its n-th byte, refusing a body that ends before
// buf is full or goes on after it.
func readExact(r io.Reader, limit int64, buf []byte, n int) ([]byte, error) {
	m, err := io.ReadFull(r, buf[n:])
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, shortBody(int64(n+m), int64(len(buf)))
	}
	if err != nil {
		return nil, err
	}
	// Nothing may follow the announced length (net/http enforces it), but
	// check rather than trust.
	var one [1]byte
	if k, _ := io.ReadFull(r, one[:]); k > 0 {
		return nil, tooLarge(limit)
	}
	return buf, nil
}

func shortBody(got, want int64) error {
	return fmt.Errorf("the body ended after %d of the %d bytes of its Content-Length", got, want)
}

// decodeCLI reads a JSON body from the pulumi CLI: gzip allowed, and
// fields this server does not use ignored (the CLI's types grow).
func (q *request) decodeCLI(v any) error {
	data, err := q.readBody()
	if err != nil {
		return err
	}
	return decodeCLIBytes(data, v)
}

func decodeCLIBytes(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return gatehouse.Errorf(gatehouse.EINVALID, "request body: missing; want a JSON object")
	}
	if err := refuseNull(data); err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return gatehouse.Errorf(gatehouse.EINVALID, "request body: %s", jsonProblem(err))
	}
	return nil
}

// span is a JSON value kept as the slice of the request body it was
// decoded from: unlike json.RawMessage, decoding one copies nothing. Use it
// only with json.Unmarshal on a body this request owns (json.Unmarshal
// hands UnmarshalJSON a slice of its input, which outlives the call), for
// the values that carry a whole deployment.
type span []byte

// UnmarshalJSON keeps the value's text.
func (s *span) UnmarshalJSON(b []byte) error {
	*s = b
	return nil
}

// The checkpoint requests as decoded: their wire types (wire/stacks.go)
// with the deployment kept in place rather than copied.
type (
	checkpointBody struct {
		IsInvalid  bool     `json:"isInvalid"`
		Version    int      `json:"version"`
		Features   []string `json:"features,omitempty"`
		Deployment span     `json:"deployment,omitempty"`
	}
	verbatimCheckpointBody struct {
		UntypedDeployment span `json:"untypedDeployment,omitempty"`
		SequenceNumber    int  `json:"sequenceNumber"`
	}
	deltaCheckpointBody struct {
		CheckpointHash  string `json:"checkpointHash"`
		SequenceNumber  int    `json:"sequenceNumber"`
		DeploymentDelta span   `json:"deploymentDelta,omitempty"`
	}
)

// untypedDeployment writes {"version":..,"features":..,"deployment":..}
// into one buffer of its final size: the deployment is copied once.
func (c *checkpointBody) untypedDeployment() ([]byte, error) {
	head := struct {
		Version  int      `json:"version"`
		Features []string `json:"features,omitempty"`
	}{c.Version, c.Features}
	h, err := json.Marshal(head)
	if err != nil {
		return nil, err
	}
	dep := bytes.TrimSpace(c.Deployment)
	if len(dep) == 0 || string(dep) == "null" {
		return h, nil
	}
	out := make([]byte, 0, len(h)+len(`,"deployment":`)+len(dep))
	out = append(out, h[:len(h)-1]...)
	out = append(out, `,"deployment":`...)
	out = append(out, dep...)
	return append(out, '}'), nil
}

// present is a JSON field's raw value, nil when absent or null.
func present(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}
