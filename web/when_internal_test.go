package web

import (
	"testing"
	"time"
)

func TestRelative(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "just now"},
		{-59 * time.Second, "just now"},
		{-time.Minute, "1 minute ago"},
		{-90 * time.Minute, "1 hour ago"},
		{-3 * time.Hour, "3 hours ago"},
		{-36 * time.Hour, "1 day ago"},
		{90 * 24 * time.Hour, "in 3 months"},
		{29 * 24 * time.Hour, "in 29 days"},
		{-800 * 24 * time.Hour, "2 years ago"},
	} {
		if got := relative(now.Add(c.d), now); got != c.want {
			t.Errorf("%v: %q, want %q", c.d, got, c.want)
		}
	}
}
