package gatehouse

import "testing"

func TestPurposeNoun(t *testing.T) {
	for p, want := range map[string]string{
		PurposeRole:            "role",
		PurposeRolePrivate:     "role",
		PurposeRoleUserPrivate: "role",
		PurposeRoleTemporary:   "role",
		PurposePolicy:          "policy",
		PurposeSet:             "permission set",
	} {
		if got := PurposeNoun(p); got != want {
			t.Errorf("PurposeNoun(%q) = %q, want %q", p, got, want)
		}
	}
}
