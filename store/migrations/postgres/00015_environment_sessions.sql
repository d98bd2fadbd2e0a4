-- Anonymous open environments (yaml/open, what stacks open) kept so that
-- any replica can read them: the session id is never stored, only its
-- SHA-256; the opened values are sealed under a data key of the session's
-- own, wrapped by the master key; expired sessions are pruned.
-- The environments a stack's program imports (its Pulumi.<stack>.yaml
-- environment:, which the CLI sends with each update), for referrers.

-- +goose Up
CREATE TABLE environment_open_sessions (
    digest      BYTEA PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    token_id    TEXT NOT NULL,
    wrapped_key BYTEA NOT NULL,
    sealed      BYTEA NOT NULL,
    created     BIGINT NOT NULL,
    expires     BIGINT NOT NULL
);
CREATE INDEX environment_open_sessions_expires ON environment_open_sessions (expires);
CREATE TABLE stack_environment_imports (
    stack_id      TEXT NOT NULL REFERENCES stacks (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    org_id        TEXT NOT NULL,
    project       TEXT NOT NULL,
    name          TEXT NOT NULL,
    ref           TEXT NOT NULL DEFAULT '',
    stack_version INTEGER NOT NULL,
    PRIMARY KEY (stack_id, position)
);
CREATE INDEX stack_environment_imports_env ON stack_environment_imports (org_id, project, name);

-- +goose Down
DROP TABLE stack_environment_imports;
DROP TABLE environment_open_sessions;
