package storetest

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

// testSSO: an organization's SSO settings are put, replaced, read back
// whole and deleted; a default role of another organization is refused;
// a sign-in's state is taken once, also by racing takers; a used SAML
// assertion id is refused again until it expires, in its organization
// only.
func testSSO(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	err := s.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetSSO(ctx, f.org.ID); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "no settings yet")
	in := &gatehouse.SSO{OrgID: f.org.ID, Issuer: "https://idp.example", ClientID: "c", SecretKey: []byte{1, 2}, SecretSealed: []byte{3},
		UserClaim: "email", GroupsClaim: "groups", IdPMetadata: "<md/>", GroupsAttribute: "memberOf", AllowCreate: true, DefaultRoleID: f.role.ID,
		EmailDomains: []string{"example.com", "example.org"}}
	write(t, s, func(tx gatehouse.Tx) error { return tx.PutSSO(ctx, in) })
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetSSO(ctx, f.org.ID)
		if err == nil && (got.Issuer != in.Issuer || got.ClientID != "c" || !bytes.Equal(got.SecretKey, in.SecretKey) ||
			!bytes.Equal(got.SecretSealed, in.SecretSealed) || got.UserClaim != "email" || got.GroupsClaim != "groups" ||
			got.IdPMetadata != "<md/>" || got.GroupsAttribute != "memberOf" || !got.AllowCreate || got.DefaultRoleID != f.role.ID || got.Updated.IsZero() ||
			strings.Join(got.EmailDomains, " ") != "example.com example.org") {
			t.Errorf("sso = %+v", got)
		}
		return err
	})
	write(t, s, func(tx gatehouse.Tx) error {
		return tx.PutSSO(ctx, &gatehouse.SSO{OrgID: f.org.ID, IdPMetadata: "<other/>"})
	})
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetSSO(ctx, f.org.ID)
		if err == nil && (got.Issuer != "" || got.AllowCreate || got.DefaultRoleID != "" || got.IdPMetadata != "<other/>" || got.SecretKey != nil ||
			got.EmailDomains != nil) {
			t.Errorf("replaced sso = %+v", got)
		}
		return err
	})
	other := newFixture(t, s)
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.PutSSO(ctx, &gatehouse.SSO{OrgID: f.org.ID, DefaultRoleID: gatehouse.NewID()})
	})
	wantCode(t, err, gatehouse.EINVALID, "a default role that does not exist")
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteSSO(ctx, f.org.ID) })
	err = s.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetSSO(ctx, f.org.ID); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "deleted settings")

	testSSOLogins(t, s, f)
	testSSOLoginBound(t, s, f, other.org)
	testAssertions(t, s, f, other)
	testSPKeys(t, s, f, other)
}

