package web

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"

	"go.yaml.in/yaml/v3"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
)

func (c *Console) environments(q *req) error {
	var out wire.ListEnvironmentsResponse
	if err := q.call("GET", "/api/esc/environments/"+url.PathEscape(q.org), nil, &out); err != nil {
		return q.notFoundOr(err, func(msg string) error {
			return q.render(http.StatusForbidden, "environments", "Environments", "environments", nil, msg, "")
		})
	}
	return q.render(http.StatusOK, "environments", "Environments", "environments", out.Environments, "", q.notice())
}

type environmentData struct {
	entityPage
	// Definition is the YAML as the API sends it without showSecrets,
	// with every fn::secret's value (the ciphertext the API sends, or a
	// plaintext) replaced by hiddenSecret; DefinitionError says why it is
	// not shown when it cannot be read.
	Definition, DefinitionError string
	Versions                    []wire.EnvironmentRevision
	// VersionsError and TagsError say why a part is not shown (a scope
	// the user lacks).
	VersionsError, TagsError string
}

func (q *req) environmentAPI() string {
	return "/api/esc/environments/" + url.PathEscape(q.org) + "/" + url.PathEscape(q.r.PathValue("project")) + "/" + url.PathEscape(q.r.PathValue("name"))
}

func (q *req) environmentPath() string {
	return "/console/" + url.PathEscape(q.org) + "/environments/" + url.PathEscape(q.r.PathValue("project")) + "/" + url.PathEscape(q.r.PathValue("name"))
}

func (c *Console) environment(q *req) error { return c.environmentPage(q, http.StatusOK, "") }

// environmentPage shows an environment: its definition with secrets
// hidden, its versions and tags, or its Access tab. Versions and tags
// have scopes of their own: a part the user may not read says so.
func (c *Console) environmentPage(q *req, status int, errMsg string) error {
	d := environmentData{entityPage: entityPage{Type: "environment", Name: q.r.PathValue("project") + "/" + q.r.PathValue("name"), Base: q.environmentPath()}}
	api := q.environmentAPI()
	def, err := q.callRaw(api)
	if err != nil {
		return q.notFoundOr(err, func(msg string) error {
			return q.render(http.StatusForbidden, "environment", d.Name, "environments", d, msg, "")
		})
	}
	if d.Definition, err = hideSecrets(def); err != nil {
		d.DefinitionError = "The definition cannot be shown: " + err.Error()
	}
	if err := q.call("GET", api+"/versions", nil, &d.Versions); err != nil {
		if err := q.fail(err, func(msg string) error { d.VersionsError = msg; return nil }); err != nil {
			return err
		}
	}
	var tags wire.ListEnvironmentTagsResponse
	if err := q.call("GET", api+"/tags", nil, &tags); err != nil {
		if err := q.fail(err, func(msg string) error { d.TagsError = msg; return nil }); err != nil {
			return err
		}
	}
	m := map[string]string{}
	for _, t := range tags.Tags {
		m[t.Name] = t.Value
	}
	q.openEntity(&d.entityPage, gatehouse.EntityEnvironment, m)
	return q.render(status, "environment", d.Name, "environments", d, errMsg, q.notice())
}

// environmentTag adds a tag (or changes its value), or removes one.
func (c *Console) environmentTag(q *req) error {
	f := q.tagForm()
	api := q.environmentAPI() + "/tags"
	var err error
	switch {
	case f.Remove:
		err = q.call("DELETE", api+"/"+url.PathEscape(f.Name), nil, nil)
	case q.r.PostForm.Get("current") != "":
		err = q.call("PATCH", api+"/"+url.PathEscape(f.Name), wire.UpdateEnvironmentTagRequest{
			CurrentTag: &wire.TagValue{Value: q.r.PostForm.Get("current")}, NewTag: &wire.StackTag{Name: f.Name, Value: f.Value}}, nil)
	default:
		err = q.call("POST", api, wire.EnvironmentTag{Name: f.Name, Value: f.Value}, nil)
	}
	if err != nil {
		return q.fail(err, func(msg string) error { return c.environmentPage(q, errStatus(err), msg) })
	}
	return q.redirect(q.environmentPath(), tagNotice(f))
}

func (c *Console) deleteEnvironment(q *req) error {
	if err := q.call("DELETE", q.environmentAPI(), nil, nil); err != nil {
		return q.fail(err, func(msg string) error { return c.environmentPage(q, errStatus(err), msg) })
	}
	return q.redirect("/console/"+url.PathEscape(q.org)+"/environments",
		fmt.Sprintf("Deleted environment %s/%s.", q.r.PathValue("project"), q.r.PathValue("name")))
}

// hiddenSecret is what the console shows for a secret's value.
const hiddenSecret = "[secret]"

// hideSecrets returns an environment's definition with the value of every
// fn::secret replaced by hiddenSecret: the API sends a secret as its
// ciphertext, which the console does not show either (anyone who later
// holds the key could open it). A definition that does not parse is not
// shown at all, rather than shown with its secrets.
func hideSecrets(def []byte) (string, error) {
	if len(bytes.TrimSpace(def)) == 0 {
		return "", nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(def, &doc); err != nil {
		return "", fmt.Errorf("it is not YAML")
	}
	hideSecretsIn(&doc)
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return "", fmt.Errorf("it cannot be written back as YAML")
	}
	return out.String(), nil
}

func hideSecretsIn(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Kind == yaml.ScalarNode && n.Content[i].Value == "fn::secret" {
				n.Content[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: hiddenSecret}
			}
		}
	}
	for _, c := range n.Content {
		hideSecretsIn(c)
	}
}
