package gatehouse

import (
	"context"
	"strings"
)

// ChangeKind names what a change key is about.
type ChangeKind byte

// The kinds of change keys. A key's ID is the record's id (a member's and
// a user's: the user id).
const (
	ChangeOrg         ChangeKind = 'o' // the organization's settings or name
	ChangeDescriptor  ChangeKind = 'd' // a role, set or policy
	ChangeMember      ChangeKind = 'm' // a membership, with its team memberships and grants
	ChangeTeam        ChangeKind = 't' // a team, with its members, roles and grants
	ChangeGrant       ChangeKind = 'g' // one grant, by id
	ChangeStack       ChangeKind = 's'
	ChangeEnvironment ChangeKind = 'e'
	ChangeAccount     ChangeKind = 'a' // an Insights account
	ChangeToken       ChangeKind = 'k'
	ChangeIssuer      ChangeKind = 'i' // an OIDC issuer or its policy (not in snapshots)
)

// ChangeKey is one record a write changed.
type ChangeKey struct {
	Kind ChangeKind
	ID   string
}

// ChangeSet is what one transaction changed in one organization at one
// revision: the records, or All when the write could not say (the reader
// rebuilds the organization's snapshot).
type ChangeSet struct {
	Revision int64
	All      bool
	Keys     []ChangeKey
}

// EncodeChanges writes keys as "kID kID ...", or "*" for all.
func EncodeChanges(all bool, keys []ChangeKey) string {
	if all {
		return "*"
	}
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte(byte(k.Kind))
		b.WriteString(k.ID)
	}
	return b.String()
}

// DecodeChanges reads what EncodeChanges wrote; ok is false for anything
// else (a reader then rebuilds).
func DecodeChanges(s string) (all bool, keys []ChangeKey, ok bool) {
	if s == "*" {
		return true, nil, true
	}
	for _, f := range strings.Fields(s) {
		if len(f) < 2 || strings.ContainsAny(f[1:], ", ") {
			return false, nil, false
		}
		switch k := ChangeKind(f[0]); k {
		case ChangeOrg, ChangeDescriptor, ChangeMember, ChangeTeam, ChangeGrant, ChangeStack, ChangeEnvironment,
			ChangeAccount, ChangeToken, ChangeIssuer:
			keys = append(keys, ChangeKey{Kind: k, ID: f[1:]})
		default:
			return false, nil, false
		}
	}
	return false, keys, true
}

// DeltaRequest names the records a snapshot delta reads.
type DeltaRequest struct {
	Descriptors, Members, Teams, Grants, Stacks, Environments, Accounts, Tokens []string
}

// Delta is the current state of the records a DeltaRequest named, read in
// one transaction with the organization: a record absent from it is gone.
// Members come with their users, team memberships and grants in the
// organization; teams with their members, roles and grants; tokens
// include revoked ones (Deleted).
type Delta struct {
	Org          *Organization
	Descriptors  []*Descriptor
	Members      []*Membership
	Users        []*User
	Teams        []*Team
	TeamMembers  []*TeamMember // of the teams and of the members named
	TeamRoles    map[string][]string
	Grants       []*Grant // of the members and teams named, and the grants named
	Tokens       []*Token
	Stacks       []*Stack
	Environments []*Environment
	Accounts     []*Account
}

// ChangeLogTx reads the change log: what each revision of an organization
// changed, kept for a while (store's retention) so that another process
// applies deltas rather than rebuilding.
type ChangeLogTx interface {
	// ChangesSince returns the organization's logged change sets after
	// revision after, in revision order (a revision pruned from the log is
	// missing: the caller sees the gap).
	ChangesSince(ctx context.Context, orgID string, after int64) ([]ChangeSet, error)
	// LoadDelta reads the records req names.
	LoadDelta(ctx context.Context, orgID string, req DeltaRequest) (*Delta, error)
}
