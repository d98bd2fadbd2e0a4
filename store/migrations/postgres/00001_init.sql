-- Gatehouse schema, PostgreSQL dialect. Times are unix microseconds (0: none);
-- JSON is stored as text.

-- +goose Up
CREATE TABLE organizations (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL DEFAULT '',
    created      BIGINT NOT NULL,
    settings     TEXT NOT NULL,
    revision     BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE users (
    id         TEXT PRIMARY KEY,
    login      TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL DEFAULT '',
    email      TEXT NOT NULL DEFAULT '',
    avatar_url TEXT NOT NULL DEFAULT '',
    created    BIGINT NOT NULL
);

CREATE TABLE descriptors (
    id                 TEXT PRIMARY KEY,
    org_id             TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    description        TEXT NOT NULL DEFAULT '',
    resource_type      TEXT NOT NULL,
    purpose            TEXT NOT NULL,
    details            TEXT NOT NULL,
    version            INTEGER NOT NULL,
    default_identifier TEXT NOT NULL DEFAULT '',
    created            BIGINT NOT NULL,
    modified           BIGINT NOT NULL,
    UNIQUE (org_id, purpose, name)
);

CREATE TABLE descriptor_refs (
    descriptor_id TEXT NOT NULL REFERENCES descriptors (id) ON DELETE CASCADE,
    ref_id        TEXT NOT NULL REFERENCES descriptors (id),
    PRIMARY KEY (descriptor_id, ref_id)
);
CREATE INDEX descriptor_refs_ref ON descriptor_refs (ref_id);

CREATE TABLE memberships (
    org_id    TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id   TEXT NOT NULL REFERENCES descriptors (id),
    suspended BOOLEAN NOT NULL DEFAULT FALSE,
    created   BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);
CREATE INDEX memberships_role ON memberships (role_id);

CREATE TABLE teams (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    description  TEXT NOT NULL DEFAULT '',
    created      BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE team_members (
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

CREATE TABLE team_roles (
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES descriptors (id),
    PRIMARY KEY (team_id, role_id)
);
CREATE INDEX team_roles_role ON team_roles (role_id);

CREATE TABLE grants (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id           TEXT REFERENCES users (id) ON DELETE CASCADE,
    team_id           TEXT REFERENCES teams (id) ON DELETE CASCADE,
    entity_type       TEXT NOT NULL,
    entity_id         TEXT NOT NULL,
    set_id            TEXT NOT NULL REFERENCES descriptors (id),
    legacy            TEXT NOT NULL DEFAULT '',
    max_open_duration BIGINT NOT NULL DEFAULT 0,
    created           BIGINT NOT NULL,
    CHECK ((user_id IS NULL) <> (team_id IS NULL))
);
CREATE UNIQUE INDEX grants_user_entity ON grants (user_id, entity_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX grants_team_entity ON grants (team_id, entity_id) WHERE team_id IS NOT NULL;
CREATE INDEX grants_org ON grants (org_id);
CREATE INDEX grants_entity ON grants (entity_id);
CREATE INDEX grants_set ON grants (set_id);

CREATE TABLE tokens (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    org_id      TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    user_id     TEXT REFERENCES users (id) ON DELETE CASCADE,
    team_id     TEXT,
    runner      TEXT NOT NULL DEFAULT '',
    name        TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    role_id     TEXT REFERENCES descriptors (id) ON DELETE SET NULL,
    digest      BYTEA NOT NULL UNIQUE,
    created     BIGINT NOT NULL,
    created_by  TEXT NOT NULL DEFAULT '',
    expires     BIGINT NOT NULL DEFAULT 0,
    last_used   BIGINT NOT NULL DEFAULT 0,
    deleted     BOOLEAN NOT NULL DEFAULT FALSE,
    exchanged   BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX tokens_org_name ON tokens (org_id, name) WHERE kind IN ('organization', 'team');
CREATE INDEX tokens_org ON tokens (org_id, created, id);
CREATE INDEX tokens_user ON tokens (user_id, created, id);
CREATE INDEX tokens_team ON tokens (team_id);
CREATE INDEX tokens_role ON tokens (role_id);

CREATE TABLE issuers (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    url            TEXT NOT NULL,
    issuer         TEXT NOT NULL,
    thumbprints    TEXT NOT NULL,
    jwks           TEXT NOT NULL DEFAULT '',
    max_expiration BIGINT NOT NULL DEFAULT 0,
    created        BIGINT NOT NULL,
    modified       BIGINT NOT NULL,
    last_used      BIGINT NOT NULL DEFAULT 0,
    UNIQUE (org_id, issuer)
);

CREATE TABLE auth_policies (
    id        TEXT PRIMARY KEY,
    org_id    TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    issuer_id TEXT NOT NULL UNIQUE REFERENCES issuers (id) ON DELETE CASCADE,
    version   INTEGER NOT NULL,
    policies  TEXT NOT NULL,
    created   BIGINT NOT NULL,
    modified  BIGINT NOT NULL
);

CREATE TABLE stacks (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    project    TEXT NOT NULL,
    name       TEXT NOT NULL,
    tags       TEXT NOT NULL DEFAULT '{}',
    created_by TEXT NOT NULL DEFAULT '',
    version    INTEGER NOT NULL DEFAULT 0,
    created    BIGINT NOT NULL,
    modified   BIGINT NOT NULL,
    UNIQUE (org_id, project, name)
);

CREATE TABLE checkpoints (
    stack_id TEXT NOT NULL REFERENCES stacks (id) ON DELETE CASCADE,
    version  INTEGER NOT NULL,
    data     BYTEA NOT NULL,
    created  BIGINT NOT NULL,
    PRIMARY KEY (stack_id, version)
);

CREATE TABLE stack_updates (
    id           TEXT PRIMARY KEY,
    stack_id     TEXT NOT NULL REFERENCES stacks (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    status       TEXT NOT NULL,
    version      INTEGER NOT NULL DEFAULT 0,
    lease_digest BYTEA,
    lease_expiry BIGINT NOT NULL DEFAULT 0,
    info         TEXT NOT NULL DEFAULT '{}',
    created      BIGINT NOT NULL,
    started      BIGINT NOT NULL DEFAULT 0,
    finished     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX stack_updates_stack ON stack_updates (stack_id, created, id);

CREATE TABLE environments (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    project    TEXT NOT NULL,
    name       TEXT NOT NULL,
    tags       TEXT NOT NULL DEFAULT '{}',
    created_by TEXT NOT NULL DEFAULT '',
    version    INTEGER NOT NULL DEFAULT 0,
    created    BIGINT NOT NULL,
    modified   BIGINT NOT NULL,
    UNIQUE (org_id, project, name)
);

CREATE TABLE environment_versions (
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    version        INTEGER NOT NULL,
    definition     BYTEA NOT NULL,
    created_by     TEXT NOT NULL DEFAULT '',
    created        BIGINT NOT NULL,
    PRIMARY KEY (environment_id, version)
);

CREATE TABLE accounts (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    tags       TEXT NOT NULL DEFAULT '{}',
    created_by TEXT NOT NULL DEFAULT '',
    created    BIGINT NOT NULL,
    modified   BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

-- Audit events outlive what they describe: no foreign keys.
CREATE TABLE audit_events (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          TEXT NOT NULL,
    time            BIGINT NOT NULL,
    type            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    actor_user_id   TEXT NOT NULL DEFAULT '',
    actor_login     TEXT NOT NULL DEFAULT '',
    token_id        TEXT NOT NULL DEFAULT '',
    token_name      TEXT NOT NULL DEFAULT '',
    source_ip       TEXT NOT NULL DEFAULT '',
    user_agent      TEXT NOT NULL DEFAULT '',
    request_id      TEXT NOT NULL DEFAULT '',
    entity          TEXT NOT NULL DEFAULT '',
    req_org_admin   BOOLEAN NOT NULL DEFAULT FALSE,
    req_stack_admin BOOLEAN NOT NULL DEFAULT FALSE,
    auth_failure    BOOLEAN NOT NULL DEFAULT FALSE,
    data            TEXT NOT NULL DEFAULT '',
    prev_hash       BYTEA,
    hash            BYTEA
);
CREATE INDEX audit_events_org_time ON audit_events (org_id, time, seq);
CREATE INDEX audit_events_org_seq ON audit_events (org_id, seq);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE accounts;
DROP TABLE environment_versions;
DROP TABLE environments;
DROP TABLE stack_updates;
DROP TABLE checkpoints;
DROP TABLE stacks;
DROP TABLE auth_policies;
DROP TABLE issuers;
DROP TABLE tokens;
DROP TABLE grants;
DROP TABLE team_roles;
DROP TABLE team_members;
DROP TABLE teams;
DROP TABLE memberships;
DROP TABLE descriptor_refs;
DROP TABLE descriptors;
DROP TABLE users;
DROP TABLE organizations;
