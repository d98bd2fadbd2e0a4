package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
)

type stacksData struct {
	Stacks []stackRow
	// The filters: a project, a tag (key or key=value), part of a name.
	Project, Tag, Name string
	Filtered           bool
	// Next is the URL of the next page, if any: a whole URL, as
	// html/template escapes a query put after a literal "?" as one value.
	Next string
}

type stackRow struct {
	wire.StackSummary
	Tags []gatehouse.Tag
}

// stacks lists the stacks the user may read (GET /api/user/stacks, which
// filters by project and tag), with their tags (from the authorizer's
// snapshot of the stacks listed) and last update; the name filter keeps
// the listed stacks whose name contains it.
func (c *Console) stacks(q *req) error {
	in := q.r.URL.Query()
	d := stacksData{Project: strings.TrimSpace(in.Get("project")), Tag: strings.TrimSpace(in.Get("tag")), Name: strings.TrimSpace(in.Get("name"))}
	d.Filtered = d.Project != "" || d.Tag != "" || d.Name != ""
	v := url.Values{"organization": {q.org}}
	if d.Project != "" {
		v.Set("project", d.Project)
	}
	if d.Tag != "" {
		k, val, _ := strings.Cut(d.Tag, "=")
		v.Set("tagName", k)
		if val != "" {
			v.Set("tagValue", val)
		}
	}
	if ct := in.Get("continuationToken"); ct != "" {
		v.Set("continuationToken", ct)
	}
	var out wire.ListStacksResponse
	if err := q.call("GET", "/api/user/stacks?"+v.Encode(), nil, &out); err != nil {
		return q.notFoundOr(err, func(msg string) error {
			return q.render(errStatus(err), "stacks", "Stacks", "stacks", d, msg, "")
		})
	}
	org := q.organization()
	for _, s := range out.Stacks {
		if d.Name != "" && !strings.Contains(strings.ToLower(s.StackName), strings.ToLower(d.Name)) {
			continue
		}
		row := stackRow{StackSummary: s}
		if e, err := c.az.Entity(q.r.Context(), org.ID, gatehouse.EntityStack, s.ProjectName+"/"+s.StackName); err == nil {
			row.Tags = e.Tags
		}
		d.Stacks = append(d.Stacks, row)
	}
	if out.ContinuationToken != nil {
		next := url.Values{"continuationToken": {*out.ContinuationToken}}
		for k, v := range map[string]string{"project": d.Project, "tag": d.Tag, "name": d.Name} {
			if v != "" {
				next.Set(k, v)
			}
		}
		d.Next = "/console/" + url.PathEscape(q.org) + "/stacks?" + next.Encode()
	}
	return q.render(http.StatusOK, "stacks", "Stacks", "stacks", d, "", q.notice())
}

type stackData struct {
	entityPage
	Stack   wire.Stack
	Updates []wire.UpdateInfo
	Outputs []string
	// OutputsError says why the outputs are not shown (a deployment the
	// server cannot read): the rest of the page still is.
	OutputsError string
}

// stackAPI is the API path of the stack in the console's path.
func (q *req) stackAPI() string {
	return "/api/stacks/" + url.PathEscape(q.org) + "/" + url.PathEscape(q.r.PathValue("project")) + "/" + url.PathEscape(q.r.PathValue("name"))
}

func (q *req) stackPath() string {
	return "/console/" + url.PathEscape(q.org) + "/stacks/" + url.PathEscape(q.r.PathValue("project")) + "/" + url.PathEscape(q.r.PathValue("name"))
}

func (c *Console) stack(q *req) error { return c.stackPage(q, http.StatusOK, "") }

// stackPage shows a stack: its tags, outputs' names and updates, or its
// Access tab.
func (c *Console) stackPage(q *req, status int, errMsg string) error {
	d := stackData{entityPage: entityPage{Type: "stack", Name: q.r.PathValue("project") + "/" + q.r.PathValue("name"), Base: q.stackPath()}}
	api := q.stackAPI()
	if err := q.call("GET", api, nil, &d.Stack); err != nil {
		return q.notFoundOr(err, func(msg string) error { return q.render(http.StatusForbidden, "stack", d.Name, "stacks", d, msg, "") })
	}
	var hist wire.GetHistoryResponse
	if err := q.call("GET", api+"/updates?pageSize=20&page=1", nil, &hist); err != nil {
		return q.fail(err, func(msg string) error { return q.render(http.StatusForbidden, "stack", d.Name, "stacks", d, msg, "") })
	}
	d.Updates = hist.Updates
	var outs wire.StackOutputNames
	if err := q.call("GET", api+"/outputs", nil, &outs); err != nil {
		c.log.Warn("console: a stack's outputs", "stack", d.Name, "err", err.Error())
		d.OutputsError = "The outputs cannot be shown: " + err.Error()
	}
	d.Outputs = outs.Names
	q.openEntity(&d.entityPage, gatehouse.EntityStack, d.Stack.Tags)
	return q.render(status, "stack", d.Name, "stacks", d, errMsg, q.notice())
}

// stackTag adds (or changes) a tag, or removes one.
func (c *Console) stackTag(q *req) error {
	f := q.tagForm()
	var err error
	if f.Remove {
		err = q.call("DELETE", q.stackAPI()+"/tags/"+url.PathEscape(f.Name), nil, nil)
	} else {
		err = q.call("POST", q.stackAPI()+"/tags", wire.StackTag{Name: f.Name, Value: f.Value}, nil)
	}
	if err != nil {
		return q.fail(err, func(msg string) error { return c.stackPage(q, errStatus(err), msg) })
	}
	return q.redirect(q.stackPath(), tagNotice(f))
}

func (c *Console) deleteStack(q *req) error {
	path := q.stackAPI()
	if q.r.PostForm.Get("force") == "true" {
		path += "?force=true"
	}
	if err := q.call("DELETE", path, nil, nil); err != nil {
		return q.fail(err, func(msg string) error { return c.stackPage(q, errStatus(err), msg) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/stacks",
		fmt.Sprintf("Deleted stack %s/%s.", q.r.PathValue("project"), q.r.PathValue("name")))
}

// errStatus is the status to show an API's 4xx error with.
func errStatus(err error) int {
	if e, ok := err.(*apiError); ok && e.Code >= 400 && e.Code < 500 {
		return e.Code
	}
	return http.StatusBadRequest
}

func tagNotice(f tagForm) string {
	if f.Remove {
		return fmt.Sprintf("Removed tag %s.", f.Name)
	}
	return fmt.Sprintf("Tagged %s=%s.", f.Name, f.Value)
}
