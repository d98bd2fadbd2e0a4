package gatehouse

import (
	"time"
)

// Environment is an ESC-style environment, protected by the environment
// scopes.
type Environment struct {
	ID        string
	OrgID     string
	Project   string
	Name      string
	Tags      map[string]string
	CreatedBy string
	Version   int // the current revision of its definition
	// DeletionProtected refuses its deletion while set (pulumi env
	// settings).
	DeletionProtected bool
	Created           time.Time
	Modified          time.Time
}

// EnvironmentVersion is one revision of an environment's definition.
type EnvironmentVersion struct {
	EnvironmentID string
	Version       int
	Definition    []byte // YAML
	CreatedBy     string
	Created       time.Time
	Retracted     *EnvironmentRetraction // nil unless retracted
}

// EnvironmentRetraction records that a version was retracted: opening it
// (by number, or a tag naming it) opens Replacement instead.
type EnvironmentRetraction struct {
	Replacement int
	By          string
	At          time.Time
	Reason      string
}

// EnvironmentRevisionTag names a version of an environment (pulumi env
// version tag); latest is not stored: it is always the current version.
type EnvironmentRevisionTag struct {
	EnvironmentID string
	Name          string
	Version       int
	EditedBy      string
	Created       time.Time
	Modified      time.Time
}

// EnvironmentSession is an open anonymous environment (yaml/open): kept
// by the SHA-256 of its id, for the token that opened it, its values
// sealed under a data key of its own (WrappedKey, wrapped by the master
// key), until Expires.
type EnvironmentSession struct {
	Digest     []byte
	OrgID      string
	TokenID    string
	WrappedKey []byte
	Sealed     []byte
	Created    time.Time
	Expires    time.Time
}

// StackEnvironmentImport is an environment a stack's program imports (its
// Pulumi.<stack>.yaml environment:), as its last update sent it: the
// environment's project and name, the version or tag written after @
// ("" for none), and the stack's version then.
type StackEnvironmentImport struct {
	StackID      string
	Project      string
	Name         string
	Ref          string
	StackVersion int
}
