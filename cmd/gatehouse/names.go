package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
)

// Name resolution: wherever a command takes the ID of a role, permission
// set, token or OIDC issuer it also takes its name. An ID always wins; then
// an exact name; then a name that differs only in case (built-in roles are
// "Admin", "Member"...), or a built-in's identifier ("admin"), when exactly
// one matches. A name two things share is refused with their IDs.

// named is one candidate of a resolution: its ID and the names it answers
// to, the first its display name.
type named struct {
	id    string
	names []string
}

// resolve picks the ID that arg names among cands; what is the noun for
// messages ("role", "token of team platform").
func resolve(what, arg string, cands []named) (string, error) {
	for _, c := range cands {
		if c.id == arg {
			return c.id, nil
		}
	}
	for _, fold := range []bool{false, true} {
		var hits []named
		for _, c := range cands {
			for _, n := range c.names {
				if n != "" && (n == arg || fold && strings.EqualFold(n, arg)) {
					hits = append(hits, c)
					break
				}
			}
		}
		switch len(hits) {
		case 0:
			continue
		case 1:
			return hits[0].id, nil
		}
		ids := make([]string, len(hits))
		for i, h := range hits {
			ids[i] = h.id
		}
		return "", fmt.Errorf("%s %q is ambiguous: give one of the IDs %s", what, arg, strings.Join(ids, ", "))
	}
	known := make([]string, 0, len(cands))
	for _, c := range cands {
		if len(c.names) > 0 && c.names[0] != "" {
			known = append(known, c.names[0])
		}
	}
	if len(known) > 12 {
		known = append(known[:12], "...")
	}
	return "", fmt.Errorf("no %s %q (known: %s)", what, arg, strings.Join(known, ", "))
}

// passID is what resolving arg gives when the list to resolve it in could
// not be read: arg itself when it is an ID and the list was refused (the
// caller may hold the scope of the command but not that of the list), so
// that IDs work wherever they did; the list's error otherwise.
func passID(arg string, err error) (string, error) {
	if gatehouse.ErrorCode(err) == gatehouse.EFORBIDDEN && isUUID(arg) {
		return arg, nil
	}
	return "", err
}

// isUUID reports whether s has the shape of an ID (8-4-4-4-12 hex digits).
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if r != '-' {
				return false
			}
		case !strings.ContainsRune("0123456789abcdefABCDEF", r):
			return false
		}
	}
	return true
}

// resolveRole is the ID of the descriptor of purpose ("role", "set") that
// arg names.
func resolveRole(ctx context.Context, c gatehouse.IAM, org, purpose, arg string) (string, error) {
	ds, err := c.Roles(ctx, org, purpose)
	if err != nil {
		return passID(arg, err)
	}
	cands := make([]named, len(ds))
	for i, d := range ds {
		cands[i] = named{d.ID, []string{d.Name, d.DefaultIdentifier}}
	}
	what := "role"
	if purpose == gatehouse.PurposeSet {
		what = "permission set"
	}
	return resolve(what, arg, cands)
}

// resolveToken is the ID of the token arg names among org's tokens (a
// team's with team, the caller's personal ones with org ""). Personal
// tokens have no name: their description stands in for it.
func resolveToken(ctx context.Context, c gatehouse.IAM, org, team, arg string) (string, error) {
	ts, err := c.Tokens(ctx, org, team)
	if err != nil {
		return passID(arg, err)
	}
	cands := make([]named, len(ts))
	for i, t := range ts {
		cands[i] = named{t.ID, []string{t.Name, t.Description}}
		if t.Name == "" {
			cands[i].names = []string{t.Description}
		}
	}
	what := "token"
	switch {
	case org == "":
		what = "personal token"
	case team != "":
		what = "token of team " + team
	}
	return resolve(what, arg, cands)
}

// resolveIssuer is the OIDC issuer arg names (by name, ID or issuer URL).
func resolveIssuer(ctx context.Context, c gatehouse.IAM, org, arg string) (*gatehouse.Issuer, error) {
	is, err := c.Issuers(ctx, org)
	if err != nil {
		return nil, err
	}
	cands := make([]named, len(is))
	for i, x := range is {
		cands[i] = named{x.ID, []string{x.Name, x.Issuer}}
	}
	id, err := resolve("OIDC issuer", arg, cands)
	if err != nil {
		return nil, err
	}
	for _, x := range is {
		if x.ID == id {
			return x, nil
		}
	}
	return nil, fmt.Errorf("no OIDC issuer %q", arg)
}
