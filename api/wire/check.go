package wire

import "github.com/gatehouse-iam/gatehouse"

// CheckRequest is the body of POST /authz/check: 1 to 1000 questions.
type CheckRequest struct {
	Checks []gatehouse.CheckRequest `json:"checks"`
}

// CheckResponse answers each check, in order.
type CheckResponse struct {
	Results []gatehouse.CheckResult `json:"results"`
}
