package compat

import (
	"sort"
	"testing"

	"github.com/gatehouse-iam/gatehouse/catalog"
	"github.com/pulumi/pulumi-cloud-sdk/go/apitype"
)

// TestCatalogMatchesSDK checks that Gatehouse's scope catalog holds exactly
// the scopes of the SDK's RbacPermission enum, and that every group label is
// one of the SDK's RbacScopeGroupName values.
func TestCatalogMatchesSDK(t *testing.T) {
	sdk := map[string]bool{}
	for _, p := range apitype.RbacPermission("").AllValues() {
		if p != "" {
			sdk[string(p)] = true
		}
	}
	ours := map[string]bool{}
	groups := map[string]bool{}
	for _, g := range apitype.RbacScopeGroupName("").AllValues() {
		groups[string(g)] = true
	}
	for _, info := range catalog.All() {
		ours[info.Name] = true
		if !sdk[info.Name] {
			t.Errorf("catalog scope %q is not in the SDK enum", info.Name)
		}
		if !groups[info.Group] {
			t.Errorf("scope %q: group %q is not an SDK RbacScopeGroupName", info.Name, info.Group)
		}
	}
	var missing []string
	for name := range sdk {
		if !ours[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	for _, name := range missing {
		t.Errorf("SDK scope %q is missing from the catalog", name)
	}
}
