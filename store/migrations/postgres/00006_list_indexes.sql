-- Stacks and environments list in (org_id, id) order, page by page: an
-- index in that order makes each page a range read instead of a sort of
-- the organization's every row.

-- +goose Up
CREATE INDEX stacks_org_id ON stacks (org_id, id);
CREATE INDEX environments_org_id ON environments (org_id, id);

-- +goose Down
DROP INDEX environments_org_id;
DROP INDEX stacks_org_id;
