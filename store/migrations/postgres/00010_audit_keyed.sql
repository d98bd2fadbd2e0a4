-- The audit chain becomes keyed (HMAC-SHA256 under a key derived from the
-- master key, outside the database). keyed_from is the first event linked
-- with the key; the events before it were linked with plain SHA-256 and are
-- verified as such. 0 until the chain is first opened with the key, which
-- then seals the head (mac) and starts the keyed part at the next event.
-- client_request_id keeps a client's X-Request-ID apart from the server's.

-- +goose Up
ALTER TABLE audit_heads ADD COLUMN keyed_from BIGINT NOT NULL DEFAULT 0;
ALTER TABLE audit_heads ADD COLUMN mac BYTEA NOT NULL DEFAULT ''::bytea;
ALTER TABLE audit_events ADD COLUMN client_request_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE audit_events DROP COLUMN client_request_id;
ALTER TABLE audit_heads DROP COLUMN mac;
ALTER TABLE audit_heads DROP COLUMN keyed_from;
