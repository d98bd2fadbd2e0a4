package api

import (
	"sync"
	"time"
)

// failureLimiter counts failed authentications per source address in a
// fixed window and blocks an address that exceeds the limit until the
// window ends. Its memory is bounded: when it tracks too many addresses it
// forgets the expired ones, and past a hard cap it starts a new window.
type failureLimiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	now    func() time.Time
	byIP   map[string]*failures
}

type failures struct {
	start time.Time
	n     int
}

const maxTrackedAddresses = 100000

func newFailureLimiter(limit int, window time.Duration) *failureLimiter {
	return &failureLimiter{limit: limit, window: window, now: time.Now, byIP: map[string]*failures{}}
}

// blocked returns how long the address must wait, or 0.
func (l *failureLimiter) blocked(ip string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.byIP[ip]
	if f == nil {
		return 0
	}
	now := l.now()
	if now.Sub(f.start) >= l.window {
		delete(l.byIP, ip)
		return 0
	}
	if f.n >= l.limit {
		return f.start.Add(l.window).Sub(now)
	}
	return 0
}

func (l *failureLimiter) fail(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	f := l.byIP[ip]
	if f == nil || now.Sub(f.start) >= l.window {
		if len(l.byIP) >= maxTrackedAddresses {
			l.sweep(now)
		}
		f = &failures{start: now}
		l.byIP[ip] = f
	}
	f.n++
}

func (l *failureLimiter) sweep(now time.Time) {
	for ip, f := range l.byIP {
		if now.Sub(f.start) >= l.window {
			delete(l.byIP, ip)
		}
	}
	if len(l.byIP) >= maxTrackedAddresses {
		l.byIP = map[string]*failures{}
	}
}
