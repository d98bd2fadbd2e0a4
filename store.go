package gatehouse

import (
	"context"
	"time"
)

// Store keeps everything Gatehouse knows. Work happens in transactions
// passed as closures: Write commits when fn returns nil and rolls back when
// it returns an error; Read sees one consistent snapshot. A Tx must not be
// used after fn returns.
//
// Errors are *Error with code ENOTFOUND (no such record), ECONFLICT (a
// unique name is taken, a version is stale, a record is in use) or EINVALID
// (a reference to a record that does not exist).
type Store interface {
	Read(ctx context.Context, fn func(Tx) error) error
	Write(ctx context.Context, fn func(Tx) error) error
	Close() error
}

// Change announces a committed change to an organization, made by another
// process (store.DB.Changes). Revision is the organization's revision after
// it (0 when unknown); Tokens, when not empty, are the organization and team
// tokens whose creation was all the change did, so that a replica adds them
// instead of rebuilding. An empty OrgID means announcements may have been
// missed: check every organization.
type Change struct {
	OrgID    string
	Revision int64
	Tokens   []string
	// Changes, when not nil, is what the revision changed (announced when
	// it fits the announcement); nil means "read the change log".
	Changes *ChangeSet
}

// ListOptions bound a list. Continuation is the opaque token a previous
// page returned; empty starts at the beginning.
type ListOptions struct {
	Limit        int
	Continuation string
}

// List limits.
const (
	DefaultListLimit = 100
	MaxListLimit     = 1000
)

// TokenFilter selects tokens to list.
type TokenFilter struct {
	OrgID  string // organization and team tokens of the org
	Kind   string // empty: every kind
	UserID string // personal tokens of the user
	TeamID string
	RoleID string
	// IncludeDeleted also lists revoked tokens.
	IncludeDeleted bool
	// Expiry keeps only the tokens live (TokenLive: no expiry, or one
	// after At) or expired (TokenExpired) at At; empty keeps both.
	Expiry string
	At     time.Time
	// Search keeps only the tokens whose name and description (joined by
	// a space) contain it, ignoring case.
	Search string
	// SortBy orders the list by one of the TokenSort keys (empty: by
	// creation), then by id; Desc reverses the order. The list is filtered
	// and ordered before it is paged.
	SortBy string
	Desc   bool
}

// Token list filters by expiry and sort keys (TokenFilter).
const (
	TokenLive    = "active"
	TokenExpired = "expired"

	TokenSortCreated  = "created"
	TokenSortName     = "name"
	TokenSortLastUsed = "lastUsed"
	TokenSortExpires  = "expires"
)

// GrantFilter selects entity grants to list; empty fields match all.
type GrantFilter struct {
	Entity *EntityRef
	UserID string
	TeamID string
}

// AuditFilter selects audit events: From (inclusive) and To (exclusive)
// bound the time; Types and ActorLogins match any of their values.
type AuditFilter struct {
	From, To    time.Time
	Types       []string
	ActorLogins []string
	// Class keeps the events of one class (AuditClassRead or
	// AuditClassChange); "" and AuditClassAll keep every class.
	Class string
	// Descending lists the newest first.
	Descending bool
}

// Tx is a transaction on the Store. Writes that affect access (roles, sets,
// memberships, teams, grants, tokens, entities and their tags, settings)
// bump the organization's revision in the same transaction.
//
// Tx is the union of one role interface per aggregate, so that code which
// needs only a slice of the store can name it (a func taking a TeamTx).
type Tx interface {
	OrgTx
	IdentityTx
	DescriptorTx
	GrantTx
	TokenTx
	IssuerTx
	StackTx
	UpdateTx
	EnvironmentTx
	AccountTx
	AuditTx
	SessionTx
	SCIMTx
	SSOTx
	SnapshotTx
	ChangeLogTx
}

// IdentityTx reads and writes who may act in an organization: users,
// memberships, invitations and teams.
type IdentityTx interface {
	UserTx
	MemberTx
	InviteTx
	TeamTx
}

// OrgTx reads and writes organizations, their revision and the row lock
// and counts that quotas take.
type OrgTx interface {
	CreateOrg(ctx context.Context, o *Organization) error
	GetOrg(ctx context.Context, id string) (*Organization, error)
	GetOrgByName(ctx context.Context, name string) (*Organization, error)
	ListOrgs(ctx context.Context, opts ListOptions) ([]*Organization, string, error)
	UpdateOrg(ctx context.Context, o *Organization) error
	// LockOrg takes the organization's row lock until the transaction
	// ends, so that a check and the write it allows are atomic against
	// other writers (quotas, the last admin, a descriptor's version):
	// the service's write takes it before its first read.
	LockOrg(ctx context.Context, orgID string) error
	// CountOrg counts an organization's records of a kind: "stacks",
	// "environments", "descriptors" (custom ones) or "tokens"
	// (organization and team tokens not deleted).
	CountOrg(ctx context.Context, orgID, kind string) (int, error)
	Revision(ctx context.Context, orgID string) (int64, error)
}

