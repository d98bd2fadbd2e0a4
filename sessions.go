package gatehouse

import "time"

// Session is a console sign-in. The cookie's value is never stored: Digest
// is its SHA-256. It acts for the personal token it was opened with
// (TokenDigest), which must stay valid.
type Session struct {
	Digest      []byte
	TokenDigest []byte
	UserID      string
	CSRF        string // the token every form of the session carries
	Created     time.Time
	Expires     time.Time
	LastSeen    time.Time // when the session last served a request (zero: never since it opened)
}
