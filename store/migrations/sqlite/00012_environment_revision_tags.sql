-- An environment's version tags beyond latest (pulumi env version tag),
-- gone with the environment; a retracted version (pulumi env version
-- retract) records when, by whom, why and which version replaces it; an
-- environment's deletion protection (pulumi env settings).

-- +goose Up
CREATE TABLE environment_revision_tags (
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    version        INTEGER NOT NULL,
    edited_by      TEXT NOT NULL DEFAULT '',
    created        BIGINT NOT NULL,
    modified       BIGINT NOT NULL,
    PRIMARY KEY (environment_id, name)
);
ALTER TABLE environment_versions ADD COLUMN retracted BIGINT NOT NULL DEFAULT 0;
ALTER TABLE environment_versions ADD COLUMN retracted_by TEXT NOT NULL DEFAULT '';
ALTER TABLE environment_versions ADD COLUMN retract_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE environment_versions ADD COLUMN replacement INTEGER NOT NULL DEFAULT 0;
ALTER TABLE environments ADD COLUMN deletion_protected BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE environments DROP COLUMN deletion_protected;
ALTER TABLE environment_versions DROP COLUMN replacement;
ALTER TABLE environment_versions DROP COLUMN retract_reason;
ALTER TABLE environment_versions DROP COLUMN retracted_by;
ALTER TABLE environment_versions DROP COLUMN retracted;
DROP TABLE environment_revision_tags;
