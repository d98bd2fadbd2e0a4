package storetest

import (
	"bytes"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
)

// testEnvironmentSessions: anonymous open sessions stored by digest, read
// expired or not, pruned once expired; and the environments stacks
// import, replaced per stack and gone with it.
func testEnvironmentSessions(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	digest := sha256.Sum256([]byte("session"))
	now := time.Now()
	sess := &gatehouse.EnvironmentSession{Digest: digest[:], OrgID: f.org.ID, TokenID: "tok", WrappedKey: []byte{1}, Sealed: []byte{2, 3}, Expires: now.Add(time.Hour)}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateEnvironmentSession(ctx, sess) })
	err := s.Write(ctx, func(tx gatehouse.Tx) error { return tx.CreateEnvironmentSession(ctx, sess) })
	wantCode(t, err, gatehouse.ECONFLICT, "the same session twice")
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateEnvironmentSession(ctx, &gatehouse.EnvironmentSession{Digest: []byte{1}, OrgID: f.org.ID, WrappedKey: []byte{1}, Sealed: []byte{1}})
	})
	wantCode(t, err, gatehouse.EINVALID, "a session without a digest")
	old := sha256.Sum256([]byte("old"))
	write(t, s, func(tx gatehouse.Tx) error {
		return tx.CreateEnvironmentSession(ctx, &gatehouse.EnvironmentSession{Digest: old[:], OrgID: f.org.ID, WrappedKey: []byte{1}, Sealed: []byte{1}, Expires: now.Add(-time.Minute)})
	})
	var pruned int64
	write(t, s, func(tx gatehouse.Tx) (err error) { pruned, err = tx.PruneEnvironmentSessions(ctx, now); return err })
	if pruned != 1 {
		t.Errorf("pruned %d sessions, want the expired one", pruned)
	}
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetEnvironmentSession(ctx, digest[:])
		if err != nil || got.TokenID != "tok" || !bytes.Equal(got.Sealed, []byte{2, 3}) || got.Expires.Unix() != sess.Expires.Unix() {
			t.Errorf("session = %+v, %v", got, err)
		}
		_, err = tx.GetEnvironmentSession(ctx, old[:])
		wantCode(t, err, gatehouse.ENOTFOUND, "a pruned session")
		return nil
	})

	st := &gatehouse.Stack{OrgID: f.org.ID, Project: "app", Name: "dev"}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateStack(ctx, st) })
	imports := func(imps ...gatehouse.StackEnvironmentImport) {
		write(t, s, func(tx gatehouse.Tx) error { return tx.PutStackEnvironmentImports(ctx, st, imps) })
	}
	list := func(project, name string) (out []gatehouse.StackEnvironmentImport) {
		read(t, s, func(tx gatehouse.Tx) (err error) {
			out, err = tx.ListStackEnvironmentImports(ctx, f.org.ID, project, name)
			return err
		})
		return out
	}
	imports(gatehouse.StackEnvironmentImport{Project: "app", Name: "web", StackVersion: 3}, gatehouse.StackEnvironmentImport{Project: "app", Name: "base", Ref: "stable", StackVersion: 3})
	if got := list("app", "base"); len(got) != 1 || got[0].StackID != st.ID || got[0].Ref != "stable" || got[0].StackVersion != 3 {
		t.Errorf("imports of app/base = %+v", got)
	}
	imports(gatehouse.StackEnvironmentImport{Project: "app", Name: "web", StackVersion: 4})
	if got := list("app", "base"); len(got) != 0 {
		t.Errorf("imports of app/base after the stack dropped it = %+v", got)
	}
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteStack(ctx, st.ID) })
	if got := list("app", "web"); len(got) != 0 {
		t.Errorf("imports of a deleted stack = %+v", got)
	}
}
