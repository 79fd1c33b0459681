-- Ledger rows ordered by object key: every row when $1 is NULL, else the
-- row of object $1. NULL text reads as ''.
SELECT object_key, coalesce(etag, ''), coalesce(size, 0), status, events, skipped_records,
       coalesce(skip_reasons, ''), violations, coalesce(error, ''), attempts,
       first_attempt_at, last_attempt_at, finished_at, duration_ms
FROM fullstop_data.ledger
WHERE $1::text IS NULL OR object_key = $1
ORDER BY object_key
