-- Every ledger row, ordered by object key; NULL text reads as ''.
SELECT object_key, coalesce(etag, ''), coalesce(size, 0), status, events, skipped_records,
       coalesce(skip_reasons, ''), violations, coalesce(error, ''), attempts,
       first_attempt_at, last_attempt_at, finished_at, duration_ms
FROM fullstop_data.ledger
ORDER BY object_key
