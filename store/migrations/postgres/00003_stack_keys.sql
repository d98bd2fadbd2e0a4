-- Each stack's data key, wrapped by the master key (state.Keyring): the
-- key that seals the stack's secrets, never stored in the clear.

-- +goose Up
CREATE TABLE stack_keys (
    stack_id TEXT PRIMARY KEY REFERENCES stacks (id) ON DELETE CASCADE,
    wrapped  BYTEA NOT NULL,
    created  BIGINT NOT NULL
);

-- +goose Down
DROP TABLE stack_keys;
