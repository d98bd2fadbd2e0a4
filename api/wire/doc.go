// Package wire holds the JSON types of Gatehouse's HTTP API: what the
// server encodes and decodes, what api.Client and the console decode, and
// what the compat module compares with Pulumi's apitype. A field is
// declared once, so renaming it breaks the build rather than a page.
//
// The types are plain structs with their JSON tags; converting domain
// values into them is the api package's business.
package wire
