package wire

// UserInfo is Pulumi's UserInfo: how a user (or an organization, in a
// user's organization list) is shown.
type UserInfo struct {
	Name        string `json:"name"`
	GitHubLogin string `json:"githubLogin"`
	AvatarURL   string `json:"avatarUrl"`
	Email       string `json:"email,omitempty"`
}

// User is the body of GET /api/user: the caller, a user or, for an
// organization or team token, the token itself.
type User struct {
	ID            string     `json:"id"`
	GitHubLogin   string     `json:"githubLogin"`
	Name          string     `json:"name"`
	Email         string     `json:"email"`
	AvatarURL     string     `json:"avatarUrl"`
	Organizations []UserInfo `json:"organizations"`
	Identities    []string   `json:"identities"`
	SiteAdmin     bool       `json:"siteAdmin"`
	TokenInfo     *TokenInfo `json:"tokenInfo,omitempty"`
}

// TokenInfo names the organization or team token a caller without a user
// presented.
type TokenInfo struct {
	Name         string `json:"name"`
	Organization string `json:"organization,omitempty"`
	Team         string `json:"team,omitempty"`
}

// DefaultOrganization is the body of GET /api/user/organizations/default
// (Pulumi's capitalized field names).
type DefaultOrganization struct {
	GitHubLogin string `json:"GitHubLogin"`
	Messages    []any  `json:"Messages"`
}
