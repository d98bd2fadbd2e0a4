package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

// testSCIM: an organization holds one live SCIM token (a new one revokes
// the old); SCIM lists only the members an organization manages, filters
// (userName ignoring case, externalId, displayName), pages and counts
// them; the identity provider's ids are kept per organization; SCIM
// groups are the SCIM-kind teams.
func testSCIM(t *testing.T, s gatehouse.Store) {
	f, other := newFixture(t, s), newFixture(t, s)
	first := &gatehouse.SCIMToken{OrgID: f.org.ID, Digest: gatehouse.TokenDigest("scim-1")}
	second := &gatehouse.SCIMToken{OrgID: f.org.ID, Digest: gatehouse.TokenDigest("scim-2")}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateSCIMToken(ctx, first) })
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateSCIMToken(ctx, second) })
	read(t, s, func(tx gatehouse.Tx) error {
		a, err := tx.GetSCIMTokenByDigest(ctx, first.Digest)
		if err != nil {
			return err
		}
		b, err := tx.GetSCIMTokenByDigest(ctx, second.Digest)
		if err == nil && (!a.Revoked || b.Revoked || b.OrgID != f.org.ID || b.ID != second.ID) {
			t.Errorf("tokens after rotation: %+v %+v", a, b)
		}
		return err
	})
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateSCIMToken(ctx, &gatehouse.SCIMToken{OrgID: other.org.ID, Digest: second.Digest})
	})
	wantCode(t, err, gatehouse.ECONFLICT, "a SCIM token's digest twice")
	err = s.Read(ctx, func(tx gatehouse.Tx) error {
		_, err := tx.GetSCIMTokenByDigest(ctx, gatehouse.TokenDigest("nope"))
		return err
	})
	wantCode(t, err, gatehouse.ENOTFOUND, "an unknown SCIM token")

	// f's user is a member but not managed by f; three managed ones; one of
	// other's managed users is also a member of f.
	var managed []*gatehouse.User
	write(t, s, func(tx gatehouse.Tx) error {
		for i := range 3 {
			u := &gatehouse.User{Login: fmt.Sprintf("%s-Scim%d", f.org.Name, i), Name: fmt.Sprintf("Person %d", i), ManagedBy: f.org.ID}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			if err := tx.AddMember(ctx, &gatehouse.Membership{OrgID: f.org.ID, UserID: u.ID, RoleID: f.role.ID, Suspended: i == 2}); err != nil {
				return err
			}
			managed = append(managed, u)
		}
		stranger := &gatehouse.User{Login: other.org.Name + "-stranger", ManagedBy: other.org.ID}
		if err := tx.CreateUser(ctx, stranger); err != nil {
			return err
		}
		return tx.AddMember(ctx, &gatehouse.Membership{OrgID: f.org.ID, UserID: stranger.ID, RoleID: f.role.ID})
	})
	at := time.Now().Truncate(time.Second)
	write(t, s, func(tx gatehouse.Tx) error { return tx.PutSCIMUser(ctx, f.org.ID, managed[1].ID, "ext-1", at) })
	write(t, s, func(tx gatehouse.Tx) error {
		return tx.PutSCIMUser(ctx, f.org.ID, managed[1].ID, "ext-1b", at.Add(time.Second))
	})
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.PutSCIMUser(ctx, f.org.ID, gatehouse.NewID(), "x", at) })
	wantCode(t, err, gatehouse.EINVALID, "the SCIM record of no user")
	read(t, s, func(tx gatehouse.Tx) error {
		all, total, err := tx.ListSCIMUsers(ctx, f.org.ID, gatehouse.SCIMFilter{Limit: 10})
		if err != nil {
			return err
		}
		if total != 3 || len(all) != 3 || indexOf(all, managed[2].ID) < 0 {
			t.Errorf("SCIM users: %d of %d", len(all), total)
		}
		for _, u := range all {
			if u.User.ManagedBy != f.org.ID {
				t.Errorf("listed %q, managed by %q", u.User.Login, u.User.ManagedBy)
			}
			if u.User.ID == managed[2].ID && !u.Member.Suspended {
				t.Errorf("the suspended member is not suspended: %+v", u.Member)
			}
		}
		page, total, err := tx.ListSCIMUsers(ctx, f.org.ID, gatehouse.SCIMFilter{Offset: 1, Limit: 1})
		if err == nil && (total != 3 || len(page) != 1 || page[0].User.ID != all[1].User.ID) {
			t.Errorf("page 2 of 1: %d of %d", len(page), total)
		}
		for _, c := range []struct {
			f    gatehouse.SCIMFilter
			want string
		}{
			{gatehouse.SCIMFilter{Attr: gatehouse.SCIMAttrUserName, Value: managed[0].Login, Limit: 5}, managed[0].ID},
			{gatehouse.SCIMFilter{Attr: gatehouse.SCIMAttrUserName, Value: f.org.Name + "-SCIM0", Limit: 5}, managed[0].ID},
			{gatehouse.SCIMFilter{Attr: gatehouse.SCIMAttrExternalID, Value: "ext-1b", Limit: 5}, managed[1].ID},
			{gatehouse.SCIMFilter{Attr: gatehouse.SCIMAttrDisplayName, Value: "Person 2", Limit: 5}, managed[2].ID},
		} {
			got, n, err := tx.ListSCIMUsers(ctx, f.org.ID, c.f)
			if err != nil {
				return err
			}
			if n != 1 || len(got) != 1 || got[0].User.ID != c.want {
				t.Errorf("filter %+v: %d", c.f, n)
			}
		}
		u, err := tx.GetSCIMUser(ctx, f.org.ID, managed[1].ID)
		if err == nil && (u.ExternalID != "ext-1b" || !u.Modified.Equal(at.Add(time.Second))) {
			t.Errorf("SCIM user = %+v", u)
		}
		if _, err := tx.GetSCIMUser(ctx, f.org.ID, f.user.ID); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			t.Errorf("a member the organization does not manage: %v", err)
		}
		if _, err := tx.GetSCIMUser(ctx, other.org.ID, managed[0].ID); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			t.Errorf("another organization's user: %v", err)
		}
		_, _, err = tx.ListSCIMUsers(ctx, f.org.ID, gatehouse.SCIMFilter{Attr: "title", Value: "x"})
		wantCode(t, err, gatehouse.EINVALID, "a filter on an attribute not kept")
		return nil
	})
	testSCIMUserNameCase(t, s)

	scimTeam := &gatehouse.Team{OrgID: f.org.ID, Kind: gatehouse.TeamSCIM, Name: "eng", DisplayName: "Engineering"}
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.CreateTeam(ctx, &gatehouse.Team{OrgID: f.org.ID, Kind: gatehouse.TeamPulumi, Name: "ops", DisplayName: "Engineering"}); err != nil {
			return err
		}
		if err := tx.CreateTeam(ctx, scimTeam); err != nil {
			return err
		}
		return tx.PutSCIMGroup(ctx, f.org.ID, scimTeam.ID, "grp-1", at)
	})
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.PutSCIMGroup(ctx, f.org.ID, gatehouse.NewID(), "x", at) })
	wantCode(t, err, gatehouse.EINVALID, "the SCIM record of no team")
	read(t, s, func(tx gatehouse.Tx) error {
		gs, n, err := tx.ListSCIMGroups(ctx, f.org.ID, gatehouse.SCIMFilter{Attr: gatehouse.SCIMAttrDisplayName, Value: "Engineering", Limit: 10})
		if err == nil && (n != 1 || gs[0].Team.ID != scimTeam.ID || gs[0].ExternalID != "grp-1") {
			t.Errorf("SCIM groups named Engineering: %d", n)
		}
		g, err := tx.GetSCIMGroup(ctx, f.org.ID, scimTeam.ID)
		if err == nil && !g.Modified.Equal(at) {
			t.Errorf("SCIM group = %+v", g)
		}
		_, err = tx.GetSCIMGroup(ctx, other.org.ID, scimTeam.ID)
		wantCode(t, err, gatehouse.ENOTFOUND, "another organization's group")
		return nil
	})
}

