-- Isolation between organizations: a user records the organization that
-- manages it (created it: the bootstrap, `gatehouse admin org create`, a
-- member added under a new login; later SSO and SCIM), which may add it
-- directly; any other organization invites it, and the user accepts.

-- +goose Up
ALTER TABLE users ADD COLUMN managed_by TEXT REFERENCES organizations (id) ON DELETE SET NULL;

CREATE TABLE invitations (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id    TEXT NOT NULL REFERENCES descriptors (id) ON DELETE CASCADE,
    created    BIGINT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    expires    BIGINT NOT NULL,
    UNIQUE (org_id, user_id)
);
CREATE INDEX invitations_user ON invitations (user_id);

-- +goose Down
DROP TABLE invitations;
ALTER TABLE users DROP COLUMN managed_by;
