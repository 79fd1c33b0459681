-- What one violation costs PostgreSQL to insert, index by index: the stored
-- violations are inserted into a copy of fullstop_data.violation with
-- nothing on it, then with each index or constraint of the real table
-- alone. Run it after a backfill, in the database it wrote:
--
--   psql "$DATABASE_URL" -f docs/bench/violation_insert_cost.sql
--
-- Everything happens in one transaction that is rolled back. Each step
-- prints its label, then psql's time for its INSERT; subtract the "pk"
-- step's time from the others (each has the primary key too) and divide
-- by the number of violations. Single runs vary with the machine's load:
-- run it a few times.
\set ON_ERROR_STOP on
BEGIN;
SET LOCAL search_path TO fullstop_data;
CREATE TEMP TABLE src ON COMMIT DROP AS SELECT * FROM fullstop_data.violation;
SELECT count(*) AS violations FROM src;
-- Not a temporary table: those cannot have a foreign key to a stored one.
CREATE TABLE fullstop_data.violation_insert_cost (LIKE fullstop_data.violation INCLUDING DEFAULTS);
ALTER TABLE fullstop_data.violation_insert_cost ALTER COLUMN id DROP DEFAULT;
\echo none
\timing on
INSERT INTO fullstop_data.violation_insert_cost SELECT * FROM src;
\timing off
TRUNCATE fullstop_data.violation_insert_cost;
ALTER TABLE fullstop_data.violation_insert_cost ADD PRIMARY KEY (id);
\echo pk
\timing on
INSERT INTO fullstop_data.violation_insert_cost SELECT * FROM src;
\timing off
TRUNCATE fullstop_data.violation_insert_cost;
ALTER TABLE fullstop_data.violation_insert_cost ADD CONSTRAINT t_type_fkey FOREIGN KEY (violation_type_entity_id) REFERENCES fullstop_data.violation_type (id);
\echo 'pk + foreign key to violation_type'
\timing on
INSERT INTO fullstop_data.violation_insert_cost SELECT * FROM src;
\timing off
TRUNCATE fullstop_data.violation_insert_cost;
ALTER TABLE fullstop_data.violation_insert_cost DROP CONSTRAINT t_type_fkey;
CREATE UNIQUE INDEX t_identity ON fullstop_data.violation_insert_cost (account_id, region, event_id, violation_type_entity_id, instance_id) NULLS NOT DISTINCT;
\echo 'pk + identity (unique_violation), rows in its order as the upsert sends them'
\timing on
INSERT INTO fullstop_data.violation_insert_cost SELECT * FROM src ORDER BY account_id, region, event_id, violation_type_entity_id, instance_id;
\timing off
TRUNCATE fullstop_data.violation_insert_cost;
DROP INDEX t_identity;
CREATE INDEX t_created ON fullstop_data.violation_insert_cost (created);
\echo 'pk + created'
\timing on
INSERT INTO fullstop_data.violation_insert_cost SELECT * FROM src;
\timing off
TRUNCATE fullstop_data.violation_insert_cost;
DROP INDEX t_created;
CREATE INDEX t_instance ON fullstop_data.violation_insert_cost (instance_id);
\echo 'pk + instance_id'
\timing on
INSERT INTO fullstop_data.violation_insert_cost SELECT * FROM src;
\timing off
TRUNCATE fullstop_data.violation_insert_cost;
DROP INDEX t_instance;
CREATE INDEX t_open_type ON fullstop_data.violation_insert_cost (account_id, violation_type_entity_id)
    WHERE comment IS NULL AND rule_entity_id IS NULL;
\echo 'pk + violation_open_account_type_idx'
\timing on
INSERT INTO fullstop_data.violation_insert_cost SELECT * FROM src;
\timing off
TRUNCATE fullstop_data.violation_insert_cost;
DROP INDEX t_open_type;
CREATE INDEX t_open_created ON fullstop_data.violation_insert_cost (account_id, violation_type_entity_id, created)
    INCLUDE (application_id, application_version_id)
    WHERE comment IS NULL AND rule_entity_id IS NULL;
\echo 'pk + violation_open_account_type_created_idx'
\timing on
INSERT INTO fullstop_data.violation_insert_cost SELECT * FROM src;
\timing off
ROLLBACK;