// UserTx reads and writes users, who are global to the service.
type UserTx interface {
	CreateUser(ctx context.Context, u *User) error
	GetUser(ctx context.Context, id string) (*User, error)
	GetUserByLogin(ctx context.Context, login string) (*User, error)
	// GetUsers returns the users of ids that exist, ordered by id.
	GetUsers(ctx context.Context, ids []string) ([]*User, error)
	UpdateUser(ctx context.Context, u *User) error
}

// MemberTx reads and writes organization memberships.
type MemberTx interface {
	AddMember(ctx context.Context, m *Membership) error
	GetMember(ctx context.Context, orgID, userID string) (*Membership, error)
	ListMembers(ctx context.Context, orgID string, opts ListOptions) ([]*Membership, string, error)
	ListUserMemberships(ctx context.Context, userID string) ([]*Membership, error)
	UpdateMember(ctx context.Context, m *Membership) error
	// RemoveMember also removes the user from the organization's teams.
	RemoveMember(ctx context.Context, orgID, userID string) error
}

// InviteTx reads and writes invitations to join an organization.
type InviteTx interface {
	// CreateInvite stores an invitation; one per user and organization
	// (ECONFLICT), an expired one being replaced.
	CreateInvite(ctx context.Context, i *Invite) error
	GetInvite(ctx context.Context, id string) (*Invite, error)
	// ListInvites lists an organization's invitations, oldest first.
	ListInvites(ctx context.Context, orgID string) ([]*Invite, error)
	// ListUserInvites lists the invitations sent to a user, oldest first.
	ListUserInvites(ctx context.Context, userID string) ([]*Invite, error)
	// UpdateInvite changes an invitation's role and expiry.
	UpdateInvite(ctx context.Context, i *Invite) error
	// TakeInvite deletes an invitation and returns it as it was: of two
	// callers (an accept and a revoke), exactly one gets it.
	TakeInvite(ctx context.Context, id string) (*Invite, error)
}

// TeamTx reads and writes teams, their members and their roles.
type TeamTx interface {
	CreateTeam(ctx context.Context, t *Team) error
	GetTeam(ctx context.Context, orgID, name string) (*Team, error)
	GetTeamByID(ctx context.Context, id string) (*Team, error)
	ListTeams(ctx context.Context, orgID string, opts ListOptions) ([]*Team, string, error)
	UpdateTeam(ctx context.Context, t *Team) error
	// DeleteTeam also deletes its memberships, roles, grants and tokens.
	DeleteTeam(ctx context.Context, id string) error
	PutTeamMember(ctx context.Context, m *TeamMember) error
	RemoveTeamMember(ctx context.Context, teamID, userID string) error
	ListTeamMembers(ctx context.Context, teamID string) ([]*TeamMember, error)
	ListUserTeams(ctx context.Context, orgID, userID string) ([]*Team, error)
	AddTeamRole(ctx context.Context, teamID, roleID string) error
	RemoveTeamRole(ctx context.Context, teamID, roleID string) error
	ListTeamRoles(ctx context.Context, teamID string) ([]string, error)
}

// DescriptorTx reads and writes permission descriptors (roles, permission
// sets, policies).
type DescriptorTx interface {
	CreateDescriptor(ctx context.Context, d *Descriptor) error
	GetDescriptor(ctx context.Context, orgID, id string) (*Descriptor, error)
	ListDescriptors(ctx context.Context, orgID, purpose string, opts ListOptions) ([]*Descriptor, string, error)
	// UpdateDescriptor writes d if the stored version is still
	// expectVersion, and sets d.Version to the new version.
	UpdateDescriptor(ctx context.Context, d *Descriptor, expectVersion int) error
	DeleteDescriptor(ctx context.Context, orgID, id string) error
	DescriptorUsage(ctx context.Context, orgID, id string) (*DescriptorUsage, error)
	// RoleHolders returns the members holding a role as their role and the
	// teams holding it, each ordered by id.
	RoleHolders(ctx context.Context, orgID, id string) ([]*User, []*Team, error)
}

