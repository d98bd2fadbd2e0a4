package gatehouse

import "time"

// Identity is who a request authenticated as: a token and, for personal
// tokens, its user.
type Identity struct {
	Token *Token
	// User is the token's user for personal tokens, nil otherwise.
	User *User
}

// Actor names the identity for logs and audit events: the user's login, or
// the token's kind and name.
func (id *Identity) Actor() string {
	if id == nil || id.Token == nil {
		return "anonymous"
	}
	if id.User != nil {
		return id.User.Login
	}
	return id.Token.Kind + " token " + id.Token.Name
}

// TokenLifetimeOK reports whether a token's total lifetime, creation to
// expiry, is within max (zero: no cap). A token that never expires exceeds
// any cap.
func TokenLifetimeOK(t *Token, max time.Duration) bool {
	if max <= 0 {
		return true
	}
	if t.Expires.IsZero() {
		return false
	}
	return t.Expires.Sub(t.Created) <= max
}
