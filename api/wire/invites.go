package wire

// Invite is Pulumi's PendingOrganizationInvite, plus the invited user, the
// organization and the expiry.
type Invite struct {
	ID           string   `json:"id"`
	Email        string   `json:"email"`
	Role         string   `json:"role"`
	RoleID       string   `json:"roleId"`
	RoleName     string   `json:"roleName"`
	SentBy       UserInfo `json:"sentBy"`
	SentAt       int64    `json:"sentAt"`
	User         UserInfo `json:"user"`
	Organization string   `json:"organization"`
	ExpiresAt    int64    `json:"expiresAt"`
	Status       string   `json:"status"`
	// AcceptInviteURL is the console page where the user accepts.
	AcceptInviteURL string `json:"acceptInviteUrl"`
}

// ListInvitesResponse lists invitations.
type ListInvitesResponse struct {
	Invites []Invite `json:"invites"`
}

// InviteRequest creates (POST) or changes (PATCH) an invitation.
type InviteRequest struct {
	UserLogin string `json:"userLogin"`
	Role      string `json:"role"`
	RoleID    string `json:"roleId"`
	Expires   int64  `json:"expires"`
}