// GrantTx reads and writes entity grants of users and teams.
type GrantTx interface {
	// PutGrant creates or replaces the grant of its principal on its entity.
	PutGrant(ctx context.Context, g *Grant) error
	DeleteGrant(ctx context.Context, orgID, id string) error
	ListGrants(ctx context.Context, orgID string, f GrantFilter) ([]*Grant, error)
}

// TokenTx reads and writes access tokens, by id or by digest.
type TokenTx interface {
	CreateToken(ctx context.Context, t *Token) error
	GetToken(ctx context.Context, id string) (*Token, error)
	GetTokenByDigest(ctx context.Context, digest []byte) (*Token, error)
	ListTokens(ctx context.Context, f TokenFilter, opts ListOptions) ([]*Token, string, error)
	// DeleteToken revokes a token; its name stays reserved.
	DeleteToken(ctx context.Context, id string) error
	// TouchTokens records last-used times (batched by the caller).
	TouchTokens(ctx context.Context, used map[string]time.Time) error
	// UnbindRole marks the tokens bound to a role (about to be deleted) as
	// having lost it, so that they hold nothing, and returns the live ones.
	UnbindRole(ctx context.Context, orgID, roleID string) ([]*Token, error)
	// RevokeIssuerTokens revokes the live tokens an OIDC issuer's exchanges
	// minted, and returns them.
	RevokeIssuerTokens(ctx context.Context, issuerID string) ([]*Token, error)
	// PruneExchangedTokens revokes the organization's tokens minted by an
	// OIDC exchange that expired at or before before, and returns how
	// many: they grant nothing any more and would hold its tokens quota.
	PruneExchangedTokens(ctx context.Context, orgID string, before time.Time) (int, error)
	// PruneTokens deletes up to limit of the organization's tokens (orgID
	// empty: the personal tokens of no organization) that expired before
	// before, or that a prune run saw revoked before before; it stamps the
	// revoked tokens no run has seen yet with now. A pruned organization or
	// team token leaves its name reserved (TokenNameReserved). It bumps no
	// revision: what it deletes grants nothing.
	PruneTokens(ctx context.Context, orgID string, now, before time.Time, limit int) (TokenPrune, error)
	// TokenNameReserved reports whether a pruned token of the organization
	// had the name.
	TokenNameReserved(ctx context.Context, orgID, name string) (bool, error)
}

// IssuerTx reads and writes OIDC issuers and their authorization policies.
type IssuerTx interface {
	// CreateIssuer also creates the issuer's policy (p), deny-all or as given.
	CreateIssuer(ctx context.Context, i *Issuer, p *AuthPolicy) error
	GetIssuer(ctx context.Context, orgID, id string) (*Issuer, error)
	FindIssuer(ctx context.Context, orgID, issuer string) (*Issuer, error)
	ListIssuers(ctx context.Context, orgID string) ([]*Issuer, error)
	UpdateIssuer(ctx context.Context, i *Issuer) error
	// TouchIssuer records an issuer's last use; it does not affect access.
	TouchIssuer(ctx context.Context, orgID, id string, at time.Time) error
	DeleteIssuer(ctx context.Context, orgID, id string) error
	GetAuthPolicy(ctx context.Context, orgID, id string) (*AuthPolicy, error)
	GetIssuerPolicy(ctx context.Context, orgID, issuerID string) (*AuthPolicy, error)
	// UpdateAuthPolicy writes p if the stored version is still expectVersion.
	UpdateAuthPolicy(ctx context.Context, p *AuthPolicy, expectVersion int) error
}

// StackTx reads and writes stacks, their data keys and their checkpoints.
type StackTx interface {
	CreateStack(ctx context.Context, s *Stack) error
	GetStack(ctx context.Context, orgID, project, name string) (*Stack, error)
	GetStackByID(ctx context.Context, id string) (*Stack, error)
	ListStacks(ctx context.Context, orgID, project string, opts ListOptions) ([]*Stack, string, error)
	// StackHeads returns the current version of each of the organization's
	// stacks named (up to MaxListLimit), by id; unknown ids are absent.
	StackHeads(ctx context.Context, orgID string, ids []string) (map[string]StackHead, error)
	// UpdateStack writes the stack's project, name and tags.
	UpdateStack(ctx context.Context, s *Stack) error
	DeleteStack(ctx context.Context, id string) error
	// SaveCheckpoint stores version c.Version, which must be the stack's
	// current version plus one, and makes it current.
	SaveCheckpoint(ctx context.Context, c *Checkpoint) error
	// ReplaceCheckpoint rewrites the current version's data in place.
	ReplaceCheckpoint(ctx context.Context, c *Checkpoint) error
	// GetCheckpoint returns a version; 0 means the current one.
	GetCheckpoint(ctx context.Context, stackID string, version int) (*Checkpoint, error)
	// PutStackKey stores a stack's data key, wrapped by the master key;
	// once: a second is ECONFLICT.
	PutStackKey(ctx context.Context, stackID string, wrapped []byte) error
	// GetStackKey returns a stack's wrapped data key.
	GetStackKey(ctx context.Context, stackID string) ([]byte, error)
}

