-- The ledger as the auditor's view `ledger` of fullstop query: one row per
-- source object processed, failed or quarantined.
SELECT object_key, etag, size, status, events, skipped_records, violations, error,
       attempts, first_attempt_at, last_attempt_at, finished_at, duration_ms,
       rewrites, rewritten_at
FROM fullstop_data.ledger
ORDER BY object_key
