module github.com/gatehouse-iam/gatehouse/bench

go 1.26.0

require (
	github.com/casbin/casbin/v2 v2.135.0
	github.com/cedar-policy/cedar-go v1.9.1
	github.com/gatehouse-iam/gatehouse v0.0.0
	github.com/go-jose/go-jose/v4 v4.1.9
)

require (
	github.com/bmatcuk/doublestar/v4 v4.10.4 // indirect
	github.com/casbin/govaluate v1.3.0 // indirect
	github.com/go-json-experiment/json v1.27.2 // indirect
	github.com/google/uuid v1.6.0 // indirect
	golang.org/x/exp v0.0.0-20261109185158-a52e3aef5920 // indirect
)

replace github.com/gatehouse-iam/gatehouse => ../