// UpdateTx reads and writes a stack's updates, the lease an update holds
// on its stack, and the updates' engine events.
type UpdateTx interface {
	// LockStack takes the stack's row lock until the transaction ends, so
	// that an update's checks of its stack (version, lease, the update's
	// status) and the writes they allow are atomic against other writers.
	// Take it before reading what the check reads; with the organization's
	// lock, after LockOrg.
	LockStack(ctx context.Context, stackID string) error
	// AcquireStackLease gives the stack's lease to an update until expiry,
	// if no other update holds an unexpired one at now (ECONFLICT
	// otherwise); the holder renews it the same way.
	AcquireStackLease(ctx context.Context, stackID, updateID string, expiry, now time.Time) error
	// ReleaseStackLease frees the stack's lease if the update holds it.
	ReleaseStackLease(ctx context.Context, stackID, updateID string) error
	CreateUpdate(ctx context.Context, u *StackUpdate) error
	GetUpdate(ctx context.Context, id string) (*StackUpdate, error)
	SaveUpdate(ctx context.Context, u *StackUpdate) error
	ListUpdates(ctx context.Context, stackID string, opts ListOptions) ([]*StackUpdate, string, error)
	// AppendUpdateEvents stores engine events; an event whose sequence is
	// stored already is skipped, so that retries are harmless.
	AppendUpdateEvents(ctx context.Context, updateID string, events []UpdateEvent) error
	// ListUpdateEvents returns up to limit events after a sequence number.
	ListUpdateEvents(ctx context.Context, updateID string, after, limit int) ([]UpdateEvent, error)
}

// EnvironmentTx reads and writes environments, their definitions' revisions
// and their data keys.
type EnvironmentTx interface {
	CreateEnvironment(ctx context.Context, e *Environment, definition []byte) error
	GetEnvironment(ctx context.Context, orgID, project, name string) (*Environment, error)
	GetEnvironmentByID(ctx context.Context, id string) (*Environment, error)
	ListEnvironments(ctx context.Context, orgID string, opts ListOptions) ([]*Environment, string, error)
	UpdateEnvironment(ctx context.Context, e *Environment) error
	DeleteEnvironment(ctx context.Context, id string) error
	// PutEnvironmentVersion stores a new definition if the environment's
	// version is still expectVersion, returning the new version.
	PutEnvironmentVersion(ctx context.Context, envID string, expectVersion int, definition []byte, by string) (int, error)
	GetEnvironmentVersion(ctx context.Context, envID string, version int) (*EnvironmentVersion, error)
	// ListEnvironmentVersions lists an environment's revisions, newest
	// first, without their definitions.
	ListEnvironmentVersions(ctx context.Context, envID string, opts ListOptions) ([]*EnvironmentVersion, string, error)
	// PutEnvironmentKey stores an environment's wrapped data key, once.
	PutEnvironmentKey(ctx context.Context, envID string, wrapped []byte) error
	GetEnvironmentKey(ctx context.Context, envID string) ([]byte, error)
	// RetractEnvironmentVersion marks a version retracted, once.
	RetractEnvironmentVersion(ctx context.Context, envID string, version int, r EnvironmentRetraction) error
	// PutEnvironmentRevisionTag creates a version tag (a conflict if it
	// exists) or, with update, moves one (not found if it does not).
	PutEnvironmentRevisionTag(ctx context.Context, tag *EnvironmentRevisionTag, update bool) error
	GetEnvironmentRevisionTag(ctx context.Context, envID, name string) (*EnvironmentRevisionTag, error)
	// ListEnvironmentRevisionTags lists an environment's version tags in
	// name order.
	ListEnvironmentRevisionTags(ctx context.Context, envID string) ([]*EnvironmentRevisionTag, error)
	DeleteEnvironmentRevisionTag(ctx context.Context, envID, name string) error
	// CreateEnvironmentSession stores an anonymous open session.
	CreateEnvironmentSession(ctx context.Context, s *EnvironmentSession) error
	// GetEnvironmentSession returns a session by its digest, expired or not.
	GetEnvironmentSession(ctx context.Context, digest []byte) (*EnvironmentSession, error)
	// PruneEnvironmentSessions deletes the sessions expired before a time.
	PruneEnvironmentSessions(ctx context.Context, before time.Time) (int64, error)
	// PutStackEnvironmentImports replaces the environments a stack imports.
	PutStackEnvironmentImports(ctx context.Context, st *Stack, imports []StackEnvironmentImport) error
	// ListStackEnvironmentImports lists the stacks' imports of an
	// organization's environment project/name, by stack.
	ListStackEnvironmentImports(ctx context.Context, orgID, project, name string) ([]StackEnvironmentImport, error)
}

