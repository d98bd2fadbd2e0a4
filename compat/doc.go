// Package compat holds Gatehouse's compatibility tests against Pulumi's own
// code: the official Pulumi Cloud Go SDK's types and client. It is a module
// of its own so that the main module never depends on the SDK.
package compat
