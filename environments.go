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
	Created   time.Time
	Modified  time.Time
}

// EnvironmentVersion is one revision of an environment's definition.
type EnvironmentVersion struct {
	EnvironmentID string
	Version       int
	Definition    []byte // YAML
	CreatedBy     string
	Created       time.Time
}
