package storetest

import (
	"bytes"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
)

func testEnvironments(t *testing.T, s gatehouse.Store) {
	f := newFixture(t, s)
	e := &gatehouse.Environment{OrgID: f.org.ID, Project: "app", Name: "prod", Tags: map[string]string{"env": "prod"}, CreatedBy: f.user.ID}
	write(t, s, func(tx gatehouse.Tx) error { return tx.CreateEnvironment(ctx, e, []byte("values: {a: 1}\n")) })
	err := s.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateEnvironment(ctx, &gatehouse.Environment{OrgID: f.org.ID, Project: "app", Name: "prod"}, nil)
	})
	wantCode(t, err, gatehouse.ECONFLICT, "duplicate environment")
	var v int
	write(t, s, func(tx gatehouse.Tx) (err error) {
		v, err = tx.PutEnvironmentVersion(ctx, e.ID, 1, []byte("values: {a: 2}\n"), f.user.ID)
		return err
	})
	if v != 2 {
		t.Errorf("new version = %d, want 2", v)
	}
	err = s.Write(ctx, func(tx gatehouse.Tx) error {
		_, err := tx.PutEnvironmentVersion(ctx, e.ID, 1, []byte("stale"), f.user.ID)
		return err
	})
	wantCode(t, err, gatehouse.ECONFLICT, "stale environment version")
	e.Tags["team"] = "core"
	e.DeletionProtected = true
	write(t, s, func(tx gatehouse.Tx) error { return tx.UpdateEnvironment(ctx, e) })
	read(t, s, func(tx gatehouse.Tx) error {
		cur, err := tx.GetEnvironmentVersion(ctx, e.ID, 0)
		if err != nil || cur.Version != 2 || string(cur.Definition) != "values: {a: 2}\n" {
			t.Errorf("current definition = %+v, %v", cur, err)
		}
		first, err := tx.GetEnvironmentVersion(ctx, e.ID, 1)
		if err != nil || string(first.Definition) != "values: {a: 1}\n" {
			t.Errorf("version 1 = %+v, %v", first, err)
		}
		got, err := tx.GetEnvironment(ctx, f.org.ID, "app", "prod")
		if err != nil || got.Version != 2 || got.Tags["team"] != "core" || !got.DeletionProtected {
			t.Errorf("environment = %+v, %v", got, err)
		}
		byID, err := tx.GetEnvironmentByID(ctx, e.ID)
		if err != nil || byID.Name != "prod" || byID.CreatedBy != f.user.ID {
			t.Errorf("GetEnvironmentByID = %+v, %v", byID, err)
		}
		list, _, err := tx.ListEnvironments(ctx, f.org.ID, gatehouse.ListOptions{})
		if len(list) != 1 || !list[0].DeletionProtected {
			t.Errorf("ListEnvironments = %d", len(list))
		}
		vs, next, err := tx.ListEnvironmentVersions(ctx, e.ID, gatehouse.ListOptions{Limit: 1})
		if err != nil || len(vs) != 1 || vs[0].Version != 2 || next == "" {
			t.Fatalf("first page of versions = %+v, %q, %v", vs, next, err)
		}
		vs, next, err = tx.ListEnvironmentVersions(ctx, e.ID, gatehouse.ListOptions{Limit: 1, Continuation: next})
		if err != nil || len(vs) != 1 || vs[0].Version != 1 || vs[0].CreatedBy != f.user.ID || next != "" {
			t.Errorf("second page of versions = %+v, %q, %v", vs, next, err)
		}
		return err
	})
	// Its data key: set once, gone with it.
	err = s.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetEnvironmentKey(ctx, e.ID); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "key of an environment without one")
	write(t, s, func(tx gatehouse.Tx) error { return tx.PutEnvironmentKey(ctx, e.ID, []byte{4, 5}) })
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.PutEnvironmentKey(ctx, e.ID, []byte{6}) })
	wantCode(t, err, gatehouse.ECONFLICT, "a second environment key")
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.PutEnvironmentKey(ctx, gatehouse.NewID(), []byte{6}) })
	wantCode(t, err, gatehouse.EINVALID, "a key for no environment")
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetEnvironmentKey(ctx, e.ID)
		if err == nil && !bytes.Equal(got, []byte{4, 5}) {
			t.Errorf("GetEnvironmentKey = %v", got)
		}
		return err
	})
	testRevisionTags(t, s, e, f.user.ID)
	testRetraction(t, s, e, f.user.ID)
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteEnvironment(ctx, e.ID) })
	err = s.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetEnvironmentRevisionTag(ctx, e.ID, "stable"); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "version tag of a deleted environment")
	err = s.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetEnvironmentKey(ctx, e.ID); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "key of a deleted environment")
	err = s.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetEnvironmentVersion(ctx, e.ID, 1); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "version of a deleted environment")
}

