-- Indexes for the REST API's reads of violations (GET /api/violations and
-- the counts), chosen with `make bench-api` (EXPLAIN ANALYZE of the
-- statements the store sends) over 1,000,000 violations. Both are
-- partial over the open violations (comment IS NULL AND rule_entity_id IS
-- NULL), the state the API selects unless asked for another: they hold
-- about nine rows in ten, and the pipeline's re-detections (last_seen,
-- seen_count) change none of their columns.

-- A page sorted by id (the default, and id,desc) needs no index of its own:
-- the store sorts id without NULLS LAST, so the primary key gives the order
-- in both directions.

-- +goose Up
-- Open violations by account and type. Without INCLUDE columns equal keys
-- are deduplicated, so this is small (7 MB for 900,000 rows): the count(*)
-- of a page filtered by accounts, GET /api/violation-count (GROUP BY
-- account and type over every open violation) and the unfiltered count(*)
-- are index-only scans of it.
CREATE INDEX violation_open_account_type_idx ON fullstop_data.violation
    (account_id, violation_type_entity_id)
    WHERE comment IS NULL AND rule_entity_id IS NULL;

-- Open violations by account, type and creation time, with the application
-- and version: a page filtered by accounts, types and from/to counts with
-- an index-only scan of just the selected range and reads only the rows it
-- selects, and GET /api/violation-count/{account} (which joins the
-- application and its version) is an index-only scan.
CREATE INDEX violation_open_account_type_created_idx ON fullstop_data.violation
    (account_id, violation_type_entity_id, created) INCLUDE (application_id, application_version_id)
    WHERE comment IS NULL AND rule_entity_id IS NULL;

-- +goose Down
DROP INDEX IF EXISTS fullstop_data.violation_open_account_type_created_idx;
DROP INDEX IF EXISTS fullstop_data.violation_open_account_type_idx;
