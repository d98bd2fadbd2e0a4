-- The head of each organization's tamper-evident audit chain: the last
-- event's hash, and the anchor (the hash of the last event pruned) that the
-- remaining chain starts from.

-- +goose Up
CREATE TABLE audit_heads (
    org_id      TEXT PRIMARY KEY,
    last_seq    BIGINT NOT NULL DEFAULT 0,
    last_hash   BYTEA NOT NULL,
    anchor_seq  BIGINT NOT NULL DEFAULT 0,
    anchor_hash BYTEA NOT NULL
);

-- +goose Down
DROP TABLE audit_heads;
