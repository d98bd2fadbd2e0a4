package gatehouse

import (
	"errors"
	"fmt"
)

// Error codes: a closed set. Each maps to exactly one HTTP status in the api
// package.
const (
	EINVALID         = "invalid"           // the request is malformed or breaks a rule
	ENOTFOUND        = "not_found"         // the thing does not exist (or the caller may not see it)
	ECONFLICT        = "conflict"          // a name is taken, a version is stale, a thing is in use
	EUNAUTHORIZED    = "unauthorized"      // no valid credentials
	EFORBIDDEN       = "forbidden"         // valid credentials, missing scope
	ETOOMANYREQUESTS = "too_many_requests" // rate limited
	ETOOLARGE        = "too_large"         // a request body over its route's limit
	EUNAVAILABLE     = "unavailable"       // the database does not answer or cannot write (disk full): try again later
	EINTERNAL        = "internal"          // a fault of ours; details go to the log only
)

// Codes lists every error code, for tests and documentation.
var Codes = []string{EINVALID, ENOTFOUND, ECONFLICT, EUNAUTHORIZED, EFORBIDDEN, ETOOMANYREQUESTS, ETOOLARGE, EUNAVAILABLE, EINTERNAL}

// Error is the one error type that crosses package boundaries. Code is from
// the closed set above; Message is safe to show the caller and says what was
// wrong and where. Err, when set, is the error it was made from (the
// store's, say), for errors.Is/As and the log; it is never shown.
type Error struct {
	Code    string
	Message string
	Err     error
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("gatehouse error: code=%s message=%s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the *Error in err's chain, EINTERNAL for any
// other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the *Error in err's chain. Any other
// error yields "internal error": its text may hold details the caller must
// not see, so it belongs in the log only.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// Reword gives an error of the given code a message that names the thing
// the caller asked for, keeping the code and the original as its cause. Any
// other error, nil included, comes back as it is: a database outage or a
// cancelled context stays internal instead of becoming, say, not_found.
func Reword(err error, code, format string, args ...any) error {
	if err == nil || ErrorCode(err) != code {
		return err
	}
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// Recode turns an error of code from into one of code to with the given
// message, keeping the original as its cause: a lookup's not_found becomes
// the invalid of the field that named the missing thing. Any other error,
// nil included, comes back as it is.
func Recode(err error, from, to, format string, args ...any) error {
	if err == nil || ErrorCode(err) != from {
		return err
	}
	return &Error{Code: to, Message: fmt.Sprintf(format, args...), Err: err}
}
