package gatehouse

import (
	"encoding/json"
	"time"
)

// Account is an Insights account, protected by the insights_account scopes.
type Account struct {
	ID        string
	OrgID     string
	Name      string // unique in the organization
	Tags      map[string]string
	CreatedBy string
	// Details holds the account's provider settings as JSON.
	Details  json.RawMessage
	Created  time.Time
	Modified time.Time
}
