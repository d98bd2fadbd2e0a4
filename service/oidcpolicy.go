package service

import (
	"fmt"
	"strconv"
	"strings"
)

// parseClaimPath splits a claim path: dots separate levels, and double
// quotes keep dots inside a key ("kubernetes.io".pod.name).
func parseClaimPath(p string) ([]string, error) {
	var parts []string
	var cur strings.Builder
	quoted, started := false, false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '"':
			quoted = !quoted
			started = true
		case c == '.' && !quoted:
			if cur.Len() == 0 && !started {
				return nil, fmt.Errorf("empty segment in %q", p)
			}
			parts = append(parts, cur.String())
			cur.Reset()
			started = false
		default:
			cur.WriteByte(c)
			started = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("unclosed quote in %q", p)
	}
	if cur.Len() == 0 && !started {
		return nil, fmt.Errorf("empty segment in %q", p)
	}
	return append(parts, cur.String()), nil
}

// claimAt finds the claim at a path.
func claimAt(claims map[string]any, path []string) (any, bool) {
	var cur any = claims
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// wildcardMatch matches s against a pattern in Pulumi's syntax: '*' is any
// run of characters (none included), '?' is at most one character, and '.'
// is exactly one character, as documented.
func wildcardMatch(pattern, s string) bool {
	// Dynamic programming over (pattern position, string position).
	p, n := len(pattern), len(s)
	prev := make([]bool, n+1)
	cur := make([]bool, n+1)
	prev[0] = true
	for i := 1; i <= p; i++ {
		c := pattern[i-1]
		cur[0] = prev[0] && (c == '*' || c == '?')
		for j := 1; j <= n; j++ {
			switch c {
			case '*':
				cur[j] = prev[j] || cur[j-1]
			case '?':
				cur[j] = prev[j] || prev[j-1]
			case '.':
				cur[j] = prev[j-1]
			default:
				cur[j] = prev[j-1] && s[j-1] == c
			}
		}
		prev, cur = cur, prev
	}
	return prev[n]
}

// claimMatches reports whether a claim's value matches a pattern: strings,
// numbers and booleans by their text, arrays when any element matches.
func claimMatches(v any, pattern string) bool {
	switch x := v.(type) {
	case string:
		return wildcardMatch(pattern, x)
	case float64:
		return wildcardMatch(pattern, strconv.FormatFloat(x, 'f', -1, 64))
	case bool:
		return wildcardMatch(pattern, strconv.FormatBool(x))
	case []any:
		for _, e := range x {
			if claimMatches(e, pattern) {
				return true
			}
		}
	}
	return false
}

// ruleMismatch returns why a rule's claim patterns do not match the
// claims, or "" when they all do. Paths are checked in sorted order so that
// the reason is stable.
func ruleMismatch(rules map[string]string, claims map[string]any) string {
	_, why := ruleMismatchAt(rules, claims)
	return why
}

// ruleMismatchAt is ruleMismatch with the claim path that failed, which
// a refusal may name to the presenter (the pattern it may not).
func ruleMismatchAt(rules map[string]string, claims map[string]any) (claim, why string) {
	keys := make([]string, 0, len(rules))
	for k := range rules {
		keys = append(keys, k)
	}
	sortStrings(keys)
	for _, k := range keys {
		path, err := parseClaimPath(k)
		if err != nil {
			return k, fmt.Sprintf("claim path %s is malformed", k)
		}
		v, ok := claimAt(claims, path)
		if !ok {
			return k, fmt.Sprintf("the token has no claim %s", k)
		}
		if !claimMatches(v, rules[k]) {
			return k, fmt.Sprintf("claim %s %s does not match %q", k, describe(v), rules[k])
		}
	}
	return "", ""
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	default:
		return fmt.Sprint(x)
	}
}
