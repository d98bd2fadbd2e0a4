-- The change log: what each revision of an organization changed (the
-- records, or '*' for "rebuild"), written in the transaction that bumps the
-- revision, so that another process applies the change to its snapshot
-- rather than rebuilding it. Pruned to the latest revisions of each
-- organization (store/changes.go).

-- +goose Up
CREATE TABLE org_changes (
    org_id   TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    revision BIGINT NOT NULL,
    changes  TEXT NOT NULL,
    created  BIGINT NOT NULL,
    PRIMARY KEY (org_id, revision)
);

-- +goose Down
DROP TABLE org_changes;
