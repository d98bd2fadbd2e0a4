package state

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// textEdit is one edit of a checkpoint delta, in the shape the pulumi CLI
// sends (github.com/hexops/gotextdiff's TextEdit): replace the bytes from
// Span.start.offset to Span.end.offset of the previous checkpoint's text
// with NewText.
type textEdit struct {
	Span struct {
		Start struct {
			Offset *int `json:"offset"`
		} `json:"start"`
		End struct {
			Offset *int `json:"offset"`
		} `json:"end"`
	} `json:"Span"`
	NewText string `json:"NewText"`
}

// MaxCheckpoint is the most a checkpoint's text may ever be, whole or
// rebuilt from a delta; the service's configured limit is at most this.
const MaxCheckpoint = 256 << 20

// ErrTooLarge is the error of a delta whose result is over the limit.
var ErrTooLarge = errors.New("checkpoint too large")

// ApplyDelta rebuilds a checkpoint from the previous one's exact text and a
// delta (the CLI's checkpointdelta), and checks the result against
// wantHash, the hex SHA-256 the CLI computed of the text it holds. Edits
// must lie within the base and must not overlap. Any failure leaves
// nothing half-applied: the caller keeps the previous checkpoint. The
// result may be at most limit bytes (at most MaxCheckpoint); it is built in
// one buffer of its exact size.
func ApplyDelta(base, delta []byte, wantHash string, limit int) ([]byte, error) {
	if limit <= 0 || limit > MaxCheckpoint {
		limit = MaxCheckpoint
	}
	var edits []textEdit
	if err := json.Unmarshal(delta, &edits); err != nil {
		return nil, fmt.Errorf("deploymentDelta: not a list of text edits: %v", err)
	}
	type span struct {
		start, end int
		text       string
	}
	spans := make([]span, len(edits))
	size := len(base)
	for i, e := range edits {
		if e.Span.Start.Offset == nil || e.Span.End.Offset == nil {
			return nil, fmt.Errorf("deploymentDelta: edit %d has no start or end offset", i)
		}
		s, t := *e.Span.Start.Offset, *e.Span.End.Offset
		if s < 0 || t < s || t > len(base) {
			return nil, fmt.Errorf("deploymentDelta: edit %d spans bytes %d to %d, outside the previous checkpoint's %d bytes", i, s, t, len(base))
		}
		size += len(e.NewText) - (t - s)
		spans[i] = span{s, t, e.NewText}
	}
	if size > limit {
		return nil, fmt.Errorf("deploymentDelta: the result would be %d bytes, over the checkpoint limit of %d: %w", size, limit, ErrTooLarge)
	}
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	last := 0
	for _, sp := range spans {
		if sp.start < last {
			return nil, fmt.Errorf("deploymentDelta: edit at byte %d overlaps the previous edit", sp.start)
		}
		last = sp.end
	}
	out := make([]byte, 0, size)
	last = 0
	for _, sp := range spans {
		out = append(out, base[last:sp.start]...)
		out = append(out, sp.text...)
		last = sp.end
	}
	out = append(out, base[last:]...)
	sum := sha256.Sum256(out)
	if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, wantHash) {
		return nil, fmt.Errorf("checkpointHash: the rebuilt checkpoint's SHA-256 is %s, not %q: the delta does not apply to the stored checkpoint", got, wantHash)
	}
	return out, nil
}
