package api

import (
	"context"
	"net/url"

	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// Stacks lists the organization's stacks the caller may read, of one
// project and with one tag (name, or name and value) when given, every
// page of them.
func (c *Client) Stacks(ctx context.Context, org, project, tagName, tagValue string) ([]wire.StackSummary, error) {
	v := url.Values{}
	for k, s := range map[string]string{"project": project, "tagName": tagName, "tagValue": tagValue} {
		if s != "" {
			v.Set(k, s)
		}
	}
	var all []wire.StackSummary
	for {
		var page wire.ListStacksResponse
		if err := c.do(ctx, "GET", "/api/stacks/"+url.PathEscape(org)+"?"+v.Encode(), nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Stacks...)
		if page.ContinuationToken == nil || *page.ContinuationToken == "" {
			return all, nil
		}
		v.Set("continuationToken", *page.ContinuationToken)
	}
}

// Stack gets one stack.
func (c *Client) Stack(ctx context.Context, org, project, name string) (*wire.Stack, error) {
	var st wire.Stack
	err := c.do(ctx, "GET", "/api/stacks/"+url.PathEscape(org)+"/"+url.PathEscape(project)+"/"+url.PathEscape(name), nil, &st)
	return &st, err
}

// TagBatch sends a batch of tag changes (POST /api/orgs/{org}/tags/batch).
func (c *Client) TagBatch(ctx context.Context, org string, req wire.TagBatchRequest) (*wire.TagBatchResponse, error) {
	var out wire.TagBatchResponse
	if err := c.do(ctx, "POST", orgPath(org, "tags", "batch"), req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
