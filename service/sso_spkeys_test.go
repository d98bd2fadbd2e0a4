package service_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
	"github.com/gatehouse-iam/gatehouse/state"
)

// eachStoreFrozen is eachStore on a clock that moves only when the test
// advances it, so that a rule that leans on time passing shows.
func eachStoreFrozen(t *testing.T, test func(t *testing.T, e *testenv.Env)) {
	start := testenv.Start(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	t.Run("sqlite", func(t *testing.T) { test(t, testenv.New(t, start)) })
	t.Run("postgres", func(t *testing.T) { test(t, testenv.New(t, testenv.Postgres(), start)) })
}

// statuses is the keys' "status:id" in their order.
func statuses(keys []service.SPKeyView) string {
	s := ""
	for _, k := range keys {
		s += fmt.Sprintf("%s:%s ", k.Status, k.ID)
	}
	return s
}

// TestSPKeyRollover: the first key pair is made once and is current; a
// rollover publishes a next key, activates it (the old one becomes the
// previous one) and deletes the old one; a third key, activating the
// current key, deleting the current key and another organization's key
// are refused with nothing changed; every step is audited without the
// private key. The clock is frozen: activation does not lean on it moving.
func TestSPKeyRollover(t *testing.T) {
	eachStoreFrozen(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		first, err := e.Svc.SPKeys(ctx, e.Org.ID)
		if err != nil || len(first) != 1 || first[0].Status != service.SPKeyCurrent || first[0].Activated.IsZero() {
			t.Fatalf("first keys = %+v, %v", first, err)
		}
		again, err := e.Svc.SPKeys(ctx, e.Org.ID)
		if err != nil || statuses(again) != statuses(first) {
			t.Fatalf("the keys asked for again = %s, want %s (%v)", statuses(again), statuses(first), err)
		}
		a := first[0].ID
		cert := first[0].Certificate
		if cert.NotAfter.Sub(cert.NotBefore) < 9*365*24*time.Hour || cert.PublicKey == nil || cert.Subject.Organization[0] != "acme" {
			t.Errorf("certificate = %+v", cert)
		}

		keys, err := e.Svc.CreateSPKey(ctx, e.Org.ID)
		if err != nil || len(keys) != 2 || keys[0].ID != a || keys[1].Status != service.SPKeyNext {
			t.Fatalf("after CreateSPKey: %s %v", statuses(keys), err)
		}
		b := keys[1].ID
		before := statuses(keys)
		_, err = e.Svc.CreateSPKey(ctx, e.Org.ID)
		wantCode(t, "a third key", err, gatehouse.ECONFLICT, "delete the next one ("+b+") first")
		_, err = e.Svc.ActivateSPKey(ctx, e.Org.ID, a)
		wantCode(t, "activating the current key", err, gatehouse.ECONFLICT, "current key already")
		_, err = e.Svc.DeleteSPKey(ctx, e.Org.ID, a)
		wantCode(t, "deleting the current key", err, gatehouse.ECONFLICT, "activate another key first")
		if _, err := e.Svc.CreateOrgWithAdmin(ctx, "other", "carol", false); err != nil {
			t.Fatal(err)
		}
		otherOrg, _ := e.OrgByName("other")
		theirs, err := e.Svc.SPKeys(ctx, otherOrg.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.Svc.ActivateSPKey(ctx, e.Org.ID, theirs[0].ID)
		wantCode(t, "activating another organization's key", err, gatehouse.ENOTFOUND, "not found")
		_, err = e.Svc.DeleteSPKey(ctx, e.Org.ID, theirs[0].ID)
		wantCode(t, "deleting another organization's key", err, gatehouse.ENOTFOUND, "not found")
		if keys, _ := e.Svc.SPKeys(ctx, e.Org.ID); statuses(keys) != before {
			t.Fatalf("refused changes changed the keys: %s, want %s", statuses(keys), before)
		}
		if keys, _ := e.Svc.SPKeys(ctx, otherOrg.ID); statuses(keys) != statuses(theirs) {
			t.Errorf("another organization's keys changed: %s", statuses(keys))
		}

		keys, err = e.Svc.ActivateSPKey(ctx, e.Org.ID, b)
		if err != nil || statuses(keys) != fmt.Sprintf("current:%s previous:%s ", b, a) {
			t.Fatalf("after activating: %s %v", statuses(keys), err)
		}
		// The pairs open, the current first, each its certificate's.
		pairs, err := e.Svc.OpenSPKeys(ctx, e.Org.ID)
		if err != nil || len(pairs) != 2 || pairs[0].ID != b || !pairs[0].Key.PublicKey.Equal(pairs[0].Certificate.PublicKey) ||
			!pairs[1].Key.PublicKey.Equal(pairs[1].Certificate.PublicKey) {
			t.Fatalf("pairs = %v, %v", pairs, err)
		}
		// Logged or printed, a pair shows no private key.
		var logged bytes.Buffer
		slog.New(slog.NewJSONHandler(&logged, nil)).Info("pairs", "pair", pairs[0], "pairs", pairs)
		fmt.Fprintf(&logged, "%v %+v %s", pairs[0], pairs, pairs)
		if bytes.Contains(logged.Bytes(), []byte(pairs[0].Key.D.String())) || bytes.Contains(logged.Bytes(), []byte(`"D"`)) {
			t.Errorf("a logged pair shows its private key: %.300s", logged.String())
		}
		// A rollback: the previous key may be activated again.
		if keys, err = e.Svc.ActivateSPKey(ctx, e.Org.ID, a); err != nil || statuses(keys) != fmt.Sprintf("current:%s previous:%s ", a, b) {
			t.Fatalf("after the rollback: %s %v", statuses(keys), err)
		}
		if keys, err = e.Svc.ActivateSPKey(ctx, e.Org.ID, b); err != nil || keys[0].ID != b {
			t.Fatalf("after activating again: %s %v", statuses(keys), err)
		}
		keys, err = e.Svc.DeleteSPKey(ctx, e.Org.ID, a)
		if err != nil || statuses(keys) != fmt.Sprintf("current:%s ", b) {
			t.Fatalf("after deleting the previous key: %s %v", statuses(keys), err)
		}
		_, err = e.Svc.DeleteSPKey(ctx, e.Org.ID, a)
		wantCode(t, "a deleted key", err, gatehouse.ENOTFOUND, "not found")

		// Audited: made, made, activated (three times), deleted; never
		// the private key.
		events, _, err := e.Svc.AuditEvents(ctx, e.Org.ID, gatehouse.AuditFilter{Types: []string{gatehouse.EventSSOChanged}}, gatehouse.ListOptions{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		actions := map[string]int{}
		for _, ev := range events {
			var d struct{ SPKey, Action, CertificateSha256 string }
			json.Unmarshal(ev.Data, &d)
			if d.SPKey == "" || len(d.CertificateSha256) != 95 {
				t.Errorf("event %s: %s", ev.Description, ev.Data)
			}
			actions[d.Action]++
			if bytes.Contains(ev.Data, []byte("PRIVATE")) || bytes.Contains(ev.Data, []byte(pairs[1].Key.D.String())) {
				t.Errorf("event %s holds a private key", ev.Description)
			}
		}
		if actions["created"] != 2 || actions["activated"] != 3 || actions["deleted"] != 1 {
			t.Errorf("audited actions = %v", actions)
		}
	})
}

// TestSPKeySealed: the private key is stored only sealed (neither its
// PKCS #8 form nor its private exponent is in the row), the store counts
// it as sealed, and a service with another master key cannot open it.
func TestSPKeySealed(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		pairs, err := e.Svc.OpenSPKeys(ctx, e.Org.ID)
		if err != nil || len(pairs) != 1 {
			t.Fatalf("pairs: %v %v", pairs, err)
		}
		der, _ := x509.MarshalPKCS8PrivateKey(pairs[0].Key)
		var stored []*gatehouse.SPKey
		e.DB.Read(ctx, func(tx gatehouse.Tx) (err error) { stored, err = tx.ListSPKeys(ctx, e.Org.ID); return err })
		if len(stored) != 1 || len(stored[0].KeySealed) < len(der) || bytes.Contains(stored[0].KeySealed, der[len(der)-64:]) ||
			bytes.Contains(stored[0].KeySealed, pairs[0].Key.D.Bytes()[:32]) || bytes.Contains(stored[0].KeyWrapped, pairs[0].Key.D.Bytes()[:32]) {
			t.Fatalf("the stored key is not sealed: %d sealed bytes", len(stored[0].KeySealed))
		}
		if sealed, err := e.DB.Sealed(ctx); err != nil || sealed.SPKeys != 1 {
			t.Errorf("Sealed = %+v, %v", sealed, err)
		}
		other := service.New(e.DB, authz.New(e.DB, e.Clock.Now), e.Clock.Now)
		if other.Keys, err = state.NewKeyring(bytes.Repeat([]byte{9}, 32)); err != nil {
			t.Fatal(err)
		}
		if _, err := other.OpenSPKeys(ctx, e.Org.ID); err == nil {
			t.Error("another master key opened the SP key")
		}
		// A key pair copied whole to another key's row does not open
		// either: its sealed key is bound to its organization and id.
		if _, err := e.Svc.CreateSPKey(ctx, e.Org.ID); err != nil {
			t.Fatal(err)
		}
		e.DB.Read(ctx, func(tx gatehouse.Tx) (err error) { stored, err = tx.ListSPKeys(ctx, e.Org.ID); return err })
		err = e.DB.Write(ctx, func(tx gatehouse.Tx) error {
			if err := tx.DeleteSPKey(ctx, e.Org.ID, stored[1].ID); err != nil {
				return err
			}
			moved := *stored[1]
			moved.Certificate, moved.KeyWrapped, moved.KeySealed = stored[0].Certificate, stored[0].KeyWrapped, stored[0].KeySealed
			return tx.CreateSPKey(ctx, &moved)
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.OpenSPKeys(ctx, e.Org.ID); err == nil {
			t.Error("a sealed key moved to another row opened")
		}
	})
}

// TestSPKeyMadeOnce: replicas asking for an organization's first key pair
// at once store one: the check that there is none and the insert are one
// step under the organization's lock.
func TestSPKeyMadeOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		replicas := []*service.Service{e.Svc}
		for range 2 {
			r := service.New(e.DB, authz.New(e.DB, e.Clock.Now), e.Clock.Now)
			r.Keys, _ = state.NewKeyring(bytes.Repeat([]byte{7}, 32)) // testenv's master key
			replicas = append(replicas, r)
		}
		var wg sync.WaitGroup
		ids := make([]string, 2*len(replicas))
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				keys, err := replicas[i%len(replicas)].SPKeys(ctx, e.Org.ID)
				if err != nil || len(keys) != 1 {
					t.Errorf("keys: %v %v", keys, err)
					return
				}
				ids[i] = keys[0].ID
			}()
		}
		wg.Wait()
		var stored []*gatehouse.SPKey
		e.DB.Read(ctx, func(tx gatehouse.Tx) (err error) { stored, err = tx.ListSPKeys(ctx, e.Org.ID); return err })
		if len(stored) != 1 {
			t.Fatalf("%d keys stored, want 1", len(stored))
		}
		for i, id := range ids {
			if id != stored[0].ID {
				t.Errorf("caller %d got key %s, not the stored %s", i, id, stored[0].ID)
			}
		}
	})
}

