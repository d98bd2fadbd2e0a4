package web_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// TestConsoleInvitations: an admin adding a user of another organization
// invites them; the user accepts on the console's Invitations page and
// joins with the invitation's role.
func TestConsoleInvitations(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		res, err := e.svc.CreateOrgWithAdmin(context.Background(), "carols", "carol", false)
		if err != nil {
			t.Fatal(err)
		}
		admin := e.browser()
		admin.signIn(e.admin)
		status, h, body := admin.do("POST", "/console/acme/members", url.Values{"login": {"carol"}})
		if status != 303 || !strings.Contains(h.Get("Location"), "invited") {
			t.Fatalf("add carol: %d %q %s", status, h.Get("Location"), body)
		}
		if page := admin.get("/console/acme/members"); !strings.Contains(page, "Pending invitations") || !strings.Contains(page, "<td>carol</td>") {
			t.Fatalf("members page lacks carol's invitation:\n%s", page)
		}
		carol := e.browser()
		status, h, body = carol.do("POST", "/console/login", url.Values{"token": {res.Token}, "next": {"/console/-/invites"}})
		if status != 303 || h.Get("Location") != "/console/-/invites" {
			t.Fatalf("carol signs in: %d %q %s", status, h.Get("Location"), body)
		}
		page := carol.get("/console/-/invites")
		m := regexp.MustCompile(`action="/console/-/invites/([0-9a-f-]+)"`).FindStringSubmatch(page)
		if m == nil || !strings.Contains(page, "<td>acme</td>") {
			t.Fatalf("invitations page:\n%s", page)
		}
		status, h, _ = carol.do("POST", "/console/-/invites/"+m[1], url.Values{"action": {"accept"}})
		if status != 303 || !strings.HasPrefix(h.Get("Location"), "/console/acme/") {
			t.Fatalf("accept: %d %q", status, h.Get("Location"))
		}
		var members wire.ListMembersResponse
		e.api(e.admin, "GET", "/api/orgs/acme/members", nil, &members)
		found := false
		for _, mm := range members.Members {
			found = found || mm.User.GitHubLogin == "carol"
		}
		if !found {
			t.Fatalf("carol did not join acme: %+v", members)
		}
	})
}

// TestConsoleRefusesExchangedPersonalTokens: a personal token an
// organization's OIDC exchange minted acts in that organization only, so
// it opens no console session (which would act for the user everywhere).
func TestConsoleRefusesExchangedPersonalTokens(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		value, digest := gatehouse.NewTokenValue()
		var tok *gatehouse.Token
		err := e.db.Write(ctx, func(tx gatehouse.Tx) error {
			org, err := tx.GetOrgByName(ctx, "acme")
			if err != nil {
				return err
			}
			u, err := tx.GetUserByLogin(ctx, "admin")
			if err != nil {
				return err
			}
			tok = &gatehouse.Token{Kind: gatehouse.TokenPersonal, OrgID: org.ID, UserID: u.ID, Digest: digest, Exchanged: true, Expires: time.Now().Add(time.Hour)}
			return tx.CreateToken(ctx, tok)
		})
		if err != nil {
			t.Fatal(err)
		}
		e.az.AddToken(tok)
		if status := e.api(value, "GET", "/api/orgs/acme/members", nil, nil); status != 200 {
			t.Fatalf("the bound token does not work in its organization: %d", status)
		}
		status, _, body := e.browser().do("POST", "/console/login", url.Values{"token": {value}})
		if status != 401 || !strings.Contains(body, "exchanged") {
			t.Fatalf("sign-in with an exchanged personal token: %d\n%s", status, body)
		}
	})
}
