-- Tokens minted by an OIDC exchange record the issuer that minted them, so
-- that deleting the issuer revokes them in the same transaction. A token
-- whose role was deleted (DELETE .../roles/{id}?force=true) is marked, so
-- that it holds nothing instead of falling back to the organization's
-- default role (role_id alone would read as "no role: the default").

-- +goose Up
ALTER TABLE tokens ADD COLUMN issuer_id TEXT;
ALTER TABLE tokens ADD COLUMN role_deleted BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX tokens_issuer ON tokens (issuer_id);

-- +goose Down
DROP INDEX tokens_issuer;
ALTER TABLE tokens DROP COLUMN role_deleted;
ALTER TABLE tokens DROP COLUMN issuer_id;
