-- The configuration tables every rule may read (see the package
-- documentation). The engine fills them from its Config when it starts.
SET GLOBAL TimeZone = 'UTC';
CREATE TABLE allowed_regions (region VARCHAR PRIMARY KEY);
CREATE TABLE lambda_trusted_buckets (bucket VARCHAR PRIMARY KEY);
CREATE TABLE settings (include_failed_calls BOOLEAN NOT NULL);
