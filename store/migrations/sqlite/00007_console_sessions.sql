-- Console sign-ins: the session cookie's value is never stored, only its
-- SHA-256; the session acts for the personal token it was opened with
-- (by digest), which must stay valid.

-- +goose Up
CREATE TABLE console_sessions (
    digest       BLOB PRIMARY KEY,
    token_digest BLOB NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf         TEXT NOT NULL,
    created      BIGINT NOT NULL,
    expires      BIGINT NOT NULL
);
CREATE INDEX console_sessions_expires ON console_sessions (expires);

-- +goose Down
DROP TABLE console_sessions;
