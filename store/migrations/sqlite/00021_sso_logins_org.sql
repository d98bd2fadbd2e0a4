-- +goose Up
-- A sign-in start counts its organization's sign-ins under way (bounded:
-- service.MaxPendingSSOLogins) through this index, not a scan of every
-- organization's.
CREATE INDEX sso_logins_org ON sso_logins (org_id, expires);

-- +goose Down
DROP INDEX sso_logins_org;
