-- One update at a time per stack: the stack row holds the lease (which
-- update, until when), so that taking it is one conditional UPDATE of one
-- row, atomic on both dialects. Updates remember who started them and the
-- sequence of their last checkpoint; engine events are kept per update.

-- +goose Up
ALTER TABLE stacks ADD COLUMN lease_update TEXT NOT NULL DEFAULT '';
ALTER TABLE stacks ADD COLUMN lease_expiry BIGINT NOT NULL DEFAULT 0;
ALTER TABLE stack_updates ADD COLUMN starter_digest BYTEA;
ALTER TABLE stack_updates ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;
CREATE TABLE update_events (
    update_id TEXT NOT NULL REFERENCES stack_updates (id) ON DELETE CASCADE,
    sequence  INTEGER NOT NULL,
    data      BYTEA NOT NULL,
    PRIMARY KEY (update_id, sequence)
);

-- +goose Down
DROP TABLE update_events;
ALTER TABLE stack_updates DROP COLUMN sequence;
ALTER TABLE stack_updates DROP COLUMN starter_digest;
ALTER TABLE stacks DROP COLUMN lease_expiry;
ALTER TABLE stacks DROP COLUMN lease_update;
