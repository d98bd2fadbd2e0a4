package api

import (
	"container/list"
	"sync"
	"time"
)

// failureLimiter limits failed authentications per source (an address, or
// an IPv6 /64): each source has a bucket of limit failures that refills at
// limit per window. It is only ever charged with failures, after
// authentication failed, so it never refuses a valid credential: a flood
// of bad guesses from an address (or from everyone behind one proxy) does
// not lock out the valid tokens sent from there.
//
// Its memory is bounded: it tracks at most max sources, forgetting the one
// that failed least recently when a new one arrives.
type failureLimiter struct {
	mu     sync.Mutex
	limit  float64
	window time.Duration
	max    int
	now    func() time.Time
	lru    *list.List // of *bucket, most recent first
	byKey  map[string]*list.Element
}

type bucket struct {
	key    string
	tokens float64
	at     time.Time
	// over is set while the source's failures are refused.
	over bool
}

const maxTrackedAddresses = 100000

// newFailureLimiter refills on the wall clock, not the service's: a refill
// is real time passing, which a test's frozen clock would never give.
func newFailureLimiter(limit int, window time.Duration) *failureLimiter {
	return &failureLimiter{limit: float64(limit), window: window, max: maxTrackedAddresses, now: time.Now,
		lru: list.New(), byKey: map[string]*list.Element{}}
}

// fail charges n failed authentications to the source. It reports how long
// the source must wait before its next failure is allowed, or 0 while it is
// within the limit, and whether this refusal is the first since the source
// was last within it (to log once per episode, not once per guess). Failures refused beyond the limit are not charged: a
// source keeps the limit's rate of failures, never more.
func (l *failureLimiter) fail(key string, n int) (wait time.Duration, first bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var b *bucket
	if el := l.byKey[key]; el != nil {
		b = el.Value.(*bucket)
		l.lru.MoveToFront(el)
		b.tokens = min(l.limit, b.tokens+now.Sub(b.at).Seconds()*l.perSecond())
		b.at = now
	} else {
		for l.lru.Len() >= l.max {
			old := l.lru.Back()
			delete(l.byKey, old.Value.(*bucket).key)
			l.lru.Remove(old)
		}
		b = &bucket{key: key, tokens: l.limit, at: now}
		l.byKey[key] = l.lru.PushFront(b)
	}
	if b.tokens >= float64(n) {
		b.tokens -= float64(n)
		b.over = false
		return 0, false
	}
	first = !b.over
	b.over = true
	need := min(float64(n), l.limit) - b.tokens
	return max(time.Duration(need/l.perSecond()*float64(time.Second)), time.Millisecond), first
}

func (l *failureLimiter) perSecond() float64 { return l.limit / l.window.Seconds() }

// tracked is how many sources the limiter holds.
func (l *failureLimiter) tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.byKey)
}
