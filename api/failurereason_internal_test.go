package api

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gatehouse-iam/gatehouse/authz"
)

// TestFailureReason: every authentication failure authz reports has its
// metric label and audit reason, also when a message wraps it, and an
// error that is none of them (even one whose text looks like one) is other.
func TestFailureReason(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{authz.ErrCheckedToken, "checked"},
		{authz.ErrUnknownToken, "unknown"},
		{authz.ErrUnknownOrg, "unknown"},
		{authz.ErrRevoked, "revoked"},
		{authz.ErrExpired, "expired"},
		{authz.ErrLifetime, "lifetime"},
		{authz.ErrNoToken, "no token"},
		{authz.ErrNotMember, "other"},
		{authz.ErrNoOrg, "other"},
		{fmt.Errorf("lease of update u1: %w", authz.ErrExpired), "expired"},
		{errors.New("expired token"), "other"},
	} {
		if got := failureReason(c.err); got != c.want {
			t.Errorf("failureReason(%q) = %q, want %q", c.err, got, c.want)
		}
	}
}
