module github.com/gatehouse-iam/gatehouse/compat

go 1.26.6

require github.com/gatehouse-iam/gatehouse v0.0.0

require (
	github.com/blang/semver v3.5.1+incompatible // indirect
	github.com/go-jose/go-jose/v4 v4.1.8 // indirect
	github.com/pulumi/pulumi-cloud-sdk/go v1.20261110.0
	gopkg.in/yaml.v3 v3.0.1 // indirect
)

replace github.com/gatehouse-iam/gatehouse => ../