// testSCIMUserNameCase: userName compares ignoring ASCII case, and only
// ASCII's, the same on every dialect: PostgreSQL's LOWER would fold the
// Kelvin sign (U+212A) to k and a dotted capital I (U+0130) to i, and so
// find kit for values SQLite finds nobody for.
func testSCIMUserNameCase(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	kit := &gatehouse.User{Login: "kit-" + f.org.Name, ManagedBy: f.org.ID}
	write(t, s, func(tx gatehouse.Tx) error {
		if err := tx.CreateUser(ctx, kit); err != nil {
			return err
		}
		return tx.AddMember(ctx, &gatehouse.Membership{OrgID: f.org.ID, UserID: kit.ID, RoleID: f.role.ID})
	})
	rest := strings.TrimPrefix(kit.Login, "kit")
	read(t, s, func(tx gatehouse.Tx) error {
		for _, c := range []struct {
			value string
			want  int
		}{
			{kit.Login, 1},
			{strings.ToUpper(kit.Login), 1},
			{"\u212Ait" + rest, 0},
			{"K\u0130T" + rest, 0},
		} {
			got, n, err := tx.ListSCIMUsers(ctx, f.org.ID, gatehouse.SCIMFilter{Attr: gatehouse.SCIMAttrUserName, Value: c.value, Limit: 5})
			if err != nil {
				return err
			}
			if n != c.want || len(got) != c.want {
				t.Errorf("userName eq %+q: %d users, want %d", c.value, n, c.want)
			}
		}
		return nil
	})
}

func indexOf(us []*gatehouse.SCIMUser, id string) int {
	for i, u := range us {
		if u.User.ID == id {
			return i
		}
	}
	return -1
}
