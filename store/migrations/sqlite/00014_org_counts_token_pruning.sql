-- Quotas in O(1): org_counts holds, per organization, how many stacks,
-- environments, custom descriptors and live tokens it has, kept by
-- triggers in the transaction of every insert, delete and revocation, so
-- that a quota check reads one row (under the organization's lock) instead
-- of counting.
--
-- Token pruning: a revoked token records when a prune run first saw it
-- revoked (tokens.revoked_seen), and a pruned organization or team token
-- leaves its name in token_names, so that the name stays reserved.

-- +goose Up
CREATE TABLE org_counts (
    org_id       TEXT PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    stacks       BIGINT NOT NULL DEFAULT 0,
    environments BIGINT NOT NULL DEFAULT 0,
    descriptors  BIGINT NOT NULL DEFAULT 0,
    tokens       BIGINT NOT NULL DEFAULT 0
);
INSERT INTO org_counts (org_id, stacks, environments, descriptors, tokens)
SELECT o.id,
    (SELECT count(*) FROM stacks s WHERE s.org_id = o.id),
    (SELECT count(*) FROM environments e WHERE e.org_id = o.id),
    (SELECT count(*) FROM descriptors d WHERE d.org_id = o.id AND d.default_identifier = ''),
    (SELECT count(*) FROM tokens t WHERE t.org_id = o.id AND t.deleted = FALSE)
FROM organizations o;

-- +goose StatementBegin
CREATE TRIGGER org_counts_org AFTER INSERT ON organizations
BEGIN
    INSERT INTO org_counts (org_id) VALUES (NEW.id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER org_counts_stack_ins AFTER INSERT ON stacks
BEGIN
    UPDATE org_counts SET stacks = stacks + 1 WHERE org_id = NEW.org_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER org_counts_stack_del AFTER DELETE ON stacks
BEGIN
    UPDATE org_counts SET stacks = stacks - 1 WHERE org_id = OLD.org_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER org_counts_env_ins AFTER INSERT ON environments
BEGIN
    UPDATE org_counts SET environments = environments + 1 WHERE org_id = NEW.org_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER org_counts_env_del AFTER DELETE ON environments
BEGIN
    UPDATE org_counts SET environments = environments - 1 WHERE org_id = OLD.org_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER org_counts_desc_ins AFTER INSERT ON descriptors WHEN NEW.default_identifier = ''
BEGIN
    UPDATE org_counts SET descriptors = descriptors + 1 WHERE org_id = NEW.org_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER org_counts_desc_del AFTER DELETE ON descriptors WHEN OLD.default_identifier = ''
BEGIN
    UPDATE org_counts SET descriptors = descriptors - 1 WHERE org_id = OLD.org_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER org_counts_token_ins AFTER INSERT ON tokens WHEN NEW.org_id IS NOT NULL AND NEW.deleted = FALSE
BEGIN
    UPDATE org_counts SET tokens = tokens + 1 WHERE org_id = NEW.org_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER org_counts_token_revoke AFTER UPDATE OF deleted ON tokens WHEN NEW.org_id IS NOT NULL AND NEW.deleted <> OLD.deleted
BEGIN
    UPDATE org_counts SET tokens = tokens + (CASE WHEN NEW.deleted THEN -1 ELSE 1 END) WHERE org_id = NEW.org_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER org_counts_token_del AFTER DELETE ON tokens WHEN OLD.org_id IS NOT NULL AND OLD.deleted = FALSE
BEGIN
    UPDATE org_counts SET tokens = tokens - 1 WHERE org_id = OLD.org_id;
END;
-- +goose StatementEnd

ALTER TABLE tokens ADD COLUMN revoked_seen BIGINT NOT NULL DEFAULT 0;
CREATE INDEX tokens_prune ON tokens (deleted, revoked_seen);
CREATE INDEX tokens_expires ON tokens (expires) WHERE expires > 0;

CREATE TABLE token_names (
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name   TEXT NOT NULL,
    PRIMARY KEY (org_id, name)
);

-- +goose Down
DROP TABLE token_names;
DROP INDEX tokens_expires;
DROP INDEX tokens_prune;
ALTER TABLE tokens DROP COLUMN revoked_seen;
DROP TRIGGER org_counts_token_del;
DROP TRIGGER org_counts_token_revoke;
DROP TRIGGER org_counts_token_ins;
DROP TRIGGER org_counts_desc_del;
DROP TRIGGER org_counts_desc_ins;
DROP TRIGGER org_counts_env_del;
DROP TRIGGER org_counts_env_ins;
DROP TRIGGER org_counts_stack_del;
DROP TRIGGER org_counts_stack_ins;
DROP TRIGGER org_counts_org;
DROP TABLE org_counts;
