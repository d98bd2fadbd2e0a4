package service

import (
	"regexp"
	"strconv"

	"github.com/gatehouse-iam/gatehouse"
)

// Names: logins, organization, team and token names.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

func checkName(field, v string, maxLen int) error {
	if v == "" {
		return gatehouse.Errorf(gatehouse.EINVALID, "%s: must not be empty", field)
	}
	if len(v) > maxLen {
		return gatehouse.Errorf(gatehouse.EINVALID, "%s: %d characters, over the limit of %d", field, len(v), maxLen)
	}
	if !nameRE.MatchString(v) {
		return gatehouse.Errorf(gatehouse.EINVALID, "%s: %q may hold only letters, digits, '.', '_' and '-', and must start with a letter or digit", field, v)
	}
	return nil
}

// loginRE is what a login may be: a name, or an email address, as
// identity providers (SCIM's userName, SSO's email claim) name people.
var loginRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$`)

func checkLogin(field, v string) error {
	if !loginRE.MatchString(v) {
		return gatehouse.Errorf(gatehouse.EINVALID, "%s: %q must be 1 to 100 letters, digits or '.', '_', '-', '@', '+', starting with a letter or digit", field, ClientText(v))
	}
	return nil
}

func checkText(field, v string, maxLen int) error {
	if len(v) > maxLen {
		return gatehouse.Errorf(gatehouse.EINVALID, "%s: %d characters, over the limit of %d", field, len(v), maxLen)
	}
	return nil
}

func itoa(i int) string { return strconv.Itoa(i) }

func quote(s string) string { return strconv.Quote(s) }
