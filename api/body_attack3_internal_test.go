package api

import (
	"bytes"
	"io"
	"runtime"
	"strings"
	"testing"
)

// Attack review 3 of issue 12 §3: a Content-Length is a claim, not bytes.
// A client announcing the route's limit and sending one byte (then holding
// the connection until the read timeout) must not make the server reserve
// the whole announced size; and a body shorter than its announced length
// is refused, not taken as complete.
func TestContentLengthLie(t *testing.T) {
	const limit = 64 << 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	data, err := readLimited(strings.NewReader("{"), limit, limit)
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatalf("a 1-byte body announced as %d bytes was accepted as complete (%d bytes)", limit, len(data))
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
		t.Fatalf("a 1-byte body announced as %d bytes allocated %d bytes before it arrived", limit, got)
	}

	// Honest bodies of every size are read whole, and exactly.
	for _, n := range []int{0, 1, 100 << 10, 1 << 20, 1<<20 + 1, 5<<20 + 7} {
		want := bytes.Repeat([]byte("x"), n)
		got, err := readLimited(io.MultiReader(bytes.NewReader(want[:n/3]), bytes.NewReader(want[n/3:])), limit, int64(n))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%d bytes: got %d bytes, %v", n, len(got), err)
		}
	}
	// More than announced is over the limit; a short body is refused.
	if _, err := readLimited(strings.NewReader("xxxx"), limit, 3); err == nil {
		t.Fatal("a body longer than announced was accepted")
	}
	if _, err := readLimited(strings.NewReader(strings.Repeat("x", 3<<20)), limit, 5<<20); err == nil {
		t.Fatal("a 3 MiB body announced as 5 MiB was accepted as complete")
	}
}
