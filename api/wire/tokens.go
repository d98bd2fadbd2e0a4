package wire

// AccessToken is Pulumi's AccessToken; times are Unix seconds except
// Created (RFC 3339).
type AccessToken struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Created     string     `json:"created"`
	LastUsed    int64      `json:"lastUsed"`
	Expires     int64      `json:"expires"`
	Admin       bool       `json:"admin"`
	CreatedBy   *string    `json:"createdBy"`
	Role        *TokenRole `json:"role,omitempty"`
	Type        string     `json:"type,omitempty"`
}

// TokenRole is the role an organization token is bound to.
type TokenRole struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	DefaultIdentifier string `json:"defaultIdentifier,omitempty"`
}

// ListTokensResponse is a page of tokens.
type ListTokensResponse struct {
	Tokens            []AccessToken `json:"tokens"`
	ContinuationToken string        `json:"continuationToken,omitempty"`
}

// CreateTokenRequest is the body that creates an organization or team
// token.
type CreateTokenRequest struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Expires     int64  `json:"expires"`
	Admin       bool   `json:"admin"`
	RoleID      string `json:"roleID"`
}

// CreatePersonalTokenRequest is the body that creates a personal token.
type CreatePersonalTokenRequest struct {
	Description string `json:"description"`
	Expires     int64  `json:"expires"`
}

// CreateTokenResponse carries a new token's value, shown this once.
type CreateTokenResponse struct {
	ID         string `json:"id"`
	TokenValue string `json:"tokenValue"`
}
