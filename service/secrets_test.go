package service_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
)

// events lists the organization's audit events of a type.
func events(t *testing.T, e *testenv.Env, typ string) []*gatehouse.AuditEvent {
	t.Helper()
	es, _, err := e.Svc.AuditEvents(context.Background(), e.Org.ID, gatehouse.AuditFilter{Types: []string{typ}}, gatehouse.ListOptions{Limit: gatehouse.MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// Reading a stack's secrets and exporting its deployment are audited by
// the service itself, in a transaction: a caller with no HTTP in front
// (a host command, a test) leaves the same events the API does, stamped
// on the service's clock with the context's actor.
func TestSecretReadsAndExportsAreAudited(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		ctx := gatehouse.WithActor(context.Background(), gatehouse.Actor{Login: "admin", RequestID: "r1"})
		st, err := e.Svc.CreateStack(ctx, e.Org.ID, e.Identity(t, e.Admin), service.StackInput{Project: "app", Name: "dev"})
		if err != nil {
			t.Fatal(err)
		}
		sealed, err := e.Svc.Encrypt(ctx, st, [][]byte{[]byte("s3cr3t-one"), []byte("s3cr3t-two"), []byte("s3cr3t-three")})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(events(t, e, gatehouse.EventSecretsDecrypted)); n != 0 {
			t.Fatalf("encrypting recorded %d decryptions", n)
		}
		e.Clock.Advance(time.Hour)
		if _, err := e.Svc.Decrypt(ctx, st, sealed); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.Decrypt(ctx, st, [][]byte{sealed[0], []byte("tampered")}); gatehouse.ErrorCode(err) != gatehouse.EINVALID {
			t.Fatalf("a value that does not open: %v", err)
		}
		got := events(t, e, gatehouse.EventSecretsDecrypted)
		if len(got) != 1 {
			t.Fatalf("%d decryption events, want 1 (a failed decryption reads nothing)", len(got))
		}
		var count struct{ Count int }
		if err := json.Unmarshal(got[0].Data, &count); err != nil || count.Count != 3 {
			t.Errorf("decryption event data %s, want a count of 3", got[0].Data)
		}
		if ev := got[0]; ev.Entity != st.ID || ev.ActorLogin != "admin" || ev.RequestID != "r1" {
			t.Errorf("decryption event %+v: want the stack and the context's actor", ev)
		}
		if got[0].Time.Before(time.Now().Add(30 * time.Minute)) {
			t.Errorf("decryption event stamped %v, not on the service's clock (%v)", got[0].Time, e.Clock.Now())
		}
		if strings.Contains(string(got[0].Data)+got[0].Description, "s3cr3t") {
			t.Errorf("the event holds a secret: %s %s", got[0].Description, got[0].Data)
		}

		if _, err := e.Svc.Export(ctx, st, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.Export(ctx, st, 7); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			t.Fatalf("exporting a version that does not exist: %v", err)
		}
		if got := events(t, e, gatehouse.EventStackExported); len(got) != 1 || got[0].Entity != st.ID || got[0].ActorLogin != "admin" {
			t.Errorf("export events %+v, want one of the stack by the actor (none for the missing version)", got)
		}

		if err := e.Svc.RecordClientDecryption(ctx, st, "db\x1b[31mpassword", strings.Repeat("é", 300)); err != nil {
			t.Fatal(err)
		}
		got = events(t, e, gatehouse.EventClientReportedDecryption)
		if len(got) != 1 {
			t.Fatalf("%d client-reported events, want 1", len(got))
		}
		var d struct{ ClientReported map[string]string }
		if err := json.Unmarshal(got[0].Data, &d); err != nil {
			t.Fatal(err)
		}
		if s := d.ClientReported["secretName"]; strings.ContainsRune(s, '\x1b') || !strings.Contains(s, "password") {
			t.Errorf("secretName kept as %q: want the control character gone", s)
		}
		if c := d.ClientReported["commandName"]; len(c) > 256 || !strings.HasPrefix(c, "é") || strings.ContainsRune(c, '\uFFFD') {
			t.Errorf("commandName of %d bytes kept as %q: want at most 256 bytes of whole runes", len(c), c)
		}
		if n := len(events(t, e, gatehouse.EventSecretsDecrypted)); n != 1 {
			t.Errorf("a client's report became %d server decryption events", n-1)
		}
	})
}
