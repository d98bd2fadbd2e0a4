package service_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
)

func scimCtx(ctx context.Context) context.Context {
	return gatehouse.WithActor(ctx, gatehouse.Actor{Login: "SCIM token", TokenID: "t", TokenName: "scim"})
}

// TestSCIMDeprovisionRacesTokenCreation: personal tokens created while the
// user is deprovisioned either were made before (and are revoked with the
// rest) or are refused; none survives, on either dialect, and every
// organization's snapshot has dropped them.
func TestSCIMDeprovisionRacesTokenCreation(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := scimCtx(context.Background())
		u, err := e.Svc.CreateSCIMUser(ctx, e.Org.ID, service.SCIMUserPatch{UserName: ptr("dana@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		// dana also joins another organization, where her tokens act too.
		other, err := e.Svc.CreateOrgWithAdmin(context.Background(), "globex", "hank", false)
		if err != nil {
			t.Fatal(err)
		}
		inv, err := e.Svc.Invite(context.Background(), other.Org.ID, service.InviteInput{Login: "dana@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.AcceptInvite(context.Background(), u.User, inv.Invite.ID); err != nil {
			t.Fatal(err)
		}
		const n = 16
		values := make(chan string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, v, err := e.Svc.CreateToken(context.Background(), service.TokenInput{Kind: gatehouse.TokenPersonal, UserID: u.User.ID, Description: "race", CreatedBy: u.User.ID})
				switch {
				case err == nil:
					values <- v
				case gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN:
					t.Errorf("token %d: %v", i, err)
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.Svc.UpdateSCIMUser(ctx, e.Org.ID, u.User.ID, service.SCIMUserPatch{Active: ptr(false)}); err != nil {
				t.Error(err)
			}
		}()
		wg.Wait()
		close(values)
		var made []string
		for v := range values {
			made = append(made, v)
			if id, err := e.Authz.Authenticate("token " + v); err == nil {
				t.Errorf("a token made in the race authenticates after deprovisioning: %s", id.Token.ID)
			}
		}
		live, _, err := e.Svc.Tokens(context.Background(), service.TokenFilter{TokenFilter: gatehouse.TokenFilter{UserID: u.User.ID, Kind: gatehouse.TokenPersonal}})
		if err != nil || len(live) != 0 {
			t.Errorf("%d live personal tokens after deprovisioning (%v)", len(live), err)
		}
		_, _, err = e.Svc.CreateToken(context.Background(), service.TokenInput{Kind: gatehouse.TokenPersonal, UserID: u.User.ID, Description: "after"})
		wantCode(t, "a personal token after deprovisioning", err, gatehouse.EFORBIDDEN, "deactivated")
		// Activated again, none of them wakes: the snapshot dropped each
		// even when its creator installed it after the revocation's refresh.
		if _, err := e.Svc.UpdateSCIMUser(ctx, e.Org.ID, u.User.ID, service.SCIMUserPatch{Active: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		for _, v := range made {
			if id, err := e.Authz.Authenticate("token " + v); err == nil {
				t.Errorf("a token made in the race authenticates once the user is active again: %s", id.Token.ID)
			}
		}
	})
}

// TestSCIMRules: what provisioning may touch and what it records.
func TestSCIMRules(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := scimCtx(context.Background())
		_, err := e.Svc.CreateSCIMUser(ctx, e.Org.ID, service.SCIMUserPatch{UserName: ptr("bad login")})
		wantCode(t, "a login with a space", err, gatehouse.EINVALID, "userName")
		_, err = e.Svc.CreateSCIMUser(ctx, e.Org.ID, service.SCIMUserPatch{UserName: ptr("x"), ExternalID: ptr(string(make([]byte, 201)))})
		wantCode(t, "a long externalId", err, gatehouse.EINVALID, "externalId")
		u, err := e.Svc.CreateSCIMUser(ctx, e.Org.ID, service.SCIMUserPatch{UserName: ptr("erin"), Active: ptr(false)})
		if err != nil || !u.Member.Suspended || u.User.ManagedBy != e.Org.ID {
			t.Fatalf("created inactive: %+v %v", u, err)
		}
		// Deleted, then provisioned again: the same user comes back.
		if err := e.Svc.DeleteSCIMUser(ctx, e.Org.ID, u.User.ID); err != nil {
			t.Fatal(err)
		}
		again, err := e.Svc.CreateSCIMUser(ctx, e.Org.ID, service.SCIMUserPatch{UserName: ptr("erin")})
		if err != nil || again.User.ID != u.User.ID || again.Member.Suspended {
			t.Fatalf("provisioned again: %+v %v", again, err)
		}
		g, err := e.Svc.CreateSCIMGroup(ctx, e.Org.ID, service.SCIMGroupPatch{DisplayName: ptr("Site Reliability / On-call"), Members: &[]string{u.User.ID}})
		if err != nil || g.Team.Name != "Site-Reliability-On-call" || len(g.Members) != 1 {
			t.Fatalf("group: %+v %v", g, err)
		}
		_, err = e.Svc.CreateSCIMGroup(ctx, e.Org.ID, service.SCIMGroupPatch{DisplayName: ptr("Site Reliability: On-call")})
		wantCode(t, "a second group with the same team name", err, gatehouse.ECONFLICT, "exists already")
		// A Pulumi team is not a SCIM group.
		team, err := e.Svc.CreateTeam(context.Background(), e.Org.ID, "platform", "Platform", "")
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.Svc.UpdateSCIMGroup(ctx, e.Org.ID, team.ID, service.SCIMGroupPatch{DisplayName: ptr("mine now")})
		wantCode(t, "a Pulumi team", err, gatehouse.ENOTFOUND, "not found")
		wantCode(t, "deleting a Pulumi team", e.Svc.DeleteSCIMGroup(ctx, e.Org.ID, team.ID), gatehouse.ENOTFOUND, "not found")
		if err := e.Svc.DeleteSCIMGroup(ctx, e.Org.ID, g.Team.ID); err != nil {
			t.Fatal(err)
		}
		es, _, err := e.Svc.AuditEvents(context.Background(), e.Org.ID, gatehouse.AuditFilter{Types: []string{gatehouse.EventSCIMGroupDeleted}}, gatehouse.ListOptions{})
		if err != nil || len(es) != 1 || es[0].TokenName != "scim" {
			t.Errorf("the group's deletion is audited: %+v %v", es, err)
		}
	})
}

// TestSCIMDeprovisionRacesSSOSignIn: a member keeps signing in through SSO
// while SCIM deactivates them: each sign-in either came first (and its
// session and token die with the rest) or is refused, and none survives,
// nor comes back when the member is activated again. The sign-in checks
// the membership and mints under the organization's lock, which the
// deprovisioning takes too.
func TestSCIMDeprovisionRacesSSOSignIn(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := scimCtx(context.Background())
		if _, err := e.Svc.UpdateSSO(ctx, e.Org.ID, service.SSOInput{IdPMetadata: ptr(testMetadata)}); err != nil {
			t.Fatal(err)
		}
		u, err := e.Svc.CreateSCIMUser(ctx, e.Org.ID, service.SCIMUserPatch{UserName: ptr("dana")})
		if err != nil {
			t.Fatal(err)
		}
		const signers, most = 4, 1000
		var mu sync.Mutex
		var sessions []*service.SSOSession
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range signers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				// Until the deprovisioning refuses them.
				for range most {
					out, err := e.Svc.SignInSSO(context.Background(), e.Org.ID, service.SSOIdentity{Protocol: service.ProtocolSAML, Subject: "dana"}, time.Hour)
					if err != nil {
						if gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
							t.Errorf("signer %d: %v", i, err)
						}
						return
					}
					mu.Lock()
					sessions = append(sessions, out)
					mu.Unlock()
				}
				t.Errorf("signer %d: %d sign-ins, none refused after the deprovisioning", i, most)
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, err := e.Svc.UpdateSCIMUser(ctx, e.Org.ID, u.User.ID, service.SCIMUserPatch{Active: ptr(false)}); err != nil {
				t.Error(err)
			}
		}()
		close(start)
		wg.Wait()
		live, _, err := e.Svc.Tokens(context.Background(), service.TokenFilter{TokenFilter: gatehouse.TokenFilter{UserID: u.User.ID, Kind: gatehouse.TokenPersonal}})
		if err != nil || len(live) != 0 {
			t.Errorf("%d live personal tokens after deprovisioning, want 0 (%v)", len(live), err)
		}
		if _, err := e.Svc.UpdateSCIMUser(ctx, e.Org.ID, u.User.ID, service.SCIMUserPatch{Active: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		for _, s := range sessions {
			if _, err := e.Svc.Sessions().Get(context.Background(), s.Value); err == nil {
				t.Errorf("a console session opened in the race outlived the deprovisioning")
			}
			if _, err := e.Authz.AuthenticateDigest(s.Session.TokenDigest); err == nil {
				t.Errorf("a session's token made in the race works after the member is activated again")
			}
		}
	})
}
