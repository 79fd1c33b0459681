-- The configuration tables every rule may read (see the package
-- documentation). The engine fills them from its Config when it starts.
SET GLOBAL TimeZone = 'UTC';
CREATE TABLE allowed_regions (region VARCHAR PRIMARY KEY);
CREATE TABLE lambda_trusted_buckets (bucket VARCHAR PRIMARY KEY);
CREATE TABLE taupage_owners (owner_id VARCHAR PRIMARY KEY);
CREATE TABLE settings (include_failed_calls BOOLEAN NOT NULL, taupage_name_prefix VARCHAR NOT NULL);
-- taupage_image(answer): whether an AMI, as the images enrichment table
-- answers it, is a Taupage AMI: its name starts with the configured prefix
-- (case-sensitive) and its owner is one of the Taupage owners. An unknown
-- AMI (answer NULL) is not.
CREATE MACRO taupage_image(answer) AS
    coalesce(starts_with(json_extract_string(answer, '$.name'), (SELECT s.taupage_name_prefix FROM settings AS s))
             AND json_extract_string(answer, '$.owner_id') IN (SELECT t.owner_id FROM taupage_owners AS t), false);