// testSPKeys: an organization's SAML service provider keys are listed
// oldest first with their bytes whole, activated and deleted by id within
// their organization only (another organization's id is not found and
// changes nothing); a taken id and an unknown organization are refused.
func testSPKeys(t *testing.T, s gatehouse.Store, f, other *fixture) {
	read(t, s, func(tx gatehouse.Tx) error {
		keys, err := tx.ListSPKeys(ctx, f.org.ID)
		if err == nil && len(keys) != 0 {
			t.Errorf("keys before any = %+v", keys)
		}
		return err
	})
	t0 := time.Now().UTC().Truncate(time.Microsecond)
	a := &gatehouse.SPKey{ID: gatehouse.NewID(), OrgID: f.org.ID, Certificate: []byte{0x30, 1}, KeyWrapped: []byte{2, 3}, KeySealed: []byte{4, 5, 6},
		Created: t0, Activated: t0}
	b := &gatehouse.SPKey{ID: gatehouse.NewID(), OrgID: f.org.ID, Certificate: []byte{0x30, 7}, KeyWrapped: []byte{8}, KeySealed: []byte{9},
		Created: t0.Add(time.Second)}
	theirs := &gatehouse.SPKey{ID: gatehouse.NewID(), OrgID: other.org.ID, Certificate: []byte{0x30, 10}, KeyWrapped: []byte{11}, KeySealed: []byte{12},
		Created: t0, Activated: t0}
	write(t, s, func(tx gatehouse.Tx) error {
		for _, k := range []*gatehouse.SPKey{b, a, theirs} {
			if err := tx.CreateSPKey(ctx, k); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateSPKey(ctx, &gatehouse.SPKey{ID: a.ID, OrgID: f.org.ID, Certificate: []byte{1}, KeyWrapped: []byte{1}, KeySealed: []byte{1}})
	})
	wantCode(t, err, gatehouse.ECONFLICT, "a taken SP key id")
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateSPKey(ctx, &gatehouse.SPKey{ID: gatehouse.NewID(), OrgID: gatehouse.NewID(), Certificate: []byte{1}, KeyWrapped: []byte{1}, KeySealed: []byte{1}})
	})
	wantCode(t, err, gatehouse.EINVALID, "an SP key of no organization")
	list := func() []*gatehouse.SPKey {
		t.Helper()
		var keys []*gatehouse.SPKey
		read(t, s, func(tx gatehouse.Tx) (err error) { keys, err = tx.ListSPKeys(ctx, f.org.ID); return err })
		return keys
	}
	keys := list()
	if len(keys) != 2 || keys[0].ID != a.ID || keys[1].ID != b.ID || !bytes.Equal(keys[0].Certificate, a.Certificate) ||
		!bytes.Equal(keys[0].KeyWrapped, a.KeyWrapped) || !bytes.Equal(keys[0].KeySealed, a.KeySealed) || !keys[0].Created.Equal(t0) ||
		!keys[0].Activated.Equal(t0) || !keys[1].Activated.IsZero() || keys[1].OrgID != f.org.ID {
		t.Fatalf("keys = %+v", keys)
	}
	t1 := t0.Add(time.Minute)
	write(t, s, func(tx gatehouse.Tx) error { return tx.ActivateSPKey(ctx, f.org.ID, b.ID, t1) })
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.ActivateSPKey(ctx, f.org.ID, theirs.ID, t1) })
	wantCode(t, err, gatehouse.ENOTFOUND, "activating another organization's SP key")
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.DeleteSPKey(ctx, f.org.ID, theirs.ID) })
	wantCode(t, err, gatehouse.ENOTFOUND, "deleting another organization's SP key")
	if keys := list(); len(keys) != 2 || !keys[1].Activated.Equal(t1) {
		t.Errorf("after activating = %+v", keys)
	}
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteSPKey(ctx, f.org.ID, a.ID) })
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.DeleteSPKey(ctx, f.org.ID, a.ID) })
	wantCode(t, err, gatehouse.ENOTFOUND, "a deleted SP key")
	if keys := list(); len(keys) != 1 || keys[0].ID != b.ID {
		t.Errorf("after deleting = %+v", keys)
	}
	read(t, s, func(tx gatehouse.Tx) error {
		keys, err := tx.ListSPKeys(ctx, other.org.ID)
		if err == nil && (len(keys) != 1 || keys[0].ID != theirs.ID || !keys[0].Activated.Equal(t0)) {
			t.Errorf("the other organization's keys = %+v", keys)
		}
		return err
	})
}

