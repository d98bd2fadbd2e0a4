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
