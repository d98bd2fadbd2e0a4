-- Each environment's data key, wrapped by the master key, seals its
-- fn::secret values; an Insights account keeps its provider settings.

-- +goose Up
CREATE TABLE environment_keys (
    environment_id TEXT PRIMARY KEY REFERENCES environments (id) ON DELETE CASCADE,
    wrapped        BLOB NOT NULL,
    created        BIGINT NOT NULL
);
ALTER TABLE accounts ADD COLUMN details TEXT NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE accounts DROP COLUMN details;
DROP TABLE environment_keys;