// testRevisionTags: an environment at version 2 gets version tags;
// "stable" is left at version 1.
func testRevisionTags(t *testing.T, s gatehouse.Store, e *gatehouse.Environment, by string) {
	t.Helper()
	put := func(name string, version int, update bool) error {
		return s.Write(ctx, func(tx gatehouse.Tx) error {
			return tx.PutEnvironmentRevisionTag(ctx, &gatehouse.EnvironmentRevisionTag{EnvironmentID: e.ID, Name: name, Version: version, EditedBy: by}, update)
		})
	}
	if err := put("stable", 2, false); err != nil {
		t.Fatal(err)
	}
	if err := put("beta", 1, false); err != nil {
		t.Fatal(err)
	}
	wantCode(t, put("stable", 1, false), gatehouse.ECONFLICT, "a second tag of one name")
	wantCode(t, put("gone", 7, false), gatehouse.ENOTFOUND, "a tag of no version")
	wantCode(t, put("nope", 1, true), gatehouse.ENOTFOUND, "moving a missing tag")
	if err := put("stable", 1, true); err != nil {
		t.Fatal(err)
	}
	read(t, s, func(tx gatehouse.Tx) error {
		got, err := tx.GetEnvironmentRevisionTag(ctx, e.ID, "stable")
		if err != nil || got.Version != 1 || got.EditedBy != by || got.Modified.Before(got.Created) {
			t.Errorf("moved tag = %+v, %v", got, err)
		}
		list, err := tx.ListEnvironmentRevisionTags(ctx, e.ID)
		if err != nil || len(list) != 2 || list[0].Name != "beta" || list[1].Name != "stable" || list[0].Version != 1 {
			t.Errorf("ListEnvironmentRevisionTags = %+v, %v", list, err)
		}
		return err
	})
	write(t, s, func(tx gatehouse.Tx) error { return tx.DeleteEnvironmentRevisionTag(ctx, e.ID, "beta") })
	err := s.Write(ctx, func(tx gatehouse.Tx) error { return tx.DeleteEnvironmentRevisionTag(ctx, e.ID, "beta") })
	wantCode(t, err, gatehouse.ENOTFOUND, "deleting a deleted tag")
	err = s.Read(ctx, func(tx gatehouse.Tx) error { _, err := tx.GetEnvironmentRevisionTag(ctx, e.ID, "beta"); return err })
	wantCode(t, err, gatehouse.ENOTFOUND, "a deleted tag")
}

// testRetraction retracts version 1 of an environment at version 2.
func testRetraction(t *testing.T, s gatehouse.Store, e *gatehouse.Environment, by string) {
	t.Helper()
	r := gatehouse.EnvironmentRetraction{Replacement: 2, By: by, Reason: "leaked"}
	write(t, s, func(tx gatehouse.Tx) error { return tx.RetractEnvironmentVersion(ctx, e.ID, 1, r) })
	err := s.Write(ctx, func(tx gatehouse.Tx) error { return tx.RetractEnvironmentVersion(ctx, e.ID, 1, r) })
	wantCode(t, err, gatehouse.ECONFLICT, "retracting twice")
	err = s.Write(ctx, func(tx gatehouse.Tx) error { return tx.RetractEnvironmentVersion(ctx, e.ID, 9, r) })
	wantCode(t, err, gatehouse.ENOTFOUND, "retracting no version")
	read(t, s, func(tx gatehouse.Tx) error {
		v, err := tx.GetEnvironmentVersion(ctx, e.ID, 1)
		if err != nil || v.Retracted == nil || v.Retracted.Replacement != 2 || v.Retracted.Reason != "leaked" || v.Retracted.By != by || v.Retracted.At.IsZero() {
			t.Errorf("retracted version = %+v, %v", v, err)
		}
		vs, _, err := tx.ListEnvironmentVersions(ctx, e.ID, gatehouse.ListOptions{})
		if err != nil || len(vs) != 2 || vs[0].Retracted != nil || vs[1].Retracted == nil {
			t.Errorf("listed versions = %+v, %v", vs, err)
		}
		return err
	})
}
