package authz

// SetBuildHook makes Refresh call h with the organization's id between
// reading its snapshot and compiling it.
func SetBuildHook(a *Authorizer, h func(orgID string)) { a.buildHook = h }

// Compiles reports how many roles the organization's current state
// compiled itself (rather than took from the state before it).
func Compiles(a *Authorizer, orgID string) int {
	st := (*a.orgs.Load())[orgID]
	if st == nil {
		return -1
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.fresh
}
