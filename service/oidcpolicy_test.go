package service

import (
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
)

func TestWildcardMatch(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"repo:acme/*", "repo:acme/app:ref:refs/heads/main", true},
		{"repo:acme/*", "repo:acmex/app", false},
		{"*", "", true},
		{"a?c", "ac", true},
		{"a?c", "abc", true},
		{"a?c", "abbc", false},
		{"a.c", "abc", true},
		{"a.c", "ac", false},
		{"a.c", "a.c", true},
		{"", "", true},
		{"", "x", false},
		{"exact", "exact", true},
		{"*:ref:refs/heads/main", "project_path:acme/app:ref_type:branch:ref:refs/heads/main", true},
	}
	for _, c := range cases {
		if got := wildcardMatch(c.pattern, c.s); got != c.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

// FuzzWildcardMatch checks the matcher against a regular expression built
// from the same pattern.
func FuzzWildcardMatch(f *testing.F) {
	f.Add("repo:*/app", "repo:acme/app")
	f.Add("a?b.c*", "abxc")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if len(pattern) > 40 || len(s) > 80 {
			return
		}
		var re strings.Builder
		re.WriteString("^(?s:")
		for _, r := range pattern {
			switch r {
			case '*':
				re.WriteString(".*")
			case '?':
				re.WriteString(".?")
			case '.':
				re.WriteString(".")
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		re.WriteString(")$")
		want := regexp.MustCompile(re.String()).MatchString(s)
		// The matcher works on bytes, the reference on runes: compare only
		// where they agree on what a character is.
		if isASCII(pattern) && isASCII(s) && wildcardMatch(pattern, s) != want {
			t.Fatalf("wildcardMatch(%q, %q) = %v, regexp says %v", pattern, s, !want, want)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func TestClaimPaths(t *testing.T) {
	t.Parallel()
	claims := map[string]any{"sub": "x", "kubernetes.io": map[string]any{"pod": map[string]any{"name": "web-1"}},
		"groups": []any{"dev", "ops"}, "n": 3.0, "ok": true}
	cases := []struct {
		path, pattern string
		match         bool
	}{
		{`"kubernetes.io".pod.name`, "web-*", true},
		{`"kubernetes.io".pod.name`, "db-*", false},
		{"groups", "ops", true},
		{"groups", "qa", false},
		{"n", "3", true},
		{"ok", "true", true},
		{"missing", "*", false},
		{"sub.deeper", "*", false},
	}
	for _, c := range cases {
		why := ruleMismatch(map[string]string{c.path: c.pattern}, claims)
		if (why == "") != c.match {
			t.Errorf("%s ~ %q: %q", c.path, c.pattern, why)
		}
	}
	for _, bad := range []string{"", "a..b", `"open`, ".a"} {
		if _, err := parseClaimPath(bad); err == nil {
			t.Errorf("parseClaimPath(%q) succeeded", bad)
		}
	}
}

func TestEvaluatePolicy(t *testing.T) {
	t.Parallel()
	rules := []gatehouse.AuthPolicyRule{
		{Decision: "allow", TokenType: "organization", Rules: map[string]string{"sub": "repo:acme/*"}},
		{Decision: "deny", TokenType: "organization", Rules: map[string]string{"environment": "sandbox"}},
		{Decision: "allow", TokenType: "organization", Rules: map[string]string{"sub": "repo:acme/app:*"}},
		{Decision: "allow", TokenType: "team", TeamName: "plat*", Rules: map[string]string{}},
	}
	claims := map[string]any{"sub": "repo:acme/app:x", "environment": "prod"}
	if d := EvaluatePolicy(rules, claims, "organization", "", "gh"); !d.Allowed || d.Rule != 0 {
		t.Errorf("first matching allow: %+v", d)
	}
	claims["environment"] = "sandbox"
	if d := EvaluatePolicy(rules, claims, "organization", "", "gh"); d.Allowed || d.Rule != 1 {
		t.Errorf("a matching deny wins over an earlier allow: %+v", d)
	}
	if d := EvaluatePolicy(rules, claims, "team", "platform", "gh"); !d.Allowed || d.Rule != 3 {
		t.Errorf("team pattern: %+v", d)
	}
	if d := EvaluatePolicy(rules, claims, "personal", "bob", "gh"); d.Allowed || !strings.Contains(d.Reason, "no allow rule for personal") {
		t.Errorf("no rule for the kind: %+v", d)
	}
}
