package wire

// Team is Pulumi's Team; a team read alone carries its members, grants and
// roles.
type Team struct {
	Kind         string        `json:"kind"`
	Name         string        `json:"name"`
	DisplayName  string        `json:"displayName"`
	Description  string        `json:"description"`
	Members      []TeamMember  `json:"members,omitempty"`
	Stacks       []TeamStack   `json:"stacks,omitempty"`
	Environments []TeamEnv     `json:"environments,omitempty"`
	Accounts     []TeamAccount `json:"accounts,omitempty"`
	UserRole     string        `json:"userRole,omitempty"`
	RoleIDs      []string      `json:"roleIds,omitempty"`
}

// TeamMember is a member of a team with its role there.
type TeamMember struct {
	UserInfo
	Role string `json:"role"`
}

// TeamStack is a team's permission on a stack (101 read, 102 write, 103
// admin).
type TeamStack struct {
	ProjectName       string `json:"projectName"`
	StackName         string `json:"stackName"`
	Permission        int    `json:"permission"`
	PermissionSetName string `json:"permissionSetName,omitempty"`
}

// TeamEnv is a team's permission on an environment.
type TeamEnv struct {
	ProjectName       string `json:"projectName"`
	EnvName           string `json:"envName"`
	Permission        string `json:"permission"`
	MaxOpenDuration   string `json:"maxOpenDuration,omitempty"`
	PermissionSetName string `json:"permissionSetName,omitempty"`
}

// TeamAccount is a team's permission on an Insights account.
type TeamAccount struct {
	AccountName       string `json:"accountName"`
	Permission        int    `json:"permission"`
	PermissionSetName string `json:"permissionSetName,omitempty"`
}

// ListTeamsResponse is a page of teams (also the teams holding a role).
type ListTeamsResponse struct {
	Teams             []Team `json:"teams"`
	ContinuationToken string `json:"continuationToken,omitempty"`
}

// CreateTeamRequest is the body of POST /teams/pulumi.
type CreateTeamRequest struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	Description string `json:"description"`
}

// UpdateTeamRequest is the body of PATCH /teams/{teamName}: Pulumi's one
// action per call.
type UpdateTeamRequest struct {
	NewDisplayName            *string    `json:"newDisplayName"`
	NewDescription            *string    `json:"newDescription"`
	MemberAction              string     `json:"memberAction"`
	Member                    string     `json:"member"`
	AddStackPermission        *TeamStack `json:"addStackPermission"`
	EditStackPermission       *TeamStack `json:"editStackPermission"`
	RemoveStack               *TeamStack `json:"removeStack"`
	AddEnvironmentPermission  *TeamEnv   `json:"addEnvironmentPermission"`
	EditEnvironmentPermission *TeamEnv   `json:"editEnvironmentPermission"`
	RemoveEnvironment         *TeamEnv   `json:"removeEnvironment"`
}
