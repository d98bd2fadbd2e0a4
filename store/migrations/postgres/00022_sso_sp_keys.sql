-- An organization's SAML service provider key pairs: each an RSA key that
-- signs AuthnRequests and that the identity provider encrypts assertions
-- to, with its self-signed certificate (DER). The private key is sealed
-- (PKCS #8 under a data key, the data key wrapped by the master key); the
-- key activated last is the one that signs, and a key never activated is
-- published ahead of a rollover. Every key is published and decrypts.

-- +goose Up
CREATE TABLE sso_sp_keys (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    certificate BYTEA NOT NULL,
    key_wrapped BYTEA NOT NULL,
    key_sealed  BYTEA NOT NULL,
    created     BIGINT NOT NULL,
    activated   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sso_sp_keys_org ON sso_sp_keys (org_id, created);

-- +goose Down
DROP TABLE sso_sp_keys;
