package policy

import "github.com/gatehouse-iam/gatehouse/catalog"

func mustScope(name string) catalog.Scope { return catalog.MustLookup(name) }
