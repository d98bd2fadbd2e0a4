package wire

import "time"

// Member is Pulumi's OrganizationMember.
type Member struct {
	Role               string            `json:"role"`
	User               UserInfo          `json:"user"`
	Created            time.Time         `json:"created"`
	KnownToPulumi      bool              `json:"knownToPulumi"`
	VirtualAdmin       bool              `json:"virtualAdmin"`
	Links              map[string]string `json:"links"`
	FGARole            FGARole           `json:"fgaRole"`
	Suspended          bool              `json:"suspended,omitempty"`
	FollowsDefaultRole bool              `json:"followsDefaultRole,omitempty"`
}

// FGARole is the role a member holds.
type FGARole struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	ModifiedAt time.Time `json:"modifiedAt"`
}

// ListMembersResponse is a page of members.
type ListMembersResponse struct {
	Members           []Member `json:"members"`
	ContinuationToken string   `json:"continuationToken,omitempty"`
}

// AddMemberRequest is the (optional) body of POST /members/{userLogin}.
type AddMemberRequest struct {
	Role string `json:"role"`
}

// UpdateMemberRequest is the body of PATCH /members/{userLogin}: a built-in
// role or a role by id.
type UpdateMemberRequest struct {
	Role      string `json:"role"`
	FGARoleID string `json:"fgaRoleId"`
	Name      string `json:"name"`
}

// MemberTeams names the teams a member belongs to.
type MemberTeams struct {
	Teams []string `json:"teams"`
}