// AccountTx reads and writes Insights accounts.
type AccountTx interface {
	CreateAccount(ctx context.Context, a *Account) error
	GetAccount(ctx context.Context, orgID, name string) (*Account, error)
	GetAccountByID(ctx context.Context, id string) (*Account, error)
	ListAccounts(ctx context.Context, orgID string, opts ListOptions) ([]*Account, string, error)
	UpdateAccount(ctx context.Context, a *Account) error
	DeleteAccount(ctx context.Context, id string) error
}

// AuditTx appends to, reads and prunes an organization's audit chain.
type AuditTx interface {
	// AppendAudit appends an event to its organization's chain, setting its
	// Seq, PrevHash and Hash.
	AppendAudit(ctx context.Context, e *AuditEvent) error
	// AuditChain returns up to limit events after afterSeq, in chain order.
	AuditChain(ctx context.Context, orgID string, afterSeq int64, limit int) ([]*AuditEvent, error)
	// AuditHead returns the organization's chain head and anchor.
	AuditHead(ctx context.Context, orgID string) (*AuditHead, error)
	// PruneAudit deletes the events before a time, keeping the rest of the
	// chain verifiable from the last pruned hash; it returns how many went.
	PruneAudit(ctx context.Context, orgID string, before time.Time) (int64, error)
	ListAudit(ctx context.Context, orgID string, f AuditFilter, opts ListOptions) ([]*AuditEvent, string, error)
	LastAudit(ctx context.Context, orgID string) (*AuditEvent, error)
}

// SessionTx reads and writes console sessions.
type SessionTx interface {
	CreateSession(ctx context.Context, s *Session) error
	// GetSession returns a session by its digest, expired or not.
	GetSession(ctx context.Context, digest []byte) (*Session, error)
	DeleteSession(ctx context.Context, digest []byte) error
	// PruneSessions deletes the sessions expired before a time.
	PruneSessions(ctx context.Context, before time.Time) (int64, error)
	// ListUserSessions lists a user's live sessions at now, newest first.
	ListUserSessions(ctx context.Context, userID string, now time.Time) ([]*Session, error)
	// TouchSession records that a session was seen at a time.
	TouchSession(ctx context.Context, digest []byte, at time.Time) error
	// DeleteUserSessions ends every session of a user and returns how
	// many there were.
	DeleteUserSessions(ctx context.Context, userID string) (int64, error)
}

// SnapshotTx reads what authorization needs about an organization.
type SnapshotTx interface {
	// LoadSnapshot reads everything authorization needs about an
	// organization, consistently.
	LoadSnapshot(ctx context.Context, orgID string) (*Snapshot, error)
}

// AuditHead is the head of an organization's audit chain, and the anchor
// the chain starts from after pruning (zero and empty before any).
type AuditHead struct {
	LastSeq    int64
	LastHash   []byte
	AnchorSeq  int64
	AnchorHash []byte
	// KeyedFrom is the sequence number from which events are linked with
	// ChainMAC (those before, written by an unkeyed version, with
	// ChainHash); 0 while the chain is unkeyed. MAC is HeadMAC under the
	// chain's key (empty while unkeyed).
	KeyedFrom int64
	MAC       []byte
}

// Snapshot is everything authorization needs about one organization, read
// in one transaction.
type Snapshot struct {
	Org          *Organization
	Descriptors  []*Descriptor
	Members      []*Membership
	Users        []*User // the members' users
	Teams        []*Team
	TeamMembers  []*TeamMember
	TeamRoles    map[string][]string // team id -> role ids
	Grants       []*Grant
	Tokens       []*Token // live tokens of the organization; personal tokens of no organization of its members
	Stacks       []*Stack
	Environments []*Environment
	Accounts     []*Account
}