// TestSPKeyWritesConcurrent: rollovers that race (two admins, replicas
// behind a balancer) keep the rules: of creates sent at once one lands and
// the rest are refused as over the bound; an activation racing the
// deletion of the same next key leaves exactly one current key and never
// deletes the key that signs.
func TestSPKeyWritesConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := context.Background()
		if _, err := e.Svc.SPKeys(ctx, e.Org.ID); err != nil { // the first key
			t.Fatal(err)
		}
		for round := range 3 {
			var wg sync.WaitGroup
			var mu sync.Mutex
			made, full := 0, 0
			for range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := e.Svc.CreateSPKey(ctx, e.Org.ID)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						made++
					case gatehouse.ErrorCode(err) == gatehouse.ECONFLICT:
						full++
					default:
						t.Errorf("round %d: create: %v", round, err)
					}
				}()
			}
			wg.Wait()
			keys, err := e.Svc.SPKeys(ctx, e.Org.ID)
			if err != nil || made != 1 || full != 5 || len(keys) != service.MaxSPKeys {
				t.Fatalf("round %d: %d made, %d refused, keys %s (%v); want 1, 5 and %d keys", round, made, full, statuses(keys), err, service.MaxSPKeys)
			}
			next := keys[len(keys)-1].ID
			wg.Add(2)
			go func() { defer wg.Done(); e.Svc.ActivateSPKey(ctx, e.Org.ID, next) }()
			go func() { defer wg.Done(); e.Svc.DeleteSPKey(ctx, e.Org.ID, next) }()
			wg.Wait()
			keys, err = e.Svc.SPKeys(ctx, e.Org.ID)
			current := 0
			for _, k := range keys {
				if k.Status == service.SPKeyCurrent {
					current++
				}
			}
			if err != nil || current != 1 {
				t.Fatalf("round %d: after activate racing delete: %s (%v), want one current key", round, statuses(keys), err)
			}
			// Back to one key for the next round.
			for _, k := range keys {
				if k.Status != service.SPKeyCurrent {
					if _, err := e.Svc.DeleteSPKey(ctx, e.Org.ID, k.ID); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	})
}
