-- SCIM 2.0 provisioning: an organization's bearer token (only its SHA-256;
-- one live token per organization, older ones revoked), and the identity
-- provider's ids of the users and teams it provisions. A user's console
-- sessions become listable (by user) and record when they were last seen.

-- +goose Up
CREATE TABLE scim_tokens (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    digest     BLOB NOT NULL UNIQUE,
    created    BIGINT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    revoked    BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX scim_tokens_live ON scim_tokens (org_id) WHERE NOT revoked;

CREATE TABLE scim_users (
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    external_id TEXT NOT NULL DEFAULT '',
    modified    BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX scim_users_external ON scim_users (org_id, external_id);
-- SCIM's userName filter compares logins ignoring case.
CREATE INDEX users_login_lower ON users (LOWER(login));
-- SCIM lists the users an organization manages, in id order.
CREATE INDEX users_managed ON users (managed_by, id);

CREATE TABLE scim_groups (
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    team_id     TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    external_id TEXT NOT NULL DEFAULT '',
    modified    BIGINT NOT NULL,
    PRIMARY KEY (team_id)
);
CREATE INDEX scim_groups_external ON scim_groups (org_id, external_id);

ALTER TABLE console_sessions ADD COLUMN last_seen BIGINT NOT NULL DEFAULT 0;
CREATE INDEX console_sessions_user ON console_sessions (user_id);

-- +goose Down
DROP INDEX console_sessions_user;
DROP INDEX users_login_lower;
DROP INDEX users_managed;
ALTER TABLE console_sessions DROP COLUMN last_seen;
DROP TABLE scim_groups;
DROP TABLE scim_users;
DROP TABLE scim_tokens;
