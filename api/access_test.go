package api_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
)

type holder struct{ Kind, ID, Name string }

func (e *env) holders(token, org string, q url.Values) []holder {
	e.t.Helper()
	var out struct{ Holders []holder }
	e.must(token, "GET", "/api/orgs/"+org+"/access/holders?"+q.Encode(), nil, 200, &out)
	return out.Holders
}

func TestAccessHolders(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, e *env) {
		roles := e.roles("role")
		e.createStack("app", "dev", nil, "")
		e.orgToken("deploy-bot", roles["Admin"].ID)
		e.orgToken("reader-bot", roles["Reader"].ID)
		member := e.orgToken("member-bot", "")
		dev := url.Values{"scope": {"stack:write"}, "entityType": {"stack"}, "entity": {"app/dev"}}

		// An admin gets the holders: users first, then tokens, each by name.
		got := e.holders(e.admin, "acme", dev)
		var names []string
		for _, h := range got {
			if h.ID == "" {
				t.Errorf("holder %+v has no id", h)
			}
			names = append(names, h.Kind+":"+h.Name)
		}
		if strings.Join(names, ",") != "user:admin,token:deploy-bot" {
			t.Errorf("stack:write on app/dev: %v", names)
		}
		read := e.holders(e.admin, "acme", url.Values{"scope": {"stack:read"}, "entityType": {"stack"}, "entity": {"app/dev"}})
		if len(read) != 3 || read[2].Name != "reader-bot" {
			t.Errorf("stack:read on app/dev: %+v", read)
		}
		// The organization is the entity when no type is given.
		org := e.holders(e.admin, "acme", url.Values{"scope": {"org_member_access:read"}})
		if len(org) != 2 || org[0].Name != "admin" || org[1].Name != "deploy-bot" {
			t.Errorf("org_member_access:read on the organization: %+v", org)
		}

		// A member without org_member_access:read is refused, with the reason.
		e.fails(member, "GET", "/api/orgs/acme/access/holders?"+dev.Encode(), nil, 403, "org_member_access:read")

		// Bad input is named.
		e.fails(e.admin, "GET", "/api/orgs/acme/access/holders?scope=stack:reed", nil, 400, `"stack:reed" is not a scope`)
		e.fails(e.admin, "GET", "/api/orgs/acme/access/holders?scope=stack:read&entityType=planet&entity=x", nil, 400, "planet")

		// Another organization's stack is not found here, and its members
		// cannot ask about this organization.
		mallory := e.newOrg("evil", "mallory")
		ctx := context.Background()
		err := e.db.Write(ctx, func(tx gatehouse.Tx) error {
			o, err := tx.GetOrgByName(ctx, "evil")
			if err != nil {
				return err
			}
			return tx.CreateStack(ctx, &gatehouse.Stack{OrgID: o.ID, Project: "loot", Name: "prod"})
		})
		if err != nil {
			t.Fatal(err)
		}
		if o, err := e.az.Org(ctx, "evil"); err != nil || e.az.Refresh(ctx, o.ID) != nil {
			t.Fatal(err)
		}
		loot := url.Values{"scope": {"stack:read"}, "entityType": {"stack"}, "entity": {"loot/prod"}}
		if h := e.holders(mallory, "evil", loot); len(h) != 1 || h[0].Name != "mallory" {
			t.Errorf("in evil: %+v", h)
		}
		e.fails(e.admin, "GET", "/api/orgs/acme/access/holders?"+loot.Encode(), nil, 404, "not found")
		if status, _ := e.call(mallory, "GET", "/api/orgs/acme/access/holders?"+dev.Encode(), nil, nil); status != 403 && status != 404 {
			t.Errorf("another organization's admin asking about acme: %d", status)
		}
	})
}
