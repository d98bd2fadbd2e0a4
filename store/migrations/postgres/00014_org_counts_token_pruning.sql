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
CREATE FUNCTION org_counts_org() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO org_counts (org_id) VALUES (NEW.id);
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER org_counts_org AFTER INSERT ON organizations FOR EACH ROW EXECUTE FUNCTION org_counts_org();

-- +goose StatementBegin
CREATE FUNCTION org_counts_entity() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    d BIGINT := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END;
    org TEXT := CASE WHEN TG_OP = 'INSERT' THEN NEW.org_id ELSE OLD.org_id END;
BEGIN
    IF TG_TABLE_NAME = 'stacks' THEN
        UPDATE org_counts SET stacks = stacks + d WHERE org_id = org;
    ELSIF TG_TABLE_NAME = 'environments' THEN
        UPDATE org_counts SET environments = environments + d WHERE org_id = org;
    ELSE
        UPDATE org_counts SET descriptors = descriptors + d WHERE org_id = org;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER org_counts_stack AFTER INSERT OR DELETE ON stacks FOR EACH ROW EXECUTE FUNCTION org_counts_entity();
CREATE TRIGGER org_counts_env AFTER INSERT OR DELETE ON environments FOR EACH ROW EXECUTE FUNCTION org_counts_entity();
CREATE TRIGGER org_counts_desc_ins AFTER INSERT ON descriptors FOR EACH ROW WHEN (NEW.default_identifier = '') EXECUTE FUNCTION org_counts_entity();
CREATE TRIGGER org_counts_desc_del AFTER DELETE ON descriptors FOR EACH ROW WHEN (OLD.default_identifier = '') EXECUTE FUNCTION org_counts_entity();

-- +goose StatementBegin
CREATE FUNCTION org_counts_token() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.org_id IS NOT NULL AND NOT NEW.deleted THEN
            UPDATE org_counts SET tokens = tokens + 1 WHERE org_id = NEW.org_id;
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        IF OLD.org_id IS NOT NULL AND NOT OLD.deleted THEN
            UPDATE org_counts SET tokens = tokens - 1 WHERE org_id = OLD.org_id;
        END IF;
    ELSIF NEW.org_id IS NOT NULL AND NEW.deleted <> OLD.deleted THEN
        UPDATE org_counts SET tokens = tokens + (CASE WHEN NEW.deleted THEN -1 ELSE 1 END) WHERE org_id = NEW.org_id;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER org_counts_token AFTER INSERT OR DELETE OR UPDATE OF deleted ON tokens FOR EACH ROW EXECUTE FUNCTION org_counts_token();

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
DROP TRIGGER org_counts_token ON tokens;
DROP FUNCTION org_counts_token();
DROP TRIGGER org_counts_desc_del ON descriptors;
DROP TRIGGER org_counts_desc_ins ON descriptors;
DROP TRIGGER org_counts_env ON environments;
DROP TRIGGER org_counts_stack ON stacks;
DROP FUNCTION org_counts_entity();
DROP TRIGGER org_counts_org ON organizations;
DROP FUNCTION org_counts_org();
DROP TABLE org_counts;