// testSSOLoginBound: writers that each lock the organization and record a
// sign-in, racing, stop at the organization's bound exactly (the count and
// the insert are one step under the lock); another organization is not
// held back by it.
func testSSOLoginBound(t *testing.T, s gatehouse.Store, f *fixture, other *gatehouse.Organization) {
	const bound, writers = 5, 12
	var wg sync.WaitGroup
	var mu sync.Mutex
	made, refused := 0, 0
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := &gatehouse.SSOLogin{Digest: gatehouse.TokenDigest(fmt.Sprintf("bound-%d", i)), OrgID: f.org.ID, Protocol: "oidc", Expires: time.Now().Add(time.Minute)}
			err := s.Write(ctx, func(tx gatehouse.Tx) error {
				if err := tx.LockOrg(ctx, f.org.ID); err != nil {
					return err
				}
				return tx.CreateSSOLogin(ctx, l, bound)
			})
			mu.Lock()
			defer mu.Unlock()
			switch gatehouse.ErrorCode(err) {
			case "":
				made++
			case gatehouse.ETOOMANYREQUESTS:
				refused++
			default:
				t.Errorf("create: %v", err)
			}
		}()
	}
	wg.Wait()
	if made != bound || refused != writers-bound {
		t.Errorf("%d sign-ins recorded and %d refused, want %d and %d", made, refused, bound, writers-bound)
	}
	l := &gatehouse.SSOLogin{Digest: gatehouse.TokenDigest("bound-other"), OrgID: other.ID, Protocol: "oidc", Expires: time.Now().Add(time.Minute)}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateSSOLogin(ctx, l, bound) })
	// Expired sign-ins are pruned first and do not count.
	expired := &gatehouse.SSOLogin{Digest: gatehouse.TokenDigest("bound-expired"), OrgID: other.ID, Protocol: "oidc", Expires: time.Now().Add(-time.Minute)}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateSSOLogin(ctx, expired, bound) })
	write(t, s, func(tx gatehouse.Tx) error {
		return tx.CreateSSOLogin(ctx, &gatehouse.SSOLogin{Digest: gatehouse.TokenDigest("bound-after"), OrgID: other.ID, Protocol: "oidc", Expires: time.Now().Add(time.Minute)}, 2)
	})
}

func testSSOLogins(t *testing.T, s gatehouse.Store, f *fixture) {
	now := time.Now()
	l := &gatehouse.SSOLogin{Digest: gatehouse.TokenDigest("state"), OrgID: f.org.ID, Protocol: "oidc", Nonce: "n", Verifier: "v",
		Next: "/console/", Expires: now.Add(time.Minute)}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateSSOLogin(ctx, l, 100) })
	err := s.Write(ctx, func(tx gatehouse.Tx) error { return tx.CreateSSOLogin(ctx, l, 100) })
	wantCode(t, err, gatehouse.ECONFLICT, "a second sign-in with one state")
	write(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.TakeSSOLogin(ctx, l.Digest)
		if err == nil && (got.OrgID != f.org.ID || got.Nonce != "n" || got.Verifier != "v" || got.Protocol != "oidc" || got.Next != "/console/" ||
			got.Expires.Unix() != l.Expires.Unix()) {
			t.Errorf("sign-in = %+v", got)
		}
		return err
	})
	err = s.Write(ctx, func(tx gatehouse.Tx) error { _, err := tx.TakeSSOLogin(ctx, l.Digest); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "a state taken twice")

	// Racing takers of one state: exactly one gets it.
	race := &gatehouse.SSOLogin{Digest: gatehouse.TokenDigest("race"), OrgID: f.org.ID, Protocol: "saml", RequestID: "id-1", Expires: now.Add(time.Minute)}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateSSOLogin(ctx, race, 100) })
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Write(ctx, func(tx gatehouse.Tx) error { _, err := tx.TakeSSOLogin(ctx, race.Digest); return err })
			if err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			} else if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				t.Errorf("take: %v", err)
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Errorf("%d takers got one state, want 1", won)
	}
}

func testAssertions(t *testing.T, s gatehouse.Store, f, other *fixture) {
	now := time.Now()
	use := func(org *fixture, id string, expires, at time.Time) error {
		return s.Write(ctx, func(tx gatehouse.Tx) error { return tx.UseAssertion(ctx, org.org.ID, id, expires, at) })
	}
	if err := use(f, "a1", now.Add(time.Minute), now); err != nil {
		t.Fatal(err)
	}
	wantCode(t, use(f, "a1", now.Add(time.Minute), now), gatehouse.ECONFLICT, "a replayed assertion")
	if err := use(other, "a1", now.Add(time.Minute), now); err != nil {
		t.Errorf("the same id in another organization: %v", err)
	}
	// Once it has expired it is forgotten (and its time check refuses it).
	if err := use(f, "a1", now.Add(3*time.Minute), now.Add(2*time.Minute)); err != nil {
		t.Errorf("an expired id used again: %v", err)
	}
	// Racing uses of one id: exactly one succeeds.
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := use(f, "race", now.Add(time.Hour), now)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case gatehouse.ErrorCode(err) != gatehouse.ECONFLICT:
				t.Errorf("use %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Errorf("%d uses of one assertion succeeded, want 1", won)
	}
}
