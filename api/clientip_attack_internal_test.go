package api

import "testing"

// TestParseTrustedProxiesMappedShortPrefix: an IPv4-mapped IPv6 prefix
// shorter than /96 ("::ffff:10.0.0.0/8") names no IPv4 network; it used to
// be accepted as an invalid prefix that matched nothing, so the operator's
// proxy was silently not trusted although the setting was "checked at
// start".
func TestParseTrustedProxiesMappedShortPrefix(t *testing.T) {
	for _, bad := range []string{"::ffff:10.0.0.0/8", "::ffff:0:0/95"} {
		if p, err := ParseTrustedProxies(bad); err == nil {
			t.Errorf("ParseTrustedProxies(%q) = %v, accepted", bad, p)
		}
	}
	p, err := ParseTrustedProxies("::ffff:10.0.0.0/104")
	if err != nil || len(p) != 1 || p[0].String() != "10.0.0.0/8" {
		t.Errorf("ParseTrustedProxies(::ffff:10.0.0.0/104) = %v, %v; want 10.0.0.0/8", p, err)
	}
}
