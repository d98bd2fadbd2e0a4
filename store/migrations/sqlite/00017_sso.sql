-- Single sign-on: an organization's OpenID provider and SAML identity
-- provider (the OIDC client secret sealed under a data key the master key
-- wraps), the sign-ins under way (a state is good once, on every replica),
-- and the SAML assertions already used (remembered until they expire, so
-- that none is replayed on any replica).

-- +goose Up
CREATE TABLE sso (
    org_id           TEXT PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    issuer           TEXT NOT NULL DEFAULT '',
    client_id        TEXT NOT NULL DEFAULT '',
    secret_key       BLOB,
    secret_sealed    BLOB,
    user_claim       TEXT NOT NULL DEFAULT '',
    groups_claim     TEXT NOT NULL DEFAULT '',
    idp_metadata     TEXT NOT NULL DEFAULT '',
    groups_attribute TEXT NOT NULL DEFAULT '',
    allow_create     BOOLEAN NOT NULL DEFAULT FALSE,
    default_role_id  TEXT REFERENCES descriptors (id) ON DELETE SET NULL,
    email_domains    TEXT NOT NULL DEFAULT '',
    updated          BIGINT NOT NULL
);

CREATE TABLE sso_logins (
    digest     BLOB PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    protocol   TEXT NOT NULL,
    nonce      TEXT NOT NULL DEFAULT '',
    verifier   TEXT NOT NULL DEFAULT '',
    request_id TEXT NOT NULL DEFAULT '',
    next       TEXT NOT NULL DEFAULT '',
    expires    BIGINT NOT NULL
);
CREATE INDEX sso_logins_expires ON sso_logins (expires);

CREATE TABLE sso_assertions (
    org_id       TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    assertion_id TEXT NOT NULL,
    expires      BIGINT NOT NULL,
    PRIMARY KEY (org_id, assertion_id)
);
CREATE INDEX sso_assertions_expires ON sso_assertions (expires);

-- +goose Down
DROP TABLE sso_assertions;
DROP TABLE sso_logins;
DROP TABLE sso;
