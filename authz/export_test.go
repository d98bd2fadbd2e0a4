package authz

// SetBuildHook makes Refresh call h with the organization's id between
// reading its snapshot and compiling it.
func SetBuildHook(a *Authorizer, h func(orgID string)) { a.buildHook = h }
